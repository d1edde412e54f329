/**
 * What the stream-runtime tests share: isolated tables on DynamoDB Local, the log, a runtime over
 * them (optionally with crashes injected), and a simulated push subscription that feeds the runtime
 * deliveries read from the real log the way the deliverer does (a cursor per topic partition,
 * moved only when a delivery is acknowledged, so a failed or unacknowledged one comes again).
 */
import { randomUUID } from 'node:crypto';
import type { FetchedEvent, ProduceEvent } from '../../api/events';
import type { DeliveryBody } from '../../api/subscriptions';
import { TOPIC_DEFAULTS } from '../../api/topics';
import { DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogService, type JoinedWrite } from '../../lambda/core/log/log-service';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { ProcessorRuntime, type ProcessorRuntimeOptions } from '../../lambda/streams/runtime/runtime';
import { ProcessorStateStore, type PartitionMeta, type StateEntry, type StoredPosition } from '../../lambda/streams/runtime/state-store';
import { CachingTopicStore } from '../../lambda/streams/runtime/topics';
import type { Topology } from '../../lambda/streams/topology';
import { emulatorClients, provisionIsolated } from '../support/emulators';
import type { Random } from '../support/prng';

export { prng, type Random } from '../support/prng';

/** A crash the test injected (never retried by the runtime: it is not a SluiceError). */
export class InjectedCrash extends Error {
  constructor(readonly where: string) {
    super(`injected crash: ${where}`);
    this.name = 'InjectedCrash';
  }
}

/**
 * Where crashes may be injected: a probability (drawn from the seeded PRNG), or a function of the
 * call number at that point (1, 2, …) that says whether this call crashes.
 */
export interface CrashPlan {
  /** Before a commit's transaction is sent. */
  readonly beforeCommit?: CrashRule;
  /** After a commit's transaction succeeded, before the runtime hears of it (mid-way through split commits, or before the ack). */
  readonly afterCommit?: CrashRule;
  /** On a state read (in the middle of a record's processing). */
  readonly onRead?: CrashRule;
}
export type CrashRule = number | ((call: number) => boolean);

export interface CrashCounts {
  beforeCommit: number;
  afterCommit: number;
  onRead: number;
}

/** LogService as deployed, whose commits may crash before they are sent or after they succeeded. */
class CrashingLogService extends LogService {
  constructor(
    options: ConstructorParameters<typeof LogService>[0],
    private readonly crash: (where: keyof CrashCounts) => boolean,
  ) {
    super(options);
  }

  override async produceAll(requests: Parameters<LogService['produceAll']>[0], joined?: JoinedWrite) {
    if (this.crash('beforeCommit')) throw new InjectedCrash('before commit');
    const out = await super.produceAll(requests, joined);
    if (this.crash('afterCommit')) throw new InjectedCrash('after commit');
    return out;
  }
}

class CrashingStateStore extends ProcessorStateStore {
  constructor(
    client: ConstructorParameters<typeof ProcessorStateStore>[0],
    table: string,
    private readonly crash: (where: keyof CrashCounts) => boolean,
  ) {
    super(client, table);
  }

  override async get(pk: string, store: string, key: string): Promise<StateEntry | undefined> {
    if (this.crash('onRead')) throw new InjectedCrash('state read');
    return super.get(pk, store, key);
  }

  override async range(pk: string, store: string, prefix: string, from?: string, to?: string): Promise<[string, StateEntry][]> {
    if (this.crash('onRead')) throw new InjectedCrash('state range read');
    return super.range(pk, store, prefix, from, to);
  }
}

export type StreamsFixture = Awaited<ReturnType<typeof streamsFixture>>;

export async function streamsFixture(label: string) {
  const clients = emulatorClients();
  const resources = await provisionIsolated(label);
  const topicStore = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
  const logStore = () => new DynamoDbLogStore({ client: clients.doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe });
  /** The test's own view of the log: produce inputs, read outputs. */
  const log = new LogService({ topics: topicStore, log: logStore() });
  const stateStore = new ProcessorStateStore(clients.doc, resources.tables.processors);

  return {
    clients,
    resources,
    topicStore,
    log,
    stateStore,

    async createTopic(name: string, partitions: number, options: { dedupe?: boolean } = {}): Promise<void> {
      await topicStore.createTopic({
        name,
        topicId: randomUUID(),
        partitions,
        retentionMs: TOPIC_DEFAULTS.retentionMs,
        dedupeWindowMs: options.dedupe === false ? 0 : TOPIC_DEFAULTS.dedupeWindowMs,
        createdAt: new Date().toISOString(),
      });
    },

    /** Produces in requests of at most 100 events (in order). */
    async produce(topic: string, events: readonly ProduceEvent[]): Promise<void> {
      for (let i = 0; i < events.length; i += 100) await log.produce(topic, events.slice(i, i + 100));
    },

    /**
     * A runtime for `topology` over the fixture's tables. With `crashes`, its commits and state reads
     * fail at random (seeded) where the plan says; `counts` tallies them.
     */
    runtime(
      topology: Topology | { build(): Topology },
      options: { crashes?: CrashPlan; random?: Random; counts?: CrashCounts } & Partial<Omit<ProcessorRuntimeOptions, 'topology' | 'random'>> = {},
    ): ProcessorRuntime {
      const { crashes, random, counts, ...rest } = options;
      const calls: CrashCounts = { beforeCommit: 0, afterCommit: 0, onRead: 0 };
      const crash = (where: keyof CrashCounts) => {
        const rule = crashes?.[where] ?? 0;
        const call = ++calls[where];
        if (typeof rule === 'function' ? !rule(call) : rule <= 0 || !random!.chance(rule)) return false;
        if (counts) counts[where]++;
        return true;
      };
      const topics = new CachingTopicStore(topicStore);
      return new ProcessorRuntime({
        topology: 'build' in topology ? topology.build() : topology,
        topics,
        // As deployed (streams/runtime/environment.ts): the log reads the topic store, not the runtime's cache.
        log: crashes ? new CrashingLogService({ topics: topicStore, log: logStore() }, crash) : new LogService({ topics: topicStore, log: logStore() }),
        state: crashes ? new CrashingStateStore(clients.doc, resources.tables.processors, crash) : stateStore,
        sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.min(ms, 20))),
        ...rest,
      });
    },

    /** Every event of `topic`, partition by partition, in offset order. */
    async readAll(topic: string): Promise<FetchedEvent[]> {
      const config = await topicStore.getTopic(topic);
      if (!config) throw new Error(`no topic ${topic}`);
      const events: FetchedEvent[] = [];
      for (let partition = 0; partition < config.partitions; partition++) {
        for (let offset = 0; ; ) {
          const page = await log.fetch(topic, partition, { offset, limit: 1000 });
          events.push(...page.events);
          if (page.nextOffset >= page.highWatermark) break;
          offset = page.nextOffset;
        }
      }
      return events;
    },

    async meta(applicationId: string, partition: number, topic = '-'): Promise<{ meta: PartitionMeta; position?: StoredPosition }> {
      return stateStore.loadHead(`${applicationId}#${partition}`, topic);
    },

    /** A counter summed over the processor's partitions. */
    async counter(applicationId: string, partitions: number, name: string): Promise<number> {
      let sum = 0;
      for (let p = 0; p < partitions; p++) sum += (await stateStore.loadHead(`${applicationId}#${p}`, '-')).meta.counters[name] ?? 0;
      return sum;
    },
  };
}

/** Tallies of a simulated subscription run. */
export interface DriveCounts {
  deliveries: number;
  /** Deliveries that re-sent events delivered before (after a failure or a lost acknowledgement). */
  redeliveries: number;
  /** Deliveries whose processing failed (an injected crash). */
  failed: number;
  /** Deliveries that succeeded but whose acknowledgement was lost. */
  lostAcks: number;
  /** Deliveries that ran side by side with a delivery of another topic on the same partition. */
  concurrentPairs: number;
  /** Deliveries dropped unprocessed (as SQS does after maxReceiveCount), their events left for the runtime to find in the log. */
  lost: number;
  /** Attempts the runtime recomputed after losing a race (another commit of the partition first), over the deliveries that succeeded. */
  retries: number;
  /** Events the runtime read from the log because a delivery was lost. */
  recovered: number;
  /** Steps whose outputs the runtime committed in chunks (too big for one transaction). */
  chunked: number;
}

export interface DriveOptions {
  readonly random: Random;
  /** Largest delivery (events). @default 25 */
  readonly maxEvents?: number;
  /** Probability that a processed delivery's acknowledgement is lost (it comes again). @default 0 */
  readonly lostAck?: number;
  /** Probability that a delivery is dropped unprocessed, its cursor moved past it. @default 0 */
  readonly lostDelivery?: number;
  /** Groups of topics whose same-numbered partitions are delivered side by side (the two sides of a join). */
  readonly together?: readonly (readonly string[])[];
  /** Stops with an error after this many deliveries. @default 5000 */
  readonly maxDeliveries?: number;
}

/**
 * Delivers every topic partition of `topics` to the runtime until each cursor reaches its high
 * watermark, as push subscriptions would: one delivery at a time per topic partition, in offset
 * order, a failed or unacknowledged delivery delivered again from the cursor. Topics the runtime
 * writes and reads (repartition topics) are delivered too, as their events appear.
 */
export async function drive(fixture: StreamsFixture, runtime: ProcessorRuntime, topics: readonly string[], options: DriveOptions): Promise<DriveCounts> {
  const { random } = options;
  const maxEvents = options.maxEvents ?? 25;
  const counts: DriveCounts = { deliveries: 0, redeliveries: 0, failed: 0, lostAcks: 0, concurrentPairs: 0, lost: 0, retries: 0, recovered: 0, chunked: 0 };
  const cursors = new Map<string, number>();
  const delivered = new Map<string, number>();
  const partitionsOf = new Map<string, number>();
  await runtime.start(); // creates the internal topics
  for (const topic of topics) {
    const config = await fixture.topicStore.getTopic(topic);
    if (!config) throw new Error(`no topic ${topic}`);
    partitionsOf.set(topic, config.partitions);
  }
  const deliverOne = async (topic: string, partition: number): Promise<void> => {
    const id = `${topic}#${partition}`;
    const cursor = cursors.get(id) ?? 0;
    const page = await fixture.log.fetch(topic, partition, { offset: cursor, limit: random.int(1, maxEvents) });
    if (page.events.length === 0) return;
    const delivery: DeliveryBody = {
      v: 1,
      subscription: 'streams-test',
      topic,
      partition,
      events: page.events.map((e) => ({ ...e, subscription: 'streams-test' })),
    };
    const last = page.events[page.events.length - 1]!.offset;
    counts.deliveries++;
    if (cursor <= (delivered.get(id) ?? -1)) counts.redeliveries++;
    delivered.set(id, Math.max(delivered.get(id) ?? -1, last));
    // Only a delivery with events after it: the runtime finds a lost delivery's events when the next one comes.
    if (options.lostDelivery && last + 1 < page.highWatermark && random.chance(options.lostDelivery)) {
      counts.lost++;
      cursors.set(id, last + 1);
      return;
    }
    try {
      const outcome = await runtime.processDelivery(delivery);
      counts.retries += outcome.retries;
      counts.recovered += outcome.recovered;
      counts.chunked += outcome.chunked;
    } catch (err) {
      if (!(err instanceof InjectedCrash)) throw err;
      counts.failed++;
      return;
    }
    if (options.lostAck && random.chance(options.lostAck)) {
      counts.lostAcks++;
      return;
    }
    cursors.set(id, last + 1);
  };

  for (;;) {
    if (counts.deliveries > (options.maxDeliveries ?? 5000)) throw new Error(`still not caught up after ${counts.deliveries} deliveries`);
    const candidates: { tp: [string, number]; progress: number }[] = [];
    for (const [topic, partitions] of partitionsOf) {
      for (let partition = 0; partition < partitions; partition++) {
        const cursor = cursors.get(`${topic}#${partition}`) ?? 0;
        const { highWatermark } = await fixture.log.bounds(topic, partition);
        if (cursor < highWatermark) candidates.push({ tp: [topic, partition], progress: cursor / highWatermark });
      }
    }
    if (candidates.length === 0) return counts;
    // Partitions advance at about the same pace, as Lambda consumes them side by side: the less
    // advanced half is picked from (an upstream partition far ahead of the others would make a
    // repartition topic interleave them too far apart in event time, and most records late).
    candidates.sort((a, b) => a.progress - b.progress);
    const pending = candidates.slice(0, Math.ceil(candidates.length / 2)).map((c) => c.tp);
    // One to three topic partitions side by side; the sides of a join on the same partition together.
    const chosen = new Map<string, [string, number]>();
    for (let n = random.int(1, 3); n > 0; n--) {
      const [topic, partition] = random.pick(pending);
      chosen.set(`${topic}#${partition}`, [topic, partition]);
      for (const group of options.together ?? []) {
        if (!group.includes(topic)) continue;
        for (const other of group) {
          if (other !== topic && candidates.some(({ tp: [t, p] }) => t === other && p === partition)) {
            chosen.set(`${other}#${partition}`, [other, partition]);
            counts.concurrentPairs++;
          }
        }
      }
    }
    await Promise.all([...chosen.values()].map(([topic, partition]) => deliverOne(topic, partition)));
  }
}
