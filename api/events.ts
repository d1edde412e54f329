/**
 * The produce and fetch contract: request schemas, response types and the limits a request is
 * checked against before anything is written. docs/api.md describes them.
 */
import { z } from 'zod';
import { EventTooLargeError, KeyTooLargeError, RequestTooLargeError, TooManyHeadersError } from './errors';

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
  /**
   * Deepest nesting of arrays and objects in an event's JSON `value` (a string or number is 0,
   * `[]` and `{"a":1}` are 1, `[[1]]` is 2). Checked iteratively, so no value can overflow the stack of the service or of
   * the client that checks it.
   */
  maxValueDepth: 64,
} as const;

export const FETCH_LIMITS = {
  defaultLimit: 100,
  maxLimit: 1000,
  /** Stop adding events to a response past this many bytes (at least one event is returned). */
  maxResponseBytes: 4 * 1024 * 1024,
  /**
   * Lambda answers at most 6 MB (6,291,456 bytes) counted as the serialized invocation result,
   * whose `body` is the response JSON escaped once more: a `"` in a string value (`\"`, 2 bytes in
   * the body) costs 4 bytes there, a control character (`\u0001`) 7. A response also stops taking
   * events once their share of that result would pass this (6 MiB less a 256 KiB margin for the
   * envelope, headers and fields); under the per-event limits one event takes at most about 1.8 MB
   * there, so the first always fits.
   */
  maxLambdaResponseBytes: 6 * 1024 * 1024 - 256 * 1024,
  /** Longest long-poll, like SQS's 20 s. */
  maxWaitMs: 20_000,
} as const;

/** Printable ASCII without spaces, like an SQS deduplication ID. */
const messageIdSchema = z
  .string()
  .min(1)
  .max(EVENT_LIMITS.maxMessageIdLength)
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/**
 * Header names to string values. Checked in place and passed through as they came, not copied:
 * `z.record` builds a new object and skips a `__proto__` key, which is data here (a header name
 * like any other, as `JSON.parse` keeps it: an own property), so it would be dropped silently.
 * Nothing below copies headers by assignment (`obj[name] = value` would set a prototype instead).
 */
const headersSchema = z.unknown().superRefine((value, ctx) => {
  const proto: unknown = value !== null && typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (Array.isArray(value) || (proto !== Object.prototype && proto !== null)) {
    ctx.addIssue({ code: 'custom', message: 'must be an object of header names to string values' });
    return;
  }
  for (const name of Object.keys(value as object)) {
    if (name === '') ctx.addIssue({ code: 'custom', path: [name], message: 'header names must not be empty' });
    const v = Object.getOwnPropertyDescriptor(value, name)?.value as unknown;
    if (typeof v !== 'string') ctx.addIssue({ code: 'custom', path: [name], message: `must be a string, not ${v === null ? 'null' : typeof v}` });
  }
}) as unknown as z.ZodType<Readonly<Record<string, string>>>;

const base64Schema = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, 'must be standard base64');

/**
 * Where a JSON value breaks a rule: nested deeper than `maxDepth`, or holding something JSON cannot
 * (a non-finite number, undefined, a function, a class instance). Walks the value with an explicit
 * stack, never recursion, and stops at the first problem, so any input is checked in time linear
 * in its size and constant stack depth.
 */
export function jsonValueProblem(value: unknown, maxDepth: number = EVENT_LIMITS.maxValueDepth): string | undefined {
  const stack: { readonly value: unknown; readonly depth: number }[] = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (v === null || typeof v === 'string' || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return 'must be JSON: numbers must be finite';
      continue;
    }
    if (typeof v !== 'object') return `must be JSON: a ${typeof v} is not`;
    const proto = Object.getPrototypeOf(v) as unknown;
    if (!Array.isArray(v) && proto !== Object.prototype && proto !== null) return 'must be JSON: only arrays and plain objects nest';
    if (depth > maxDepth) return `must nest arrays and objects at most ${maxDepth} levels deep`;
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const child of children) {
      if (child !== null && typeof child === 'object' && depth + 1 > maxDepth) {
        return `must nest arrays and objects at most ${maxDepth} levels deep`;
      }
      stack.push({ value: child, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * Any JSON value nested at most `EVENT_LIMITS.maxValueDepth` levels. Replaces `z.json()`, whose
 * recursive check overflows the stack on a value about 1,500 levels deep (a 500 instead of a 400).
 * The value is passed through as it is, not copied.
 */
const jsonValueSchema = z.unknown().superRefine((value, ctx) => {
  const problem = jsonValueProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

export const produceEventSchema = z
  .strictObject({
    key: z.string().nullable().optional(),
    value: jsonValueSchema.optional(),
    valueBase64: base64Schema.optional(),
    headers: headersSchema.optional(),
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

/**
 * A list of at most `max` items, refused from its length alone before any item is parsed (so an
 * oversized list costs O(1) to refuse): the cap of every list in every request schema.
 * docs/api.md's limits table lists them.
 */
export function boundedArray<T extends z.ZodType>(item: T, max: number, options: { min?: number; what?: string } = {}) {
  const what = options.what ?? 'items';
  const min = options.min ?? 0;
  return z
    .custom<unknown>((v) => !Array.isArray(v) || v.length <= max, { message: `must hold at most ${max} ${what}` })
    .pipe(z.array(item).min(min, `must hold at least ${min} ${what}`).max(max, `must hold at most ${max} ${what}`));
}

/**
 * The events of one append (a produce request, or one topic of a transaction). Their count and
 * their header counts are checked from the raw list before any event is parsed, and answered with
 * the documented errors (`413 RequestTooLarge`, `400 TooManyHeaders`): those are thrown from the
 * schema (zod passes a thrown error through `safeParse`), so the HTTP layer answers with their own
 * status and code. Everything else about an event is a validation issue (`400 InvalidRequest`).
 */
export const produceEventsSchema = z
  .custom<unknown>((v) => {
    if (!Array.isArray(v)) return true;
    if (v.length > EVENT_LIMITS.maxEventsPerRequest) throw tooManyEvents(v.length);
    v.forEach((event: unknown, index) => {
      const headers = (event as { headers?: unknown } | null)?.headers;
      if (headers === null || typeof headers !== 'object') return;
      let count = 0;
      for (const _ in headers) if (++count > EVENT_LIMITS.maxHeaders) break;
      if (count > EVENT_LIMITS.maxHeaders) {
        const actual = Object.keys(headers).length;
        throw new TooManyHeadersError(`Event ${index} has ${actual} headers; at most ${EVENT_LIMITS.maxHeaders} are allowed`, {
          details: { index, max: EVENT_LIMITS.maxHeaders, actual },
        });
      }
    });
    return true;
  })
  .pipe(z.array(produceEventSchema).min(1, 'must hold at least one event'));

/** More events than one append may hold (a produce request, or all topics of a transaction). */
export function tooManyEvents(actual: number): RequestTooLargeError {
  return new RequestTooLargeError(`A request holds at most ${EVENT_LIMITS.maxEventsPerRequest} events, this one ${actual}`, {
    details: { limit: 'maxEventsPerRequest', max: EVENT_LIMITS.maxEventsPerRequest, actual },
  });
}

/**
 * An idempotent producer's stamp on a produce request (Kafka's producer ID, epoch and base
 * sequence): the request's events go to one partition and take sequences `sequence` to
 * `sequence + events - 1` of this producer on it. See docs/api.md.
 */
export const producerStampSchema = z.strictObject({
  /** Chosen by the client: a random UUID, or a stable name so that a restart fences its predecessor. */
  id: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_", ":" or "-"'),
  /** Larger for a newer instance of the same ID (the client uses the time it started, in ms). */
  epoch: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** Sequence of the first event: 0 in a new epoch, then the previous batch's plus its events. */
  sequence: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type ProducerStamp = z.infer<typeof producerStampSchema>;

export const produceRequestSchema = z.strictObject({
  events: produceEventsSchema,
  /** Present: appended idempotently (a retry answers with the original offsets). */
  producer: producerStampSchema.optional(),
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

/**
 * A non-negative integer in a path or query string. At most 16 digits and at most 2^53 - 1, so it
 * is exact as a JSON number: a 400-digit offset is a 400, never `Infinity` (which JSON answers as
 * `null`).
 */
export const nonNegativeIntString = z
  .string()
  .regex(/^\d{1,16}$/, 'must be a non-negative integer of at most 16 digits')
  .transform(Number)
  .refine((n) => Number.isSafeInteger(n), `must be at most ${Number.MAX_SAFE_INTEGER}`);

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

// ---- response schemas (the OpenAPI document's, docs/openapi.json; typed against the interfaces above) ----

export const produceResponseSchema = z.object({
  results: z.array(
    z.object({ partition: z.number().int().min(0), offset: z.number().int().min(0), messageId: z.string(), duplicate: z.boolean() }),
  ),
}) satisfies z.ZodType<ProduceResponse>;

export const fetchedEventSchema = z.object({
  topic: z.string(),
  partition: z.number().int().min(0),
  offset: z.number().int().min(0),
  key: z.string().nullable(),
  value: z.unknown().optional(),
  valueBase64: z.string().optional(),
  headers: z.record(z.string(), z.string()),
  timestamp: z.number().int(),
  messageId: z.string(),
}) satisfies z.ZodType<FetchedEvent>;

export const fetchResponseSchema = z.object({
  events: z.array(fetchedEventSchema),
  nextOffset: z.number().int().min(0),
  highWatermark: z.number().int().min(0),
  logStartOffset: z.number().int().min(0),
}) satisfies z.ZodType<FetchResponse>;
