/**
 * `TopologyTestDriver` (Kafka Streams' name): runs a topology in memory, the way the runtime does,
 * for unit tests of stream-processing code. Per input batch (records of one topic partition) it calls
 * the sub-topology's `process` for each record, then `punctuate`; it keeps state per (application,
 * partition) behind the same `StateAccess` contract, places emitted records on partitions exactly as
 * the runtime does (api/partitioner.ts), delivers repartition topics to the sub-topology that reads
 * them, and dead-letters records whose processing throws (their effects dropped).
 *
 *   const driver = new TopologyTestDriver(app, { partitions: { orders: 4 } });
 *   await driver.pipe('orders', [{ key: 'o1', value: { total: 120 }, timestamp: 1000 }]);
 *   expect(driver.output('big-orders').map((r) => r.value)).toEqual([...]);
 */
import { partitionForKey } from '../../api/partitioner';
import { compareKeys } from './dsl/keys';
import {
  DEAD_LETTER_METRIC,
  deadLetterRecord,
  deadLetterTopic,
  type DeadLetterValue,
  type ProcessorContext,
  type SourceRecord,
  type StateAccess,
  type StreamRecord,
  type SubTopology,
  type Topology,
} from './topology';

export interface TestInputRecord<V = unknown> {
  readonly key?: string | null;
  readonly value: V;
  /** Event time, epoch ms (default 0). */
  readonly timestamp?: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** Default: by key (api/partitioner.ts); keyless: round-robin. */
  readonly partition?: number;
}

/** A record the topology wrote, with where it landed. */
export type TestOutputRecord<V = unknown> = SourceRecord<V>;

export interface TopologyTestDriverOptions {
  /** Partition counts of user topics (default `defaultPartitions`). Repartition topics follow their partitionsLike topic. */
  readonly partitions?: Readonly<Record<string, number>>;
  /** Default 1. */
  readonly defaultPartitions?: number;
  /**
   * Delete state entries as soon as they expire (expiresAt < stream time), the earliest the runtime's
   * TTL may, so a test catches logic that relies on expired state still being there. Default true.
   */
  readonly expireState?: boolean;
  /** Records per batch when piping (default: all of a pipe() call's records of one partition in one batch). */
  readonly batchSize?: number;
}

interface Entry {
  /** JSON text: state holds JSON, and a read never shares objects with the store (as with DynamoDB). */
  readonly json: string;
  readonly expiresAt?: number;
}

type Store = Map<string, Entry>;

/** Keyed by store name, then key. */
type PartitionState = Map<string, Store>;

/** Writes of one record, applied only if its processing succeeds. */
class RecordState implements StateAccess {
  private readonly writes = new Map<string, Map<string, Entry | null>>();

  constructor(private readonly committed: PartitionState) {}

  private read(store: string, key: string): Entry | undefined {
    const written = this.writes.get(store)?.get(key);
    if (written !== undefined) return written ?? undefined;
    return this.committed.get(store)?.get(key);
  }

  async get<T>(store: string, key: string): Promise<T | undefined> {
    const entry = this.read(store, key);
    return entry === undefined ? undefined : (JSON.parse(entry.json) as T);
  }

  put(store: string, key: string, value: unknown, options: { readonly expiresAt?: number } = {}): void {
    const json = JSON.stringify(value);
    if (json === undefined) throw new Error(`state value for ${store}/${key} is not JSON`);
    if (options.expiresAt !== undefined && !Number.isFinite(options.expiresAt)) throw new Error(`expiresAt ${options.expiresAt} is not a number`);
    this.writes.set(store, (this.writes.get(store) ?? new Map()).set(key, { json, ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }) }));
  }

  delete(store: string, key: string): void {
    this.writes.set(store, (this.writes.get(store) ?? new Map()).set(key, null));
  }

  async range<T>(store: string, prefix: string, from?: string, to?: string): Promise<{ key: string; value: T }[]> {
    const keys = new Set([...(this.committed.get(store)?.keys() ?? []), ...(this.writes.get(store)?.keys() ?? [])]);
    const inRange = [...keys]
      .filter((k) => k.startsWith(prefix) && (from === undefined || compareKeys(k, from) >= 0) && (to === undefined || compareKeys(k, to) <= 0))
      .sort(compareKeys);
    const result: { key: string; value: T }[] = [];
    for (const key of inRange) {
      const entry = this.read(store, key);
      if (entry !== undefined) result.push({ key, value: JSON.parse(entry.json) as T });
    }
    return result;
  }

  commit(): void {
    for (const [store, writes] of this.writes) {
      const target = this.committed.get(store) ?? new Map<string, Entry>();
      this.committed.set(store, target);
      for (const [key, entry] of writes) {
        if (entry === null) target.delete(key);
        else target.set(key, entry);
      }
    }
  }
}

interface Emitted {
  readonly topic: string;
  readonly record: StreamRecord;
  readonly partition?: number;
}

export class TopologyTestDriver {
  readonly topology: Topology;
  private readonly partitionCounts = new Map<string, number>();
  private readonly defaultPartitions: number;
  private readonly expireState: boolean;
  private readonly batchSize: number;
  private readonly readers = new Map<string, SubTopology>();
  private readonly internal = new Map<string, string>();
  private readonly state = new Map<number, PartitionState>();
  private readonly streamTimes = new Map<string, number>();
  private readonly inputOffsets = new Map<string, number>();
  private readonly outputs = new Map<string, TestOutputRecord[]>();
  private readonly outputOffsets = new Map<string, number>();
  private readonly counters = new Map<number, Map<string, number>>();
  private readonly roundRobin = new Map<string, number>();
  private checked = false;
  /** Batches processed so far (input and repartition). */
  batches = 0;

  constructor(app: Topology | { build(): Topology }, options: TopologyTestDriverOptions = {}) {
    this.topology = 'build' in app ? app.build() : app;
    this.defaultPartitions = options.defaultPartitions ?? 1;
    this.expireState = options.expireState ?? true;
    this.batchSize = options.batchSize ?? Number.POSITIVE_INFINITY;
    for (const [topic, n] of Object.entries(options.partitions ?? {})) this.setPartitions(topic, n);
    for (const t of this.topology.internalTopics) this.internal.set(t.name, t.partitionsLike);
    for (const sub of this.topology.subTopologies) {
      for (const topic of sub.sources) {
        if (this.readers.has(topic)) throw new Error(`topic '${topic}' is read by two sub-topologies`);
        this.readers.set(topic, sub);
      }
    }
  }

  /** Sets a user topic's partition count (before the first pipe()). */
  setPartitions(topic: string, partitions: number): void {
    if (this.checked) throw new Error('set partition counts before piping records');
    if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`partitions of '${topic}' must be an integer >= 1`);
    this.partitionCounts.set(topic, partitions);
  }

  /** A topic's partition count (a repartition topic has its partitionsLike topic's). */
  partitions(topic: string): number {
    const like = this.internal.get(topic) ?? topic;
    return this.partitionCounts.get(like) ?? this.defaultPartitions;
  }

  /** As the runtime does before running: co-partitioned topics must have equal partition counts. */
  private checkCopartitioning(): void {
    if (this.checked) return;
    for (const sub of this.topology.subTopologies) {
      for (const group of sub.copartitioned) {
        const counts = group.map((t) => `${t}: ${this.partitions(t)}`);
        if (new Set(group.map((t) => this.partitions(t))).size > 1) {
          throw new Error(`topics ${group.join(', ')} must have equal partition counts to be co-partitioned (${counts.join(', ')})`);
        }
      }
    }
    this.checked = true;
  }

  /**
   * Produces records to a source topic and processes them: one batch per partition (in the order
   * their partitions first appear, split by `batchSize`), then the repartition records they caused,
   * until nothing is left.
   */
  async pipe<V>(topic: string, records: TestInputRecord<V> | readonly TestInputRecord<V>[]): Promise<void> {
    this.checkCopartitioning();
    if (this.internal.has(topic) || !this.readers.has(topic)) throw new Error(`'${topic}' is not a source topic of '${this.topology.applicationId}'`);
    const list = Array.isArray(records) ? (records as readonly TestInputRecord<V>[]) : [records as TestInputRecord<V>];
    const byPartition = new Map<number, SourceRecord[]>();
    for (const input of list) {
      const record = this.inputRecord(topic, input);
      byPartition.set(record.partition, [...(byPartition.get(record.partition) ?? []), record]);
    }
    const queue: { topic: string; partition: number; records: SourceRecord[] }[] = [];
    for (const [partition, recs] of byPartition) {
      for (let i = 0; i < recs.length; i += Math.min(this.batchSize, recs.length)) {
        queue.push({ topic, partition, records: recs.slice(i, i + this.batchSize) });
      }
    }
    while (queue.length > 0) {
      const batch = queue.shift()!;
      const internalRecords = await this.processBatch(batch.topic, batch.partition, batch.records);
      // Deliver each repartition partition's records as one batch, in the order they were written.
      const grouped = new Map<string, { topic: string; partition: number; records: SourceRecord[] }>();
      for (const record of internalRecords) {
        const id = `${record.topic}/${record.partition}`;
        const group = grouped.get(id) ?? { topic: record.topic, partition: record.partition, records: [] };
        group.records.push(record);
        grouped.set(id, group);
      }
      queue.push(...grouped.values());
    }
  }

  private inputRecord<V>(topic: string, input: TestInputRecord<V>): SourceRecord {
    const partitions = this.partitions(topic);
    const key = input.key ?? null;
    let partition = input.partition;
    if (partition === undefined) {
      if (key !== null) partition = partitionForKey(key, partitions);
      else {
        const next = this.roundRobin.get(topic) ?? 0;
        this.roundRobin.set(topic, next + 1);
        partition = next % partitions;
      }
    }
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
      throw new Error(`partition ${partition} of '${topic}' does not exist (${partitions} partitions)`);
    }
    const id = `${topic}/${partition}`;
    const offset = this.inputOffsets.get(id) ?? 0;
    this.inputOffsets.set(id, offset + 1);
    // Topics carry JSON: the topology sees what it would read back from a topic.
    const value = JSON.parse(JSON.stringify(input.value ?? null)) as unknown;
    return { topic, partition, offset, key, value, timestamp: input.timestamp ?? 0, headers: { ...(input.headers ?? {}) } };
  }

  private partitionState(partition: number): PartitionState {
    let state = this.state.get(partition);
    if (!state) this.state.set(partition, (state = new Map()));
    return state;
  }

  /** One input batch, as the runtime commits it; returns the repartition records it wrote. */
  private async processBatch(topic: string, partition: number, records: readonly SourceRecord[]): Promise<SourceRecord[]> {
    this.batches++;
    const sub = this.readers.get(topic)!;
    const timeKey = `${sub.id}/${partition}`;
    const committed = this.partitionState(partition);
    const emitted: Emitted[] = [];
    const counts = new Map<string, number>();
    let streamTime = this.streamTimes.get(timeKey) ?? Number.NEGATIVE_INFINITY;

    const run = async (work: (ctx: ProcessorContext) => Promise<void>): Promise<unknown> => {
      const state = new RecordState(committed);
      const ownEmits: Emitted[] = [];
      const ownCounts = new Map<string, number>();
      const ctx: ProcessorContext = {
        state,
        get streamTime() {
          return streamTime;
        },
        emit: (to, record, toPartition) => {
          if (!sub.sinks.includes(to)) throw new Error(`sub-topology ${sub.id} emitted to '${to}', which is not one of its sinks`);
          ownEmits.push({ topic: to, record, ...(toPartition === undefined ? {} : { partition: toPartition }) });
        },
        count: (metric, n = 1) => {
          ownCounts.set(metric, (ownCounts.get(metric) ?? 0) + n);
        },
      };
      try {
        await work(ctx);
      } catch (error) {
        return error;
      }
      state.commit();
      emitted.push(...ownEmits);
      for (const [metric, n] of ownCounts) counts.set(metric, (counts.get(metric) ?? 0) + n);
      return undefined;
    };

    for (const record of records) {
      streamTime = Math.max(streamTime, record.timestamp);
      const error = await run((ctx) => sub.process(record, ctx));
      if (error !== undefined) {
        // As the runtime does: the record's effects are dropped, the record goes to the dead-letter topic.
        emitted.push({ topic: deadLetterTopic(this.topology.applicationId), record: deadLetterRecord(record, error) });
        counts.set(DEAD_LETTER_METRIC, (counts.get(DEAD_LETTER_METRIC) ?? 0) + 1);
      }
    }
    if (sub.punctuate) {
      const error = await run((ctx) => sub.punctuate!(ctx));
      if (error !== undefined) throw error;
    }
    this.streamTimes.set(timeKey, streamTime);
    if (this.expireState) {
      for (const store of sub.stores) {
        for (const [key, entry] of committed.get(store) ?? []) {
          if (entry.expiresAt !== undefined && entry.expiresAt < streamTime) committed.get(store)!.delete(key);
        }
      }
    }
    const partitionCounters = this.counters.get(partition) ?? new Map<string, number>();
    this.counters.set(partition, partitionCounters);
    for (const [metric, n] of counts) partitionCounters.set(metric, (partitionCounters.get(metric) ?? 0) + n);

    const internalRecords: SourceRecord[] = [];
    for (const { topic: to, record, partition: requested } of emitted) {
      const out = this.append(to, record, requested ?? this.place(to, record.key, partition));
      if (this.internal.has(to)) internalRecords.push(out);
    }
    return internalRecords;
  }

  /** Where the runtime puts a record emitted without a partition: by key, keyless by the input partition. */
  private place(topic: string, key: string | null, inputPartition: number): number {
    const partitions = this.partitions(topic);
    return key === null ? inputPartition % partitions : partitionForKey(key, partitions);
  }

  private append(topic: string, record: StreamRecord, partition: number): TestOutputRecord {
    const partitions = this.partitions(topic);
    if (!Number.isInteger(partition) || partition < 0 || partition >= partitions) {
      throw new Error(`emitted to partition ${partition} of '${topic}', which has ${partitions}`);
    }
    const id = `${topic}/${partition}`;
    const offset = this.outputOffsets.get(id) ?? 0;
    this.outputOffsets.set(id, offset + 1);
    const value = JSON.stringify(record.value);
    if (value === undefined) throw new Error(`a record emitted to '${topic}' has a value that is not JSON`);
    const out: TestOutputRecord = {
      topic,
      partition,
      offset,
      key: record.key,
      value: JSON.parse(value) as unknown,
      timestamp: record.timestamp,
      headers: { ...record.headers },
    };
    this.outputs.set(topic, [...(this.outputs.get(topic) ?? []), out]);
    return out;
  }

  /** Every record written to `topic` so far (user, repartition or dead-letter topic), in write order. */
  output<V = unknown>(topic: string): TestOutputRecord<V>[] {
    return [...(this.outputs.get(topic) ?? [])] as TestOutputRecord<V>[];
  }

  /** The records written to `topic` since the last readOutput() of it. */
  readOutput<V = unknown>(topic: string): TestOutputRecord<V>[] {
    const records = this.output<V>(topic);
    this.outputs.set(topic, []);
    return records;
  }

  /** Records whose processing threw, with the error. */
  deadLetters(): TestOutputRecord<DeadLetterValue>[] {
    return this.output<DeadLetterValue>(deadLetterTopic(this.topology.applicationId));
  }

  /** A counter (ProcessorContext.count), summed over partitions or for one. */
  metric(name: string, partition?: number): number {
    const partitions = partition === undefined ? [...this.counters.values()] : [this.counters.get(partition) ?? new Map<string, number>()];
    return partitions.reduce((sum, counters) => sum + (counters.get(name) ?? 0), 0);
  }

  /** All counters, summed over partitions. */
  metrics(): Record<string, number> {
    const totals: Record<string, number> = {};
    for (const counters of this.counters.values()) for (const [name, n] of counters) totals[name] = (totals[name] ?? 0) + n;
    return totals;
  }

  /** A store's entries on one partition, in key order (for assertions on state). */
  store<T = unknown>(partition: number, store: string): { key: string; value: T; expiresAt?: number }[] {
    const entries = [...(this.state.get(partition)?.get(store) ?? [])].sort(([a], [b]) => compareKeys(a, b));
    return entries.map(([key, e]) => ({ key, value: JSON.parse(e.json) as T, ...(e.expiresAt === undefined ? {} : { expiresAt: e.expiresAt }) }));
  }

  /** The stream time of a sub-topology on a partition (undefined before its first record). */
  streamTime(subTopologyId: string, partition: number): number | undefined {
    return this.streamTimes.get(`${subTopologyId}/${partition}`);
  }
}
