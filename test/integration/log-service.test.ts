/**
 * The topic log against DynamoDB Local: ordering and gapless offsets under concurrent producers,
 * exactly-once by message ID (concurrent duplicates, retries after a lost answer), atomicity when
 * a write fails, retention driven by an injected clock, timestamp seeks and long polls.
 */
import { randomBytes } from 'node:crypto';
import { constants as zlibConstants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { DynamoDBDocumentClient as DocClient, PutCommand, QueryCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InternalError, OffsetOutOfRangeError, OutcomeUnknownError, ThrottledError } from '../../api/errors';
import type { ProduceEvent } from '../../api/events';
import { partitionForKey } from '../../api/partitioner';
import type { TopicConfig } from '../../api/topics';
import { DynamoDbLogStore, logPartitionKey } from '../../lambda/core/log/dynamodb-log-store';
import { LogService, MAX_BATCH_DATA_BYTES } from '../../lambda/core/log/log-service';
import { TOPIC_CONFIG_CACHE_MS } from '../../lambda/core/log/log-read-service';
import type { LogStore } from '../../lambda/core/log/log-store';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { emulatorClients, provisionIsolated } from '../support/emulators';

const clients = emulatorClients();
let resources: Awaited<ReturnType<typeof provisionIsolated>>;
let topics: DynamoDbTopicStore;
let topicCount = 0;

const logStore = (client: DynamoDBDocumentClient = clients.doc) =>
  new DynamoDbLogStore({ client, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe });

/** A clock the test moves by hand. */
function clock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

async function newTopic(overrides: Partial<TopicConfig> = {}): Promise<TopicConfig> {
  topicCount++;
  const config: TopicConfig = {
    name: `topic-${topicCount}`,
    topicId: `tid-${topicCount}-${Date.now()}`,
    partitions: 3,
    retentionMs: 60_000,
    dedupeWindowMs: 60_000,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
  await topics.createTopic(config);
  return config;
}

/**
 * A log store whose writes fail with the given AWS error (injected with aws-sdk-client-mock
 * on its own client), while every read goes to DynamoDB Local.
 */
function withFailingAppend(errorName: string): LogStore {
  const failingClient = DocClient.from(clients.dynamodb);
  const error = Object.assign(new Error(errorName), { name: errorName });
  // Transactions and the single-item writes of a one-partition append without message IDs.
  mockClient(failingClient).on(TransactWriteCommand).rejects(error).on(PutCommand).rejects(error);
  const failing = logStore(failingClient);
  const store: LogStore = Object.create(logStore());
  store.append = (plan) => failing.append(plan);
  return store;
}

function service(options: { now?: () => number; log?: LogStore } = {}) {
  return new LogService({ topics, log: options.log ?? logStore(), now: options.now, pollIntervalMs: 20 });
}

async function fetchAll(svc: LogService, topic: string, partition: number) {
  const events = [];
  let offset = 0;
  for (;;) {
    const page = await svc.fetch(topic, partition, { offset, limit: 1000 });
    events.push(...page.events);
    if (page.nextOffset >= page.highWatermark) return { events, page };
    offset = page.nextOffset;
  }
}

beforeAll(async () => {
  resources = await provisionIsolated('log');
  topics = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
});

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('produce and fetch', () => {
  it('places keys as Kafka does, keeps each key in order and numbers offsets from 0 without gaps', async () => {
    const config = await newTopic({ partitions: 3 });
    const svc = service();
    const events: ProduceEvent[] = Array.from({ length: 60 }, (_, i) => ({ key: `k${i % 7}`, value: { i } }));
    const { results } = await svc.produce(config.name, events);
    results.forEach((r, i) => expect(r.partition).toBe(partitionForKey(`k${i % 7}`, 3)));

    for (let p = 0; p < 3; p++) {
      const { events: stored } = await fetchAll(svc, config.name, p);
      expect(stored.map((e) => e.offset)).toEqual(stored.map((_, i) => i));
      const values = stored.map((e) => (e.value as { i: number }).i);
      expect(values).toEqual([...values].sort((a, b) => a - b));
    }
  });

  it('stays gapless and per-producer ordered under concurrent producers', async () => {
    const config = await newTopic({ partitions: 2 });
    const svc = service();
    const producers = 8;
    const rounds = 5;
    await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        for (let r = 0; r < rounds; r++) {
          await svc.produce(config.name, [
            { key: `producer-${p}`, value: { p, seq: r * 2 } },
            { key: `producer-${p}`, value: { p, seq: r * 2 + 1 } },
          ]);
        }
      }),
    );
    let total = 0;
    for (let partition = 0; partition < 2; partition++) {
      const { events } = await fetchAll(svc, config.name, partition);
      total += events.length;
      expect(events.map((e) => e.offset)).toEqual(events.map((_, i) => i));
      const byProducer = new Map<number, number[]>();
      for (const e of events) {
        const v = e.value as { p: number; seq: number };
        byProducer.set(v.p, [...(byProducer.get(v.p) ?? []), v.seq]);
      }
      for (const seqs of byProducer.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    }
    expect(total).toBe(producers * rounds * 2);
  });

  it('sends the keyless events of one request to one partition and spreads requests round robin', async () => {
    const config = await newTopic({ partitions: 3 });
    const svc = service();
    const partitions: number[] = [];
    for (let i = 0; i < 6; i++) {
      const { results } = await svc.produce(config.name, [{ value: 1 }, { value: 2 }]);
      expect(new Set(results.map((r) => r.partition)).size).toBe(1);
      partitions.push(results[0]!.partition);
    }
    expect([0, 1, 2].map((p) => partitions.filter((x) => x === p).length)).toEqual([2, 2, 2]);
  });

  it('round-trips keys, JSON values, bytes, headers, timestamps and message IDs', async () => {
    const config = await newTopic({ partitions: 1, retentionMs: -1 });
    const svc = service();
    await svc.produce(config.name, [
      { key: 'k', value: { nested: [1, 'two', null] }, headers: { a: '1' }, messageId: 'id-1', timestamp: 42 },
      { valueBase64: Buffer.from([0, 255, 7]).toString('base64'), messageId: 'id-2', timestamp: 43 },
      { key: null, messageId: 'id-3', timestamp: 44 },
    ]);
    const { events } = await svc.fetch(config.name, 0, { offset: 0 });
    expect(events).toEqual([
      { topic: config.name, partition: 0, offset: 0, key: 'k', value: { nested: [1, 'two', null] }, headers: { a: '1' }, timestamp: 42, messageId: 'id-1' },
      { topic: config.name, partition: 0, offset: 1, key: null, valueBase64: 'AP8H', headers: {}, timestamp: 43, messageId: 'id-2' },
      { topic: config.name, partition: 0, offset: 2, key: null, headers: {}, timestamp: 44, messageId: 'id-3' },
    ]);
  });

  it('splits a partition batch larger than one item into several, atomically', async () => {
    const config = await newTopic({ partitions: 1, dedupeWindowMs: 0 });
    const svc = service();
    // Incompressible: random bytes, ~200 KB each, three of them: more than one item holds.
    const events = Array.from({ length: 3 }, () => ({ valueBase64: randomBytes(150_000).toString('base64') }));
    expect(events.reduce((n, e) => n + e.valueBase64.length, 0)).toBeGreaterThan(MAX_BATCH_DATA_BYTES);
    const { results } = await svc.produce(config.name, events);
    expect(results.map((r) => r.offset)).toEqual([0, 1, 2]);
    const { events: stored } = await svc.fetch(config.name, 0, { offset: 0 });
    expect(stored.map((e) => e.valueBase64)).toEqual(events.map((e) => e.valueBase64));
  });

  it('reads a page mixing items of the earlier deflate codec with new ones, from any offset', async () => {
    const config = await newTopic({ partitions: 1, dedupeWindowMs: 0, retentionMs: -1 });
    const svc = service();
    const words = ['alpha', 'beta', 'gamma', 'delta', 'ünï', '🚀', 'line\nbreak', 'say "hi"'];
    const value = (i: number) => ({ i, text: Array.from({ length: 60 }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' ') });
    // Requests of 40 compressible events: each a batch item of its own (too big for the head's tail).
    for (let r = 0; r < 6; r++) await svc.produce(config.name, Array.from({ length: 40 }, (_, j) => ({ key: `k${j % 3}`, value: value(r * 40 + j) })));
    const pk = logPartitionKey(config.topicId, 0);
    const { Items: items = [] } = await clients.doc.send(
      new QueryCommand({ TableName: resources.tables.log, KeyConditionExpression: 'pk = :pk AND #o >= :z', ExpressionAttributeNames: { '#o': 'offset' }, ExpressionAttributeValues: { ':pk': pk, ':z': 0 } }),
    );
    // The current codec is stored as its one-letter token.
    expect(items.map((i) => i.codec)).toEqual(Array.from({ length: 6 }, () => 'z'));
    // Items 1 and 4 as a version before sync-flushed streams wrote them: deflate with a final block.
    for (const item of [items[1]!, items[4]!]) {
      const text = inflateRawSync(Buffer.concat([item.data as Uint8Array, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      await clients.doc.send(new PutCommand({ TableName: resources.tables.log, Item: { ...item, codec: 'framed+deflate', data: deflateRawSync(text) } }));
    }
    const expected = Array.from({ length: 240 }, (_, i) => value(i));
    expect((await fetchAll(svc, config.name, 0)).events.map((e) => e.value)).toEqual(expected);
    for (const from of [39, 40, 41, 95, 161, 239]) {
      const page = await svc.fetch(config.name, 0, { offset: from, limit: 1000 });
      expect(page.events.map((e) => e.offset)).toEqual(Array.from({ length: 240 - from }, (_, i) => from + i));
      expect(page.events.map((e) => e.value)).toEqual(expected.slice(from));
    }
  });

  it('answers OffsetOutOfRange with both bounds for an offset past the high watermark', async () => {
    const config = await newTopic({ partitions: 1 });
    const svc = service();
    await svc.produce(config.name, [{ value: 1 }, { value: 2 }]);
    const err = await svc.fetch(config.name, 0, { offset: 3 }).catch((e) => e);
    expect(err).toBeInstanceOf(OffsetOutOfRangeError);
    expect(err.details).toMatchObject({ offset: 3, logStartOffset: 0, highWatermark: 2 });
    expect((await svc.fetch(config.name, 0, { offset: 2 })).events).toEqual([]);
    expect((await svc.fetch(config.name, 0, { offset: 'latest' })).nextOffset).toBe(2);
  });

  it('seeks by timestamp to the first event at or after it', async () => {
    const config = await newTopic({ partitions: 1, retentionMs: -1 });
    const svc = service();
    for (let batch = 0; batch < 10; batch++) {
      await svc.produce(config.name, [0, 1, 2].map((i) => ({ value: batch * 3 + i, timestamp: 1000 + (batch * 3 + i) * 10 })));
    }
    const at = async (timestamp: number) => (await svc.fetch(config.name, 0, { timestamp, limit: 1 })).events[0]?.offset;
    expect(await at(0)).toBe(0);
    expect(await at(1000)).toBe(0);
    expect(await at(1001)).toBe(1);
    expect(await at(1155)).toBe(16);
    expect(await at(1290)).toBe(29);
    expect(await at(5000)).toBeUndefined();
  });

  it('long-polls until an event arrives, and answers as soon as it is appended', async () => {
    const config = await newTopic({ partitions: 1 });
    const time = clock();
    const sleeps: number[] = [];
    // The service's clock and sleep are the test's: each pause moves the clock, and the event is
    // appended during the third one, so the fetch must have waited for it.
    const svc = new LogService({
      topics,
      log: logStore(),
      now: time.now,
      pollIntervalMs: 100,
      sleep: async (ms) => {
        sleeps.push(ms);
        time.advance(ms);
        if (sleeps.length === 3) await svc.produce(config.name, [{ value: 'late' }]);
      },
    });
    const started = time.now();
    const page = await svc.fetch(config.name, 0, { offset: 0, waitMs: 10_000 });
    expect(page.events.map((e) => e.value)).toEqual(['late']);
    expect(sleeps).toEqual([100, 100, 100]); // it waited, and stopped at the first poll that saw the event
    expect(time.now() - started).toBe(300);
    expect(page.highWatermark).toBe(1);
  });

  it('long-polls until waitMs has passed when nothing arrives, then answers no events', async () => {
    const config = await newTopic({ partitions: 1 });
    const time = clock();
    const sleeps: number[] = [];
    const svc = new LogService({
      topics,
      log: logStore(),
      now: time.now,
      pollIntervalMs: 400,
      sleep: async (ms) => {
        sleeps.push(ms);
        time.advance(ms);
      },
    });
    const page = await svc.fetch(config.name, 0, { offset: 0, waitMs: 1_000 });
    expect(page.events).toEqual([]);
    expect(sleeps).toEqual([400, 400, 200]); // the last pause ends exactly at the deadline
  });

  it('does not wait when there is something to read, or without waitMs', async () => {
    const config = await newTopic({ partitions: 1 });
    const sleeps: number[] = [];
    const svc = new LogService({ topics, log: logStore(), sleep: async (ms) => void sleeps.push(ms) });
    await svc.produce(config.name, [{ value: 'here' }]);
    expect((await svc.fetch(config.name, 0, { offset: 0, waitMs: 10_000 })).events.map((e) => e.value)).toEqual(['here']);
    expect((await svc.fetch(config.name, 0, { offset: 1 })).events).toEqual([]);
    expect(sleeps).toEqual([]);
  });
});

describe('exactly-once by message ID', () => {
  it('appends nothing for a retried request and returns the original offsets', async () => {
    const config = await newTopic({ partitions: 2 });
    const svc = service();
    const events = [{ key: 'a', value: 1, messageId: 'm-1' }, { key: 'b', value: 2, messageId: 'm-2' }];
    const first = await svc.produce(config.name, events);
    const again = await svc.produce(config.name, events);
    expect(again.results).toEqual(first.results.map((r) => ({ ...r, duplicate: true })));
    for (const p of [0, 1]) expect((await svc.fetch(config.name, p, {})).highWatermark).toBe(first.results.filter((r) => r.partition === p).length);
  });

  it('appends each message ID once when duplicates race each other', async () => {
    const config = await newTopic({ partitions: 1 });
    const svc = service();
    const ids = ['r-1', 'r-2', 'r-3', 'r-4', 'r-5'];
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => svc.produce(config.name, ids.map((messageId) => ({ value: messageId, messageId })))),
    );
    const { events } = await fetchAll(svc, config.name, 0);
    expect(events.map((e) => e.messageId).sort()).toEqual(ids);
    for (const outcome of outcomes) {
      expect(outcome.results.map((r) => r.offset)).toEqual(outcomes[0]!.results.map((r) => r.offset));
    }
    const fresh = outcomes.flatMap((o) => o.results).filter((r) => !r.duplicate);
    expect(fresh).toHaveLength(ids.length);
  });

  it('appends only the new events of a request that mixes new and seen IDs, with no gap', async () => {
    const config = await newTopic({ partitions: 1 });
    const svc = service();
    await svc.produce(config.name, [{ value: 'a', messageId: 'x-1' }]);
    const { results } = await svc.produce(config.name, [
      { value: 'a', messageId: 'x-1' },
      { value: 'b', messageId: 'x-2' },
      { value: 'b again', messageId: 'x-2' },
    ]);
    expect(results).toEqual([
      { partition: 0, offset: 0, messageId: 'x-1', duplicate: true },
      { partition: 0, offset: 1, messageId: 'x-2', duplicate: false },
      { partition: 0, offset: 1, messageId: 'x-2', duplicate: true },
    ]);
    expect((await fetchAll(svc, config.name, 0)).events.map((e) => e.value)).toEqual(['a', 'b']);
  });

  it('dedupes a retry after a lost answer: the first attempt did commit', async () => {
    const config = await newTopic({ partitions: 1 });
    const real = logStore();
    let lose = true;
    const losing: LogStore = Object.create(real);
    losing.append = async (plan) => {
      const outcome = await real.append(plan);
      if (lose) {
        lose = false;
        throw new InternalError('connection reset after commit');
      }
      return outcome;
    };
    const svc = service({ log: losing });
    const events = [{ value: 1, messageId: 'lost-1' }, { value: 2, messageId: 'lost-2' }];
    // The service does not retry it (the SDK is the one retry layer): the caller gets a retriable
    // error and its retry, with the same message IDs, finds them taken.
    const lost = await svc.produce(config.name, events).catch((e: unknown) => e);
    expect(lost).toBeInstanceOf(InternalError);
    expect((lost as InternalError).retriable).toBe(true);
    const { results } = await svc.produce(config.name, events);
    expect(results.map((r) => [r.offset, r.duplicate])).toEqual([
      [0, true],
      [1, true],
    ]);
    expect((await svc.fetch(config.name, 0, {})).highWatermark).toBe(2);
  });

  it('forgets a message ID once its window has passed', async () => {
    const config = await newTopic({ partitions: 1, dedupeWindowMs: 1000, retentionMs: -1 });
    const time = clock();
    const svc = service({ now: time.now });
    await svc.produce(config.name, [{ value: 1, messageId: 'w-1' }]);
    time.advance(999);
    expect((await svc.produce(config.name, [{ value: 1, messageId: 'w-1' }])).results[0]!.duplicate).toBe(true);
    time.advance(1);
    expect((await svc.produce(config.name, [{ value: 1, messageId: 'w-1' }])).results[0]).toMatchObject({ offset: 1, duplicate: false });
  });

  it('skips the check entirely with dedupeWindowMs 0', async () => {
    const config = await newTopic({ partitions: 1, dedupeWindowMs: 0 });
    const svc = service();
    await svc.produce(config.name, [{ value: 1, messageId: 'same' }, { value: 1, messageId: 'same' }]);
    const { results } = await svc.produce(config.name, [{ value: 1, messageId: 'same' }]);
    expect(results[0]).toMatchObject({ offset: 2, duplicate: false });
  });
});

describe('atomicity', () => {
  it('leaves the log as it was when the transaction fails', async () => {
    const config = await newTopic({ partitions: 2 });
    const svc = service();
    await svc.produce(config.name, [{ key: 'a', value: 'before', messageId: 'keep-1' }]);

    const broken = new LogService({ topics, log: withFailingAppend('InternalServerError'), maxAppendAttempts: 2, sleep: async () => {} });
    const err = await broken
      .produce(config.name, [{ key: 'a', value: 'x', messageId: 'new-1' }, { key: 'b', value: 'y', messageId: 'new-2' }])
      .catch((e) => e);
    // A 5xx on a write: the service cannot know whether it was applied, so it says so (here it was not).
    expect(err).toBeInstanceOf(OutcomeUnknownError);

    const after = await Promise.all([0, 1].map((p) => fetchAll(svc, config.name, p)));
    expect(after.flatMap((a) => a.events.map((e) => e.value))).toEqual(['before']);
    // Nothing was remembered either: the same IDs append normally now.
    const { results } = await svc.produce(config.name, [{ key: 'a', value: 'x', messageId: 'new-1' }]);
    expect(results[0]!.duplicate).toBe(false);
  });

  it('gives up with a retriable Throttled when DynamoDB keeps throttling, writing nothing', async () => {
    const config = await newTopic({ partitions: 1 });
    const svc = new LogService({
      topics,
      log: withFailingAppend('ProvisionedThroughputExceededException'),
      maxAppendAttempts: 3,
      sleep: async () => {},
    });
    const err = await svc.produce(config.name, [{ value: 1 }]).catch((e) => e);
    expect(err).toBeInstanceOf(ThrottledError);
    expect(err.retriable).toBe(true);
    expect((await service().fetch(config.name, 0, {})).highWatermark).toBe(0);
  });
});

describe('retention', () => {
  it('hides expired events, moves the log start, and answers OffsetOutOfRange below it', async () => {
    const config = await newTopic({ partitions: 1, retentionMs: 10_000 });
    const time = clock();
    const svc = service({ now: time.now });
    await svc.produce(config.name, [{ value: 'old-1' }, { value: 'old-2' }]);
    time.advance(5_000);
    await svc.produce(config.name, [{ value: 'new' }]);

    time.advance(5_000); // the first two are now exactly 10 s old
    const page = await svc.fetch(config.name, 0, { offset: 'earliest' });
    expect(page.events.map((e) => e.value)).toEqual(['new']);
    expect(page.logStartOffset).toBe(2);
    expect(page.highWatermark).toBe(3);
    await expect(svc.fetch(config.name, 0, { offset: 0 })).rejects.toBeInstanceOf(OffsetOutOfRangeError);

    time.advance(5_000);
    const empty = await svc.fetch(config.name, 0, { offset: 'earliest' });
    expect(empty).toMatchObject({ events: [], logStartOffset: 3, highWatermark: 3, nextOffset: 3 });
  });

  it('finds the log start past many expired batches without reading them one by one', async () => {
    const config = await newTopic({ partitions: 1, retentionMs: 100_000 });
    const time = clock();
    const svc = service({ now: time.now });
    for (let i = 0; i < 64; i++) {
      await svc.produce(config.name, [{ value: i, timestamp: time.now() }]);
      time.advance(1000);
    }
    // Events 0..63 were written at t0 + i s; at t0 + 140 s, events older than 100 s (0..40) are gone.
    time.advance(140_000 - 64_000);
    const real = logStore();
    let reads = 0;
    const counting: LogStore = Object.create(real);
    counting.readBatchesAfter = (...args) => (reads++, real.readBatchesAfter(...args));
    counting.readBatchAtOrBefore = (...args) => (reads++, real.readBatchAtOrBefore(...args));
    const page = await service({ now: time.now, log: counting }).fetch(config.name, 0, { offset: 'earliest', limit: 1 });
    expect(page.logStartOffset).toBe(41);
    expect(page.events[0]!.value).toBe(41);
    expect(reads).toBeLessThan(16);
  });

  it('stores the TTL attribute as timestamp + retention, and none when kept forever', async () => {
    const finite = await newTopic({ partitions: 1, retentionMs: 60_000 });
    const forever = await newTopic({ partitions: 1, retentionMs: -1 });
    const svc = service();
    // Random values too big for the head's tail: each append is a batch item.
    const value = randomBytes(1200).toString('base64');
    await svc.produce(finite.name, [{ value, timestamp: 1_000_000 }]);
    await svc.produce(forever.name, [{ value, timestamp: 1_000_000 }]);
    const store = logStore();
    expect((await store.readBatchAtOrBefore(finite.topicId, 0, 0))?.expiresAt).toBe((1_000_000 + 60_000) / 1000);
    expect((await store.readBatchAtOrBefore(forever.topicId, 0, 0))?.expiresAt).toBeUndefined();
  });

  it('applies a shortened retention to stored events at once on a new instance, and within TOPIC_CONFIG_CACHE_MS on one that cached the topic', async () => {
    const config = await newTopic({ partitions: 1, retentionMs: -1 });
    const time = clock();
    const svc = service({ now: time.now });
    await svc.produce(config.name, [{ value: 'a' }]);
    time.advance(60_000);
    expect((await svc.fetch(config.name, 0, {})).events).toHaveLength(1);
    await topics.updateTopic(config.name, { retentionMs: 30_000 });
    expect((await service({ now: time.now }).fetch(config.name, 0, {})).events).toHaveLength(0);
    time.advance(TOPIC_CONFIG_CACHE_MS);
    expect((await svc.fetch(config.name, 0, {})).events).toHaveLength(0);
  });
});
