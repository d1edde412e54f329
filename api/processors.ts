/**
 * The stream-processor contract of the API: `GET /processors` and `GET /processors/{name}`
 * (docs/api.md, "Stream processors"), and how the stack tells the `processors` function which
 * processors it deploys (`SLUICE_DECLARED_PROCESSORS`, written by the `StreamProcessor` construct).
 *
 * A processor is named by its application ID (`streams('clicks-per-minute')`); with ACLs on, that
 * name is a `group` resource, as a Kafka Streams application.id is its consumer group.
 */
import { z } from 'zod';
import { subscriptionNameSchema } from './subscriptions';
import { topicNameSchema } from './topics';

/** A processor's name: its application ID, which also names subscriptions and topics (`<name>-dlq`). */
export const processorNameSchema = subscriptionNameSchema;

export const processorPathSchema = z.strictObject({ name: processorNameSchema });

/** The counters every processor keeps per partition (the topology may add its own). */
export const PROCESSOR_COUNTERS = ['processed', 'lateDropped', 'deadLettered'] as const;

export const PROCESSORS_ENV = {
  /** JSON array of DeclaredProcessor: the processors the stack deploys. */
  declared: 'SLUICE_DECLARED_PROCESSORS',
} as const;

/** Topics of one processor in the environment: at most this many (a topology reading more is refused at synth). */
export const MAX_PROCESSOR_INPUTS = 50;

/** One processor the stack deploys, as the `processors` function reads it from SLUICE_DECLARED_PROCESSORS. */
export const declaredProcessorSchema = z.strictObject({
  name: processorNameSchema,
  /** Every topic it reads: user topics, then its internal (repartition) topics. */
  inputs: z.array(topicNameSchema).min(1).max(MAX_PROCESSOR_INPUTS),
});
export type DeclaredProcessor = z.infer<typeof declaredProcessorSchema>;

// ---- responses ---------------------------------------------------------------------------------

/** One input topic partition of a processor partition. */
export interface ProcessorInput {
  readonly topic: string;
  /**
   * The next offset the processor will process, as its last commit recorded it; null when it has
   * committed nothing for this partition of this topic yet (it starts at the log start).
   */
  readonly position: number | null;
  readonly highWatermark: number;
  /** Events appended and not yet processed: high watermark − position (from the log start when null). */
  readonly lag: number;
}

export interface ProcessorStateSize {
  /** State entries (aggregates, window and join-buffer entries, table rows), expired ones not yet removed included. */
  readonly items: number;
  /** Their approximate stored size in bytes (DynamoDB item sizes). */
  readonly bytes: number;
}

/** A processor partition: partition N of each of its input topics, with its own state. */
export interface ProcessorPartition {
  readonly partition: number;
  /** One per input topic that exists and has this partition. */
  readonly inputs: readonly ProcessorInput[];
  /** Sum of the inputs' lag. */
  readonly lag: number;
  /** The largest event timestamp processed (epoch ms); null before the first. */
  readonly streamTime: number | null;
  /** `processed`, `lateDropped`, `deadLettered` (always there), and any the topology counts. */
  readonly counters: Readonly<Record<string, number>>;
  readonly state: ProcessorStateSize;
  /** When it last committed (epoch ms); null before its first commit. */
  readonly updatedAt: number | null;
}

export interface ProcessorDescription {
  readonly name: string;
  /** The topics it reads, user and internal, as deployed. */
  readonly inputs: readonly string[];
  /** Its dead-letter topic: records whose processing threw, with the error. */
  readonly deadLetterTopic: string;
  /** Sum over the partitions. */
  readonly lag: number;
  /** Sums over the partitions. */
  readonly counters: Readonly<Record<string, number>>;
  readonly state: ProcessorStateSize;
  /** The latest commit of any partition (epoch ms); null before the first. */
  readonly updatedAt: number | null;
  readonly partitions: readonly ProcessorPartition[];
}

export interface ListProcessorsResponse {
  /** By name. */
  readonly processors: readonly ProcessorDescription[];
}

// ---- response schemas (the OpenAPI document's, docs/openapi.json; typed against the interfaces above) ----

const stateSizeSchema = z.object({ items: z.number().int().min(0), bytes: z.number().int().min(0) }) satisfies z.ZodType<ProcessorStateSize>;
const countersSchema = z.record(z.string(), z.number());

export const processorDescriptionSchema = z.object({
  name: z.string(),
  inputs: z.array(z.string()),
  deadLetterTopic: z.string(),
  lag: z.number().int(),
  counters: countersSchema,
  state: stateSizeSchema,
  updatedAt: z.number().int().nullable(),
  partitions: z.array(
    z.object({
      partition: z.number().int().min(0),
      inputs: z.array(
        z.object({ topic: z.string(), position: z.number().int().nullable(), highWatermark: z.number().int().min(0), lag: z.number().int() }),
      ),
      lag: z.number().int(),
      streamTime: z.number().int().nullable(),
      counters: countersSchema,
      state: stateSizeSchema,
      updatedAt: z.number().int().nullable(),
    }) satisfies z.ZodType<ProcessorPartition>,
  ),
}) satisfies z.ZodType<ProcessorDescription>;

export const listProcessorsResponseSchema = z.object({ processors: z.array(processorDescriptionSchema) }) satisfies z.ZodType<ListProcessorsResponse>;
