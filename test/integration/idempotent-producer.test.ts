/**
 * The idempotent producer against DynamoDB Local: a retried batch is answered with its original
 * offsets and writes nothing, whether the first attempt's answer was lost before or after either
 * write (faults injected with aws-sdk-client-mock on a client of their own); an older epoch is
 * fenced; a sequence gap is refused; other appends keep the producer state.
 */
import { DynamoDBDocumentClient as DocClient, GetCommand, PutCommand, TransactWriteCommand, type PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidRequestError, OutOfOrderSequenceError, ProducerFencedError } from '../../api/errors';
import type { ProducerStamp } from '../../api/events';
import type { TopicConfig } from '../../api/topics';
import { DynamoDbLogStore, HEAD_OFFSET } from '../../lambda/core/log/dynamodb-log-store';
import { LogService } from '../../lambda/core/log/log-service';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { emulatorClients, provisionIsolated } from '../support/emulators';

const clients = emulatorClients();
let resources: Awaited<ReturnType<typeof provisionIsolated>>;
let topics: DynamoDbTopicStore;
let n = 0;

const timeout = () => Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' });
const healthyStore = () => new DynamoDbLogStore({ client: clients.doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe });
const service = (log = healthyStore()) => new LogService({ topics, log, sleep: async () => {}, maxAppendAttempts: 100 });
const put = (input: PutCommandInput) => clients.doc.send(new PutCommand(input));
const isHead = (input: PutCommandInput) => input.Item?.offset === HEAD_OFFSET;

/** A service whose log-table puts go through `fault` (reads and transactions pass through). */
function faultyService(fault: (input: PutCommandInput) => Promise<unknown>) {
  const client = DocClient.from(clients.dynamodb);
  const mock = mockClient(client);
  mock.on(GetCommand).callsFake((input) => clients.doc.send(new GetCommand(input)));
  mock.on(TransactWriteCommand).callsFake((input) => clients.doc.send(new TransactWriteCommand(input)));
  mock.on(PutCommand).callsFake(fault);
  const store = healthyStore();
  const faulty = new DynamoDbLogStore({ client, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe });
  store.append = (plans, tx) => faulty.append(plans, tx);
  return service(store);
}

async function newTopic(overrides: Partial<TopicConfig> = {}): Promise<TopicConfig> {
  const config: TopicConfig = {
    name: `idem-${++n}`,
    topicId: `tid-idem-${n}-${Date.now()}`,
    partitions: 2,
    retentionMs: 3_600_000,
    dedupeWindowMs: 60_000,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
  await topics.createTopic(config);
  return config;
}

async function fetchAll(topic: string, partition = 0) {
  const svc = service();
  const events = [];
  let offset: number | 'earliest' = 'earliest';
  for (;;) {
    const page = await svc.fetch(topic, partition, { offset, limit: 1000 });
    events.push(...page.events);
    if (page.nextOffset >= page.highWatermark) return { events, highWatermark: page.highWatermark };
    offset = page.nextOffset;
  }
}

beforeAll(async () => {
  resources = await provisionIsolated('idem');
  topics = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
});

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('the idempotent producer', () => {
  it('answers a retried batch with its original offsets and message IDs, writing nothing', async () => {
    const config = await newTopic();
    const svc = service();
    const stamp: ProducerStamp = { id: 'p-1', epoch: 1, sequence: 0 };
    const events = [{ partition: 0, value: 'a' }, { partition: 0, value: 'b' }];
    const first = await svc.produce(config.name, events, stamp);
    const retry = await svc.produce(config.name, events, stamp);
    expect(retry.results).toEqual(first.results.map((r) => ({ ...r, duplicate: true })));
    expect(retry.consumedWriteUnits).toBeUndefined();
    const next = await svc.produce(config.name, [{ partition: 0, value: 'c' }], { ...stamp, sequence: 2 });
    expect(next.results[0]).toMatchObject({ offset: 2, duplicate: false });
    expect((await fetchAll(config.name)).events.map((e) => e.value)).toEqual(['a', 'b', 'c']);
  });

  it('keeps its state through other appends to the partition (plain and with message IDs)', async () => {
    const config = await newTopic();
    const svc = service();
    const stamp: ProducerStamp = { id: 'p-keep', epoch: 1, sequence: 0 };
    await svc.produce(config.name, [{ partition: 0, value: 'idem' }], stamp);
    await svc.produce(config.name, [{ partition: 0, value: 'plain' }]);
    await svc.produce(config.name, [{ partition: 0, value: 'with-id', messageId: 'x-1' }]);
    const retry = await svc.produce(config.name, [{ partition: 0, value: 'idem' }], stamp);
    expect(retry.results[0]).toMatchObject({ offset: 0, duplicate: true });
    expect((await fetchAll(config.name)).highWatermark).toBe(3);
  });

  it('fences an older epoch once a newer one has written, and refuses a sequence gap; both write nothing', async () => {
    const config = await newTopic();
    const svc = service();
    await svc.produce(config.name, [{ partition: 0, value: 'old' }], { id: 'p-f', epoch: 1, sequence: 0 });
    await svc.produce(config.name, [{ partition: 0, value: 'new' }], { id: 'p-f', epoch: 2, sequence: 0 });
    const fenced = await svc.produce(config.name, [{ partition: 0, value: 'zombie' }], { id: 'p-f', epoch: 1, sequence: 1 }).catch((e: unknown) => e);
    expect(fenced).toBeInstanceOf(ProducerFencedError);
    expect(fenced).toMatchObject({ status: 409, code: 'ProducerFenced' });
    const gap = await svc.produce(config.name, [{ partition: 0, value: 'gap' }], { id: 'p-f', epoch: 2, sequence: 5 }).catch((e: unknown) => e);
    expect(gap).toBeInstanceOf(OutOfOrderSequenceError);
    expect((await fetchAll(config.name)).events.map((e) => e.value)).toEqual(['old', 'new']);
  });

  it('refuses a stamped request whose events go to several partitions', async () => {
    const config = await newTopic();
    const err = await service()
      .produce(config.name, [{ partition: 0, value: 1 }, { partition: 1, value: 2 }], { id: 'p-x', epoch: 1, sequence: 0 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((await fetchAll(config.name)).highWatermark).toBe(0);
  });

  it('appends every event once under lost answers and crashes at every point, retried, and a restarted producer', async () => {
    const config = await newTopic({ partitions: 1 });
    // Fault modes, in turn: none; the batch put's answer lost after it was applied; the head put
    // lost before being applied (a crash between the writes); the head put's answer lost after it
    // was applied.
    let call = 0;
    const modes = ['ok', 'batch-lost', 'head-crash', 'head-lost'] as const;
    let mode: (typeof modes)[number] = 'ok';
    const faulty = faultyService(async (input) => {
      call++;
      if (mode === 'batch-lost' && !isHead(input)) {
        await put(input);
        throw timeout();
      }
      if (mode === 'head-crash' && isHead(input)) throw timeout();
      if (mode === 'head-lost' && isHead(input)) {
        await put(input);
        throw timeout();
      }
      return put(input);
    });
    const healthy = service();
    let sent = 0;
    let failedAttempts = 0;
    const acknowledged = new Map<string, number>();
    for (const epoch of [1, 2]) {
      // Epoch 2 is the producer restarted: its sequences start over.
      let sequence = 0;
      for (let batch = 0; batch < 12; batch++) {
        const events = [0, 1].map((i) => ({ value: `e${epoch}-b${batch}-${i}` }));
        const stamp = { id: 'p-crash', epoch, sequence };
        mode = modes[batch % modes.length]!;
        let results;
        try {
          results = (await faulty.produce(config.name, events, stamp)).results;
        } catch {
          failedAttempts++;
          // The client's retry: the same request, through a healthy path.
          results = (await healthy.produce(config.name, events, stamp)).results;
        }
        results.forEach((r, i) => acknowledged.set(events[i]!.value, r.offset));
        sequence += events.length;
        sent += events.length;
      }
    }
    const { events } = await fetchAll(config.name);
    const counts = new Map<unknown, number>();
    for (const e of events) counts.set(e.value, (counts.get(e.value) ?? 0) + 1);
    const duplicates = [...counts.values()].filter((c) => c > 1).length;
    const lost = [...acknowledged.keys()].filter((v) => !counts.has(v)).length;
    console.log(`idempotent producer under faults: sent ${sent}, failed attempts retried ${failedAttempts}, stored ${events.length}, duplicates ${duplicates}, lost ${lost}, put calls ${call}`);
    expect(failedAttempts).toBeGreaterThan(0);
    expect(duplicates).toBe(0);
    expect(lost).toBe(0);
    expect(events.length).toBe(sent);
    for (const e of events) expect(acknowledged.get(e.value as string)).toBe(e.offset);
  });
});
