/**
 * The produce and fetch contract: request schemas, response types and the limits a request is
 * checked against before anything is written. docs/api.md describes them.
 */
import { z } from 'zod';
import { EventTooLargeError, KeyTooLargeError, TooManyHeadersError } from './errors';

export const EVENT_LIMITS = {
  /** One event: key + value + header names and values, in bytes (UTF-8 / decoded base64). */
  maxEventBytes: 256 * 1024,
  /** All events of one request together, in bytes. Keeps a transaction under DynamoDB's 4 MB. */
  maxRequestBytes: 3 * 1024 * 1024,
  /** Events in one request. */
  maxEventsPerRequest: 500,
  /**
   * DynamoDB's limit on actions in one transaction. A request needs one per message ID (when the
   * topic dedupes), plus two per partition it touches (head and record batch, more for batches
   * over one item), plus, in POST /transactions, one per committed offset and one for the group
   * check: so with dedupe on, 40 events fit when they touch at most 30 partitions, and up to 98
   * fit on one partition.
   */
  maxTransactionActions: 100,
  maxHeaders: 64,
  maxKeyBytes: 4 * 1024,
  maxMessageIdLength: 128,
} as const;

export const FETCH_LIMITS = {
  defaultLimit: 100,
  maxLimit: 1000,
  /** Stop adding events to a response past this many bytes (at least one event is returned). */
  maxResponseBytes: 4 * 1024 * 1024,
  /** Longest long-poll, like SQS's 20 s. */
  maxWaitMs: 20_000,
} as const;

/** Printable ASCII without spaces, like an SQS deduplication ID. */
const messageIdSchema = z
  .string()
  .min(1)
  .max(EVENT_LIMITS.maxMessageIdLength)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

const base64Schema = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be standard base64');

export const produceEventSchema = z
  .strictObject({
    key: z.string().nullable().optional(),
    value: z.json().optional(),
    valueBase64: base64Schema.optional(),
    headers: z.record(z.string().min(1), z.string()).optional(),
    messageId: messageIdSchema.optional(),
    partition: z.number().int().min(0).optional(),
    /** Event time in epoch milliseconds; defaults to the time of the append. */
    timestamp: z.number().int().min(0).max(8.64e15).optional(),
  })
  .refine((e) => e.value === undefined || e.valueBase64 === undefined, {
    message: 'give either value or valueBase64, not both',
  });
/** An event to produce; `value` is any JSON-serialisable value (checked at the edge). */
export type ProduceEvent = Omit<z.infer<typeof produceEventSchema>, 'value'> & { readonly value?: unknown };

export const produceRequestSchema = z.strictObject({
  events: z.array(produceEventSchema).min(1, 'must hold at least one event'),
});
export type ProduceRequest = z.infer<typeof produceRequestSchema>;

export interface ProduceResult {
  readonly partition: number;
  readonly offset: number;
  readonly messageId: string;
  /** True when this message ID was already appended within the dedupe window: nothing new was written. */
  readonly duplicate: boolean;
}

export interface ProduceResponse {
  readonly results: readonly ProduceResult[];
}

const nonNegativeIntString = z.string().regex(/^\d+$/, 'must be a non-negative integer').transform(Number);

export const fetchPathSchema = z.strictObject({
  topic: z.string(),
  partition: nonNegativeIntString,
});

export const fetchQuerySchema = z
  .strictObject({
    offset: z.union([z.literal('earliest'), z.literal('latest'), nonNegativeIntString]).optional(),
    timestamp: nonNegativeIntString.optional(),
    limit: nonNegativeIntString
      .pipe(z.number().int().min(1).max(FETCH_LIMITS.maxLimit))
      .optional(),
    waitMs: nonNegativeIntString.pipe(z.number().int().max(FETCH_LIMITS.maxWaitMs)).optional(),
  })
  .refine((q) => q.offset === undefined || q.timestamp === undefined, {
    message: 'give either offset or timestamp, not both',
  });
export type FetchQuery = z.infer<typeof fetchQuerySchema>;

export interface FetchedEvent {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  /** JSON value; absent when the event carries bytes (`valueBase64`) or nothing. */
  readonly value?: unknown;
  readonly valueBase64?: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: number;
  readonly messageId: string;
}

export interface FetchResponse {
  readonly events: readonly FetchedEvent[];
  /** Offset to fetch from next. */
  readonly nextOffset: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
}

/**
 * Checks one event against the per-event limits (headers, key, size) and returns the bytes it
 * counts against `maxRequestBytes`: key + value (JSON text or decoded bytes) + header names and
 * values. The service runs it before writing anything; the Producer runs it when a message is sent.
 */
export function checkEventLimits(event: ProduceEvent, index: number): number {
  const headers = Object.entries(event.headers ?? {});
  if (headers.length > EVENT_LIMITS.maxHeaders) {
    throw new TooManyHeadersError(`Event ${index} has ${headers.length} headers; at most ${EVENT_LIMITS.maxHeaders} are allowed`, {
      details: { index, max: EVENT_LIMITS.maxHeaders, actual: headers.length },
    });
  }
  const keyBytes = event.key ? Buffer.byteLength(event.key, 'utf8') : 0;
  if (keyBytes > EVENT_LIMITS.maxKeyBytes) {
    throw new KeyTooLargeError(`Event ${index} has a ${keyBytes}-byte key; at most ${EVENT_LIMITS.maxKeyBytes} bytes`, {
      details: { index, max: EVENT_LIMITS.maxKeyBytes, actual: keyBytes },
    });
  }
  const valueBytes =
    event.valueBase64 !== undefined
      ? Buffer.byteLength(event.valueBase64, 'base64')
      : event.value === undefined
        ? 0
        : Buffer.byteLength(JSON.stringify(event.value), 'utf8');
  const headerBytes = headers.reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  const size = keyBytes + valueBytes + headerBytes;
  if (size > EVENT_LIMITS.maxEventBytes) {
    throw new EventTooLargeError(`Event ${index} is ${size} bytes; at most ${EVENT_LIMITS.maxEventBytes}`, {
      details: { index, max: EVENT_LIMITS.maxEventBytes, actual: size },
    });
  }
  return size;
}
