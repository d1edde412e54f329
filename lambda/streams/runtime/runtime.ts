/**
 * The stream runtime's core: runs a topology's records exactly-once on Sluice. Knows nothing about
 * Lambda (handler.ts adapts it); processDelivery(delivery) takes one push-subscription delivery
 * (events of one topic partition, in offset order) and returns once its effects are committed.
 *
 * Per delivery, on processor partition p (the delivery's partition):
 * 1. Read p's meta (version, stream times, counters) and its position on the delivery's topic.
 *    Events below the position were committed before (a redelivery): skipped. Events the position
 *    expects but the delivery lacks (a delivery lost, e.g. moved to the subscription queue's
 *    dead-letter queue) are read from the log first, so nothing is ever skipped.
 * 2. Run each record through its sub-topology (`process`), then the sub-topology's `punctuate`.
 *    Each such step writes into a layer of its own (state.ts): a record that throws has its effects
 *    dropped and goes, with its error, to the dead-letter topic `<applicationId>-dlq`, counted.
 * 3. Commit: ONE DynamoDB transaction (LogService.produceAll with a JoinedWrite) holding the
 *    outputs, the state changes, the new position and the meta, whose put is conditioned on the
 *    version read in 1. A redelivered batch cannot commit twice (its position moved), and a
 *    concurrent commit of p (another topic's delivery: the other side of a join) makes this one
 *    fail as a whole: the delivery is read again from 1 and recomputed.
 * Split: steps are added to a batch while its commit fits DynamoDB's 100 actions (and the request
 * and transaction size limits); the step that would not fit starts the next batch, after the
 * batch so far commits with the position of its last record. A step too big for a transaction of
 * its own commits its outputs in chunks first, each chunk with the meta marking the step pending
 * (and how many chunks are in), each output with a deterministic message ID
 * `<app>:<partition>:<topic>:<offset>:<n>`; then its state and position. Until then every delivery
 * of p first completes the pending step (re-running it: user code must be deterministic), so no
 * other commit sees the half-written step, and no chunk is written twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { OffsetOutOfRangeError, SluiceError } from '../../../api/errors';
import { checkEventLimits, EVENT_LIMITS, type FetchedEvent, type ProduceEvent } from '../../../api/events';
import { partitionForKey } from '../../../api/partitioner';
import { backoffDelay } from '../../../api/retry';
import type { DeliveredEvent, DeliveryBody } from '../../../api/subscriptions';
import type { TopicConfig } from '../../../api/topics';
import { MAX_TRANSACTION_ACTIONS } from '../../core/aws/write-transaction';
import type { JoinedWrite, LogService } from '../../core/log/log-service';
import { MAX_BATCH_DATA_BYTES } from '../../core/log/log-service';
import { silentLogger, type Logger } from '../../core/logger';
import type { TopicStore } from '../../core/topics/topic-store';
import { StreamRecordError, TopologyError } from '../dsl/errors';
import {
  DEAD_LETTER_METRIC,
  deadLetterRecord,
  deadLetterTopic,
  type ProcessorContext,
  type SourceRecord,
  type StreamRecord,
  type SubTopology,
  type Topology,
} from '../topology';
import { mergeWrites, StepState, TableView, type KnownEntries, type Writes } from './state';
import {
  partitionKey,
  stateItemBytes,
  VersionConflict,
  type PartitionMeta,
  type PendingStep,
  type ProcessorStateStore,
  type StateWrite,
} from './state-store';
import { CachingTopicStore, ensureInternalTopic, requireTopic } from './topics';

/** Counter of input records committed (dead-lettered ones included). */
export const PROCESSED_METRIC = 'processed';
/** Counter of punctuations whose user code threw (their effects dropped; the next one tries again). */
export const PUNCTUATE_FAILED_METRIC = 'punctuateFailed';

/** Bytes one transaction may carry, below DynamoDB's 4 MB with room for keys and attributes. */
const MAX_TRANSACTION_BYTES = 3_500_000;
/** Bytes of a meta and a position item, generously. */
const META_BYTES = 2_000;
/** Bytes a dedupe record takes in the transaction. */
const DEDUPE_BYTES = 250;
/**
 * State entries this process keeps between deliveries, in all (roughly, in bytes of JSON): a
 * partition whose meta still has the version of this process's last commit to it needs no read of
 * what that commit knew. Past this, the partitions least recently committed are forgotten.
 */
const STATE_CACHE_BYTES = 32 * 1024 * 1024;

export interface ProcessorRuntimeOptions {
  readonly topology: Topology;
  /** Outputs and the commit: produceAll with the runtime's JoinedWrite. */
  readonly log: LogService;
  /** Topic configs (partitions, IDs, dedupe) and the creation of internal topics; cached per process unless already a CachingTopicStore. */
  readonly topics: TopicStore;
  readonly state: ProcessorStateStore;
  readonly logger?: Logger;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
  /**
   * Attempts of one delivery that lost a race (another commit of the partition came first, a
   * contended output head, throttling) before the delivery fails (and is redelivered). @default 50
   */
  readonly maxAttempts?: number;
  /** Actions per transaction. DynamoDB allows 100; tests lower it to force splits. @default 100 */
  readonly maxTransactionActions?: number;
}

/** What one delivery did (committed work only). */
export interface DeliveryOutcome {
  /** Input records committed, dead-lettered ones included. */
  processed: number;
  /** Events of the delivery already committed before it came (a redelivery). */
  skipped: number;
  /** Events the delivery lacked and the runtime read from the log (a delivery was lost). */
  recovered: number;
  deadLettered: number;
  /** Transactions committed (more than one when the delivery was split). */
  commits: number;
  /** Attempts that lost a race and were recomputed. */
  retries: number;
  /** Steps too big for one transaction, whose outputs were committed in chunks. */
  chunked: number;
}

/** One output record, placed, as produceAll takes it. */
interface Output {
  readonly topic: string;
  readonly partition: number;
  readonly event: ProduceEvent;
  /** As checkEventLimits counts it (the request byte limit). */
  readonly size: number;
  /** An upper bound of its bytes in a stored record batch. */
  readonly storedBytes: number;
}

/** The partition as one attempt read it, updated as the attempt commits. */
interface PartitionContext {
  readonly pk: string;
  readonly partition: number;
  /** The partition's epoch: read, or chosen now for its first commit. */
  readonly epoch: string;
  version: number;
  streamTimes: Record<string, number>;
  counters: Record<string, number>;
  readonly view: TableView;
  /** Configs of every topic this attempt may write or read (sinks, sources, dead-letter topic). */
  readonly configs: ReadonlyMap<string, TopicConfig>;
}

/** The effects of one record or punctuation, kept apart until it is accepted into a batch. */
interface Step {
  readonly kind: 'record' | 'punctuate';
  readonly sub: SubTopology;
  readonly record?: SourceRecord;
  readonly inputTopic: string;
  readonly streamTime: number;
  readonly writes: Writes;
  readonly outputs: Output[];
  readonly counts: Map<string, number>;
  /** A record step's next position on its topic. */
  readonly position?: { readonly topic: string; readonly offset: number };
}

/** Steps accepted and not yet committed. */
class Batch {
  readonly writes: Writes = new Map();
  readonly outputs: Output[] = [];
  readonly counts = new Map<string, number>();
  readonly streamTimes = new Map<string, number>();
  position?: { readonly topic: string; readonly offset: number };
  steps = 0;

  add(step: Step): void {
    mergeWrites(this.writes, step.writes);
    this.outputs.push(...step.outputs);
    for (const [metric, n] of step.counts) this.counts.set(metric, (this.counts.get(metric) ?? 0) + n);
    this.streamTimes.set(step.sub.id, step.streamTime);
    if (step.position) this.position = step.position;
    this.steps++;
  }
}

export class ProcessorRuntime {
  readonly topology: Topology;
  private readonly log: LogService;
  private readonly topics: CachingTopicStore;
  private readonly state: ProcessorStateStore;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly maxAttempts: number;
  private readonly maxActions: number;
  private readonly readers = new Map<string, SubTopology>();
  private readonly subs = new Map<string, SubTopology>();
  private readonly dlq: string;
  private ready: Promise<void> | undefined;
  /** What this process knows of each partition's state as of its last commit there (see STATE_CACHE_BYTES). */
  private readonly cache = new Map<string, { readonly epoch: string; readonly version: number; readonly entries: KnownEntries; readonly bytes: number }>();
  private cacheBytes = 0;

  constructor(options: ProcessorRuntimeOptions) {
    this.topology = options.topology;
    this.log = options.log;
    this.topics = options.topics instanceof CachingTopicStore ? options.topics : new CachingTopicStore(options.topics);
    this.state = options.state;
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.maxAttempts = options.maxAttempts ?? 50;
    this.maxActions = Math.min(options.maxTransactionActions ?? MAX_TRANSACTION_ACTIONS, MAX_TRANSACTION_ACTIONS);
    this.dlq = deadLetterTopic(this.topology.applicationId);
    for (const sub of this.topology.subTopologies) {
      this.subs.set(sub.id, sub);
      for (const topic of sub.sources) {
        if (this.readers.has(topic)) throw new TopologyError(`topic '${topic}' is read by two sub-topologies`);
        this.readers.set(topic, sub);
      }
      for (const store of sub.stores) {
        if (store.includes('#')) throw new TopologyError(`store name '${store}' must not contain '#' (it separates store and key in the state table)`);
      }
    }
  }

  get applicationId(): string {
    return this.topology.applicationId;
  }

  /** Processes one delivery; resolves when its effects are committed (or were before). Throws an infrastructure failure. */
  async processDelivery(delivery: DeliveryBody): Promise<DeliveryOutcome> {
    await this.start();
    const sub = this.readers.get(delivery.topic);
    if (!sub) throw new TopologyError(`processor '${this.applicationId}' does not read topic '${delivery.topic}'`);
    const outcome: DeliveryOutcome = { processed: 0, skipped: 0, recovered: 0, deadLettered: 0, commits: 0, retries: 0, chunked: 0 };
    for (let attempt = 1; ; attempt++) {
      try {
        await this.attempt(delivery, sub, outcome, attempt === 1);
        return outcome;
      } catch (err) {
        if (!isRace(err) || attempt >= this.maxAttempts) throw err;
        outcome.retries++;
        // Another commit of the partition came first (or a head, or DynamoDB, was contended):
        // read the partition again and recompute what is left.
        await this.sleep(backoffDelay(attempt - 1, { initialDelayMs: 10, maxDelayMs: 1000, random: this.random }));
      }
    }
  }

  /**
   * Once per process (processDelivery calls it): creates the internal topics that are missing and
   * checks that co-partitioned topics have equal partition counts. A failure is retried by the next call.
   */
  start(): Promise<void> {
    this.ready ??= this.createInternalTopics().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async createInternalTopics(): Promise<void> {
    const userSources = this.topology.sourceTopics;
    const counts = new Map<string, number>();
    for (const topic of userSources) counts.set(topic, (await requireTopic(this.topics, topic, `a source topic of processor '${this.applicationId}'`)).partitions);
    for (const internal of this.topology.internalTopics) {
      const partitions = counts.get(internal.partitionsLike) ?? (await requireTopic(this.topics, internal.partitionsLike, `the topic ${internal.name} follows`)).partitions;
      const config = await ensureInternalTopic(this.topics, internal.name, partitions, this.now);
      if (config.partitions !== partitions) {
        throw new TopologyError(
          `repartition topic '${internal.name}' has ${config.partitions} partitions and '${internal.partitionsLike}' ${partitions}: they must be equal (delete the repartition topic to re-create it)`,
        );
      }
      counts.set(internal.name, config.partitions);
    }
    await ensureInternalTopic(this.topics, this.dlq, Math.max(1, ...counts.values()), this.now);
    for (const sub of this.topology.subTopologies) {
      for (const group of sub.copartitioned) {
        const sizes = await Promise.all(group.map(async (t) => counts.get(t) ?? (await requireTopic(this.topics, t, 'co-partitioned')).partitions));
        if (new Set(sizes).size > 1) {
          throw new TopologyError(
            `topics ${group.join(', ')} must have equal partition counts to be co-partitioned (${group.map((t, i) => `${t}: ${sizes[i]}`).join(', ')})`,
          );
        }
      }
    }
  }

  /** Configs of the topics an attempt touches: the sub-topologies' sinks and sources, and the dead-letter topic. */
  private async configs(): Promise<Map<string, TopicConfig>> {
    const names = new Set<string>([this.dlq]);
    for (const sub of this.topology.subTopologies) for (const t of [...sub.sources, ...sub.sinks]) names.add(t);
    const configs = new Map<string, TopicConfig>();
    await Promise.all(
      [...names].map(async (name) => configs.set(name, await requireTopic(this.topics, name, `used by processor '${this.applicationId}'`))),
    );
    return configs;
  }

  private async load(pk: string, partition: number, topic: string): Promise<{ ctx: PartitionContext; meta: PartitionMeta; position?: { offset: number; topicId?: string } }> {
    const [head, configs] = await Promise.all([this.state.loadHead(pk, topic), this.configs()]);
    // Only the very state this process last committed (same epoch, same version) can be trusted:
    // any other commit since, from anywhere, bumped the version.
    const cached = this.cache.get(pk);
    const known = cached && cached.epoch === head.meta.epoch && cached.version === head.meta.version ? cached.entries : undefined;
    const ctx: PartitionContext = {
      pk,
      partition,
      epoch: head.meta.epoch ?? randomUUID(),
      version: head.meta.version,
      streamTimes: { ...head.meta.streamTimes },
      counters: { ...head.meta.counters },
      view: new TableView(this.state, pk, known),
      configs,
    };
    return { ctx, meta: head.meta, ...(head.position ? { position: head.position } : {}) };
  }

  private async attempt(delivery: DeliveryBody, sub: SubTopology, outcome: DeliveryOutcome, first: boolean): Promise<void> {
    const pk = partitionKey(this.applicationId, delivery.partition);
    let loaded = await this.load(pk, delivery.partition, delivery.topic);
    // A step left half-committed (its outputs in chunks) comes first, whoever's delivery this is.
    while (loaded.meta.pending) {
      await this.completePending(loaded.ctx, loaded.meta.pending, outcome);
      loaded = await this.load(pk, delivery.partition, delivery.topic);
    }
    const { ctx } = loaded;
    // Read fresh, not from the cache: a topic deleted and re-created must restart from its start.
    const source = (await this.topics.fresh(delivery.topic)) ?? (await requireTopic(this.topics, delivery.topic, 'a source topic'));
    let next = 0;
    if (loaded.position && loaded.position.topicId === source.topicId) next = loaded.position.offset;
    else if (loaded.position) {
      this.logger.warn('input topic was re-created: processing it from its start', { topic: delivery.topic, partition: delivery.partition });
    }
    if (first) outcome.skipped = delivery.events.filter((e) => e.offset < next).length;
    if (!delivery.events.some((e) => e.offset >= next)) return; // all committed before: a redelivery

    let batch = new Batch();
    const accept = async (step: Step): Promise<void> => {
      // A punctuation that closed nothing changes nothing (its stream time is the batch's already).
      if (step.kind === 'punctuate' && step.outputs.length === 0 && step.counts.size === 0 && countWrites(step.writes) === 0) return;
      if (this.fits(ctx, [batch, step])) {
        batch.add(step);
        return;
      }
      if (batch.steps > 0) {
        // The step was computed on top of the batch: committing the batch leaves its view unchanged.
        await this.commitBatch(ctx, batch, source, outcome);
        batch = new Batch();
      }
      if (this.fits(ctx, [step])) {
        batch.add(step);
        return;
      }
      if (!this.fits(ctx, [{ ...step, outputs: [] }])) {
        // Its state changes alone do not fit one transaction, and they cannot be split atomically.
        if (step.kind === 'record') {
          const error = new StreamRecordError(
            `processing this record changes ${countWrites(step.writes)} state entries, more than one transaction holds (${this.maxActions - 2})`,
          );
          batch.add(this.deadLetterStep(ctx, step.sub, step.record!, error, step.streamTime));
          return;
        }
        throw new Error(
          `a punctuation of sub-topology ${step.sub.id} changes ${countWrites(step.writes)} state entries, more than one transaction holds`,
        );
      }
      await this.commitOversized(ctx, step, 0, source, outcome);
    };

    let processedAny = false;
    for await (const record of this.records(delivery, next, outcome)) {
      processedAny = true;
      await accept(await this.runRecord(ctx, sub, record, batch));
    }
    if (processedAny && sub.punctuate) await accept(await this.runPunctuate(ctx, sub, batch, delivery.topic));
    if (batch.steps > 0) await this.commitBatch(ctx, batch, source, outcome);
  }

  /**
   * The records to process, in offset order: the delivery's events from `next` on, preceded by any
   * the delivery lacks, read from the log (a lost delivery leaves a gap the position exposes).
   */
  private async *records(delivery: DeliveryBody, from: number, outcome: DeliveryOutcome): AsyncGenerator<SourceRecord> {
    let next = from;
    for (const event of delivery.events) {
      if (event.offset < next) continue;
      if (event.offset > next) {
        this.logger.warn('events missing from the delivery: reading them from the log', {
          topic: delivery.topic,
          partition: delivery.partition,
          from: next,
          to: event.offset,
        });
        for await (const missing of this.fromLog(delivery.topic, delivery.partition, next, event.offset)) {
          outcome.recovered++;
          yield missing;
        }
      }
      yield toSourceRecord(event);
      next = event.offset + 1;
    }
  }

  private async *fromLog(topic: string, partition: number, from: number, to: number): AsyncGenerator<SourceRecord> {
    let offset = from;
    while (offset < to) {
      let events: readonly FetchedEvent[];
      let nextOffset: number;
      try {
        ({ events, nextOffset } = await this.log.fetch(topic, partition, { offset, limit: Math.min(1000, to - offset) }));
      } catch (err) {
        if (!(err instanceof OffsetOutOfRangeError)) throw err;
        // Retention removed the start of the gap: nothing to process there.
        const { logStartOffset } = await this.log.bounds(topic, partition);
        if (logStartOffset <= offset) throw err;
        offset = logStartOffset;
        continue;
      }
      if (events.length === 0) return;
      for (const event of events) if (event.offset < to) yield toSourceRecord(event);
      offset = nextOffset;
    }
  }

  private streamTimeOf(ctx: PartitionContext, batch: Batch, sub: SubTopology): number {
    return batch.streamTimes.get(sub.id) ?? ctx.streamTimes[sub.id] ?? Number.NEGATIVE_INFINITY;
  }

  private async runRecord(ctx: PartitionContext, sub: SubTopology, record: SourceRecord, batch: Batch): Promise<Step> {
    const streamTime = Math.max(this.streamTimeOf(ctx, batch, sub), record.timestamp);
    const { step, context, state } = this.newStep(ctx, batch, sub, 'record', record.topic, streamTime, record);
    try {
      if ((record as { valueBase64?: string }).valueBase64 !== undefined) {
        throw new StreamRecordError('the event carries bytes (valueBase64); stream processors read JSON values');
      }
      await sub.process(record, context);
    } catch (err) {
      if (state.infraError !== undefined) throw state.infraError;
      return this.deadLetterStep(ctx, sub, record, err, streamTime);
    }
    // A failed read that user code caught still fails the delivery: what it computed may be wrong.
    if (state.infraError !== undefined) throw state.infraError;
    step.counts.set(PROCESSED_METRIC, (step.counts.get(PROCESSED_METRIC) ?? 0) + 1);
    return { ...step, position: { topic: record.topic, offset: record.offset + 1 } };
  }

  private async runPunctuate(ctx: PartitionContext, sub: SubTopology, batch: Batch, inputTopic: string, at?: number): Promise<Step> {
    const streamTime = at ?? this.streamTimeOf(ctx, batch, sub);
    const { step, context, state } = this.newStep(ctx, batch, sub, 'punctuate', inputTopic, streamTime);
    try {
      await sub.punctuate!(context);
    } catch (err) {
      if (state.infraError !== undefined) throw state.infraError;
      // No record to dead-letter: drop its effects and count it; the next punctuation does its work.
      this.logger.error('a punctuation threw; its effects are dropped', { subTopology: sub.id, partition: ctx.partition, error: err });
      return { ...this.emptyStep(sub, 'punctuate', inputTopic, streamTime), counts: new Map([[PUNCTUATE_FAILED_METRIC, 1]]) };
    }
    if (state.infraError !== undefined) throw state.infraError;
    return step;
  }

  private emptyStep(sub: SubTopology, kind: Step['kind'], inputTopic: string, streamTime: number, record?: SourceRecord): Step {
    return { kind, sub, inputTopic, streamTime, writes: new Map(), outputs: [], counts: new Map(), ...(record ? { record } : {}) };
  }

  /** A step whose record failed: nothing of its own, the record and its error to the dead-letter topic. */
  private deadLetterStep(ctx: PartitionContext, sub: SubTopology, record: SourceRecord, error: unknown, streamTime: number): Step {
    this.logger.warn('a record failed: dead-lettered', { topic: record.topic, partition: record.partition, offset: record.offset, error });
    const step = this.emptyStep(sub, 'record', record.topic, streamTime, record);
    const config = ctx.configs.get(this.dlq)!;
    let dead = deadLetterRecord(record, error);
    let output: Output;
    try {
      output = this.output(this.dlq, dead, record.partition % config.partitions);
    } catch {
      // Too big to dead-letter whole (the value with its error): keep where it came from and why.
      dead = { ...dead, value: { ...dead.value, value: null, error: { ...dead.value.error, message: `${dead.value.error.message} (value too large to dead-letter)` } } };
      output = this.output(this.dlq, { ...dead, headers: {} }, record.partition % config.partitions);
    }
    step.outputs.push(output);
    step.counts.set(PROCESSED_METRIC, 1);
    step.counts.set(DEAD_LETTER_METRIC, 1);
    return { ...step, position: { topic: record.topic, offset: record.offset + 1 } };
  }

  private newStep(
    ctx: PartitionContext,
    batch: Batch,
    sub: SubTopology,
    kind: Step['kind'],
    inputTopic: string,
    streamTime: number,
    record?: SourceRecord,
  ): { step: Step; context: ProcessorContext; state: StepState } {
    const state = new StepState(ctx.view, batch.writes);
    const step: Step = { ...this.emptyStep(sub, kind, inputTopic, streamTime, record), writes: state.writes };
    const inputPartition = ctx.partition;
    const context: ProcessorContext = {
      state,
      streamTime,
      emit: (topic, out, partition) => {
        if (!sub.sinks.includes(topic)) throw new Error(`sub-topology ${sub.id} emitted to '${topic}', which is not one of its sinks`);
        const config = ctx.configs.get(topic)!;
        let target = partition;
        if (target === undefined) target = out.key === null ? inputPartition % config.partitions : partitionForKey(out.key, config.partitions);
        else if (!Number.isInteger(target) || target < 0 || target >= config.partitions) {
          throw new StreamRecordError(`emitted to partition ${target} of '${topic}', which has ${config.partitions}`);
        }
        step.outputs.push(this.output(topic, out, target));
      },
      count: (metric, n = 1) => {
        step.counts.set(metric, (step.counts.get(metric) ?? 0) + n);
      },
    };
    return { step, context, state };
  }

  /** An emitted record as an event to append, checked against the event limits now (a violation is the record's error). */
  private output(topic: string, record: StreamRecord, partition: number): Output {
    if (record.value === undefined || JSON.stringify(record.value) === undefined) {
      throw new StreamRecordError(`a record emitted to '${topic}' has a value that is not JSON`);
    }
    if (!Number.isSafeInteger(record.timestamp) || record.timestamp < 0) {
      throw new StreamRecordError(`a record emitted to '${topic}' has timestamp ${record.timestamp}; event times are integer epoch ms >= 0`);
    }
    const headers = { ...record.headers };
    const event: ProduceEvent = {
      ...(record.key === null ? {} : { key: record.key }),
      value: record.value,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      timestamp: record.timestamp,
      partition,
    };
    const size = checkEventLimits(event, 0);
    const keyAndHeaders = Buffer.byteLength(record.key ?? '') + Object.entries(headers).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
    // JSON escaping may double a key or header; the message ID takes at most 128; the rest is field names.
    return { topic, partition, event, size, storedBytes: size + keyAndHeaders + 200 + 8 * Object.keys(headers).length };
  }

  /** Whether one transaction holds these effects (with the meta and `positions` position items). */
  private fits(ctx: PartitionContext, parts: readonly Pick<Step | Batch, 'writes' | 'outputs'>[], positions = 1): boolean {
    const outputs = parts.flatMap((p) => p.outputs);
    if (outputs.length > EVENT_LIMITS.maxEventsPerRequest) return false;
    const writes = new Map<string, number>();
    for (const p of parts) {
      for (const [store, byKey] of p.writes) for (const [key, entry] of byKey) writes.set(`${store}#${key}`, stateItemBytes('', store, key, entry));
    }
    const out = outputCost(outputs, (topic) => (ctx.configs.get(topic)?.dedupeWindowMs ?? 1) > 0);
    const actions = 1 + positions + writes.size + out.actions;
    const bytes = META_BYTES * (1 + positions) + [...writes.values()].reduce((n, b) => n + b, 0) + out.bytes;
    return actions <= this.maxActions && out.requestBytes <= EVENT_LIMITS.maxRequestBytes && bytes <= MAX_TRANSACTION_BYTES;
  }

  private positionOf(source: TopicConfig, position: { topic: string; offset: number }) {
    return { topic: position.topic, offset: position.offset, topicId: source.topicId };
  }

  private async commitBatch(ctx: PartitionContext, batch: Batch, source: TopicConfig, outcome: DeliveryOutcome): Promise<void> {
    const streamTimes = { ...ctx.streamTimes, ...Object.fromEntries(batch.streamTimes) };
    await this.commit(ctx, outcome, {
      outputs: batch.outputs,
      writes: batch.writes,
      positions: batch.position ? [this.positionOf(source, batch.position)] : [],
      streamTimes,
      counters: addCounts(ctx.counters, batch.counts),
    });
    tally(outcome, batch.counts);
  }

  /**
   * A step too big for one transaction: its outputs in chunks (each commit marks the step pending
   * with the chunks done), then its state, position and the rest in a last commit that clears the
   * mark. `done` chunks were committed before (a resumed step).
   */
  private async commitOversized(ctx: PartitionContext, step: Step, done: number, source: TopicConfig, outcome: DeliveryOutcome): Promise<void> {
    const ids = step.outputs.map((o, n) => ({ ...o, event: { ...o.event, messageId: this.messageId(ctx.partition, step, n) } }));
    const chunks: Output[][] = [[]];
    for (const output of ids) {
      const current = chunks[chunks.length - 1]!;
      if (current.length > 0 && !this.fits(ctx, [{ writes: new Map(), outputs: [...current, output] }], 0)) chunks.push([output]);
      else current.push(output);
    }
    const positions = step.position ? [this.positionOf(source, step.position)] : [];
    if (!this.fits(ctx, [{ writes: step.writes, outputs: chunks[chunks.length - 1]! }], positions.length)) chunks.push([]);
    const pending: Omit<PendingStep, 'chunks'> = {
      kind: step.kind,
      subTopology: step.sub.id,
      topic: step.inputTopic,
      ...(step.record ? { offset: step.record.offset } : { streamTime: step.streamTime }),
    };
    this.logger.info('a step too big for one transaction: committing its outputs in chunks', {
      partition: ctx.partition,
      ...pending,
      outputs: ids.length,
      chunks: chunks.length,
      resumedAfter: done,
    });
    for (let i = done; i < chunks.length - 1; i++) {
      await this.commit(ctx, outcome, {
        outputs: chunks[i]!,
        writes: new Map(),
        positions: [],
        streamTimes: ctx.streamTimes,
        counters: ctx.counters,
        pending: { ...pending, chunks: i + 1 },
      });
    }
    await this.commit(ctx, outcome, {
      outputs: chunks[chunks.length - 1]!,
      writes: step.writes,
      positions,
      streamTimes: { ...ctx.streamTimes, [step.sub.id]: step.streamTime },
      counters: addCounts(ctx.counters, step.counts),
    });
    outcome.chunked++;
    tally(outcome, step.counts);
  }

  /** `<app>:<partition>:<topic>:<offset>:<n>` (a punctuation: `…:<sub-topology>:p<stream time>:<n>`), hashed past 128 characters. */
  private messageId(partition: number, step: Step, n: number): string {
    const where = step.record ? `${step.record.topic}:${step.record.offset}` : `${step.sub.id}:p${step.streamTime}`;
    const id = `${this.applicationId}:${partition}:${where}:${n}`;
    if (id.length <= EVENT_LIMITS.maxMessageIdLength) return id;
    return `${this.applicationId.slice(0, 40)}:${createHash('sha256').update(id).digest('hex')}`;
  }

  /** Completes a step left half-committed: re-runs it (on the state it ran on: nothing else committed since) and commits what is left. */
  private async completePending(ctx: PartitionContext, pending: PendingStep, outcome: DeliveryOutcome): Promise<void> {
    const sub = pending.kind === 'record' ? this.readers.get(pending.topic) : this.subs.get(pending.subTopology);
    if (!sub) throw new TopologyError(`a pending step of sub-topology ${pending.subTopology} (topic ${pending.topic}) belongs to no sub-topology of this topology`);
    const source = ctx.configs.get(pending.topic) ?? (await requireTopic(this.topics, pending.topic, 'the input of a pending step'));
    let step: Step;
    if (pending.kind === 'punctuate') {
      step = await this.runPunctuate(ctx, sub, new Batch(), pending.topic, pending.streamTime);
    } else {
      const [record] = await arrayOf(this.fromLog(pending.topic, ctx.partition, pending.offset!, pending.offset! + 1));
      if (!record || record.offset !== pending.offset) {
        // Gone from the log (retention): nothing to re-run; move past it.
        this.logger.error('the record of a pending step is gone from the log; moving past it', { ...pending, partition: ctx.partition });
        step = { ...this.emptyStep(sub, 'record', pending.topic, ctx.streamTimes[sub.id] ?? 0), position: { topic: pending.topic, offset: pending.offset! + 1 } };
      } else {
        step = await this.runRecord(ctx, sub, record, new Batch());
      }
    }
    await this.commitOversized(ctx, step, pending.chunks, source, outcome);
  }

  /** One transaction: the outputs through produceAll, joined with the meta (conditioned on the version read), positions and state. */
  private async commit(
    ctx: PartitionContext,
    outcome: DeliveryOutcome,
    parts: {
      outputs: readonly Output[];
      writes: Writes;
      positions: { topic: string; offset: number; topicId: string }[];
      streamTimes: Record<string, number>;
      counters: Record<string, number>;
      pending?: PendingStep;
    },
  ): Promise<void> {
    const writes: StateWrite[] = [];
    for (const [store, byKey] of parts.writes) for (const [key, entry] of byKey) writes.push([store, key, entry]);
    const finite = Object.values(parts.streamTimes).filter(Number.isFinite);
    const part = this.state.commitPart({
      pk: ctx.pk,
      expectedVersion: ctx.version,
      meta: {
        epoch: ctx.epoch,
        streamTimes: Object.fromEntries(Object.entries(parts.streamTimes).filter(([, t]) => Number.isFinite(t))),
        ...(finite.length > 0 ? { streamTime: Math.max(...finite) } : {}),
        counters: parts.counters,
        ...(parts.pending ? { pending: parts.pending } : {}),
      },
      positions: parts.positions,
      writes,
      now: this.now(),
    });
    const joined: JoinedWrite = {
      addTo: (tx) => tx.add(part),
      onFailed: async (failures) => failures.find((e) => e instanceof VersionConflict) ?? failures[0] ?? new VersionConflict(ctx.pk),
    };
    const byTopic = new Map<string, ProduceEvent[]>();
    for (const o of parts.outputs) byTopic.set(o.topic, [...(byTopic.get(o.topic) ?? []), o.event]);
    await this.log.produceAll(
      [...byTopic].map(([topic, events]) => ({ topic, events })),
      joined,
    );
    outcome.commits++;
    ctx.version++;
    ctx.streamTimes = parts.streamTimes;
    ctx.counters = parts.counters;
    ctx.view.applyCommitted(parts.writes);
    this.remember(ctx);
  }

  /** Keeps what the view knows of the partition as of this commit, for this process's next delivery of it. */
  private remember(ctx: PartitionContext): void {
    const previous = this.cache.get(ctx.pk);
    if (previous) {
      this.cacheBytes -= previous.bytes;
      this.cache.delete(ctx.pk);
    }
    const { entries, bytes } = ctx.view.snapshot(STATE_CACHE_BYTES / 4);
    this.cache.set(ctx.pk, { epoch: ctx.epoch, version: ctx.version, entries, bytes });
    this.cacheBytes += bytes;
    // Maps keep insertion order: the first entries are the partitions least recently committed.
    for (const [pk, entry] of this.cache) {
      if (this.cacheBytes <= STATE_CACHE_BYTES || pk === ctx.pk) break;
      this.cache.delete(pk);
      this.cacheBytes -= entry.bytes;
    }
  }
}

/** Errors after which the delivery is read again and recomputed: lost races and transient faults (nothing half-done survives a retry: it rereads). */
function isRace(err: unknown): boolean {
  return err instanceof VersionConflict || (err instanceof SluiceError && err.retriable);
}

function toSourceRecord(event: DeliveredEvent | FetchedEvent): SourceRecord {
  const record: SourceRecord = {
    topic: event.topic,
    partition: event.partition,
    offset: event.offset,
    key: event.key,
    value: event.value === undefined ? null : event.value,
    timestamp: event.timestamp,
    headers: event.headers,
  };
  // Kept out of sight of user code, for runRecord to refuse it.
  return event.valueBase64 === undefined ? record : Object.defineProperty(record, 'valueBase64', { value: event.valueBase64, enumerable: false });
}

/** Actions and bytes of appending `outputs` in one transaction (LogService's plan: per partition a head and its batches, per message ID a dedupe record). */
function outputCost(outputs: readonly Output[], dedupes: (topic: string) => boolean): { actions: number; bytes: number; requestBytes: number } {
  const partitions = new Map<string, number>();
  let actions = 0;
  let bytes = 0;
  let requestBytes = 0;
  for (const o of outputs) {
    const id = `${o.topic}#${o.partition}`;
    partitions.set(id, (partitions.get(id) ?? 0) + o.storedBytes);
    requestBytes += o.size;
    if (o.event.messageId !== undefined && dedupes(o.topic)) {
      actions++;
      bytes += DEDUPE_BYTES;
    }
  }
  for (const stored of partitions.values()) {
    // LogService halves a partition's records until each half fits an item: allow for uneven halves.
    actions += 1 + (stored <= MAX_BATCH_DATA_BYTES ? 1 : Math.ceil((3 * stored) / MAX_BATCH_DATA_BYTES) + 1);
    bytes += stored + 200;
  }
  return { actions, bytes, requestBytes };
}

function countWrites(writes: Writes): number {
  let n = 0;
  for (const byKey of writes.values()) n += byKey.size;
  return n;
}

function addCounts(counters: Readonly<Record<string, number>>, counts: ReadonlyMap<string, number>): Record<string, number> {
  const out = { ...counters };
  for (const [metric, n] of counts) out[metric] = (out[metric] ?? 0) + n;
  return out;
}

function tally(outcome: DeliveryOutcome, counts: ReadonlyMap<string, number>): void {
  outcome.processed += counts.get(PROCESSED_METRIC) ?? 0;
  outcome.deadLettered += counts.get(DEAD_LETTER_METRIC) ?? 0;
}

async function arrayOf<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
