/**
 * `sluiceSubscriber()`: a middy middleware for Lambda functions fed by Sluice through SQS, exported
 * as `sluice/subscriber`. It serves two kinds of function:
 * - **topic subscribers** (`sluice.subscribeLambda(fn, { topic })`, the default `source: 'topic'`):
 *   each SQS message is one delivery, events of one partition in offset order
 *   (api/subscriptions.ts defines the body);
 * - **queue consumers** (`queue.addConsumer(fn)`, with `source: 'queue'`): each SQS message is one
 *   message of a Sluice message queue (a FIFO queue: body JSON-encoded, Sluice's message ID in the
 *   `sluice-message-id` message attribute).
 *
 *   import middy from '@middy/core';
 *   import { sluiceSubscriber, type SluiceBatch, type SluiceQueueBatch } from 'sluice/subscriber';
 *
 *   export const handler = middy()
 *     .use(sluiceSubscriber({ idempotent: { table: process.env.PROCESSED_TABLE! } }))
 *     .handler(async (batch: SluiceBatch) => {
 *       await batch.eachEvent(async (event) => saveOrder(event.value));
 *     });
 *
 *   export const consumer = middy()
 *     .use(sluiceSubscriber({ source: 'queue' }))
 *     .handler(async (batch: SluiceQueueBatch) => {
 *       await batch.eachMessage(async (message) => applyChange(message.body));
 *     });
 *
 * The middleware turns the SQS event into Sluice events or messages and answers SQS with a partial
 * batch response (`batchItemFailures`; the event source has `ReportBatchItemFailures`), so one bad
 * message never makes the whole batch redeliver:
 * - `batch.eachEvent(fn)` / `batch.eachMessage(fn)` calls `fn` for each event / message in order.
 *   When it throws, that SQS message fails and so does every later message of the same message
 *   group, without calling `fn` for them (a FIFO queue's group is a topic partition, or a queue
 *   message's `groupId`: order must hold); the other groups go on. The messages that failed come
 *   back after their visibility timeout.
 * - Or the handler uses `batch.events` / `batch.messages` as a whole: returning succeeds every
 *   message, throwing fails them all (the error is reported as batch item failures, not thrown).
 * - A topic subscriber's message that is not a Sluice delivery fails (and reaches the queue's DLQ
 *   after maxAttempts). A queue message's body is any JSON value (a body that is not JSON, sent to
 *   the queue by someone else, is handed over as the raw string).
 * - A function that is the Lambda target of a run-time subscription (`{ type: 'lambda' }`) is
 *   invoked with one delivery instead of an SQS event: the middleware handles it as a batch of
 *   one, and throws when it fails, so the deliverer retries it.
 * With `idempotent: { table }` each event (topic, subscription, partition, offset) or queue message
 * (queue, group, message ID) is recorded in that DynamoDB table (see ./idempotency.ts): one already
 * processed is left out of the batch, so a redelivered message (a retry after a failure midway, a
 * crash between the effect and the acknowledgement, a redrive from the dead-letter queue) has its
 * effect once.
 */
import { parseDelivery, type DeliveredEvent, type DeliveryBody } from '../../api/subscriptions';
import type { QueueMessage } from '../../api/queues';
import { MESSAGE_ID_ATTRIBUTE as SLUICE_MESSAGE_ID_ATTRIBUTE } from '../core/queues/message-format';
import { IdempotencyStore, idempotencyKey, queueIdempotencyKey, type ClaimResult } from './idempotency';

export { parseDelivery, type DeliveredEvent, type DeliveryBody } from '../../api/subscriptions';
export { idempotencyKey, queueIdempotencyKey } from './idempotency';

/**
 * The SQS message attribute carrying Sluice's message ID (the deduplication ID is the same when
 * Sluice sends). The literal type keeps the package's declarations free of the core's modules.
 */
export const MESSAGE_ID_ATTRIBUTE: 'sluice-message-id' = SLUICE_MESSAGE_ID_ATTRIBUTE;

/** One event of a topic, as the subscriber receives it. */
export type SluiceEvent = DeliveredEvent;

/** The parts of an SQS record the middleware reads (`SQSRecord` of `@types/aws-lambda`). */
export interface SqsRecordLike {
  readonly messageId: string;
  readonly body: string;
  readonly attributes?: {
    readonly MessageGroupId?: string;
    readonly MessageDeduplicationId?: string;
    readonly ApproximateReceiveCount?: string;
    readonly SentTimestamp?: string;
    readonly SequenceNumber?: string;
  };
  readonly messageAttributes?: { readonly [name: string]: { readonly stringValue?: string; readonly dataType?: string } | undefined };
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

/**
 * One message of a Sluice message queue, as a queue consumer receives it: what `POST
 * /queues/{queue}/receive` answers, without the receipt handle (the event source owns it and
 * deletes the message when the handler succeeded with it).
 */
export interface SluiceQueueMessage extends Omit<QueueMessage, 'receiptHandle'> {
  /** The SQS queue's name (from the event source ARN), e.g. `sluice-1a2b3c-q-payments.fifo`. */
  readonly queue: string;
  /** The SQS message ID (what `batchItemFailures` names); not Sluice's `messageId`. */
  readonly sqsMessageId: string;
}

/** What a queue consumer's handler receives instead of the SQS event (`source: 'queue'`). */
export interface SluiceQueueBatch {
  /** The messages to process, in the order SQS gave them (without those failed before processing). */
  readonly messages: readonly SluiceQueueMessage[];
  /**
   * Calls `fn` for every message, in order: a failure fails its message and the later ones of its
   * group, without calling `fn` for them. Resolves when done; it throws only if the idempotency
   * table cannot be written. Call it at most once per invocation.
   */
  eachMessage(fn: (message: SluiceQueueMessage) => unknown): Promise<void>;
  /** The original SQS event. */
  readonly sqsEvent: SqsEventLike;
}

export interface SluiceSubscriberOptions {
  /**
   * What the function is fed:
   * - `'topic'`: deliveries of a topic subscription (`subscribeLambda`, or a run-time
   *   subscription's Lambda target); the handler gets a `SluiceBatch`;
   * - `'queue'`: messages of a Sluice message queue (`queue.addConsumer(fn)`); the handler gets a
   *   `SluiceQueueBatch`.
   *
   * @default 'topic'
   */
  readonly source?: 'topic' | 'queue';

  /**
   * Record each processed event in a DynamoDB table so that a redelivered event is skipped: the
   * handler's effect happens once per (topic, subscription, partition, offset), or for a queue
   * consumer once per (queue, group, message ID). The table has a
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
   * subscriber queue's retention (4 days by default). For a queue consumer, a message sent again
   * with the same ID and group within this time is skipped too.
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
  /** What the handler receives (a `SluiceBatch` or a `SluiceQueueBatch`). */
  readonly batch: SluiceBatch | SluiceQueueBatch;
  readonly sqsEvent: SqsEventLike;
  /** SQS message IDs of the messages handed to the handler, in order. */
  readonly handled: readonly string[];
  /** Message IDs that failed. */
  readonly failed: Set<string>;
  /** Message IDs fully handled (all their events processed or skipped). */
  readonly succeeded: Set<string>;
  readonly store?: IdempotencyStore;
  /** Idempotency keys of the events (or the message) each SQS message still has to process, by message ID. */
  readonly keys: Map<string, string[]>;
  eachCalled: boolean;
  /** Invoked with one delivery (a Lambda target), not an SQS event. */
  readonly direct: boolean;
}

/** The message ID a direct invocation's delivery gets. */
const DIRECT_MESSAGE_ID = 'direct';

export function sluiceSubscriber(options: SluiceSubscriberOptions = {}): SluiceSubscriberMiddleware {
  const logger = options.logger ?? console;
  const invocations = new WeakMap<SubscriberRequest, Invocation>();
  const source = options.source ?? 'topic';
  if (source !== 'topic' && source !== 'queue') throw new Error(`sluiceSubscriber: source must be 'topic' or 'queue'; got ${JSON.stringify(source)}`);

  return {
    async before(request) {
      const prepared = source === 'queue' ? await prepareQueue(request, options, logger) : await prepareTopic(request, options, logger);
      if ('batchItemFailures' in prepared) return prepared;
      invocations.set(request, prepared);
      request.event = prepared.batch;
      return undefined;
    },

    async after(request) {
      const invocation = invocations.get(request);
      if (!invocation) return;
      // The handler returned: whatever eachEvent/eachMessage did not fail succeeded (the whole-list way).
      for (const messageId of invocation.handled) {
        if (invocation.failed.has(messageId) || invocation.succeeded.has(messageId)) continue;
        await completeAll(invocation, messageId, logger);
        invocation.succeeded.add(messageId);
      }
      if (invocation.direct && invocation.failed.size > 0) throw new Error('sluiceSubscriber: the delivery failed; see the logged error');
      request.response = response(invocation.sqsEvent, invocation.failed);
    },

    async onError(request) {
      const invocation = invocations.get(request);
      if (!invocation) return; // failed before parsing (not an SQS event): let the error through
      logger.error('sluiceSubscriber: the handler failed; failing its messages', { error: String(request.error) });
      for (const messageId of invocation.handled) {
        if (invocation.succeeded.has(messageId)) continue;
        invocation.failed.add(messageId);
      }
      if (invocation.store) await releaseQuietly(invocation.store, invocation.store.held, logger);
      if (invocation.direct) return; // a direct invocation fails: the error goes back to the deliverer
      request.response = response(invocation.sqsEvent, invocation.failed);
    },
  };
}

/**
 * Topic subscribers: parses the deliveries, claims their events (with idempotency), and builds the
 * `SluiceBatch`; or answers at once when no delivery is left to process.
 */
async function prepareTopic(request: SubscriberRequest, options: SluiceSubscriberOptions, logger: Logger): Promise<Invocation | SqsBatchResponse> {
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
  const store = idempotencyStore(options);
  const claims = store
    ? await claimAll(
        store,
        parsed.flatMap(({ delivery }) => delivery.events.map((e) => idempotencyKey({ ...e, subscription: delivery.subscription }))),
        request,
        options,
        logger,
      )
    : new Map<string, ClaimResult>();

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

  if (deliveries.length === 0) {
    // Nothing to run the handler for: every event was processed before, or none can run now.
    if (direct && failed.size > 0) throw new Error('sluiceSubscriber: the delivery cannot be processed now (held by another invocation)');
    return response(sqsEvent, failed);
  }
  const invocation: Invocation = {
    batch: undefined as unknown as SluiceBatch,
    sqsEvent,
    handled: deliveries.map((d) => d.messageId),
    failed,
    succeeded,
    store,
    keys: keysByMessage,
    eachCalled: false,
    direct,
  };
  (invocation as { batch: SluiceBatch }).batch = {
    deliveries,
    events: deliveries.flatMap((d) => d.events),
    sqsEvent,
    eachEvent: (fn) => eachEvent(invocation, deliveries, fn, logger),
  };
  return invocation;
}

/**
 * Queue consumers: decodes the messages, claims them (with idempotency), and builds the
 * `SluiceQueueBatch`; or answers at once when no message is left to process.
 */
async function prepareQueue(request: SubscriberRequest, options: SluiceSubscriberOptions, logger: Logger): Promise<Invocation | SqsBatchResponse> {
  if (!Array.isArray((request.event as Partial<SqsEventLike> | null)?.Records)) {
    throw new Error("sluiceSubscriber({ source: 'queue' }): not an SQS event; a queue consumer is invoked by its queue's event source");
  }
  const sqsEvent = request.event as SqsEventLike;
  const failed = new Set<string>();
  const succeeded = new Set<string>();
  const failedGroups = new Set<string>();
  const fail = (record: SqsRecordLike) => {
    failed.add(record.messageId);
    const group = groupOf(record);
    if (group !== undefined) failedGroups.add(group);
  };
  const decoded = sqsEvent.Records.map((record) => ({ record, message: queueMessageOf(record) }));
  const keyOf = (m: SluiceQueueMessage) => queueIdempotencyKey(m);

  const store = idempotencyStore(options);
  const claims = store ? await claimAll(store, decoded.map(({ message }) => keyOf(message)), request, options, logger) : new Map<string, ClaimResult>();

  const messages: SluiceQueueMessage[] = [];
  const keysByMessage = new Map<string, string[]>();
  const toRelease: string[] = [];
  // A message in the batch twice (sent again after the dedupe window, or redriven while a copy
  // was still queued) is processed with the first copy.
  const assigned = new Set<string>();
  for (const { record, message } of decoded) {
    const group = groupOf(record);
    const key = keyOf(message);
    if ((group !== undefined && failedGroups.has(group)) || claims.get(key) === 'busy') {
      fail(record);
      if (claims.get(key) === 'claimed') toRelease.push(key);
      continue;
    }
    if (store && (claims.get(key) !== 'claimed' || assigned.has(key))) {
      succeeded.add(record.messageId); // processed before: a redelivery
      continue;
    }
    if (store) assigned.add(key);
    messages.push(message);
    keysByMessage.set(record.messageId, store ? [key] : []);
  }
  const kept = new Set([...keysByMessage.values()].flat());
  if (store) await releaseQuietly(store, toRelease.filter((k) => !kept.has(k)), logger);

  if (messages.length === 0) return response(sqsEvent, failed);
  const invocation: Invocation = {
    batch: undefined as unknown as SluiceQueueBatch,
    sqsEvent,
    handled: messages.map((m) => m.sqsMessageId),
    failed,
    succeeded,
    store,
    keys: keysByMessage,
    eachCalled: false,
    direct: false,
  };
  (invocation as { batch: SluiceQueueBatch }).batch = {
    messages,
    sqsEvent,
    eachMessage: (fn) => eachMessage(invocation, messages, fn, logger),
  };
  return invocation;
}

/** A queue message from its SQS record, as api/queues.ts's receive answers it. */
function queueMessageOf(record: SqsRecordLike): SluiceQueueMessage {
  const attributes = record.attributes ?? {};
  const messageId = record.messageAttributes?.[MESSAGE_ID_ATTRIBUTE]?.stringValue || attributes.MessageDeduplicationId || record.messageId;
  let body: unknown;
  try {
    body = JSON.parse(record.body);
  } catch {
    body = record.body; // not sent through Sluice: handed over as it is
  }
  return {
    messageId,
    groupId: attributes.MessageGroupId ?? '', // none: not a FIFO queue's message (as the API answers)
    body,
    receiveCount: Number(attributes.ApproximateReceiveCount ?? 1),
    sentAt: Number(attributes.SentTimestamp ?? 0),
    sequenceNumber: attributes.SequenceNumber ?? '',
    queue: (record.eventSourceARN ?? '').split(':').pop() ?? '',
    sqsMessageId: record.messageId,
  };
}

function idempotencyStore(options: SluiceSubscriberOptions): IdempotencyStore | undefined {
  if (!options.idempotent) return undefined;
  const retentionSeconds = options.idempotent.retentionSeconds ?? DEFAULT_RETENTION_SECONDS;
  return new IdempotencyStore({ table: options.idempotent.table, client: options.idempotent.client, retentionSeconds });
}

/** Claims every key (once each) until the invocation's end; on a write error gives back what it claimed, then throws. */
async function claimAll(
  store: IdempotencyStore,
  keys: readonly string[],
  request: SubscriberRequest,
  options: SluiceSubscriberOptions,
  logger: Logger,
): Promise<Map<string, ClaimResult>> {
  const claims = new Map<string, ClaimResult>();
  const remaining = request.context?.getRemainingTimeInMillis?.();
  const claimedUntil = Date.now() + (remaining ?? options.idempotent?.claimTimeoutMs ?? DEFAULT_CLAIM_TIMEOUT_MS);
  try {
    await forEachLimited([...new Set(keys)], CONCURRENCY, async (key) => {
      claims.set(key, await store.claim(key, claimedUntil));
    });
  } catch (error) {
    // The table cannot be written: give back what was claimed, and let the batch be retried.
    await releaseQuietly(store, store.held, logger);
    throw error;
  }
  return claims;
}

/** The groups of the messages that failed before the handler ran: their later messages must wait. */
function failedGroupsOf(invocation: Invocation): Set<string> {
  const groups = new Set<string>();
  for (const record of invocation.sqsEvent.Records) {
    if (!invocation.failed.has(record.messageId)) continue;
    const group = groupOf(record);
    if (group !== undefined) groups.add(group);
  }
  return groups;
}

/**
 * Runs `process` on each SQS message of the invocation in order, keeping FIFO order per message
 * group: once a message of a group fails, the later ones of that group fail unprocessed, and their
 * claims are given back. `process` gets the message's idempotency keys and returns how many of
 * them it completed; fewer than all means the message failed (the rest are given back).
 */
async function inGroupOrder<T>(
  invocation: Invocation,
  method: string,
  items: readonly T[],
  sqsMessageIdOf: (item: T) => string,
  process: (item: T, keys: readonly string[]) => Promise<{ readonly done: number; readonly ok: boolean }>,
  logger: Logger,
): Promise<void> {
  if (invocation.eachCalled) throw new Error(`sluiceSubscriber: call batch.${method}() once per invocation`);
  invocation.eachCalled = true;
  const { store, failed, succeeded } = invocation;
  const failedGroups = failedGroupsOf(invocation);
  const recordOf = new Map(invocation.sqsEvent.Records.map((r) => [r.messageId, r]));
  for (const item of items) {
    const id = sqsMessageIdOf(item);
    const group = groupOf(recordOf.get(id)!);
    const keys = invocation.keys.get(id) ?? [];
    if (group !== undefined && failedGroups.has(group)) {
      // An earlier message of this group failed: this one must wait for it, unprocessed.
      failed.add(id);
      if (store) await releaseQuietly(store, keys, logger);
      continue;
    }
    const { done, ok } = await process(item, keys);
    if (ok) {
      succeeded.add(id);
      continue;
    }
    failed.add(id);
    if (group !== undefined) failedGroups.add(group);
    if (store) await releaseQuietly(store, keys.slice(done), logger);
  }
}

function eachEvent(
  invocation: Invocation,
  deliveries: readonly SluiceDelivery[],
  fn: (event: SluiceEvent, delivery: SluiceDelivery) => unknown,
  logger: Logger,
): Promise<void> {
  const { store } = invocation;
  return inGroupOrder(invocation, 'eachEvent', deliveries, (d) => d.messageId, async (delivery, keys) => {
    for (let i = 0; i < delivery.events.length; i++) {
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
        return { done: i, ok: false };
      }
      // The effect happened: if recording it fails, the message still succeeds (so it is not
      // redelivered); the claim then stays until it expires.
      if (store) await completeQuietly(store, keys[i]!, logger);
    }
    return { done: delivery.events.length, ok: true };
  }, logger);
}

function eachMessage(
  invocation: Invocation,
  messages: readonly SluiceQueueMessage[],
  fn: (message: SluiceQueueMessage) => unknown,
  logger: Logger,
): Promise<void> {
  const { store } = invocation;
  return inGroupOrder(invocation, 'eachMessage', messages, (m) => m.sqsMessageId, async (message, keys) => {
    try {
      await fn(message);
    } catch (error) {
      logger.error('sluiceSubscriber: a message failed; failing it and the later ones of its group', {
        messageId: message.messageId,
        groupId: message.groupId,
        sqsMessageId: message.sqsMessageId,
        error: String(error),
      });
      return { done: 0, ok: false };
    }
    // The effect happened: as for events, a failed record still lets the message succeed.
    if (store) for (const key of keys) await completeQuietly(store, key, logger);
    return { done: keys.length, ok: true };
  }, logger);
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
