/**
 * The consumer-group contract: membership, assignment, records, offsets, seek and transactions.
 * docs/api.md describes it.
 */
import { z } from 'zod';
import {
  boundedArray,
  FETCH_LIMITS,
  fetchedEventSchema,
  nonNegativeIntString,
  produceEventsSchema,
  produceResponseSchema,
  type ProduceEvent,
} from './events';
import { TOPIC_LIMITS, topicNameSchema } from './topics';

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

/**
 * Caps on the lists of group and transaction requests, refused (400 InvalidRequest) from their
 * length alone, before any item is parsed or anything is read. No honest request comes near them:
 * each is what one DynamoDB transaction (100 writes) or one topic (1000 partitions) can hold.
 */
export const REQUEST_LIMITS = {
  /** Offsets in one commit (POST offsets, a transaction's commit): one write each. */
  maxCommitOffsets: 100,
  /** Partitions one seek names: a topic has at most this many. */
  maxSeekPartitions: TOPIC_LIMITS.maxPartitions,
  /**
   * Produce entries of one transaction. Each topic written costs at least two of the
   * transaction's 100 writes (a head and a batch), so more than 50 can never be written at once.
   */
  maxTransactionTopics: 50,
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

/**
 * Kafka's `client.id`: names the consumer process in describe (a member also shows its host, the
 * caller's IP). Printable ASCII without spaces, so it fits one column of a table.
 */
export const clientIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'may contain only printable ASCII characters, without spaces');

export const offsetResetSchema = z.enum(['earliest', 'latest']);
export type OffsetReset = z.infer<typeof offsetResetSchema>;

export const joinGroupRequestSchema = z.strictObject({
  /** A topic named twice is subscribed once (the request's meaning is unambiguous). */
  topics: boundedArray(topicNameSchema, GROUP_LIMITS.maxTopicsPerMember, { min: 1, what: 'topics' }),
  memberId: memberIdSchema.optional(),
  sessionTimeoutMs: z.number().int().min(GROUP_LIMITS.minSessionTimeoutMs).max(GROUP_LIMITS.maxSessionTimeoutMs).optional(),
  offsetReset: offsetResetSchema.optional(),
  clientId: clientIdSchema.optional(),
});
export type JoinGroupRequest = z.infer<typeof joinGroupRequestSchema>;

export const heartbeatRequestSchema = z.strictObject({
  /** The generation the member last saw; `rebalanced` says whether it changed. */
  generation: z.number().int().min(0).optional(),
});

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

/**
 * The offsets of a commit, each partition at most once: two offsets for one partition have no
 * single meaning (and would be two writes of one item in one DynamoDB transaction).
 */
const commitOffsetsSchema = boundedArray(topicPartitionOffsetSchema, REQUEST_LIMITS.maxCommitOffsets, { min: 1, what: 'offsets' }).superRefine(
  (offsets, ctx) => {
    const seen = new Set<string>();
    offsets.forEach((o, i) => {
      const key = `${o.topic}/${o.partition}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: [i], message: `names partition ${key} twice; commit each partition once` });
      seen.add(key);
    });
  },
);

export const commitRequestSchema = z.strictObject({
  memberId: memberIdSchema,
  generation: z.number().int().min(0),
  offsets: commitOffsetsSchema,
});
export type CommitRequest = z.infer<typeof commitRequestSchema>;

export const seekRequestSchema = z.strictObject({
  topic: topicNameSchema,
  /** Partitions to reset; all of the topic's when absent. */
  partitions: boundedArray(z.number().int().min(0), REQUEST_LIMITS.maxSeekPartitions, { min: 1, what: 'partitions' })
    .superRefine((partitions, ctx) => {
      const seen = new Set<number>();
      partitions.forEach((p, i) => {
        if (seen.has(p)) ctx.addIssue({ code: 'custom', path: [i], message: `names partition ${p} twice; name each partition once` });
        seen.add(p);
      });
    })
    .optional(),
  to: z.union([
    z.literal('earliest'),
    z.literal('latest'),
    z.strictObject({ offset: z.number().int().min(0) }),
    z.strictObject({ timestamp: z.number().int().min(0) }),
  ]),
});
export type SeekRequest = z.infer<typeof seekRequestSchema>;

/**
 * A transaction: outputs to produce, a commit, or both; one that does neither (`{}`, a `null`
 * body, `{"produce": []}`) is refused. Entries naming the same topic are merged by the service
 * (their events appended as one request to that topic, in request order), so a message ID given
 * twice is appended once and the second answer points at the first one's write.
 */
export const transactionRequestSchema = z
  .strictObject({
    produce: boundedArray(z.strictObject({ topic: topicNameSchema, events: produceEventsSchema }), REQUEST_LIMITS.maxTransactionTopics, {
      what: 'produce entries',
    }).default([]),
    commit: commitRequestSchema.extend({ group: groupNameSchema }).optional(),
  })
  .refine((t) => t.produce.length > 0 || t.commit !== undefined, {
    message: 'give produce entries, a commit, or both: an empty transaction does nothing',
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
    /** The `clientId` the member joined with; null when it gave none. */
    readonly clientId: string | null;
    /** The caller's source IP when it joined, as API Gateway saw it; null when unknown. */
    readonly host: string | null;
    readonly topics: readonly string[];
    readonly sessionTimeoutMs: number;
    readonly lastHeartbeat: string;
    readonly assignments: readonly { readonly topic: string; readonly partition: number }[];
  }[];
  readonly partitions: readonly GroupPartitionState[];
}

// ---- response schemas (the OpenAPI document's, docs/openapi.json; typed against the interfaces above) ----

const assignmentSchema = z.object({ topic: z.string(), partition: z.number().int().min(0), committedOffset: z.number().int().nullable() });

export const membershipResponseSchema = z.object({
  memberId: z.string(),
  generation: z.number().int().min(0),
  assignments: z.array(assignmentSchema),
}) satisfies z.ZodType<MembershipResponse>;

export const heartbeatResponseSchema = membershipResponseSchema.extend({ rebalanced: z.boolean() }) satisfies z.ZodType<HeartbeatResponse>;

export const listGroupsResponseSchema = z.object({ groups: z.array(z.string()) });

export const groupDescriptionSchema = z.object({
  group: z.string(),
  generation: z.number().int().min(0),
  members: z.array(
    z.object({
      memberId: z.string(),
      clientId: z.string().nullable(),
      host: z.string().nullable(),
      topics: z.array(z.string()),
      sessionTimeoutMs: z.number().int(),
      lastHeartbeat: z.string(),
      assignments: z.array(z.object({ topic: z.string(), partition: z.number().int().min(0) })),
    }),
  ),
  partitions: z.array(
    z.object({
      topic: z.string(),
      partition: z.number().int().min(0),
      owner: z.string().nullable(),
      committedOffset: z.number().int().nullable(),
      highWatermark: z.number().int().min(0),
      lag: z.number().int(),
    }),
  ),
}) satisfies z.ZodType<GroupDescription>;

/** GET .../records (the service's RecordsResponse). */
export const recordsResponseSchema = z.object({
  memberId: z.string(),
  generation: z.number().int().min(0),
  records: z.array(fetchedEventSchema),
});

export const seekResponseSchema = z.object({ offsets: z.array(topicPartitionOffsetSchema) });

/** POST /transactions (the service's TransactionResult). */
export const transactionResponseSchema = z.object({
  produced: z.array(z.object({ topic: z.string(), results: produceResponseSchema.shape.results })),
  committed: z.boolean(),
});
