/**
 * A wake-up that comes before the batch it announces is readable, against DynamoDB Local and the
 * SQS server. A single-batch append (a flush of the head's tail) writes the batch (whose stream
 * record wakes the subscription) before the partition head; here the crash between the two writes
 * is a real batch item put at the head's end (one a real append wrote to a scratch topic, at the
 * same offset, planned from a head at that offset as a flush of an empty tail is). The deliverer retries
 * such a wake-up instead of consuming it, gives up after UNREADABLE_BATCH_RETRY, and the
 * partition's next append (which moves the head past the batch) makes its events deliverable,
 * exactly once.
 */
import { randomBytes } from 'node:crypto';
import { DeleteMessageCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopicConfig } from '../../api/topics';
import { logPartitionKey } from '../../lambda/core/log/dynamodb-log-store';
import type { LogService } from '../../lambda/core/log/log-service';
import type { Logger } from '../../lambda/core/logger';
import type { SubscriptionCatalog } from '../../lambda/core/subscriptions/catalog';
import { type Deliverer, UNREADABLE_BATCH_RETRY } from '../../lambda/core/subscriptions/deliverer';
import { wakeFromBatch, type WakeMessage } from '../../lambda/core/subscriptions/messages';
import { SqsDeliveriesQueue } from '../../lambda/core/subscriptions/sqs-deliveries-queue';
import type { SubscriptionService } from '../../lambda/core/subscriptions/subscription-service';
import type { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { createDelivererHandler } from '../../lambda/handlers/deliverer';
import { emulatorClients, provisionIsolated } from '../support/emulators';
import { subscriptionServices } from '../support/subscription-services';
import { startWebhooks, type Webhooks } from '../support/subscribers';

const clients = emulatorClients();
let resources: Awaited<ReturnType<typeof provisionIsolated>>;
let topics: DynamoDbTopicStore;
let log: LogService;
let catalog: SubscriptionCatalog;
let service: SubscriptionService;
let deliverer: Deliverer;
let hooks: Webhooks;
let n = 0;

const warnings: { message: string; fields?: Record<string, unknown> }[] = [];
const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (message, fields) => void warnings.push({ message, ...(fields ? { fields } : {}) }),
  error: () => {},
  child: () => logger,
};

async function newTopic(): Promise<TopicConfig> {
  n++;
  const config: TopicConfig = {
    name: `unreadable-${n}`,
    topicId: `tid-unreadable-${n}-${Date.now()}`,
    partitions: 1,
    retentionMs: -1,
    dedupeWindowMs: 60_000,
    createdAt: new Date().toISOString(),
  };
  await topics.createTopic(config);
  return config;
}

/** A one-partition topic and a subscription (from `latest`) to a webhook path of its own. */
async function subscribed() {
  const t = await newTopic();
  const name = `sub-${n}`;
  await service.create(t.name, { name, target: { type: 'webhook', url: `${hooks.baseUrl}/${name}` } });
  const wake = (from: number, upTo: number): WakeMessage => ({ v: 1, kind: 'wake', subscription: name, topic: t.name, topicId: t.topicId, partition: 0, upTo, from });
  const delivered = () => hooks.accepted(`/${name}`).flatMap((d) => d.events.map((e) => ({ offset: e.offset, value: e.value })));
  const cursor = async () => (await catalog.store.readCursor(t.topicId, name, 0))?.next;
  return { t, name, wake, delivered, cursor };
}

/**
 * Appends events too big, with a random header, for the partition head's tail: each append is a
 * batch item (a small one would go to the head's tail, and a flush to a batch item with the
 * tail's events too).
 */
const produce = async (t: TopicConfig, values: readonly string[]) =>
  (await log.produce(t.name, values.map((value) => ({ value, partition: 0, headers: { pad: randomBytes(1200).toString('base64') } })))).results.map(
    (r) => r.offset,
  );

/**
 * What a writer that crashed between its two writes leaves: the batch of `values` at offset `at`
 * of `t`'s partition 0, and no head write. The item is one a real append wrote at the same offset
 * of a scratch topic, put here with a real (conditional) PutItem.
 */
async function orphanBatch(t: TopicConfig, at: number, values: readonly string[]): Promise<void> {
  const scratch = await newTopic();
  if (at > 0) await produce(scratch, Array.from({ length: at }, (_, i) => `filler-${i}`));
  expect(await produce(scratch, values)).toEqual(values.map((_, i) => at + i));
  const { Item } = await clients.doc.send(
    new GetCommand({ TableName: resources.tables.log, Key: { pk: logPartitionKey(scratch.topicId, 0), offset: at }, ConsistentRead: true }),
  );
  expect(Item).toMatchObject({ offset: at, count: values.length });
  await clients.doc.send(
    new PutCommand({
      TableName: resources.tables.log,
      Item: { ...Item, pk: logPartitionKey(t.topicId, 0) },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

const highWatermark = async (t: TopicConfig) => (await log.bounds(t.name, 0)).highWatermark;

beforeAll(async () => {
  resources = await provisionIsolated('unreadable');
  ({ topics, log, catalog, service, deliverer } = subscriptionServices(clients, resources, { logger, backoffMs: 0 }));
  hooks = await startWebhooks();
});

afterAll(async () => {
  await hooks?.close();
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('a wake-up whose batch is not readable yet', () => {
  it('is retried, not consumed, and delivers the batch exactly once when the head moves past it', async () => {
    const { t, wake, delivered, cursor } = await subscribed();
    expect(await produce(t, ['a'])).toEqual([0]);
    expect(await deliverer.handle(wake(0, 1), 1)).toEqual({ kind: 'done', delivered: 1, deadLettered: 0 });

    // The batch [1, 3) is written, its head write not (yet): the dispatcher's wake-up says upTo 3.
    await orphanBatch(t, 1, ['b1', 'b2']);
    expect(await highWatermark(t)).toBe(1);
    expect(await deliverer.handle(wake(1, 3), 1)).toMatchObject({ kind: 'retry', delaySeconds: 1 });
    expect(await deliverer.handle(wake(1, 3), 2)).toMatchObject({ kind: 'retry', delaySeconds: 2 });
    expect(await cursor()).toBe(1);
    expect(delivered()).toEqual([{ offset: 0, value: 'a' }]);

    // The next append finds offset 1 taken, moves the head past the batch and lands at 3.
    expect(await produce(t, ['c'])).toEqual([3]);
    expect(await highWatermark(t)).toBe(4);
    // A delivery takes what is readable from the cursor, so c comes along, and its own wake-up finds nothing left.
    expect(await deliverer.handle(wake(1, 3), 3)).toEqual({ kind: 'done', delivered: 3, deadLettered: 0 });
    expect(await deliverer.handle(wake(3, 4), 1)).toEqual({ kind: 'done', delivered: 0, deadLettered: 0 });
    // The retried wake-up received once more (SQS is at least once): nothing twice.
    expect(await deliverer.handle(wake(1, 3), 4)).toEqual({ kind: 'done', delivered: 0, deadLettered: 0 });

    expect(delivered()).toEqual([
      { offset: 0, value: 'a' },
      { offset: 1, value: 'b1' },
      { offset: 2, value: 'b2' },
      { offset: 3, value: 'c' },
    ]);
    expect(await cursor()).toBe(4);
    expect(warnings).toEqual([]);
  }, 30_000);

  it('gives up after UNREADABLE_BATCH_RETRY, with a warning, and the next append\'s wake-up delivers the batch', async () => {
    const { t, name, wake, delivered, cursor } = await subscribed();
    warnings.length = 0;
    // The partition's first append crashed: a batch at 0 and no head at all.
    await orphanBatch(t, 0, ['x']);
    const delays: number[] = [];
    for (let receives = 1; receives < UNREADABLE_BATCH_RETRY.maxReceives; receives++) {
      const outcome = await deliverer.handle(wake(0, 1), receives);
      expect(outcome.kind).toBe('retry');
      if (outcome.kind === 'retry') delays.push(outcome.delaySeconds);
    }
    expect(delays).toEqual([1, 2, 4, 8, 8, 8, 8, 8, 8]);
    expect(warnings).toEqual([]);

    expect(await deliverer.handle(wake(0, 1), UNREADABLE_BATCH_RETRY.maxReceives)).toEqual({ kind: 'done', delivered: 0, deadLettered: 0 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toMatch(/not readable/);
    expect(warnings[0]!.fields).toMatchObject({ subscription: name, topic: t.name, partition: 0, highWatermark: 0, upTo: 1 });
    expect(await cursor()).toBe(0);
    expect(delivered()).toEqual([]);

    expect(await produce(t, ['y'])).toEqual([1]);
    expect(await deliverer.handle(wake(1, 2), 1)).toEqual({ kind: 'done', delivered: 2, deadLettered: 0 });
    expect(delivered()).toEqual([
      { offset: 0, value: 'x' },
      { offset: 1, value: 'y' },
    ]);
    warnings.length = 0;
  }, 30_000);

  it('comes back through the deliveries queue soon after the handler reports it failed, and then delivers', async () => {
    const { t, name, delivered } = await subscribed();
    const queueUrl = resources.queues.deliveries;
    const handler = createDelivererHandler({ deliverer, sqs: () => clients.sqs, queueUrl, logger });
    const context = { awsRequestId: 'test', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
    /** The next message of this subscription, handed to the handler as the event source would; deleted unless it failed. */
    const deliverNext = async (): Promise<{ message: Message; failed: boolean }> => {
      for (;;) {
        const got = await clients.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 20, MessageSystemAttributeNames: ['All'] }),
        );
        const message = got.Messages?.[0];
        if (!message || (JSON.parse(message.Body!) as WakeMessage).subscription !== name) continue;
        const event = {
          Records: [{
            messageId: message.MessageId!,
            receiptHandle: message.ReceiptHandle!,
            body: message.Body!,
            attributes: message.Attributes,
            messageAttributes: {},
            md5OfBody: message.MD5OfBody!,
            eventSource: 'aws:sqs',
            eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:deliveries.fifo',
            awsRegion: 'us-east-1',
          }],
        } as unknown as SQSEvent;
        const res = await handler(event, context);
        const failed = res.batchItemFailures.some((f) => f.itemIdentifier === message.MessageId);
        if (!failed) await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle! }));
        return { message, failed };
      }
    };

    await orphanBatch(t, 0, ['q']);
    await new SqsDeliveriesQueue(clients.sqs, queueUrl).send([
      wakeFromBatch({ subscription: name, topic: t.name, topicId: t.topicId, partition: 0, upTo: 1, from: 0 }),
    ]);
    const first = await deliverNext();
    expect(first.failed).toBe(true);
    expect(first.message.Attributes?.ApproximateReceiveCount).toBe('1');

    expect(await produce(t, ['r'])).toEqual([1]);
    // Back after the deliverer's 1 s, not the queue's 6-minute visibility timeout.
    const second = await deliverNext();
    expect(second.message.MessageId).toBe(first.message.MessageId);
    expect(second.message.Attributes?.ApproximateReceiveCount).toBe('2');
    expect(second.failed).toBe(false);
    expect(delivered()).toEqual([
      { offset: 0, value: 'q' },
      { offset: 1, value: 'r' },
    ]);
  }, 60_000);
});
