/**
 * Push subscriptions against DynamoDB Local and the SQS server: the log table's real stream (read
 * with GetShardIterator/GetRecords, filtered as the event source mapping filters) → the dispatcher
 * handler → the deliveries FIFO queue → the deliverer handler (fed as the SQS event source feeds it,
 * partial batch responses honoured) → a real webhook on 127.0.0.1 and a FIFO queue on the SQS server.
 * Until the local platform polls streams itself, this file is the poller.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DynamoDBStreamsClient,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import type { DynamoDBStreamEvent, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDelivery, type DeliveredEvent } from '../../api/subscriptions';
import { FUNCTIONS } from '../../definitions/functions';
import type { TopicConfig } from '../../api/topics';
import { DynamoDbLogReadStore, DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogReadService } from '../../lambda/core/log/log-read-service';
import { LogService } from '../../lambda/core/log/log-service';
import { silentLogger } from '../../lambda/core/logger';
import { SubscriptionCatalog } from '../../lambda/core/subscriptions/catalog';
import { Deliverer } from '../../lambda/core/subscriptions/deliverer';
import { Dispatcher } from '../../lambda/core/subscriptions/dispatcher';
import { DynamoDbSubscriptionStore } from '../../lambda/core/subscriptions/dynamodb-subscription-store';
import { verifySignature } from '../../lambda/core/subscriptions/signing';
import { SqsDeliveriesQueue } from '../../lambda/core/subscriptions/sqs-deliveries-queue';
import { SubscriptionService } from '../../lambda/core/subscriptions/subscription-service';
import { TargetSender } from '../../lambda/core/subscriptions/targets';
import { DynamoDbTopicLookup } from '../../lambda/core/subscriptions/topic-ids';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { createDelivererHandler } from '../../lambda/handlers/deliverer';
import { createDispatcherHandler } from '../../lambda/handlers/dispatcher';
import { matchesAny } from '../../local/event-sources/filter-pattern';
import { emulatorClients, provisionIsolated } from '../support/emulators';
import type { Context } from 'aws-lambda';

const clients = emulatorClients();
/** A Lambda context with the deliverer's 60 s to run. */
const lambdaContext = () => ({ awsRequestId: 'test', getRemainingTimeInMillis: () => 60_000 }) as unknown as Context;
const streams = new DynamoDBStreamsClient({
  endpoint: clients.dynamodbEndpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
});

let topics: DynamoDbTopicStore;
let log: LogService;
let service: SubscriptionService;
let dispatch: ReturnType<typeof createDispatcherHandler>;
let deliver: ReturnType<typeof createDelivererHandler>;
let deliveriesUrl: string;
let streamArn: string;
const lastSequence = new Map<string, string>();
let n = 0;

// ---- a webhook receiver on loopback ----------------------------------------------------------

type Behaviour = 'ok' | 'flaky' | 'fail';
interface Hook {
  readonly url: string;
  behaviour: Behaviour;
  secret?: string;
  readonly received: DeliveredEvent[];
  badSignatures: number;
  attempts: number;
}
const hooks = new Map<string, Hook>();
let server: Server;
let serverUrl: string;

function hook(path: string, behaviour: Behaviour): Hook {
  const h: Hook = { url: `${serverUrl}/${path}`, behaviour, received: [], badSignatures: 0, attempts: 0 };
  hooks.set(`/${path}`, h);
  return h;
}

// ---- the event source mappings, driven by the test -------------------------------------------

/** New log-stream records, filtered by the dispatcher's mapping's own filters (batches, heads with a tail). */
async function readStream(): Promise<DynamoDBStreamEvent['Records']> {
  const out: DynamoDBStreamEvent['Records'] = [];
  const { StreamDescription } = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
  for (const shard of StreamDescription?.Shards ?? []) {
    const id = shard.ShardId!;
    // A fresh iterator after the last record seen (DynamoDB Local trims an idle iterator's position).
    const last = lastSequence.get(id);
    const it = await streams.send(
      new GetShardIteratorCommand({
        StreamArn: streamArn,
        ShardId: id,
        ...(last ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: last } : { ShardIteratorType: 'TRIM_HORIZON' }),
      }),
    );
    let iterator = it.ShardIterator;
    for (let i = 0; i < 50 && iterator; i++) {
      const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
      iterator = page.NextShardIterator;
      for (const r of page.Records ?? []) {
        lastSequence.set(id, r.dynamodb!.SequenceNumber!);
        if (matchesAny(FUNCTIONS.dispatcher.trigger.filters, r)) out.push(r as unknown as DynamoDBStreamEvent['Records'][number]);
      }
      if ((page.Records ?? []).length === 0) break;
    }
  }
  return out;
}

async function dispatchRecords(records: DynamoDBStreamEvent['Records']): Promise<void> {
  for (let i = 0; i < records.length; i += 100) {
    const res = await dispatch({ Records: records.slice(i, i + 100) }, lambdaContext());
    expect(res.batchItemFailures).toEqual([]);
  }
}

/** One poll of the deliveries queue, handed to the deliverer as the SQS event source would. */
async function deliverOnce(): Promise<number> {
  const got = await clients.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: deliveriesUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  const messages: Message[] = got.Messages ?? [];
  if (messages.length === 0) return 0;
  const event: SQSEvent = {
    Records: messages.map((m) => ({
      messageId: m.MessageId!,
      receiptHandle: m.ReceiptHandle!,
      body: m.Body!,
      attributes: m.Attributes as unknown as SQSEvent['Records'][number]['attributes'],
      messageAttributes: {},
      md5OfBody: m.MD5OfBody!,
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:deliveries.fifo',
      awsRegion: 'us-east-1',
    })),
  };
  const res = await deliver(event, lambdaContext());
  const failed = new Set(res.batchItemFailures.map((f) => f.itemIdentifier));
  for (const m of messages) {
    if (!failed.has(m.MessageId!)) await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: deliveriesUrl, ReceiptHandle: m.ReceiptHandle! }));
  }
  return messages.length;
}

/**
 * Dispatch and deliver until nothing moves for a few rounds and no wake-up is in flight or delayed
 * (the deliverer retries one that woke it before its batch was readable a second later; the event
 * source would keep polling for it).
 */
async function pump(): Promise<void> {
  for (let idle = 0, rounds = 0; idle < 3 && rounds < 2000; rounds++) {
    const records = await readStream();
    await dispatchRecords(records);
    const delivered = await deliverOnce();
    idle = records.length + delivered === 0 && (await wakeUpsPending()) === 0 ? idle + 1 : 0;
  }
}

async function wakeUpsPending(): Promise<number> {
  const names = ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] as const;
  const out = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: deliveriesUrl, AttributeNames: [...names] }));
  return names.reduce((n, name) => n + Number(out.Attributes?.[name] ?? 0), 0);
}

async function topic(partitions: number): Promise<TopicConfig> {
  n++;
  const config: TopicConfig = {
    name: `s-topic-${n}`,
    topicId: `s-topic-${n}-${Date.now()}`,
    partitions,
    retentionMs: -1,
    dedupeWindowMs: 86_400_000,
    createdAt: new Date().toISOString(),
  };
  await topics.createTopic(config);
  return config;
}

const byPartition = (events: readonly DeliveredEvent[]) => {
  const map = new Map<number, number[]>();
  for (const e of events) map.set(e.partition, [...(map.get(e.partition) ?? []), e.offset]);
  return map;
};

async function queueMessages(queueUrl: string): Promise<DeliveredEvent[]> {
  const events: DeliveredEvent[] = [];
  for (let empty = 0; empty < 2; ) {
    const got = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    if (!got.Messages?.length) {
      empty++;
      continue;
    }
    for (const m of got.Messages) {
      events.push(...parseDelivery(m.Body!).events);
      await clients.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
  return events;
}

beforeAll(async () => {
  const resources = await provisionIsolated('subs');
  topics = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
  log = new LogService({
    topics,
    log: new DynamoDbLogStore({ client: clients.doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe }),
  });
  const readLog = new LogReadService({ topics, log: new DynamoDbLogReadStore({ client: clients.doc, logTable: resources.tables.log }) });
  const catalog = new SubscriptionCatalog(new DynamoDbSubscriptionStore({ client: clients.doc, table: resources.tables.subscriptions }));
  deliveriesUrl = resources.queues.deliveries;
  const queue = new SqsDeliveriesQueue(clients.sqs, deliveriesUrl);
  service = new SubscriptionService({ catalog, topics, log: readLog, queue, allowPrivateNetworks: true });
  dispatch = createDispatcherHandler(new Dispatcher(catalog, new DynamoDbTopicLookup(clients.doc, resources.tables.topics), queue, silentLogger), silentLogger);
  const sender = new TargetSender({ sqs: () => clients.sqs, lambda: () => { throw new Error('no Lambda here'); }, allowPrivateNetworks: true, webhookTimeoutMs: 2000 });
  const deliverer = new Deliverer({ catalog, log: readLog, sender, logger: silentLogger, backoff: { baseMs: 0 } });
  deliver = createDelivererHandler({ deliverer, sqs: () => clients.sqs, queueUrl: deliveriesUrl, logger: silentLogger });

  const table = await clients.dynamodb.send(new DescribeTableCommand({ TableName: resources.tables.log }));
  streamArn = table.Table!.LatestStreamArn!;

  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const h = hooks.get(req.url ?? '');
      if (!h) return void res.writeHead(404).end();
      const body = Buffer.concat(chunks).toString('utf8');
      h.attempts++;
      if (h.secret && !verifySignature(h.secret, body, req.headers['sluice-signature'] as string)) h.badSignatures++;
      const fail = h.behaviour === 'fail' || (h.behaviour === 'flaky' && h.attempts % 3 !== 0);
      if (fail) return void res.writeHead(503).end('try later');
      h.received.push(...parseDelivery(body).events);
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await readStream(); // start the stream's iterators now: everything from here on is new
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  streams.destroy();
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('push subscriptions', () => {
  it('delivers every matching event exactly once, in partition order, to a webhook, a FIFO queue, a flaky and a failing webhook', async () => {
    const t = await topic(4);
    const good = hook('good', 'ok');
    const flaky = hook('flaky', 'flaky');
    const failing = hook('failing', 'fail');
    const target = await clients.sqs.send(
      new CreateQueueCommand({ QueueName: `${t.topicId}-target.fifo`, Attributes: { FifoQueue: 'true' } }),
    );
    const evenOnly = { value: { n: [{ numeric: ['>=', 0] }], even: [true] } };
    good.secret = (await service.create(t.name, { name: 'good', target: { type: 'webhook', url: good.url }, filter: evenOnly })).secret;
    flaky.secret = (await service.create(t.name, { name: 'flaky', target: { type: 'webhook', url: flaky.url } })).secret;
    await service.create(t.name, { name: 'failing', target: { type: 'webhook', url: failing.url }, maxAttempts: 2 });
    await service.create(t.name, { name: 'queue', target: { type: 'queue', queueUrl: target.QueueUrl! }, filter: { key: [{ prefix: 'k-1' }] } });

    const produced: { key: string; n: number; even: boolean }[] = [];
    for (let round = 0; round < 6; round++) {
      const events = Array.from({ length: 40 }, (_, i) => {
        const k = round * 40 + i;
        const e = { key: `k-${k % 13}`, n: k, even: k % 2 === 0 };
        produced.push(e);
        return { key: e.key, value: { n: e.n, even: e.even } };
      });
      await log.produce(t.name, events);
      if (round % 2 === 1) await pump(); // live deliveries interleaved with produce
    }
    await pump();

    const fetched = new Map<string, DeliveredEvent>();
    for (let p = 0; p < 4; p++) {
      for (const e of (await log.fetch(t.name, p, { offset: 'earliest', limit: 1000 })).events) fetched.set(`${p}:${e.offset}`, { ...e, subscription: '' });
    }
    const expected = (match: (e: DeliveredEvent) => boolean) => byPartition([...fetched.values()].filter(match).sort((a, b) => a.offset - b.offset));

    // Exactly once and in offset order per partition: the delivered offsets equal the expected list.
    expect(byPartition(good.received)).toEqual(expected((e) => (e.value as { even: boolean }).even));
    expect(good.badSignatures).toBe(0);
    expect(byPartition(flaky.received)).toEqual(expected(() => true));
    expect(flaky.badSignatures).toBe(0);
    const queued = await queueMessages(target.QueueUrl!);
    expect(byPartition(queued)).toEqual(expected((e) => e.key!.startsWith('k-1')));
    expect(queued.every((e) => e.subscription === 'queue' && e.topic === t.name && typeof e.messageId === 'string')).toBe(true);

    // The failing subscriber: nothing delivered, every event in its dead letters, cursor at the end.
    expect(failing.received).toEqual([]);
    const described = await service.describe(t.name, 'failing');
    expect(described.deadLetters).toBe(produced.length);
    expect(described.lag).toBe(0);
    const letters = await service.deadLetters(t.name, 'failing', { limit: 5 });
    expect(letters.total).toBe(produced.length);
    expect(letters.deadLetters[0]!.error).toMatch(/503/);

    // Redrive once it works again: every dead letter delivered, then gone.
    failing.behaviour = 'ok';
    const redriven = await service.redrive(t.name, 'failing');
    expect(redriven.deadLetters).toBe(produced.length);
    await pump();
    expect(byPartition(failing.received)).toEqual(expected(() => true));
    expect((await service.describe(t.name, 'failing')).deadLetters).toBe(0);

    const good2 = await service.describe(t.name, 'good');
    expect(good2.lag).toBe(0);
    expect(good2.partitions.every((p) => p.position === p.highWatermark)).toBe(true);
  }, 180_000);

  it('duplicates nothing when the dispatcher handles a batch twice', async () => {
    const t = await topic(2);
    const h = hook('twice', 'ok');
    await service.create(t.name, { name: 'twice', target: { type: 'webhook', url: h.url } });
    for (let i = 0; i < 5; i++) await log.produce(t.name, [{ key: `a${i}`, value: i }, { key: `b${i}`, value: i }]);
    const records = await readStream();
    expect(records.length).toBeGreaterThan(0);
    await dispatchRecords(records);
    await dispatchRecords(records); // a retried stream batch, after a crash mid-fan-out
    await pump();
    const offsets = h.received.map((e) => `${e.partition}:${e.offset}`);
    expect(new Set(offsets).size).toBe(offsets.length);
    expect(offsets).toHaveLength(10);
  }, 60_000);

  it('starts at earliest: history, then live events, with no gap and no duplicate', async () => {
    const t = await topic(1);
    for (let i = 0; i < 5; i++) await log.produce(t.name, Array.from({ length: 30 }, (_, j) => ({ value: i * 30 + j, partition: 0 })));
    await pump();
    const h = hook('earliest', 'ok');
    await service.create(t.name, { name: 'earliest', target: { type: 'webhook', url: h.url }, startAt: 'earliest' });
    const live = log.produce(t.name, Array.from({ length: 20 }, (_, j) => ({ value: 150 + j, partition: 0 })));
    await pump();
    await live;
    await log.produce(t.name, Array.from({ length: 20 }, (_, j) => ({ value: 170 + j, partition: 0 })));
    await pump();
    expect(h.received.map((e) => e.offset)).toEqual(Array.from({ length: 190 }, (_, i) => i));
    expect(h.received.map((e) => e.value)).toEqual(Array.from({ length: 190 }, (_, i) => i));
  }, 60_000);

  it('replays from a timestamp after a seek, and from an offset', async () => {
    const t = await topic(2);
    const h = hook('seek', 'ok');
    await service.create(t.name, { name: 'seek', target: { type: 'webhook', url: h.url } });
    for (let p = 0; p < 2; p++) {
      await log.produce(t.name, Array.from({ length: 10 }, (_, i) => ({ partition: p, value: i, timestamp: 1_000_000 + i * 1000 })));
    }
    await pump();
    expect(h.received).toHaveLength(20);
    h.received.length = 0;

    const seek = await service.seek(t.name, 'seek', { to: { timestamp: 1_000_000 + 6000 } });
    expect(seek.positions).toEqual([{ partition: 0, position: 6 }, { partition: 1, position: 6 }]);
    await pump();
    expect(byPartition(h.received)).toEqual(new Map([[0, [6, 7, 8, 9]], [1, [6, 7, 8, 9]]]));

    h.received.length = 0;
    await service.seek(t.name, 'seek', { to: { partition: 1, offset: 8 } });
    await pump();
    expect(h.received.map((e) => `${e.partition}:${e.offset}`)).toEqual(['1:8', '1:9']);
  }, 60_000);

  it('answers the API errors: duplicate name, unknown subscription, unknown topic', async () => {
    const t = await topic(1);
    await service.create(t.name, { name: 'x', target: { type: 'webhook', url: 'https://example.com/h' } });
    await expect(service.create(t.name, { name: 'x', target: { type: 'webhook', url: 'https://example.com/h' } })).rejects.toMatchObject({ code: 'SubscriptionAlreadyExists' });
    await expect(service.describe(t.name, 'nope')).rejects.toMatchObject({ code: 'SubscriptionNotFound' });
    await expect(service.list('no-such-topic')).rejects.toMatchObject({ code: 'TopicNotFound' });
    expect((await service.list(t.name)).map((s) => s.name)).toEqual(['x']);
    expect(JSON.stringify(await service.list(t.name))).not.toContain('secret');
    await service.delete(t.name, 'x');
    expect(await service.list(t.name)).toEqual([]);
    await expect(service.delete(t.name, 'x')).rejects.toMatchObject({ code: 'SubscriptionNotFound' });
  });
});
