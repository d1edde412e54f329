/**
 * The deliverer handler's retry delay for the messages it holds back, against the SQS server and
 * DynamoDB Local. Once a message of a group fails in a batch, the group's later messages in the
 * batch fail too, unprocessed (FIFO order). They must come back with the failed one, after its
 * short delay: left in flight for the deliveries queue's visibility timeout (6 minutes), they
 * would block their message group, the subscription's partition, that long.
 *
 * fauxqs 1.9.2 differs from SQS here: it hands out at most one message of a group at a time, so
 * two messages of one group are never in flight together. The two wake-ups are therefore sent in
 * two message groups of their own (both in flight at once, as SQS would have them), and the batch
 * handed to the handler names them with the one group SQS would give them.
 */
import { ReceiveMessageCommand, SendMessageBatchCommand, type Message } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopicConfig } from '../../api/topics';
import type { LogService } from '../../lambda/core/log/log-service';
import type { Logger } from '../../lambda/core/logger';
import type { Deliverer } from '../../lambda/core/subscriptions/deliverer';
import { wakeFromBatch } from '../../lambda/core/subscriptions/messages';
import type { SubscriptionService } from '../../lambda/core/subscriptions/subscription-service';
import type { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { createDelivererHandler } from '../../lambda/handlers/deliverer';
import { toRecord } from '../../local/event-sources/sqs-queue';
import { emulatorClients, provisionIsolated } from '../support/emulators';
import { subscriptionServices } from '../support/subscription-services';
import { startWebhooks, type Webhooks } from '../support/subscribers';

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:000000000000:deliveries.fifo';
/** Well under the queue's 360 s visibility timeout, well over the 1 s retry. */
const BACK_WITHIN_MS = 10_000;

const clients = emulatorClients();
let resources: Awaited<ReturnType<typeof provisionIsolated>>;
let queueUrl: string;
let topics: DynamoDbTopicStore;
let log: LogService;
let service: SubscriptionService;
let deliverer: Deliverer;
let hooks: Webhooks;

const logger: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, child: () => logger };
const context = { awsRequestId: 'test', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

/** Receives (long polling, 1 s at a time) until `want` messages came, or fails after `withinMs`. */
async function receiveUntil(want: number, withinMs: number): Promise<Message[]> {
  const got: Message[] = [];
  const until = Date.now() + withinMs;
  while (got.length < want) {
    if (Date.now() >= until) throw new Error(`received ${got.length} of ${want} messages within ${withinMs} ms`);
    const res = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
    );
    got.push(...(res.Messages ?? []));
  }
  return got;
}

beforeAll(async () => {
  resources = await provisionIsolated('deliverer-visibility');
  queueUrl = resources.queues.deliveries;
  // Backoff of 1 s (jitter 0.5 to 1, rounded up) for a first failed attempt.
  ({ topics, log, service, deliverer } = subscriptionServices(clients, resources, { logger, backoffMs: 1000 }));
  hooks = await startWebhooks();
});

afterAll(async () => {
  await hooks?.close();
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('the deliverer handler, when a message of a group fails in a batch', () => {
  it('makes the later messages of the group visible again with it, after its delay, in order', async () => {
    const t: TopicConfig = {
      name: 'visibility',
      topicId: `tid-visibility-${Date.now()}`,
      partitions: 1,
      retentionMs: -1,
      dedupeWindowMs: 60_000,
      createdAt: new Date().toISOString(),
    };
    await topics.createTopic(t);
    const name = 'held';
    await service.create(t.name, { name, target: { type: 'webhook', url: `${hooks.baseUrl}/${name}` } });
    expect((await log.produce(t.name, [{ value: 'a', partition: 0 }])).results.map((r) => r.offset)).toEqual([0]);
    // The first attempt fails (a 1 s retry), every later one succeeds.
    hooks.respond(`/${name}`, (n) => (n === 1 ? 500 : 204));

    // The dispatcher's wake-up for the append, twice (say a retried dispatcher batch, a new deduplication ID).
    const wake = wakeFromBatch({ subscription: name, topic: t.name, topicId: t.topicId, partition: 0, from: 0, upTo: 1 });
    const group = wake.groupId;
    await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: ['first', 'second'].map((id) => ({
          Id: id,
          MessageBody: JSON.stringify(wake.body),
          MessageGroupId: `${group}-${id}`,
          MessageDeduplicationId: `${wake.deduplicationId}-${id}`,
        })),
      }),
    );
    const received = await receiveUntil(2, BACK_WITHIN_MS);
    const byGroup = (suffix: string) => received.find((m) => m.Attributes?.MessageGroupId === `${group}-${suffix}`)!;
    const [first, second] = [byGroup('first'), byGroup('second')];
    const asOneGroup = (m: Message) => {
      const record = toRecord(m, QUEUE_ARN);
      return { ...record, attributes: { ...record.attributes, MessageGroupId: group } };
    };

    const handler = createDelivererHandler({ deliverer, sqs: () => clients.sqs, queueUrl, logger });
    const res = await handler({ Records: [first, second].map(asOneGroup) } as unknown as SQSEvent, context);
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: first.MessageId }, { itemIdentifier: second.MessageId }]);
    expect(hooks.calls.map((c) => c.status)).toEqual([500]); // the second was held back, not handled

    // Both back after the 1 s retry, not the queue's 6 minutes, the first no later than the second.
    const again = await receiveUntil(2, BACK_WITHIN_MS);
    expect(again.map((m) => m.MessageId)).toEqual([first.MessageId, second.MessageId]);
    expect(again.map((m) => m.Attributes?.ApproximateReceiveCount)).toEqual(['2', '2']);

    // The group resumes: the first delivers the event, the second finds nothing left.
    const retried = await handler({ Records: again.map(asOneGroup) } as unknown as SQSEvent, context);
    expect(retried.batchItemFailures).toEqual([]);
    expect(hooks.accepted(`/${name}`).flatMap((d) => d.events.map((e) => [e.offset, e.value]))).toEqual([[0, 'a']]);
  }, 30_000);
});
