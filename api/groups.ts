/**
 * The consumer-group contract: membership, assignment, records, offsets, seek and transactions.
 * docs/api.md describes it.
 */
import { z } from 'zod';
import { FETCH_LIMITS, produceEventSchema, type ProduceEvent } from './events';
import { topicNameSchema } from './topics';

export const GROUP_DEFAULTS = {
  /** Kafka's `session.timeout.ms` default. */
  sessionTimeoutMs: 45_000,
  /** Where a member starts on a partition the group has no committed offset for (Kafka: latest). */
  offsetReset: 'latest',
  maxRecords: 500,
} as const;

export const GROUP_LIMITS = {
  minSessionTimeoutMs: 1_000,
  maxSessionTimeoutMs: 30 * 60 * 1000,
  maxRecords: 1000,
  maxTopicsPerMember: 20,
} as const;

/** A name that is safe in DynamoDB keys and as one URL path segment ("." and ".." are not). */
const pathSafeName = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(/^[a-zA-Z0-9._-]+$/, 'may contain only ASCII letters, digits, ".", "_" and "-"')
    .refine((name) => name !== '.' && name !== '..', 'must not be "." or ".."');

/** Like a topic name: the group is part of DynamoDB keys and URLs. */
export const groupNameSchema = pathSafeName(249);

export const memberIdSchema = pathSafeName(128);

export const offsetResetSchema = z.enum(['earliest', 'latest']);
export type OffsetReset = z.infer<typeof offsetResetSchema>;

export const joinGroupRequestSchema = z.strictObject({
  topics: z.array(topicNameSchema).min(1).max(GROUP_LIMITS.maxTopicsPerMember),
  memberId: memberIdSchema.optional(),
  sessionTimeoutMs: z.number().int().min(GROUP_LIMITS.minSessionTimeoutMs).max(GROUP_LIMITS.maxSessionTimeoutMs).optional(),
  offsetReset: offsetResetSchema.optional(),
});
export type JoinGroupRequest = z.infer<typeof joinGroupRequestSchema>;

export const heartbeatRequestSchema = z.strictObject({
  /** The generation the member last saw; `rebalanced` says whether it changed. */
  generation: z.number().int().min(0).optional(),
});

const nonNegativeIntString = z.string().regex(/^\d+$/, 'must be a non-negative integer').transform(Number);

export const recordsQuerySchema = z.strictObject({
  maxRecords: nonNegativeIntString.pipe(z.number().int().min(1).max(GROUP_LIMITS.maxRecords)).optional(),
  waitMs: nonNegativeIntString.pipe(z.number().int().max(FETCH_LIMITS.maxWaitMs)).optional(),
  /** `true`: commit the returned positions before answering (at-most-once). */
  commit: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  /**
   * A client-chosen ID, the same on every retry of one call: a retried call (after a lost answer)
   * returns the same records instead of skipping them.
   */
  requestId: z.string().min(1).max(64).regex(/^[\x21-\x7e]+$/).optional(),
});

export const topicPartitionOffsetSchema = z.strictObject({
  topic: topicNameSchema,
  partition: z.number().int().min(0),
  offset: z.number().int().min(0),
});
export type TopicPartitionOffset = z.infer<typeof topicPartitionOffsetSchema>;

export const commitRequestSchema = z.strictObject({
  memberId: memberIdSchema,
  generation: z.number().int().min(0),
  offsets: z.array(topicPartitionOffsetSchema).min(1).max(100),
});
export type CommitRequest = z.infer<typeof commitRequestSchema>;

export const seekRequestSchema = z.strictObject({
  topic: topicNameSchema,
  /** Partitions to reset; all of the topic's when absent. */
  partitions: z.array(z.number().int().min(0)).min(1).optional(),
  to: z.union([
    z.literal('earliest'),
    z.literal('latest'),
    z.strictObject({ offset: z.number().int().min(0) }),
    z.strictObject({ timestamp: z.number().int().min(0) }),
  ]),
});
export type SeekRequest = z.infer<typeof seekRequestSchema>;

export const transactionRequestSchema = z.strictObject({
  produce: z
    .array(z.strictObject({ topic: topicNameSchema, events: z.array(produceEventSchema).min(1) }))
    .default([]),
  commit: commitRequestSchema.extend({ group: groupNameSchema }).optional(),
});
export type TransactionRequest = Omit<z.infer<typeof transactionRequestSchema>, 'produce'> & {
  readonly produce: readonly { readonly topic: string; readonly events: readonly ProduceEvent[] }[];
};

export interface Assignment {
  readonly topic: string;
  readonly partition: number;
  /** The group's committed offset, or null when none is committed yet. */
  readonly committedOffset: number | null;
}

export interface MembershipResponse {
  readonly memberId: string;
  readonly generation: number;
  readonly assignments: readonly Assignment[];
}

export interface HeartbeatResponse extends MembershipResponse {
  readonly rebalanced: boolean;
}

export interface GroupPartitionState {
  readonly topic: string;
  readonly partition: number;
  readonly owner: string | null;
  readonly committedOffset: number | null;
  readonly highWatermark: number;
  /** highWatermark − committed offset (all of the retained log when nothing is committed). */
  readonly lag: number;
}

export interface GroupDescription {
  readonly group: string;
  readonly generation: number;
  readonly members: readonly {
    readonly memberId: string;
    readonly topics: readonly string[];
    readonly sessionTimeoutMs: number;
    readonly lastHeartbeat: string;
    readonly assignments: readonly { readonly topic: string; readonly partition: number }[];
  }[];
  readonly partitions: readonly GroupPartitionState[];
}
