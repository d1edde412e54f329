/**
 * `sluiceSubscriber()`: a middy middleware for Lambda functions subscribed to a Sluice topic
 * through an SQS queue (`sluice.subscribeLambda(fn, { topic })`), exported as `sluice/subscriber`.
 *
 *   import middy from '@middy/core';
 *   import { sluiceSubscriber, type SluiceBatch } from 'sluice/subscriber';
 *
 *   export const handler = middy()
 *     .use(sluiceSubscriber({ idempotent: { table: process.env.PROCESSED_TABLE! } }))
 *     .handler(async (batch: SluiceBatch) => {
 *       await batch.eachEvent(async (event) => saveOrder(event.value));
 *     });
 *
 * The middleware turns the SQS event into Sluice events (each SQS message is one delivery: events
 * of one partition, in offset order; api/subscriptions.ts defines the body) and answers SQS with a
 * partial batch response (`batchItemFailures`; the event source has `ReportBatchItemFailures`):
 * - `batch.eachEvent(fn)` calls `fn` for each event in order. When it throws for an event, that
 *   event's message fails and so does every later message of the same message group (a FIFO
 *   queue's group is one partition: order must hold), without calling `fn` for them; the other
 *   groups go on. The messages that failed come back after their visibility timeout.
 * - Or the handler uses `batch.events` (every event, in order) as a whole: returning succeeds every
 *   message, throwing fails them all (the error is reported as batch item failures, not thrown).
 * - A message that is not a Sluice delivery fails (and reaches the queue's DLQ after maxAttempts).
 * - A function that is the Lambda target of a run-time subscription (`{ type: 'lambda' }`) is
 *   invoked with one delivery instead of an SQS event: the middleware handles it as a batch of
 *   one, and throws when it fails, so the deliverer retries it.
 * With `idempotent: { table }` each event is recorded in that DynamoDB table (see ./idempotency.ts):
 * an event already processed is left out of the batch, so a redelivered message (a retry after a
 * failure midway, a deliverer crash between delivery and cursor write) has its effect once.
 */
import { parseDelivery, type DeliveredEvent, type DeliveryBody } from '../../api/subscriptions';
import { IdempotencyStore, idempotencyKey, type ClaimResult } from './idempotency';

export { parseDelivery, type DeliveredEvent, type DeliveryBody } from '../../api/subscriptions';
export { idempotencyKey } from './idempotency';

/** One event of a topic, as the subscriber receives it. */
export type SluiceEvent = DeliveredEvent;

/** The parts of an SQS record the middleware reads (`SQSRecord` of `@types/aws-lambda`). */
export interface SqsRecordLike {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: { readonly MessageGroupId?: string };
  readonly eventSourceARN?: string;
}

/** An SQS event (`SQSEvent` of `@types/aws-lambda`). */
export interface SqsEventLike {
  readonly Records: readonly SqsRecordLike[];
}

/** The partial batch response SQS event sources with `ReportBatchItemFailures` read (`SQSBatchResponse`). */
export interface SqsBatchResponse {
  batchItemFailures: { itemIdentifier: string }[];
}

/** The Lambda context's only part the middleware uses. */
export interface LambdaContextLike {
  getRemainingTimeInMillis?(): number;
}

/** One SQS message of the batch, as a delivery. */
export interface SluiceDelivery extends Omit<DeliveryBody, 'events'> {
  /** The SQS message ID. */
  readonly messageId: string;
  /** The events still to process (with idempotency, those not processed before), in offset order. */
  readonly events: readonly SluiceEvent[];
}

/** What the handler receives instead of the SQS event. */
export interface SluiceBatch {
  /** The deliveries to process, in the order SQS gave them (without those failed before processing). */
  readonly deliveries: readonly SluiceDelivery[];
  /** Every event to process, in order: the events of `deliveries`, one after the other. */
  readonly events: readonly SluiceEvent[];
  /**
   * Calls `fn` for every event, in order, and records the outcome per message: a failure fails its
   * message and the later messages of its group. Resolves when done; it throws only if the
   * idempotency table cannot be written. Call it at most once per invocation.
   */
  eachEvent(fn: (event: SluiceEvent, delivery: SluiceDelivery) => unknown): Promise<void>;
  /** The original SQS event. */
  readonly sqsEvent: SqsEventLike;
}

export interface SluiceSubscriberOptions {
  /**
   * Record each processed event in a DynamoDB table so that a redelivered event is skipped: the
   * handler's effect happens once per (topic, subscription, partition, offset). The table has a
   * string partition key `pk` and no sort key (TTL on `expiresAt` recommended); the function needs
   * `dynamodb:PutItem`, `GetItem`, `UpdateItem` and `DeleteItem` on it. Costs about two write units
   * per event.
   *
   * @default - no idempotency: a redelivered event is processed again (at least once)
   */
  readonly idempotent?: IdempotencyOptions;

  /** Where the middleware reports messages it cannot parse and records it fails. @default console */
  readonly logger?: { error(message: string, details?: Record<string, unknown>): void };
}

export interface IdempotencyOptions {
  /** The table's name. */
  readonly table: string;
  /** A DynamoDB client (`@aws-sdk/client-dynamodb`). @default - a new DynamoDBClient() per process */
  readonly client?: import('@aws-sdk/client-dynamodb').DynamoDBClient;
  /**
   * How long an event counts as processed (the record's `expiresAt`). A replay of the subscription
   * (`seek`) within this time is skipped too, so keep it no longer than a redelivery can take: the
   * subscriber queue's retention (4 days by default).
   *
   * @default 4 days (345,600 s)
   */
  readonly retentionSeconds?: number;
  /**
   * How long a claim lasts when the Lambda context cannot tell the remaining time (outside Lambda).
   * In Lambda a claim lasts until the invocation's timeout.
   *
   * @default 900,000 (15 minutes, Lambda's longest timeout)
   */
  readonly claimTimeoutMs?: number;
}

/** The middy request, as much of it as the middleware reads and writes. */
export interface SubscriberRequest {
  event: any;
  context: LambdaContextLike;
  response: any;
  error: unknown;
}

/** A middy middleware object (`MiddlewareObj` of `@middy/core`). */
export interface SluiceSubscriberMiddleware {
  before(request: SubscriberRequest): Promise<SqsBatchResponse | undefined>;
  after(request: SubscriberRequest): Promise<void>;
  onError(request: SubscriberRequest): Promise<void>;
}

const DEFAULT_RETENTION_SECONDS = 4 * 24 * 60 * 60;
const DEFAULT_CLAIM_TIMEOUT_MS = 15 * 60 * 1000;
/** Idempotency writes in flight at once. */
const CONCURRENCY = 16;

/** The state of one invocation. */
interface Invocation {
  readonly batch: SluiceBatch;
  /** Message IDs that failed. */
  readonly failed: Set<string>;
  /** Message IDs fully handled (all their events processed or skipped). */
  readonly succeeded: Set<string>;
  readonly store?: IdempotencyStore;
  /** Idempotency keys of the events each delivery still has to process, by message ID. */
  readonly keys: Map<string, string[]>;
  eachEventCalled: boolean;
  /** Invoked with one delivery (a Lambda target), not an SQS event. */
  readonly direct: boolean;
}

/** The message ID a direct invocation's delivery gets. */
const DIRECT_MESSAGE_ID = 'direct';

export function sluiceSubscriber(options: SluiceSubscriberOptions = {}): SluiceSubscriberMiddleware {
  const logger = options.logger ?? console;
  const invocations = new WeakMap<SubscriberRequest, Invocation>();
  const retentionSeconds = options.idempotent?.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;

  return {
    async before(request) {
      // A Lambda target of a run-time subscription is invoked with one delivery as its payload:
      // handled as a batch of one, whose failure is thrown (the deliverer then retries it).
      const direct = !Array.isArray((request.event as Partial<SqsEventLike> | null)?.Records);
      if (direct) parseDelivery(request.event); // throws: neither an SQS event nor a delivery
      const sqsEvent: SqsEventLike = direct
        ? { Records: [{ messageId: DIRECT_MESSAGE_ID, body: JSON.stringify(request.event) }] }
        : (request.event as SqsEventLike);
      const failed = new Set<string>();
      const succeeded = new Set<string>();
      const failedGroups = new Set<string>();
      const fail = (record: SqsRecordLike) => {
        failed.add(record.messageId);
        const group = groupOf(record);
        if (group !== undefined) failedGroups.add(group);
      };

      // Parse every message; one that is not a delivery fails (with the later ones of its group).
      const parsed: { record: SqsRecordLike; delivery: DeliveryBody }[] = [];
      for (const record of sqsEvent.Records) {
        const group = groupOf(record);
        if (group !== undefined && failedGroups.has(group)) {
          fail(record);
          continue;
        }
        try {
          parsed.push({ record, delivery: parseDelivery(record.body) });
        } catch (error) {
          logger.error('sluiceSubscriber: not a Sluice delivery; failing the message', { messageId: record.messageId, error: String(error) });
          fail(record);
        }
      }

      // With idempotency, claim every event up front: already processed ones are left out, and a
      // message with an event another invocation holds right now fails (to retry after it).
      const store = options.idempotent
        ? new IdempotencyStore({ table: options.idempotent.table, client: options.idempotent.client, retentionSeconds })
        : undefined;
      const claims = new Map<string, ClaimResult>();
      if (store) {
        const remaining = request.context?.getRemainingTimeInMillis?.();
        const claimedUntil = Date.now() + (remaining ?? options.idempotent?.claimTimeoutMs ?? DEFAULT_CLAIM_TIMEOUT_MS);
        const keys = parsed.flatMap(({ delivery }) => delivery.events.map((e) => idempotencyKey({ ...e, subscription: delivery.subscription })));
        try {
          await forEachLimited([...new Set(keys)], CONCURRENCY, async (key) => {
            claims.set(key, await store.claim(key, claimedUntil));
          });
        } catch (error) {
          // The table cannot be written: give back what was claimed, and let the batch be retried.
          await releaseQuietly(store, store.held, logger);
          throw error;
        }
      }

      const deliveries: SluiceDelivery[] = [];
      const keysByMessage = new Map<string, string[]>();
      const toRelease: string[] = [];
      // An event in two messages of the batch (a redelivered copy) is processed with the first.
      const assigned = new Set<string>();
      for (const { record, delivery } of parsed) {
        const keyOf = (e: DeliveredEvent) => idempotencyKey({ ...e, subscription: delivery.subscription });
        const group = groupOf(record);
        const blocked = (group !== undefined && failedGroups.has(group)) || delivery.events.some((e) => claims.get(keyOf(e)) === 'busy');
        if (blocked) {
          fail(record);
          toRelease.push(...delivery.events.map(keyOf).filter((k) => claims.get(k) === 'claimed'));
          continue;
        }
        const events = store
          ? delivery.events.filter((e) => claims.get(keyOf(e)) === 'claimed' && !assigned.has(keyOf(e)))
          : delivery.events;
        if (store) for (const e of events) assigned.add(keyOf(e));
        if (events.length === 0) {
          succeeded.add(record.messageId); // every event processed before: a redelivery
          continue;
        }
        deliveries.push({ ...delivery, messageId: record.messageId, events });
        keysByMessage.set(record.messageId, events.map(keyOf));
      }
      // A key can be in two messages (a redelivered copy): release only what no delivery kept.
      const kept = new Set([...keysByMessage.values()].flat());
      if (store) await releaseQuietly(store, toRelease.filter((k) => !kept.has(k)), logger);

      const invocation: Invocation = {
        batch: undefined as unknown as SluiceBatch,
        failed,
        succeeded,
        store,
        keys: keysByMessage,
        eachEventCalled: false,
        direct,
      };
      (invocation as { batch: SluiceBatch }).batch = {
        deliveries,
        events: deliveries.flatMap((d) => d.events),
        sqsEvent,
        eachEvent: (fn) => eachEvent(invocation, fn, logger),
      };
      invocations.set(request, invocation);
      if (deliveries.length === 0) {
        // Nothing to run the handler for: every event was processed before, or none can run now.
        if (direct && failed.size > 0) throw new Error('sluiceSubscriber: the delivery cannot be processed now (held by another invocation)');
        return response(sqsEvent, failed);
      }
      request.event = invocation.batch;
      return undefined;
    },

    async after(request) {
      const invocation = invocations.get(request);
      if (!invocation) return;
      // The handler returned: whatever eachEvent did not fail succeeded (the whole-list way).
      for (const delivery of invocation.batch.deliveries) {
        if (invocation.failed.has(delivery.messageId) || invocation.succeeded.has(delivery.messageId)) continue;
        await completeAll(invocation, delivery.messageId, logger);
        invocation.succeeded.add(delivery.messageId);
      }
      if (invocation.direct && invocation.failed.size > 0) throw new Error('sluiceSubscriber: the delivery failed; see the logged error');
      request.response = response(invocation.batch.sqsEvent, invocation.failed);
    },

    async onError(request) {
      const invocation = invocations.get(request);
      if (!invocation) return; // failed before parsing (not an SQS event): let the error through
      logger.error('sluiceSubscriber: the handler failed; failing its messages', { error: String(request.error) });
      for (const delivery of invocation.batch.deliveries) {
        if (invocation.succeeded.has(delivery.messageId)) continue;
        invocation.failed.add(delivery.messageId);
      }
      if (invocation.store) await releaseQuietly(invocation.store, invocation.store.held, logger);
      if (invocation.direct) return; // a direct invocation fails: the error goes back to the deliverer
      request.response = response(invocation.batch.sqsEvent, invocation.failed);
    },
  };
}

async function eachEvent(
  invocation: Invocation,
  fn: (event: SluiceEvent, delivery: SluiceDelivery) => unknown,
  logger: Logger,
): Promise<void> {
  if (invocation.eachEventCalled) throw new Error('sluiceSubscriber: call batch.eachEvent() once per invocation');
  invocation.eachEventCalled = true;
  const { store, failed, succeeded } = invocation;
  const failedGroups = new Set<string>();
  for (const record of invocation.batch.sqsEvent.Records) {
    if (failed.has(record.messageId)) {
      const group = groupOf(record);
      if (group !== undefined) failedGroups.add(group);
    }
  }
  const recordOf = new Map(invocation.batch.sqsEvent.Records.map((r) => [r.messageId, r]));
  for (const delivery of invocation.batch.deliveries) {
    const group = groupOf(recordOf.get(delivery.messageId)!);
    const keys = invocation.keys.get(delivery.messageId) ?? [];
    if (group !== undefined && failedGroups.has(group)) {
      // An earlier message of this partition failed: this one must wait for it.
      failed.add(delivery.messageId);
      if (store) await releaseQuietly(store, keys, logger);
      continue;
    }
    let i = 0;
    for (; i < delivery.events.length; i++) {
      try {
        await fn(delivery.events[i]!, delivery);
      } catch (error) {
        logger.error('sluiceSubscriber: an event failed; failing its message and the later ones of its group', {
          messageId: delivery.messageId,
          topic: delivery.topic,
          partition: delivery.partition,
          offset: delivery.events[i]?.offset,
          error: String(error),
        });
        break;
      }
      // The effect happened: if recording it fails, the message still succeeds (so it is not
      // redelivered); the claim then stays until it expires.
      if (store) await completeQuietly(store, keys[i]!, logger);
    }
    if (i === delivery.events.length) {
      succeeded.add(delivery.messageId);
      continue;
    }
    failed.add(delivery.messageId);
    if (group !== undefined) failedGroups.add(group);
    if (store) await releaseQuietly(store, keys.slice(i), logger);
  }
}

type Logger = NonNullable<SluiceSubscriberOptions['logger']>;

/** Gives claims back; one that cannot be given back expires at the end of the invocation's time. */
async function releaseQuietly(store: IdempotencyStore, keys: readonly string[], logger: Logger): Promise<void> {
  await forEachLimited(keys, CONCURRENCY, (key) =>
    store.release(key).catch((error: unknown) => logger.error('sluiceSubscriber: could not release a claim', { key, error: String(error) })),
  );
}

async function completeQuietly(store: IdempotencyStore, key: string, logger: Logger): Promise<void> {
  await store
    .complete(key)
    .catch((error: unknown) => logger.error('sluiceSubscriber: could not record an event as processed', { key, error: String(error) }));
}

async function completeAll(invocation: Invocation, messageId: string, logger: Logger): Promise<void> {
  const store = invocation.store;
  if (!store) return;
  const held = new Set(store.held);
  await forEachLimited(
    (invocation.keys.get(messageId) ?? []).filter((k) => held.has(k)),
    CONCURRENCY,
    (key) => completeQuietly(store, key, logger),
  );
}

/** The message group of a FIFO message; none for a standard queue's. */
function groupOf(record: SqsRecordLike): string | undefined {
  return record.attributes?.MessageGroupId;
}

function response(event: SqsEventLike, failed: ReadonlySet<string>): SqsBatchResponse {
  return { batchItemFailures: event.Records.filter((r) => failed.has(r.messageId)).map((r) => ({ itemIdentifier: r.messageId })) };
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
