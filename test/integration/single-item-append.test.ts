/**
 * Appends without a transaction (one partition, no message IDs) against DynamoDB Local: into the
 * head's tail with one write, or as one batch with two; gapless offsets under concurrent producers,
 * a partition whose batches all expired continuing from its head, and crashes between the two
 * writes (injected with aws-sdk-client-mock on a client of their own) leaving a log that the next
 * append, either way, finishes or discards and continues correctly.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutcomeUnknownError, ThrottledError } from '../../api/errors';
import type { TopicConfig } from '../../api/topics';
import { LogService } from '../../lambda/core/log/log-service';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { emulatorClients, provisionIsolated } from '../support/emulators';
import { big, isHead, labels, logFixtures, timeout } from '../support/log-fixtures';

const clients = emulatorClients();
let resources: Awaited<ReturnType<typeof provisionIsolated>>;
let topics: DynamoDbTopicStore;
let n = 0;

const { put, healthyStore, service, countingStore, faultyService, fetchAll, batchItems, expireAllBatches } = logFixtures(clients, () => ({ resources, topics }));

async function newTopic(overrides: Partial<TopicConfig> = {}): Promise<TopicConfig> {
  const config: TopicConfig = {
    name: `single-${++n}`,
    topicId: `tid-single-${n}-${Date.now()}`,
    partitions: 1,
    retentionMs: 3_600_000,
    dedupeWindowMs: 60_000,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
  await topics.createTopic(config);
  return config;
}

beforeAll(async () => {
  resources = await provisionIsolated('single');
  topics = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
});

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('appends without a transaction', () => {
  it('appends a small event to the head\'s tail with one write of one unit, and flushes the tail into one batch when the next would not fit', async () => {
    const config = await newTopic();
    const { store, sent } = countingStore();
    const svc = service(store);
    // Random, so that they compress little and two or three fill the tail.
    const value = () => ({ pad: randomBytes(250).toString('base64') });
    const units: number[] = [];
    const writes: number[] = [];
    for (let i = 0; i < 6; i++) {
      sent.length = 0;
      const out = await svc.produce(config.name, [{ value: { ...value(), i } }]);
      expect(out.results[0]!.offset).toBe(i);
      units.push(out.consumedWriteUnits!);
      writes.push(sent.filter((c) => c === 'PutCommand').length);
      expect(sent.filter((c) => c === 'TransactWriteCommand')).toHaveLength(0);
      // Every event is readable at once, wherever it is stored.
      expect((await fetchAll(config.name)).events.map((e) => (e.value as { i: number }).i)).toEqual([...Array(i + 1).keys()]);
    }
    console.log(`small single-event appends: writes ${writes.join(',')}, write units ${units.join(',')}`);
    // One write of one unit into the tail; a flush is a batch (tail and new event) and a head.
    expect(writes.filter((w) => w === 1).length).toBeGreaterThanOrEqual(3);
    expect(writes.filter((w) => w === 2).length).toBeGreaterThanOrEqual(1);
    expect(writes.every((w) => w === 1 || w === 2)).toBe(true);
    units.forEach((u, i) => (writes[i] === 1 ? expect(u).toBe(1) : expect(u).toBeGreaterThanOrEqual(2)));
    // Cheaper than a batch and a head per event, which costs at least two units each.
    expect(units.reduce((a, b) => a + b, 0)).toBeLessThan(2 * units.length);
    // The flushed batches hold the events in order, with nothing at or past the tail.
    const items = await batchItems(config);
    expect(items.length).toBe(writes.filter((w) => w === 2).length);
  });

  it('appends a batch too big for the tail with two single-item writes and no transaction, at about half the write units', async () => {
    const config = await newTopic();
    const { store, sent } = countingStore();
    const svc = service(store);
    const cheap = await svc.produce(config.name, [{ value: big('cheap') }]);
    expect(sent.filter((c) => c === 'TransactWriteCommand')).toHaveLength(0);
    expect(sent.filter((c) => c === 'PutCommand')).toHaveLength(2);
    const transactional = await svc.produce(config.name, [{ value: big('tx'), messageId: 'tx-1' }]);
    console.log(`1-event produce, write units: single-item ${cheap.consumedWriteUnits}, transaction ${transactional.consumedWriteUnits}`);
    expect(cheap.consumedWriteUnits).toBeGreaterThanOrEqual(2);
    expect(transactional.consumedWriteUnits).toBeGreaterThanOrEqual(2 * cheap.consumedWriteUnits!);
    expect(cheap.results[0]!.offset).toBe(0);
    expect(transactional.results[0]!.offset).toBe(1);
  });

  it('keeps offsets gapless and unique under concurrent producers (separate services, eventually consistent head reads)', async () => {
    const config = await newTopic();
    const producers = 6;
    const perProducer = 15;
    const offsets = await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        const svc = new LogService({ topics, log: healthyStore(), sleep: async () => {}, maxAppendAttempts: 100 });
        const mine: number[] = [];
        for (let i = 0; i < perProducer; i++) {
          const { results } = await svc.produce(config.name, [{ value: `${p}-${i}` }]);
          mine.push(results[0]!.offset);
        }
        return mine;
      }),
    );
    const total = producers * perProducer;
    expect(new Set(offsets.flat()).size).toBe(total);
    const { events, highWatermark } = await fetchAll(config.name);
    expect(highWatermark).toBe(total);
    expect(events.map((e) => e.offset)).toEqual([...Array(total).keys()]);
    expect(new Set(events.map((e) => e.value)).size).toBe(total);
    // Each producer's answers name its own events.
    offsets.forEach((mine, p) => mine.forEach((offset, i) => expect(events[offset]!.value).toBe(`${p}-${i}`)));
  });

  it('continues from the head when every batch of the partition has expired (never restarts at 0)', async () => {
    const config = await newTopic();
    const svc = service();
    for (let i = 0; i < 5; i++) await svc.produce(config.name, [{ value: big(`${i}`) }]);
    expect(await expireAllBatches(config)).toBe(5);

    const cheap = await svc.produce(config.name, [{ value: big('after') }]);
    expect(cheap.results[0]!.offset).toBe(5);
    const transactional = await svc.produce(config.name, [{ value: big('after-tx'), messageId: 'after-1' }]);
    expect(transactional.results[0]!.offset).toBe(6);
    expect(await expireAllBatches(config)).toBe(2);
    const again = await svc.produce(config.name, [{ value: 'again' }]);
    expect(again.results[0]!.offset).toBe(7);
    const { events, highWatermark } = await fetchAll(config.name);
    expect(highWatermark).toBe(8);
    expect(events.map((e) => [e.offset, e.value])).toEqual([[7, 'again']]);
  });
});

describe('what an instance remembers (topic configuration, partition head)', () => {
  it('appends with one put (tail) or two (batch) and no read at all while warm', async () => {
    const config = await newTopic();
    const { store, sent } = countingStore();
    const svc = service(store);
    await svc.produce(config.name, [{ value: 'cold' }]);
    sent.length = 0;
    const warm = await svc.produce(config.name, [{ value: 'warm' }]);
    expect(sent).toEqual(['PutCommand']);
    expect(warm.results[0]!.offset).toBe(1);
    sent.length = 0;
    const flushed = await svc.produce(config.name, [{ value: big('big') }]);
    expect(sent).toEqual(['PutCommand', 'PutCommand']);
    expect(flushed.results[0]!.offset).toBe(2);
    expect(labels((await fetchAll(config.name)).events)).toEqual(['cold', 'warm', 'big']);
  });

  it('stays gapless when another instance appended since this one last saw the head', async () => {
    const config = await newTopic();
    const mine = service();
    const other = service();
    await mine.produce(config.name, [{ value: 'a' }]);
    await other.produce(config.name, [{ value: 'b' }]);
    await other.produce(config.name, [{ value: 'c' }]);
    const { results } = await mine.produce(config.name, [{ value: 'd' }]);
    expect(results[0]!.offset).toBe(3);
    const { events } = await fetchAll(config.name);
    expect(events.map((e) => [e.offset, e.value])).toEqual([[0, 'a'], [1, 'b'], [2, 'c'], [3, 'd']]);
  });

  it('appends to the re-created topic, not the deleted one, when a topic is deleted and re-created within the configuration cache', async () => {
    for (const messageId of [undefined, 'm-1']) {
      // Single-item (no message ID) and transactional (message ID) appends alike.
      const config = await newTopic({ partitions: 2 });
      const svc = service();
      await svc.produce(config.name, [{ value: 'old', partition: 0 }]);
      await topics.deleteTopic(config.name, config.topicId);
      const reborn = { ...config, topicId: `${config.topicId}-reborn` };
      await topics.createTopic(reborn);

      // Partition 0 has a cached head; partition 1 was never written (no head, a tombstone now).
      const { results } = await svc.produce(config.name, [{ value: 'new', partition: 0, ...(messageId ? { messageId } : {}) }]);
      const fresh = await svc.produce(config.name, [{ value: 'new-1', partition: 1 }]);
      expect(results[0]).toMatchObject({ partition: 0, offset: 0, duplicate: false });
      expect(fresh.results[0]).toMatchObject({ partition: 1, offset: 0 });
      const { events } = await fetchAll(config.name);
      expect(events.map((e) => e.value)).toEqual(['new']);
    }
  });

  it('fetches from the re-created topic, not the deleted one, on an instance that cached the old configuration', async () => {
    const config = await newTopic();
    const reader = service();
    await service().produce(config.name, [{ value: 'old' }]);
    expect((await reader.fetch(config.name, 0, {})).events.map((e) => e.value)).toEqual(['old']);
    await topics.deleteTopic(config.name, config.topicId);
    await topics.createTopic({ ...config, topicId: `${config.topicId}-reborn` });
    await service().produce(config.name, [{ value: 'new' }]);
    expect((await reader.fetch(config.name, 0, {})).events.map((e) => e.value)).toEqual(['new']);
  });

  it('answers TopicNotFound once a cached topic is deleted, writing nothing visible', async () => {
    const config = await newTopic();
    const svc = service();
    await svc.produce(config.name, [{ value: 'before' }]);
    await topics.deleteTopic(config.name, config.topicId);
    await expect(svc.produce(config.name, [{ value: 'after' }])).rejects.toMatchObject({ code: 'TopicNotFound' });
  });
});

describe('a crash between the two writes', () => {
  it('leaves the batch invisible; the next append (single-item) moves the head past it and continues gapless', async () => {
    const config = await newTopic();
    await service().produce(config.name, [{ value: 'first' }]);
    const crashing = faultyService(async (input) => {
      if (isHead(input)) throw timeout();
      return put(input);
    });
    const err = await crashing.produce(config.name, [{ value: big('stranded') }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    expect((await fetchAll(config.name)).highWatermark).toBe(1);

    const { results } = await service().produce(config.name, [{ value: big('next') }]);
    expect(results[0]!.offset).toBe(2);
    const { events } = await fetchAll(config.name);
    expect(events.map((e) => e.offset)).toEqual([0, 1, 2]);
    expect(labels(events)).toEqual(['first', 'stranded', 'next']);
  });

  it('answers OutcomeUnknown, never a "nothing written" Throttled, when the head write is throttled after the batch landed', async () => {
    const config = await newTopic();
    const throttled = faultyService(async (input) => {
      if (isHead(input)) throw Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' });
      return put(input);
    });
    const err = await throttled.produce(config.name, [{ value: big('landed') }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    expect(err).not.toBeInstanceOf(ThrottledError);
    await service().produce(config.name, [{ value: big('next') }]);
    expect(labels((await fetchAll(config.name)).events)).toEqual(['landed', 'next']);
    // A throttled write to the tail is the only write of its append: nothing was written.
    const tailThrottled = await throttled.produce(config.name, [{ value: 'small' }]).catch((e: unknown) => e);
    expect(tailThrottled).toBeInstanceOf(ThrottledError);
    expect((await fetchAll(config.name)).highWatermark).toBe(2);
  });

  it('is finished by a transactional append too (message IDs), which then lands after it', async () => {
    const config = await newTopic();
    const crashing = faultyService(async (input) => {
      if (isHead(input)) throw timeout();
      return put(input);
    });
    await crashing.produce(config.name, [{ value: big('stranded') }]).catch(() => undefined);
    // Too big for the tail: its transaction flushes, which settles the stranded batch first.
    const { results } = await service().produce(config.name, [{ value: big('tx'), messageId: 'm-1' }]);
    expect(results[0]).toMatchObject({ offset: 1, duplicate: false });
    const { events } = await fetchAll(config.name);
    expect(events.map((e) => e.offset)).toEqual([0, 1]);
    expect(labels(events)).toEqual(['stranded', 'tx']);
  });

  it('appends once when the SDK retries either write after its answer was lost', async () => {
    const config = await newTopic();
    // Each put is applied, its answer lost, and sent again (as the SDK's retry does): the second
    // attempt fails its condition against the first's own write.
    const retried = faultyService(async (input) => {
      await put(input);
      return put(input);
    });
    // Small events go to the tail (one head write), big ones are a batch and a head.
    const values = ['a', big('b'), 'c', 'd', big('e'), 'f'];
    for (const value of values) await retried.produce(config.name, [{ value }]);
    const { events, highWatermark } = await fetchAll(config.name);
    expect(highWatermark).toBe(values.length);
    expect(labels(events)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('a crash after the batch write, with a concurrent producer, never gives one offset twice', async () => {
    const config = await newTopic();
    const crashes = 10;
    const crashing = faultyService(async (input) => {
      if (isHead(input)) throw timeout();
      return put(input);
    });
    const healthy = new LogService({ topics, log: healthyStore(), sleep: async () => {}, maxAppendAttempts: 100 });
    const answered: number[] = [];
    await Promise.all([
      (async () => {
        for (let i = 0; i < crashes; i++) await crashing.produce(config.name, [{ value: `crash-${i}` }]).catch(() => undefined);
      })(),
      (async () => {
        for (let i = 0; i < crashes; i++) answered.push((await healthy.produce(config.name, [{ value: `ok-${i}` }])).results[0]!.offset);
      })(),
    ]);
    // The last stranded batch is finished by the next append.
    answered.push((await healthy.produce(config.name, [{ value: 'last' }])).results[0]!.offset);
    const { events, highWatermark } = await fetchAll(config.name);
    expect(events.map((e) => e.offset)).toEqual([...Array(highWatermark).keys()]);
    // Every acknowledged event is where its answer said; every stranded one appears at most once.
    const byOffset = new Map(events.map((e) => [e.offset, e.value]));
    answered.forEach((offset, i) => expect(byOffset.get(offset)).toBe(i < crashes ? `ok-${i}` : 'last'));
    const values = events.map((e) => e.value);
    expect(new Set(values).size).toBe(values.length);
    expect(values.filter((v) => String(v).startsWith('ok-') || v === 'last')).toHaveLength(crashes + 1);
  });
});
