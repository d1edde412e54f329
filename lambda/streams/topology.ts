/**
 * The contract between the streams DSL (lambda/streams/dsl) and whatever runs a topology: the
 * runtime (lambda/streams/runtime, one DynamoDB transaction per input batch) or the in-memory
 * TopologyTestDriver (lambda/streams/testing.ts). A topology is a set of sub-topologies; each reads
 * some topics record by record, keeps its state only through `StateAccess`, and emits records that
 * the runner buffers until it commits the batch.
 */

export interface StreamRecord<V = unknown> {
  /** Sluice keys are strings (JSON keys: the DSL stringifies). */
  readonly key: string | null;
  /** JSON. */
  readonly value: V;
  /** Event time, epoch ms. */
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
}

export interface SourceRecord<V = unknown> extends StreamRecord<V> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** Per (processor, partition) durable state, as of the start of the batch plus the batch's own writes. */
export interface StateAccess {
  get<T>(store: string, key: string): Promise<T | undefined>;
  /**
   * expiresAt (epoch ms): the runtime may delete the entry after it (TTL); reads after it may or may not see it.
   * (It is event time: the DSL ignores an entry once stream time passes it, so deleting it or not changes no
   * result, but an entry must stay readable while stream time has not passed it, whatever the wall clock says.)
   */
  put(store: string, key: string, value: unknown, options?: { readonly expiresAt?: number }): void;
  delete(store: string, key: string): void;
  /** Entries whose key starts with `prefix` and lies in [from, to] (inclusive, lexicographic), in key order. */
  range<T>(store: string, prefix: string, from?: string, to?: string): Promise<{ key: string; value: T }[]>;
}

export interface ProcessorContext {
  readonly state: StateAccess;
  /** Buffered until commit. Without `partition`, the runtime places by key (api/partitioner.ts murmur2), keyless: the input partition modulo the topic's partitions. */
  emit(topic: string, record: StreamRecord, partition?: number): void;
  /**
   * Largest event timestamp this (processor, partition) has seen, this record included.
   * (The TopologyTestDriver keeps it per sub-topology and partition, as Kafka keeps it per task: records
   * of a repartition topic are not judged late by the times of the source records upstream of it.)
   */
  readonly streamTime: number;
  /** Counters shown by GET /processors, e.g. 'lateDropped'. */
  count(metric: string, n?: number): void;
}

export interface SubTopology {
  /** Stable across deploys for the same code. */
  readonly id: string;
  /** Topics it reads (user topics or internal repartition topics). */
  readonly sources: readonly string[];
  /** Topics it writes. */
  readonly sinks: readonly string[];
  readonly stores: readonly string[];
  /** Topic sets that must have equal partition counts (joins, merges into stateful ops). */
  readonly copartitioned: readonly (readonly string[])[];
  process(record: SourceRecord, ctx: ProcessorContext): Promise<void>;
  /** After each record batch, with the batch's final stream time: close windows / expire join buffers (left joins emit unmatched). */
  punctuate?(ctx: ProcessorContext): Promise<void>;
}

export interface Topology {
  /** The processor's name; prefixes internal topics and state. */
  readonly applicationId: string;
  readonly subTopologies: readonly SubTopology[];
  /** Repartition topics the runtime creates on first use, with as many partitions as `partitionsLike`. */
  readonly internalTopics: readonly { readonly name: string; readonly partitionsLike: string }[];
  /** User topics read. */
  readonly sourceTopics: readonly string[];
  /** User topics written. */
  readonly outputTopics: readonly string[];
  /** Like Kafka's TopologyDescription. */
  describe(): string;
}

// ---- Additions beyond the design's contract (additive; shared so the runtime and the test driver agree) ----

/** The dead-letter topic of a processor: records whose processing threw, with the error. */
export function deadLetterTopic(applicationId: string): string {
  return `${applicationId}-dlq`;
}

/** The value written to the dead-letter topic for a record whose processing threw. */
export interface DeadLetterValue {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: unknown;
  readonly timestamp: number;
  readonly error: { readonly name: string; readonly message: string };
}

/** The dead-letter record for `record`: same key, timestamp and headers; the value says where it came from and why it failed. */
export function deadLetterRecord(record: SourceRecord, error: unknown): StreamRecord<DeadLetterValue> {
  const failure = error instanceof Error ? { name: error.name, message: error.message } : { name: 'Error', message: String(error) };
  return {
    key: record.key,
    value: {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      key: record.key,
      value: record.value,
      timestamp: record.timestamp,
      error: failure,
    },
    timestamp: record.timestamp,
    headers: record.headers,
  };
}

/** The counter a dead-lettered record increments (ProcessorContext.count). */
export const DEAD_LETTER_METRIC = 'deadLettered';
