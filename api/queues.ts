/**
 * The message-queue contract: resolving queues on SQS FIFO (request schemas validated at the edge,
 * response types, limits and defaults, defined once). A topic keeps every event for every reader;
 * a queue hands each message to one consumer, which resolves it (ack), and then it is gone.
 * docs/api.md describes these.
 *
 * Durations are milliseconds like everywhere else in Sluice; SQS counts whole seconds, so every
 * duration is rounded UP to the next second (a lock or a wait is never shorter than asked).
 */
import { z } from 'zod';
import { boundedArray, jsonValueProblem } from './events';

export const QUEUE_DEFAULTS = {
  /** SQS's default. */
  visibilityTimeoutMs: 30_000,
  /** Receives before a message moves to the dead-letter queue. */
  maxReceiveCount: 5,
  /** SQS's default: 4 days. */
  retentionMs: 4 * 24 * 60 * 60 * 1000,
  deliveryDelayMs: 0,
  /** Dead letters are kept as long as SQS allows. */
  deadLetterRetentionMs: 14 * 24 * 60 * 60 * 1000,
  /** Messages per receive (SQS's most). */
  maxMessages: 10,
  /** Receive answers at once unless asked to long-poll, as SQS does. */
  waitMs: 0,
} as const;

export const QUEUE_LIMITS = {
  /** Queue names: 1–48 of [a-zA-Z0-9_-], so the SQS name (prefix + `q-` + name + `.fifo`) fits SQS's 80. */
  maxNameLength: 48,
  maxVisibilityTimeoutMs: 12 * 60 * 60 * 1000,
  maxReceiveCount: 1000,
  minRetentionMs: 60_000,
  maxRetentionMs: 14 * 24 * 60 * 60 * 1000,
  maxDeliveryDelayMs: 15 * 60 * 1000,
  /** Messages per send request (sent to SQS in batches of 10). */
  maxMessagesPerSend: 100,
  /**
   * SQS's limit for one message: body plus message attributes, 1 MiB. Sluice counts the JSON-encoded
   * body plus its own `sluice-message-id` attribute against it.
   */
  maxMessageBytes: 1_048_576,
  /** SQS's limits for group and deduplication IDs. */
  maxGroupIdLength: 128,
  maxMessageIdLength: 128,
  maxReceive: 10,
  /** SQS's longest long poll. */
  maxWaitMs: 20_000,
  /** Receipt handles per ack / nack / extend request. */
  maxReceiptHandles: 100,
  /**
   * Deepest nesting of arrays and objects in a message body (as for event values: checked without
   * recursion, so no body can overflow the stack of the service or of a client that checks it).
   */
  maxBodyDepth: 64,
} as const;

/** `[a-zA-Z0-9_-]`, 1–48 characters. */
export const queueNameSchema = z
  .string({ error: 'must be a string' })
  .min(1, 'must not be empty')
  .max(QUEUE_LIMITS.maxNameLength, `must be at most ${QUEUE_LIMITS.maxNameLength} characters`)
  .regex(/^[a-zA-Z0-9_-]+$/, 'may contain only ASCII letters, digits, "_" and "-"');

/** SQS's alphabet for MessageGroupId and MessageDeduplicationId: printable ASCII, no space. */
const sqsIdSchema = (max: number) =>
  z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(/^[\x21-\x7e]+$/, 'may contain only printable ASCII characters without spaces');

const durationMs = (max: number) => z.number().int().min(0).max(max);

/** The `{queue}` path parameter. */
export const queuePathSchema = z.strictObject({ queue: queueNameSchema });

/**
 * Any JSON value nested at most `maxBodyDepth` levels, passed through as it is. Not `z.json()`: its
 * recursive check overflows the stack on a body about 1,500 levels deep (a 500 instead of a 400).
 */
const messageBodySchema = z.unknown().superRefine((value, ctx) => {
  if (value === undefined) {
    ctx.addIssue({ code: 'custom', message: 'is required (any JSON value)' });
    return;
  }
  const problem = jsonValueProblem(value, QUEUE_LIMITS.maxBodyDepth);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
}) as unknown as z.ZodType<JsonValue>;

/** What JSON can hold. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export const createQueueRequestSchema = z.strictObject({
  name: queueNameSchema,
  visibilityTimeoutMs: durationMs(QUEUE_LIMITS.maxVisibilityTimeoutMs).optional(),
  maxReceiveCount: z.number().int().min(1).max(QUEUE_LIMITS.maxReceiveCount).optional(),
  retentionMs: z.number().int().min(QUEUE_LIMITS.minRetentionMs).max(QUEUE_LIMITS.maxRetentionMs).optional(),
  /** A delay for every message of the queue (FIFO queues have no per-message delay). */
  deliveryDelayMs: durationMs(QUEUE_LIMITS.maxDeliveryDelayMs).optional(),
});
export type CreateQueueRequest = z.infer<typeof createQueueRequestSchema>;

export const queueMessageInputSchema = z.strictObject({
  /** Any JSON value; stored JSON-encoded, answered decoded. */
  body: messageBodySchema,
  /** Messages of one group are delivered in order, one at a time. @default the messageId */
  groupId: sqsIdSchema(QUEUE_LIMITS.maxGroupIdLength).optional(),
  /**
   * The deduplication ID: a send retried with the same ID (and group) within SQS's 5-minute window
   * enqueues nothing new. @default a random UUID (so an unlabelled retry is NOT deduplicated)
   */
  messageId: sqsIdSchema(QUEUE_LIMITS.maxMessageIdLength).optional(),
  /**
   * Only 0: SQS FIFO queues have no per-message delay (set `deliveryDelayMs` on the queue). Any
   * other value is refused rather than silently ignored.
   */
  delayMs: z.literal(0, { error: 'FIFO queues have no per-message delay: only 0 is accepted; set deliveryDelayMs on the queue' }).optional(),
});
export type QueueMessageInput = z.infer<typeof queueMessageInputSchema>;

export const sendMessagesRequestSchema = z.strictObject({
  messages: boundedArray(queueMessageInputSchema, QUEUE_LIMITS.maxMessagesPerSend, { min: 1, what: 'messages' }),
});
export type SendMessagesRequest = z.infer<typeof sendMessagesRequestSchema>;

export const receiveMessagesRequestSchema = z.strictObject({
  maxMessages: z.number().int().min(1).max(QUEUE_LIMITS.maxReceive).optional(),
  waitMs: durationMs(QUEUE_LIMITS.maxWaitMs).optional(),
  /** How long the received messages stay hidden from other consumers. @default the queue's */
  visibilityTimeoutMs: durationMs(QUEUE_LIMITS.maxVisibilityTimeoutMs).optional(),
});
export type ReceiveMessagesRequest = z.infer<typeof receiveMessagesRequestSchema>;

const receiptHandlesSchema = boundedArray(z.string().min(1).max(2048), QUEUE_LIMITS.maxReceiptHandles, { min: 1, what: 'receipt handles' });

export const ackRequestSchema = z.strictObject({ receiptHandles: receiptHandlesSchema });
export type AckRequest = z.infer<typeof ackRequestSchema>;

export const nackRequestSchema = z.strictObject({
  receiptHandles: receiptHandlesSchema,
  /** Visible again after this long. @default 0 (at once) */
  delayMs: durationMs(QUEUE_LIMITS.maxVisibilityTimeoutMs).optional(),
});
export type NackRequest = z.infer<typeof nackRequestSchema>;

export const extendRequestSchema = z.strictObject({
  receiptHandles: receiptHandlesSchema,
  /** The new visibility timeout, counted from now. */
  visibilityTimeoutMs: durationMs(QUEUE_LIMITS.maxVisibilityTimeoutMs),
});
export type ExtendRequest = z.infer<typeof extendRequestSchema>;

export const redriveRequestSchema = z.strictObject({
  /** Move at most this many dead letters. @default all (as many as one request's time allows) */
  maxMessages: z.number().int().min(1).max(100_000).optional(),
});
export type RedriveRequest = z.infer<typeof redriveRequestSchema>;

export const purgeRequestSchema = z.strictObject({
  /** Which queue to empty. @default 'queue' */
  target: z.enum(['queue', 'dead-letters']).optional(),
});
export type PurgeRequest = z.infer<typeof purgeRequestSchema>;

// ---- responses ---------------------------------------------------------------------------------

/** Who owns the queue: created through the API, or declared in the CDK stack (`sluice.addQueue`). */
export type QueueOrigin = 'api' | 'stack';

export interface QueueSummary {
  readonly name: string;
  readonly origin: QueueOrigin;
}

export interface QueueDescription extends QueueSummary {
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  readonly retentionMs: number;
  readonly deliveryDelayMs: number;
  /** Epoch ms. */
  readonly createdAt: number;
  /** SQS's approximate counts. */
  readonly messages: { readonly visible: number; readonly inFlight: number; readonly delayed: number };
  readonly deadLetters: { readonly visible: number };
  /** Age of the oldest message not yet resolved (null: the queue is empty or it is not known yet). */
  readonly oldestMessageAgeMs: number | null;
}

export interface ListQueuesResponse {
  readonly queues: readonly QueueSummary[];
}

export interface SendResult {
  readonly messageId: string;
  readonly groupId: string;
  /** `duplicate`: a message with this ID (and group) was sent within the dedupe window; nothing new was enqueued. */
  readonly status: 'sent' | 'duplicate';
  /** SQS's sequence number within the group. */
  readonly sequenceNumber: string;
}

export interface SendMessagesResponse {
  /** In request order. */
  readonly results: readonly SendResult[];
}

export interface QueueMessage {
  readonly messageId: string;
  readonly groupId: string;
  readonly body: unknown;
  /** Pass to ack, nack or extend; valid until the visibility timeout ends. */
  readonly receiptHandle: string;
  /** 1 on the first receive. */
  readonly receiveCount: number;
  /** Epoch ms when it was first sent. */
  readonly sentAt: number;
  readonly sequenceNumber: string;
}

export interface ReceiveMessagesResponse {
  readonly messages: readonly QueueMessage[];
}

export interface ReceiptResult {
  readonly receiptHandle: string;
  readonly status: 'ok' | 'failed';
  /** Why it failed, e.g. `ReceiptHandleIsInvalid` (the visibility timeout ran out and another consumer has it). */
  readonly error?: { readonly code: string; readonly message: string };
}

/** Answer of ack, nack and extend: per receipt handle, in request order. */
export interface ReceiptResponse {
  readonly results: readonly ReceiptResult[];
}

export interface RedriveResponse {
  readonly moved: number;
  /** Dead letters still there when the request ended (SQS's approximate count). */
  readonly remaining: number;
}

export interface PurgeResponse {
  readonly target: 'queue' | 'dead-letters';
}

// ---- response schemas (the OpenAPI document's, docs/openapi.json; typed against the interfaces above) ----

const count = z.number().int().min(0);
const queueSummarySchema = z.object({ name: z.string(), origin: z.enum(['api', 'stack']) }) satisfies z.ZodType<QueueSummary>;

export const queueDescriptionSchema = queueSummarySchema.extend({
  visibilityTimeoutMs: count,
  maxReceiveCount: count,
  retentionMs: count,
  deliveryDelayMs: count,
  createdAt: count,
  messages: z.object({ visible: count, inFlight: count, delayed: count }),
  deadLetters: z.object({ visible: count }),
  oldestMessageAgeMs: count.nullable(),
}) satisfies z.ZodType<QueueDescription>;

export const listQueuesResponseSchema = z.object({ queues: z.array(queueSummarySchema) }) satisfies z.ZodType<ListQueuesResponse>;

export const sendMessagesResponseSchema = z.object({
  results: z.array(
    z.object({ messageId: z.string(), groupId: z.string(), status: z.enum(['sent', 'duplicate']), sequenceNumber: z.string() }),
  ),
}) satisfies z.ZodType<SendMessagesResponse>;

export const receiveMessagesResponseSchema = z.object({
  messages: z.array(
    z.object({
      messageId: z.string(),
      groupId: z.string(),
      body: z.unknown(),
      receiptHandle: z.string(),
      receiveCount: z.number().int().min(1),
      sentAt: count,
      sequenceNumber: z.string(),
    }),
  ),
}) satisfies z.ZodType<ReceiveMessagesResponse>;

export const receiptResponseSchema = z.object({
  results: z.array(
    z.object({
      receiptHandle: z.string(),
      status: z.enum(['ok', 'failed']),
      error: z.object({ code: z.string(), message: z.string() }).optional(),
    }),
  ),
}) satisfies z.ZodType<ReceiptResponse>;

export const queueRedriveResponseSchema = z.object({ moved: count, remaining: count }) satisfies z.ZodType<RedriveResponse>;

export const purgeResponseSchema = z.object({ target: z.enum(['queue', 'dead-letters']) }) satisfies z.ZodType<PurgeResponse>;
