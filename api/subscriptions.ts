/**
 * The push-subscription contract: request schemas, filters, targets, status, dead letters, and the
 * wire format a subscriber receives (webhook body, SQS message body, Lambda payload: one JSON
 * shape). docs/api.md describes them; the `sluiceSubscriber()` middleware parses what
 * `parseDelivery` parses.
 */
import { z } from 'zod';
import { boundedArray, type FetchedEvent } from './events';
import { queueNameSchema } from './queues';
import { TOPIC_LIMITS, topicNameSchema } from './topics';

export const SUBSCRIPTION_DEFAULTS = {
  /** Where a new subscription starts: only events appended after it is created. */
  startAt: 'latest',
  /** Delivery attempts of the same events before they become dead letters. */
  maxAttempts: 10,
  /** A webhook call gives up after this long (and counts as a failed attempt). */
  webhookTimeoutMs: 10_000,
} as const;

export const SUBSCRIPTION_LIMITS = {
  maxAttempts: 100,
  /** Events in one delivery (one webhook call, one SQS message, one Lambda invocation). */
  maxEventsPerDelivery: 100,
  /**
   * Bytes of one delivery's JSON body: an SQS message holds up to 1 MiB, and 256 KiB leaves room
   * (a single event larger than this is delivered alone).
   */
  maxDeliveryBytes: 256 * 1024,
  /** Rules in one filter, counting every value of every field. */
  maxFilterRules: 150,
  /** Nesting of `filter.value` objects. */
  maxFilterDepth: 5,
  maxUrlLength: 2048,
  /** Dead letters answered per page. */
  maxDeadLettersPage: 100,
} as const;

/** Webhook signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. */
export const SIGNATURE_HEADER = 'Sluice-Signature';

/** A name safe in DynamoDB keys, SQS message groups and one URL path segment. */
export const subscriptionNameSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[a-zA-Z0-9._-]+$/, 'may contain only ASCII letters, digits, ".", "_" and "-"')
  .refine((name) => name !== '.' && name !== '..', 'must not be "." or ".."');

export const subscriptionPathSchema = z.strictObject({ topic: topicNameSchema });
export const subscriptionNamePathSchema = z.strictObject({ topic: topicNameSchema, name: subscriptionNameSchema });

// ---- filters -----------------------------------------------------------------------------------

/**
 * One rule on a field, in the spirit of SNS filter policies:
 * - a string, number, boolean or null: equals it;
 * - `{ prefix: "ab" }`: a string starting with it;
 * - `{ "anything-but": v | [v, ...] | { prefix } }`: present and not equal (not prefixed);
 * - `{ numeric: [">", 0, "<=", 5] }`: a number within the bounds (`=` also works);
 * - `{ exists: true | false }`: the field is present or absent.
 * A field matches when any of its rules matches; a filter matches when every field matches.
 */
export type FilterRule =
  | string
  | number
  | boolean
  | null
  | { readonly prefix: string }
  | { readonly 'anything-but': string | number | readonly (string | number)[] | { readonly prefix: string } }
  | { readonly numeric: readonly (string | number)[] }
  | { readonly exists: boolean };

const scalar = z.union([z.string().max(1024), z.number().finite(), z.boolean(), z.null()]);
const numericOperators = ['<', '<=', '=', '>=', '>'] as const;

export const filterRuleSchema: z.ZodType<FilterRule> = z.union([
  scalar,
  z.strictObject({ prefix: z.string().min(1).max(1024) }),
  z.strictObject({
    'anything-but': z.union([
      z.string().max(1024),
      z.number().finite(),
      z.array(z.union([z.string().max(1024), z.number().finite()])).min(1).max(100),
      z.strictObject({ prefix: z.string().min(1).max(1024) }),
    ]),
  }),
  z.strictObject({
    numeric: z
      .array(z.union([z.enum(numericOperators), z.number().finite()]))
      .min(2)
      .max(4)
      .superRefine((terms, ctx) => {
        if (terms.length % 2 !== 0) ctx.addIssue({ code: 'custom', message: 'must be pairs of an operator and a number' });
        for (let i = 0; i < terms.length; i += 2) {
          if (typeof terms[i] !== 'string' || typeof terms[i + 1] !== 'number') {
            ctx.addIssue({ code: 'custom', path: [i], message: 'must be pairs of an operator ("<", "<=", "=", ">=", ">") and a number' });
          }
        }
        if (terms.length === 4 && (terms[0] === '=' || terms[2] === '=')) {
          ctx.addIssue({ code: 'custom', message: '"=" stands alone' });
        }
      }),
  }),
  z.strictObject({ exists: z.boolean() }),
]) as z.ZodType<FilterRule>;

const rulesSchema = z.array(filterRuleSchema).min(1).max(SUBSCRIPTION_LIMITS.maxFilterRules);

/** Fields of a JSON value: a field name to its rules, or to a nested object of fields. */
export interface ValueFilter {
  readonly [field: string]: readonly FilterRule[] | ValueFilter;
}

const valueFilterSchema: z.ZodType<ValueFilter> = z.lazy(() =>
  z.record(z.string().min(1).max(256), z.union([rulesSchema, valueFilterSchema])),
) as z.ZodType<ValueFilter>;

export interface SubscriptionFilter {
  /** Rules on the event key (`null` when the event has none: `{ exists: false }` matches that). */
  readonly key?: readonly FilterRule[];
  /** Rules per header name. */
  readonly headers?: Readonly<Record<string, readonly FilterRule[]>>;
  /** Rules on fields of a JSON object value (nested objects for nested fields). */
  readonly value?: ValueFilter;
}

function countRules(filter: SubscriptionFilter): { rules: number; depth: number } {
  let rules = (filter.key?.length ?? 0) + Object.values(filter.headers ?? {}).reduce((n, r) => n + r.length, 0);
  let depth = 0;
  const walk = (v: ValueFilter, d: number) => {
    depth = Math.max(depth, d);
    for (const child of Object.values(v)) {
      if (Array.isArray(child)) rules += child.length;
      else walk(child as ValueFilter, d + 1);
    }
  };
  if (filter.value) walk(filter.value, 1);
  return { rules, depth };
}

export const subscriptionFilterSchema = z
  .strictObject({
    key: rulesSchema.optional(),
    headers: z.record(z.string().min(1).max(256), rulesSchema).optional(),
    value: valueFilterSchema.optional(),
  })
  .superRefine((filter, ctx) => {
    const { rules, depth } = countRules(filter as SubscriptionFilter);
    if (rules > SUBSCRIPTION_LIMITS.maxFilterRules) {
      ctx.addIssue({ code: 'custom', message: `must hold at most ${SUBSCRIPTION_LIMITS.maxFilterRules} rules in all` });
    }
    if (depth > SUBSCRIPTION_LIMITS.maxFilterDepth) {
      ctx.addIssue({ code: 'custom', path: ['value'], message: `must nest at most ${SUBSCRIPTION_LIMITS.maxFilterDepth} levels` });
    }
  }) as z.ZodType<SubscriptionFilter>;

// ---- targets -----------------------------------------------------------------------------------

export const webhookTargetSchema = z.strictObject({
  type: z.literal('webhook'),
  url: z
    .string()
    .max(SUBSCRIPTION_LIMITS.maxUrlLength)
    .refine((u) => URL.canParse(u), 'must be an absolute URL')
    .refine((u) => ['https:', 'http:'].includes(new URL(u).protocol), 'must be an https (or, where allowed, http) URL'),
  /** The HMAC key of `Sluice-Signature`; Sluice generates one when absent (returned once). */
  secret: z.string().min(16).max(256).optional(),
});

/** An SQS queue of the caller's, by URL: each delivery is one message whose body is the DeliveryBody. */
export interface QueueUrlTarget {
  readonly type: 'queue';
  readonly queueUrl: string;
}

/**
 * A Sluice message queue (`POST /queues`), by name: each event is one message of the queue's own
 * format (body: the DeliveredEvent; `sluice-message-id`: derived from subscription, partition and
 * offset; group: the event's key, or `<topic>#<partition>` for an event without one), so
 * `POST /queues/{queue}/receive` answers the events and competing consumers share them.
 */
export interface SluiceQueueTarget {
  readonly type: 'queue';
  readonly queue: string;
}

export type QueueTarget = QueueUrlTarget | SluiceQueueTarget;

/** Both queue targets in one object schema (a discriminated union takes one option per `type`). */
const queueTargetObjectSchema = z
  .strictObject({
    type: z.literal('queue'),
    queueUrl: z
      .string()
      .max(SUBSCRIPTION_LIMITS.maxUrlLength)
      .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an SQS queue URL')
      .optional(),
    queue: queueNameSchema.optional(),
  })
  .superRefine((t, ctx) => {
    if ((t.queueUrl === undefined) === (t.queue === undefined)) {
      ctx.addIssue({ code: 'custom', message: "give either queueUrl (an SQS queue's URL) or queue (a Sluice queue's name), not both" });
    }
  });

export const queueTargetSchema = queueTargetObjectSchema as unknown as z.ZodType<QueueTarget>;

export const lambdaTargetSchema = z.strictObject({
  type: z.literal('lambda'),
  functionArn: z
    .string()
    .regex(/^arn:aws[a-zA-Z-]*:lambda:[a-z0-9-]+:\d{12}:function:[a-zA-Z0-9_-]{1,64}(:[a-zA-Z0-9$_-]{1,128})?$/, 'must be a Lambda function ARN'),
});

export type WebhookTarget = z.infer<typeof webhookTargetSchema>;
export type LambdaTarget = z.infer<typeof lambdaTargetSchema>;
export type SubscriptionTarget = WebhookTarget | QueueTarget | LambdaTarget;
export const subscriptionTargetSchema = z.discriminatedUnion('type', [
  webhookTargetSchema,
  queueTargetObjectSchema,
  lambdaTargetSchema,
]) as unknown as z.ZodType<SubscriptionTarget>;

/** A target as the API shows it: a webhook's secret is never answered (only whether one is set). */
export type SubscriptionTargetView =
  | { readonly type: 'webhook'; readonly url: string }
  | QueueTarget
  | LambdaTarget;

// ---- requests ----------------------------------------------------------------------------------

export const startAtSchema = z.union([z.literal('earliest'), z.literal('latest'), z.strictObject({ timestamp: z.number().int().min(0) })]);
export type StartAt = z.infer<typeof startAtSchema>;

export const createSubscriptionRequestSchema = z.strictObject({
  name: subscriptionNameSchema,
  target: subscriptionTargetSchema,
  filter: subscriptionFilterSchema.optional(),
  startAt: startAtSchema.optional(),
  maxAttempts: z.number().int().min(1).max(SUBSCRIPTION_LIMITS.maxAttempts).optional(),
});
export type CreateSubscriptionRequest = z.infer<typeof createSubscriptionRequestSchema>;

export const subscriptionSeekRequestSchema = z.strictObject({
  to: z.union([
    z.literal('earliest'),
    z.literal('latest'),
    z.strictObject({ timestamp: z.number().int().min(0) }),
    z.strictObject({ partition: z.number().int().min(0).max(TOPIC_LIMITS.maxPartitions - 1), offset: z.number().int().min(0) }),
  ]),
});
export type SubscriptionSeekRequest = z.infer<typeof subscriptionSeekRequestSchema>;

export const deadLettersQuerySchema = z.strictObject({
  partition: z.string().regex(/^\d{1,4}$/).transform(Number).optional(),
  limit: z
    .string()
    .regex(/^\d{1,4}$/)
    .transform(Number)
    .pipe(z.number().int().min(1).max(SUBSCRIPTION_LIMITS.maxDeadLettersPage))
    .optional(),
});

export const redriveRequestSchema = z
  .strictObject({ partitions: boundedArray(z.number().int().min(0), TOPIC_LIMITS.maxPartitions, { min: 1, what: 'partitions' }).optional() })
  .optional();

// ---- answers -----------------------------------------------------------------------------------

export interface SubscriptionConfigView {
  readonly topic: string;
  readonly name: string;
  readonly target: SubscriptionTargetView;
  /** Whether webhook deliveries are signed (always, for webhooks). */
  readonly signed?: boolean;
  readonly filter?: SubscriptionFilter;
  readonly startAt: StartAt;
  readonly maxAttempts: number;
  /** `api` (created through the API) or `stack` (declared in CDK: read-only here). */
  readonly source: 'api' | 'stack';
  readonly createdAt?: string;
}

export interface CreateSubscriptionResponse extends SubscriptionConfigView {
  /** The webhook secret, answered once: the one given, or the one Sluice generated. */
  readonly secret?: string;
}

export interface SubscriptionPartitionStatus {
  readonly partition: number;
  /** Next offset to deliver; null when the subscription has not started on this partition. */
  readonly position: number | null;
  readonly highWatermark: number;
  /** Events not yet delivered (highWatermark − position, filtered-out ones included). */
  readonly lag: number;
  /** Failed attempts at the current position (0 when the last delivery succeeded). */
  readonly failedAttempts: number;
  readonly lastError?: string;
  readonly lastDeliveredAt?: string;
}

export interface SubscriptionDescription extends SubscriptionConfigView {
  readonly partitions: readonly SubscriptionPartitionStatus[];
  readonly lag: number;
  /** Partitions with a delivery that failed and is being retried. */
  readonly failing: number;
  readonly deadLetters: number;
}

export interface DeadLetter {
  readonly partition: number;
  readonly offset: number;
  readonly event: DeliveredEvent;
  readonly error: string;
  readonly attempts: number;
  readonly failedAt: string;
}

export interface DeadLettersResponse {
  /** The oldest dead letters first (per partition, by offset), at most `limit`. */
  readonly deadLetters: readonly DeadLetter[];
  /** How many dead letters the subscription holds in all (or in the partition asked for). */
  readonly total: number;
}

export interface RedriveResponse {
  /** Partitions a redrive was enqueued for (those with dead letters). */
  readonly partitions: readonly number[];
  readonly deadLetters: number;
}

// ---- the wire format a subscriber receives -----------------------------------------------------

/** An event as fetch returns it, and the subscription that delivered it. */
export interface DeliveredEvent extends FetchedEvent {
  readonly subscription: string;
}

/**
 * One delivery: the webhook's POST body, the SQS message body of a queue target, the payload of a
 * Lambda target. Its events are of one partition, in offset order, consecutive among the events
 * that match the filter.
 */
export interface DeliveryBody {
  readonly v: 1;
  readonly subscription: string;
  readonly topic: string;
  readonly partition: number;
  readonly events: readonly DeliveredEvent[];
  /** true when re-driven from the dead letters (the events were delivered out of their order). */
  readonly redrive?: boolean;
}

const deliveredEventSchema = z.object({
  subscription: z.string(),
  topic: z.string(),
  partition: z.number().int().min(0),
  offset: z.number().int().min(0),
  key: z.string().nullable(),
  value: z.unknown().optional(),
  valueBase64: z.string().optional(),
  headers: z.record(z.string(), z.string()),
  timestamp: z.number(),
  messageId: z.string(),
});

const deliveryBodySchema = z.object({
  v: z.literal(1),
  subscription: z.string(),
  topic: z.string(),
  partition: z.number().int().min(0),
  events: z.array(deliveredEventSchema),
  redrive: z.boolean().optional(),
});

/** Parses a delivery (a webhook body, an SQS message body): throws on anything else. */
export function parseDelivery(body: string | unknown): DeliveryBody {
  const value = typeof body === 'string' ? (JSON.parse(body) as unknown) : body;
  const parsed = deliveryBodySchema.safeParse(value);
  if (!parsed.success) {
    throw new Error(`Not a Sluice delivery: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return parsed.data as DeliveryBody;
}

/**
 * A subscription declared in CDK, as the functions get it in `SLUICE_DECLARED_SUBSCRIPTIONS` (a
 * JSON array). Read-only through the API.
 */
export const declaredSubscriptionSchema = z.strictObject({
  topic: topicNameSchema,
  name: subscriptionNameSchema,
  target: queueTargetSchema,
  filter: subscriptionFilterSchema.optional(),
  startAt: startAtSchema.optional(),
  maxAttempts: z.number().int().min(1).max(SUBSCRIPTION_LIMITS.maxAttempts).optional(),
});
export type DeclaredSubscription = z.infer<typeof declaredSubscriptionSchema>;

export const SUBSCRIPTIONS_ENV = {
  declared: 'SLUICE_DECLARED_SUBSCRIPTIONS',
  /** `true`: webhooks may be http:// and point at loopback, private and link-local addresses. */
  allowPrivateNetworks: 'SLUICE_WEBHOOK_ALLOW_PRIVATE_NETWORKS',
} as const;

// ---- response schemas (the OpenAPI document's, docs/openapi.json; typed against the interfaces above) ----

const subscriptionTargetViewSchema = z.union([
  z.object({ type: z.literal('webhook'), url: z.string() }),
  z.object({ type: z.literal('queue'), queueUrl: z.string() }),
  z.object({ type: z.literal('queue'), queue: z.string() }),
  z.object({ type: z.literal('lambda'), functionArn: z.string() }),
]) satisfies z.ZodType<SubscriptionTargetView>;

const subscriptionConfigViewShape = {
  topic: z.string(),
  name: z.string(),
  target: subscriptionTargetViewSchema,
  signed: z.boolean().optional(),
  filter: subscriptionFilterSchema.optional(),
  startAt: startAtSchema,
  maxAttempts: z.number().int().min(1),
  source: z.enum(['api', 'stack']),
  createdAt: z.string().optional(),
};

export const subscriptionConfigViewSchema = z.object(subscriptionConfigViewShape) satisfies z.ZodType<SubscriptionConfigView>;

export const createSubscriptionResponseSchema = z.object({
  ...subscriptionConfigViewShape,
  secret: z.string().optional(),
}) satisfies z.ZodType<CreateSubscriptionResponse>;

export const listSubscriptionsResponseSchema = z.object({ subscriptions: z.array(subscriptionConfigViewSchema) });

export const subscriptionDescriptionSchema = z.object({
  ...subscriptionConfigViewShape,
  partitions: z.array(
    z.object({
      partition: z.number().int().min(0),
      position: z.number().int().nullable(),
      highWatermark: z.number().int().min(0),
      lag: z.number().int(),
      failedAttempts: z.number().int().min(0),
      lastError: z.string().optional(),
      lastDeliveredAt: z.string().optional(),
    }),
  ),
  lag: z.number().int(),
  failing: z.number().int().min(0),
  deadLetters: z.number().int().min(0),
}) satisfies z.ZodType<SubscriptionDescription>;

/** POST .../seek (the service's SeekResponse). */
export const subscriptionSeekResponseSchema = z.object({
  positions: z.array(z.object({ partition: z.number().int().min(0), position: z.number().int().min(0) })),
});

export const deadLettersResponseSchema = z.object({
  deadLetters: z.array(
    z.object({
      partition: z.number().int().min(0),
      offset: z.number().int().min(0),
      event: deliveredEventSchema,
      error: z.string(),
      attempts: z.number().int().min(0),
      failedAt: z.string(),
    }),
  ),
  total: z.number().int().min(0),
}) satisfies z.ZodType<DeadLettersResponse>;

export const subscriptionRedriveResponseSchema = z.object({
  partitions: z.array(z.number().int().min(0)),
  deadLetters: z.number().int().min(0),
}) satisfies z.ZodType<RedriveResponse>;
