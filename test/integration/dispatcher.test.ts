/**
 * The dispatcher handler against DynamoDB Local (topics, subscriptions) and the SQS server's
 * deliveries FIFO queue, fed stream records as Lambda hands them over (JSON, binary attributes in
 * base64) for the log items that commit events: record batches, inserted or overwritten, and
 * partition heads holding a tail. The images are built as the log store writes them, with the real
 * record encoding; what the stream's filter lets through is tested in the template twin tests.
 */
import { DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopicConfig } from '../../api/topics';
import { HEAD_OFFSET, logPartitionKey } from '../../lambda/core/log/dynamodb-log-store';
import { encodeRecords, storedCodec, type StoredRecord } from '../../lambda/core/log/record-batch';
import { silentLogger } from '../../lambda/core/logger';
import { SubscriptionCatalog } from '../../lambda/core/subscriptions/catalog';
import { Dispatcher } from '../../lambda/core/subscriptions/dispatcher';
import { DynamoDbSubscriptionStore } from '../../lambda/core/subscriptions/dynamodb-subscription-store';
import { deliveriesMessageSchema, type WakeMessage } from '../../lambda/core/subscriptions/messages';
import { SqsDeliveriesQueue } from '../../lambda/core/subscriptions/sqs-deliveries-queue';
import { DynamoDbTopicLookup } from '../../lambda/core/subscriptions/topic-ids';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { createDispatcherHandler } from '../../lambda/handlers/dispatcher';
import { lambdaContext } from '../support/events';
import { emulatorClients, provisionIsolated } from '../support/emulators';

const clients = emulatorClients();
let deliveriesUrl: string;
let dispatch: ReturnType<typeof createDispatcherHandler>;
let topic: TopicConfig;
let sequence = 0;

/** Events as a batch stores them: gold ones match the `gold` subscription's filter. */
const records = (tiers: readonly string[]): StoredRecord[] =>
  tiers.map((tier, i) => ({ k: `k${i}`, v: { tier }, t: 1_700_000_000_000 + i, m: `m-${sequence}-${i}` }));

/** A head image as the log store writes it; with a tail when `tail` is given. */
function head(partition: number, nextOffset: number, tail?: { base: number; tiers: readonly string[] }): Record<string, unknown> {
  const encoded = tail ? encodeRecords(records(tail.tiers)) : undefined;
  return {
    pk: logPartitionKey(topic.topicId, partition),
    offset: HEAD_OFFSET,
    nextOffset,
    maxTimestamp: 1_700_000_000_000,
    ...(tail && encoded ? { tb: tail.base, tk: storedCodec(encoded.codec), td: encoded.data } : {}),
  };
}

/** A batch item image as a flush writes it, planned from the head at `hv`. */
function batch(partition: number, base: number, tiers: readonly string[], hv: number): Record<string, unknown> {
  const encoded = encodeRecords(records(tiers));
  return {
    pk: logPartitionKey(topic.topicId, partition),
    offset: base,
    count: tiers.length,
    codec: storedCodec(encoded.codec),
    data: encoded.data,
    runningMaxTimestamp: 1_700_000_000_000 + tiers.length,
    hv,
  };
}

/** Attribute values as Lambda's JSON event carries them: bytes as base64. */
function toLambdaJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toLambdaJson);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toLambdaJson(v)]));
}

/** A stream record as Lambda's event carries it. */
function streamRecord(eventName: 'INSERT' | 'MODIFY', image: Record<string, unknown>): DynamoDBRecord {
  sequence++;
  const json = toLambdaJson(marshall(image)) as NonNullable<DynamoDBRecord['dynamodb']>['NewImage'];
  expect(JSON.stringify(json)).not.toContain('"B":{'); // the bytes really travel as base64 text
  return {
    eventID: String(sequence),
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      Keys: { pk: { S: String(image.pk) }, offset: { N: String(image.offset) } },
      NewImage: json,
      SequenceNumber: String(sequence).padStart(21, '0'),
      StreamViewType: 'NEW_IMAGE',
    },
  };
}

async function handle(...recordsIn: DynamoDBRecord[]): Promise<void> {
  const event: DynamoDBStreamEvent = { Records: recordsIn };
  const res = await dispatch(event, lambdaContext);
  expect(res.batchItemFailures).toEqual([]);
}

/** Every wake-up in the deliveries queue, received and deleted, in the order received. */
async function drainWakeUps(): Promise<WakeMessage[]> {
  const out: WakeMessage[] = [];
  for (let empty = 0; empty < 2; ) {
    const got = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: deliveriesUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!got.Messages?.length) {
      empty++;
      continue;
    }
    for (const m of got.Messages) {
      const body = deliveriesMessageSchema.parse(JSON.parse(m.Body!));
      if (body.kind === 'wake') out.push(body);
      await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: deliveriesUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
  return out;
}

/** The wake-ups' (subscription, partition, from, upTo), sorted, for comparison. */
const woken = (messages: readonly WakeMessage[]) =>
  messages.map((m) => [m.subscription, m.partition, m.from, m.upTo] as const).sort((a, b) => `${a}`.localeCompare(`${b}`));

beforeAll(async () => {
  const resources = await provisionIsolated('dispatch');
  deliveriesUrl = resources.queues.deliveries;
  const topics = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
  topic = { name: 'dispatched', topicId: `dispatched-${Date.now()}`, partitions: 4, retentionMs: -1, dedupeWindowMs: 60_000, createdAt: new Date().toISOString() };
  await topics.createTopic(topic);
  const store = new DynamoDbSubscriptionStore({ client: clients.doc, table: resources.tables.subscriptions });
  const target = { type: 'webhook', url: 'https://example.com/hook' } as const;
  const base = { topic: topic.name, topicId: topic.topicId, target, startAt: 'latest', maxAttempts: 3, source: 'api' } as const;
  await store.putSubscription({ ...base, name: 'all' });
  await store.putSubscription({ ...base, name: 'gold', filter: { value: { tier: ['gold'] } } });
  const queue = new SqsDeliveriesQueue(clients.sqs, deliveriesUrl);
  dispatch = createDispatcherHandler(
    new Dispatcher(new SubscriptionCatalog(store), new DynamoDbTopicLookup(clients.doc, resources.tables.topics), queue, silentLogger),
    silentLogger,
  );
});

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('the dispatcher, for what commits events', () => {
  it('wakes the subscriptions a head tail matches, from the tail base to nextOffset', async () => {
    await handle(streamRecord('MODIFY', head(0, 12, { base: 10, tiers: ['silver', 'gold'] })));
    expect(woken(await drainWakeUps())).toEqual([
      ['all', 0, 10, 12],
      ['gold', 0, 10, 12],
    ]);
  });

  it('wakes nobody whose filter no tail event matches', async () => {
    await handle(streamRecord('MODIFY', head(1, 7, { base: 5, tiers: ['silver', 'bronze'] })));
    expect(woken(await drainWakeUps())).toEqual([['all', 1, 5, 7]]);
  });

  it('wakes nobody for a head without a tail, or a tombstone', async () => {
    await handle(
      streamRecord('MODIFY', head(2, 30)),
      streamRecord('INSERT', { pk: logPartitionKey(topic.topicId, 2), offset: HEAD_OFFSET, deleted: true, expiresAt: 2_000_000_000 }),
    );
    expect(await drainWakeUps()).toEqual([]);
  });

  it('wakes for every head write that grows the tail, and once for a redelivered one', async () => {
    const first = streamRecord('INSERT', head(3, 1, { base: 0, tiers: ['gold'] }));
    const second = streamRecord('MODIFY', head(3, 2, { base: 0, tiers: ['gold', 'silver'] }));
    await handle(first, second);
    await handle(second); // the event source retrying a record already handled
    expect(woken(await drainWakeUps())).toEqual([
      ['all', 3, 0, 1],
      ['all', 3, 0, 2],
      ['gold', 3, 0, 1],
      ['gold', 3, 0, 2],
    ]);
  });

  it('wakes for a batch item overwritten by a flush (MODIFY), even one ending where the uncommitted one did', async () => {
    await handle(streamRecord('INSERT', batch(0, 20, ['silver', 'silver', 'silver'], 22)));
    expect(woken(await drainWakeUps())).toEqual([['all', 0, 20, 23]]);
    // The real flush, planned from a later head, puts other events at the same key and offsets.
    await handle(streamRecord('MODIFY', batch(0, 20, ['silver', 'gold', 'silver'], 23)));
    expect(woken(await drainWakeUps())).toEqual([
      ['all', 0, 20, 23],
      ['gold', 0, 20, 23],
    ]);
  });
});
