/**
 * The topic-administration contract: request schemas (validated at the edge) and response types.
 * Limits and defaults are defined here once; docs/api.md describes them.
 */
import { z } from 'zod';

export const TOPIC_DEFAULTS = {
  /** Kafka's `num.partitions` default. */
  partitions: 1,
  /** Kafka's `retention.ms` default: 7 days. */
  retentionMs: 7 * 24 * 60 * 60 * 1000,
  /** 24 h: long enough to cover a client retrying through an outage; costs storage only. */
  dedupeWindowMs: 24 * 60 * 60 * 1000,
} as const;

export const TOPIC_LIMITS = {
  maxPartitions: 1000,
  /** A message ID is remembered for at most 7 days. */
  maxDedupeWindowMs: 7 * 24 * 60 * 60 * 1000,
  /** The smallest finite retention: one second. */
  minRetentionMs: 1000,
} as const;

/** `retentionMs: -1` keeps events forever, as in Kafka. */
export const RETAIN_FOREVER = -1;

/** Kafka's rule for topic names: 1–249 of `[a-zA-Z0-9._-]`, and not `.` or `..`. */
export const topicNameSchema = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(249, 'must be at most 249 characters')
  .regex(/^[a-zA-Z0-9._-]+$/, 'may contain only ASCII letters, digits, ".", "_" and "-"')
  .refine((name) => name !== '.' && name !== '..', 'must not be "." or ".."');

const retentionMsSchema = z
  .number()
  .int()
  .refine((ms) => ms === RETAIN_FOREVER || (ms >= TOPIC_LIMITS.minRetentionMs && ms <= Number.MAX_SAFE_INTEGER), {
    message: `must be -1 (keep forever) or an integer from ${TOPIC_LIMITS.minRetentionMs}`,
  });

const dedupeWindowMsSchema = z.number().int().min(0).max(TOPIC_LIMITS.maxDedupeWindowMs);

const partitionsSchema = z.number().int().min(1).max(TOPIC_LIMITS.maxPartitions);

export const updateTopicRequestSchema = z
  .strictObject({
    retentionMs: retentionMsSchema.optional(),
    dedupeWindowMs: dedupeWindowMsSchema.optional(),
    /**
     * The new partition count: at least the current one (partitions can only be added, as in
     * Kafka; the service refuses fewer). Keys then map to partitions by the new count.
     */
    partitions: partitionsSchema.optional(),
  })
  .refine((r) => r.retentionMs !== undefined || r.dedupeWindowMs !== undefined || r.partitions !== undefined, {
    message: 'give at least one of retentionMs, dedupeWindowMs and partitions',
  });
export type UpdateTopicRequest = z.infer<typeof updateTopicRequestSchema>;

export const createTopicRequestSchema = z.strictObject({
  name: topicNameSchema,
  partitions: partitionsSchema.optional(),
  retentionMs: retentionMsSchema.optional(),
  dedupeWindowMs: dedupeWindowMsSchema.optional(),
});
export type CreateTopicRequest = z.infer<typeof createTopicRequestSchema>;

export const topicPathSchema = z.strictObject({ topic: topicNameSchema });

export interface TopicConfig {
  readonly name: string;
  /** A new ID each time a topic of this name is created, so a re-created topic never sees old events. */
  readonly topicId: string;
  readonly partitions: number;
  /** Milliseconds an event is kept, or -1 for ever. */
  readonly retentionMs: number;
  /** Milliseconds a message ID is remembered for exactly-once produce; 0 disables the check. */
  readonly dedupeWindowMs: number;
  /** ISO-8601 time of creation. */
  readonly createdAt: string;
}

export interface PartitionOffsets {
  readonly partition: number;
  /** First offset still readable (older events have expired). */
  readonly logStartOffset: number;
  /** Offset the next event appended to this partition will get. */
  readonly highWatermark: number;
}

export interface TopicDescription extends TopicConfig {
  readonly partitionOffsets: readonly PartitionOffsets[];
}

export interface ListTopicsResponse {
  readonly topics: readonly TopicConfig[];
}

// ---- response schemas (the OpenAPI document's, docs/openapi.json; typed against the interfaces above) ----

export const topicConfigSchema = z.object({
  name: z.string(),
  topicId: z.string(),
  partitions: z.number().int().min(1),
  retentionMs: z.number().int(),
  dedupeWindowMs: z.number().int().min(0),
  createdAt: z.string(),
}) satisfies z.ZodType<TopicConfig>;

export const topicDescriptionSchema = topicConfigSchema.extend({
  partitionOffsets: z.array(
    z.object({ partition: z.number().int().min(0), logStartOffset: z.number().int().min(0), highWatermark: z.number().int().min(0) }),
  ),
}) satisfies z.ZodType<TopicDescription>;

export const listTopicsResponseSchema = z.object({ topics: z.array(topicConfigSchema) }) satisfies z.ZodType<ListTopicsResponse>;
