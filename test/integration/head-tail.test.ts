/**
 * The partition head's tail against DynamoDB Local, adversarially: crashes between a flush's batch
 * write and its head write (the stranded item discarded by a tail append, or settled by another
 * flush), concurrent producers with one crashing at random, the idempotent producer through tails,
 * reads that start in or cross into the tail (with stranded items past it that readers must not
 * see), and the SDK's retry of a tail write whose answer was lost, alone or with another append in
 * between. Faults are injected with aws-sdk-client-mock on a client of their own.
 */
import { randomBytes } from 'node:crypto';
import type { PutCommandInput } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutcomeUnknownError } from '../../api/errors';
import type { ProduceEvent, ProducerStamp } from '../../api/events';
import type { TopicConfig } from '../../api/topics';
import type { LogService } from '../../lambda/core/log/log-service';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { emulatorClients, provisionIsolated } from '../support/emulators';
import { big, isHead, labelOf, labels, logFixtures, timeout } from '../support/log-fixtures';
import { prng } from '../support/prng';

const clients = emulatorClients();
let resources: Awaited<ReturnType<typeof provisionIsolated>>;
let topics: DynamoDbTopicStore;
let n = 0;

const { put, healthyStore, service, countingStore, faultyService, crashHeads, switchableCrashHeads, fetchAll, headItem, batchItems, expireAllBatches } = logFixtures(
  clients,
  () => ({ resources, topics }),
);

/** Small values that fit the tail a few at a time, and together flush it. */
const medium = (label: string) => ({ label, pad: randomBytes(150).toString('base64') });

async function newTopic(overrides: Partial<TopicConfig> = {}): Promise<TopicConfig> {
  const config: TopicConfig = {
    name: `tail-${++n}`,
    topicId: `tid-tail-${n}-${Date.now()}`,
    partitions: 1,
    retentionMs: -1,
    dedupeWindowMs: 60_000,
    createdAt: new Date().toISOString(),
    ...overrides,
  };
  await topics.createTopic(config);
  return config;
}

/** Offsets 0..hw-1, each once, in order (nothing expired in these topics). */
function expectGapless(events: readonly { offset: number }[], highWatermark: number) {
  expect(events.map((e) => e.offset)).toEqual([...Array(highWatermark).keys()]);
}

/** Appends small events one by one (each into the tail) and checks they stayed there. */
async function fillTail(svc: LogService, config: TopicConfig, values: readonly string[]) {
  for (const value of values) await svc.produce(config.name, [{ value }]);
  const head = await headItem(config);
  expect(head?.tb).toBeDefined();
  return head!;
}

/** A clock the test moves by hand. */
function clock(start = Date.UTC(2026, 0, 1)) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

beforeAll(async () => {
  resources = await provisionIsolated('tail');
  topics = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
});

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

/** The crashing append's events: one big value, or many small ones that together overflow the tail. */
const flushes: [string, (label: string) => ProduceEvent[]][] = [
  ['a big event', (label) => [{ value: big(label) }]],
  ['many small events', (label) => Array.from({ length: 8 }, (_, i) => ({ value: medium(`${label}.${i}`) }))],
];

describe('a flush that crashed between its batch write and its head write', () => {
  it.each(flushes)('(%s) is discarded by a tail append from the same head, and a later flush overwrites its item', async (_, events) => {
    const config = await newTopic();
    const writer = service();
    await fillTail(writer, config, ['s0', 's1', 's2']);
    expect(await batchItems(config)).toHaveLength(0);

    const stranded = events('stranded');
    const err = await crashHeads().produce(config.name, stranded).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    // The flush's item is at the tail's base, planned from the head at 3, and not in the log.
    const items = await batchItems(config);
    expect(items.map((i) => [i.offset, i.hv, i.count])).toEqual([[0, 3, 3 + stranded.length]]);
    expect((await fetchAll(config.name)).highWatermark).toBe(3);

    // A small append from the same head goes into the tail over the stranded item.
    const { results } = await service().produce(config.name, [{ value: 's3' }]);
    expect(results[0]!.offset).toBe(3);
    expect(await headItem(config)).toMatchObject({ nextOffset: 4, tb: 0 });
    let all = await fetchAll(config.name);
    expectGapless(all.events, 4);
    expect(labels(all.events)).toEqual(['s0', 's1', 's2', 's3']);
    // Reads starting at any offset never see the stranded events either.
    for (let start = 0; start < 4; start++) {
      expect(labels((await service().fetch(config.name, 0, { offset: start, limit: 1000 })).events)).toEqual(['s0', 's1', 's2', 's3'].slice(start));
    }

    // The writer that filled the tail appends from its cached head (at 3): it loses the race and re-plans.
    const flush = await writer.produce(config.name, [{ value: big('flushed') }]);
    expect(flush.results[0]!.offset).toBe(4);
    all = await fetchAll(config.name);
    expectGapless(all.events, 5);
    expect(labels(all.events)).toEqual(['s0', 's1', 's2', 's3', 'flushed']);
    // The stranded item was overwritten by the committed flush (one item, the five events, planned from 4).
    expect((await batchItems(config)).map((i) => [i.offset, i.hv, i.count])).toEqual([[0, 4, 5]]);
    expect(await headItem(config)).toMatchObject({ nextOffset: 5 });
    expect((await headItem(config))?.tb).toBeUndefined();
  });

  // The next append flushes: a single batch (two writes), or a transaction (a message ID to remember).
  const nextFlushes: [string, ProduceEvent][] = [
    ['a big event', { value: big('next') }],
    // Too big for the tail (a small transactional append goes into the tail, discarding it).
    ['a transactional append', { value: big('next'), messageId: 'm-next' }],
  ];
  it.each(flushes.flatMap(([crashKind, events]) => nextFlushes.map(([nextKind, next]) => [crashKind, nextKind, events, next] as const)))(
    '(%s) is settled by another service\'s flush (%s), which lands after it; its events appear once', async (_, __, events, next) => {
    const config = await newTopic();
    await fillTail(service(), config, ['s0', 's1', 's2']);
    const stranded = events('stranded');
    await expect(crashHeads().produce(config.name, stranded)).rejects.toBeInstanceOf(OutcomeUnknownError);

    const { results } = await service().produce(config.name, [next]);
    const end = 3 + stranded.length;
    expect(results[0]!.offset).toBe(end);
    const all = await fetchAll(config.name);
    expectGapless(all.events, end + 1);
    expect(labels(all.events)).toEqual(['s0', 's1', 's2', ...stranded.map((e) => labelOf(e.value)), 'next']);
  });

  it('is settled by the crashed service\'s own retry from its cached head: answered at the next offset, the first attempt appearing once', async () => {
    const config = await newTopic();
    const { svc, crashing } = switchableCrashHeads();
    await fillTail(svc, config, ['s0', 's1']);
    crashing.on = true;
    await expect(svc.produce(config.name, [{ value: big('x') }])).rejects.toBeInstanceOf(OutcomeUnknownError);
    // The retry (a client without an idempotent producer) appends a second copy after the first.
    crashing.on = false;
    const retry = await svc.produce(config.name, [{ value: big('x') }]);
    expect(retry.results[0]!.offset).toBe(3);
    const all = await fetchAll(config.name);
    expectGapless(all.events, 4);
    expect(labels(all.events)).toEqual(['s0', 's1', 'x', 'x']);
  });

  it('is overwritten by a transactional append after a tail append discarded it', async () => {
    const config = await newTopic();
    await fillTail(service(), config, ['s0', 's1']);
    await expect(crashHeads().produce(config.name, [{ value: big('stranded') }])).rejects.toBeInstanceOf(OutcomeUnknownError);
    await service().produce(config.name, [{ value: 's2' }]);
    const { results } = await service().produce(config.name, [{ value: big('tx'), messageId: 'm-tx' }]);
    expect(results[0]).toMatchObject({ offset: 3, duplicate: false });
    const all = await fetchAll(config.name);
    expectGapless(all.events, 4);
    expect(labels(all.events)).toEqual(['s0', 's1', 's2', 'tx']);
    expect((await batchItems(config)).map((i) => [i.offset, i.hv, i.count])).toEqual([[0, 3, 4]]);
  });

  it('survives crash, tail append, crash, tail append at the same base: only the committed events appear', async () => {
    const config = await newTopic();
    await fillTail(service(), config, ['s0']);
    const expected = ['s0'];
    for (let round = 0; round < 3; round++) {
      await expect(crashHeads().produce(config.name, [{ value: big(`lost-${round}`) }])).rejects.toBeInstanceOf(OutcomeUnknownError);
      const { results } = await service().produce(config.name, [{ value: `t${round}` }]);
      expected.push(`t${round}`);
      expect(results[0]!.offset).toBe(expected.length - 1);
      // Still one stranded item at the tail's base, never read.
      expect((await headItem(config))?.tb).toBe(0);
      const all = await fetchAll(config.name);
      expectGapless(all.events, expected.length);
      expect(labels(all.events)).toEqual(expected);
    }
    await service().produce(config.name, [{ value: big('done') }]);
    const all = await fetchAll(config.name);
    expect(labels(all.events)).toEqual([...expected, 'done']);
  });
});

describe('concurrent producers with one crashing head writes at random', () => {
  it('keeps every acknowledged event once at its answered offset, stranded ones at most once, offsets gapless', async () => {
    const config = await newTopic({ dedupeWindowMs: 0 });
    const random = prng(20261201).next;
    let crashes = 0;
    let lostAnswers = 0;
    // 30% of head writes crash before being applied; 10% are applied and their answer lost.
    const crashing = faultyService(async (input) => {
      if (isHead(input)) {
        const roll = random();
        if (roll < 0.3) {
          crashes++;
          throw timeout();
        }
        if (roll < 0.4) {
          lostAnswers++;
          await put(input);
          throw timeout();
        }
      }
      return put(input);
    });
    const producers = 5;
    const perProducer = 20;
    const acknowledged = new Map<string, number>();
    const unknown = new Set<string>();
    await Promise.all(
      Array.from({ length: producers }, async (_, p) => {
        const svc = p === 0 ? crashing : service();
        for (let i = 0; i < perProducer; i++) {
          // Mostly small (tail appends), some that flush, some requests of several.
          const kind = (i + p) % 5;
          const events: ProduceEvent[] =
            kind === 0 ? [{ value: big(`${p}-${i}`) }] : kind === 1 ? [{ value: medium(`${p}-${i}.a`) }, { value: medium(`${p}-${i}.b`) }] : [{ value: `${p}-${i}` }];
          try {
            const { results } = await svc.produce(config.name, events);
            results.forEach((r, j) => acknowledged.set(String(labelOf(events[j]!.value)), r.offset));
          } catch (err) {
            expect(err).toBeInstanceOf(OutcomeUnknownError);
            for (const e of events) unknown.add(String(labelOf(e.value)));
          }
        }
      }),
    );
    // Settles a last stranded flush, if any.
    const last = await service().produce(config.name, [{ value: big('last') }]);
    acknowledged.set('last', last.results[0]!.offset);

    const { events, highWatermark } = await fetchAll(config.name);
    console.log(`head-tail concurrency: ${events.length} events, ${acknowledged.size} acknowledged, ${unknown.size} unknown, ${crashes} crashes, ${lostAnswers} lost answers`);
    expect(crashes).toBeGreaterThan(0);
    expectGapless(events, highWatermark);
    const found = labels(events).map(String);
    const counts = new Map<string, number>();
    for (const l of found) counts.set(l, (counts.get(l) ?? 0) + 1);
    for (const [l, count] of counts) {
      expect(acknowledged.has(l) || unknown.has(l), `unexpected event ${l}`).toBe(true);
      expect(count, `event ${l} appended ${count} times`).toBe(1);
    }
    for (const [l, offset] of acknowledged) expect(labelOf(events[offset]?.value), `acknowledged ${l} at ${offset}`).toBe(l);
  });
});

describe('the idempotent producer through tails', () => {
  it('answers a retried tail append as a duplicate with its original offsets, writing nothing (same and another service)', async () => {
    const config = await newTopic();
    const { store, sent } = countingStore();
    const svc = service(store);
    await svc.produce(config.name, [{ value: 'plain' }]);
    const stamp: ProducerStamp = { id: 'p-tail', epoch: 1, sequence: 0 };
    const events = [{ value: 'a' }, { value: 'b' }];
    const first = await svc.produce(config.name, events, stamp);
    expect(first.results.map((r) => r.offset)).toEqual([1, 2]);
    expect((await headItem(config))?.tb).toBe(0);

    sent.length = 0;
    const retry = await svc.produce(config.name, events, stamp);
    expect(retry.results).toEqual(first.results.map((r) => ({ ...r, duplicate: true })));
    expect(sent.filter((c) => c === 'PutCommand' || c === 'TransactWriteCommand')).toEqual([]);
    const elsewhere = await service().produce(config.name, events, stamp);
    expect(elsewhere.results).toEqual(first.results.map((r) => ({ ...r, duplicate: true })));
    expect(labels((await fetchAll(config.name)).events)).toEqual(['plain', 'a', 'b']);
  });

  it('answers the retry of a tail append whose answer was lost as a duplicate, even from a service planning on a stale head', async () => {
    const config = await newTopic();
    let lose = false;
    const svc = faultyService(async (input) => {
      if (lose) {
        await put(input);
        throw timeout();
      }
      return put(input);
    });
    await svc.produce(config.name, [{ value: 'plain' }]);
    const stamp: ProducerStamp = { id: 'p-lost', epoch: 1, sequence: 0 };
    // Explicit timestamps, as a client sends them again on a retry.
    const events = [{ value: 'a', timestamp: 1_000 }];
    lose = true;
    await expect(svc.produce(config.name, events, stamp)).rejects.toBeInstanceOf(OutcomeUnknownError);
    lose = false;
    // The retry plans from the head this service cached before (at 1): its write fails, and the store
    // finds its event there.
    const retry = await svc.produce(config.name, events, stamp);
    expect(retry.results[0]).toMatchObject({ offset: 1, duplicate: true });
    expect(labels((await fetchAll(config.name)).events)).toEqual(['plain', 'a']);
  });

  it('answers the retry of a crashed flush settled by another writer as a duplicate (no second copy)', async () => {
    const config = await newTopic();
    await fillTail(service(), config, ['s0', 's1']);
    const stamp: ProducerStamp = { id: 'p-flush', epoch: 1, sequence: 0 };
    const events = [{ value: big('idem') }];
    await expect(crashHeads().produce(config.name, events, stamp)).rejects.toBeInstanceOf(OutcomeUnknownError);
    const other = await service().produce(config.name, [{ value: big('other') }]);
    expect(other.results[0]!.offset).toBe(3);

    const retry = await service().produce(config.name, events, stamp);
    expect(retry.results[0]).toMatchObject({ offset: 2, duplicate: true });
    const all = await fetchAll(config.name);
    expectGapless(all.events, 4);
    expect(labels(all.events)).toEqual(['s0', 's1', 'idem', 'other']);
    // The producer's next batch continues its sequence.
    const next = await service().produce(config.name, [{ value: 'idem-2' }], { ...stamp, sequence: 1 });
    expect(next.results[0]).toMatchObject({ offset: 4, duplicate: false });
  });

  it('appends the retry of a crashed flush discarded by a tail append, exactly once', async () => {
    const config = await newTopic();
    await fillTail(service(), config, ['s0', 's1']);
    const stamp: ProducerStamp = { id: 'p-discard', epoch: 1, sequence: 0 };
    const events = [{ value: big('idem') }];
    await expect(crashHeads().produce(config.name, events, stamp)).rejects.toBeInstanceOf(OutcomeUnknownError);
    await service().produce(config.name, [{ value: 's2' }]);

    const retry = await service().produce(config.name, events, stamp);
    expect(retry.results[0]).toMatchObject({ offset: 3, duplicate: false });
    const again = await service().produce(config.name, events, stamp);
    expect(again.results[0]).toMatchObject({ offset: 3, duplicate: true });
    const all = await fetchAll(config.name);
    expectGapless(all.events, 4);
    expect(labels(all.events)).toEqual(['s0', 's1', 's2', 'idem']);
  });

  it('settles its own crashed flush when its retry comes from the service that crashed (cached head), answering a duplicate', async () => {
    const config = await newTopic();
    const { svc, crashing } = switchableCrashHeads();
    await fillTail(svc, config, ['s0', 's1']);
    const stamp: ProducerStamp = { id: 'p-own', epoch: 1, sequence: 0 };
    const events = [{ value: big('idem') }];
    crashing.on = true;
    await expect(svc.produce(config.name, events, stamp)).rejects.toBeInstanceOf(OutcomeUnknownError);
    crashing.on = false;
    const retry = await svc.produce(config.name, events, stamp);
    expect(retry.results[0]).toMatchObject({ offset: 2 });
    const all = await fetchAll(config.name);
    expect(labels(all.events)).toEqual(['s0', 's1', 'idem']);
  });
});

describe('what the tail holds', () => {
  it('keeps keys, values, bytes, headers, timestamps and message IDs through the tail and its flush', async () => {
    const config = await newTopic({ dedupeWindowMs: 0 });
    const svc = service();
    const events: ProduceEvent[] = [
      { key: 'k', value: { nested: [1, 'two', null], uni: 'ü€😀' }, headers: { a: '1' }, messageId: 'id-1', timestamp: 42 },
      { valueBase64: Buffer.from([0, 255, 7]).toString('base64'), messageId: 'id-2', timestamp: 43 },
      { key: null, messageId: 'id-3', timestamp: 44 },
      { value: 'line\nbreak "quoted" \u2028', timestamp: 41, messageId: 'id-4' },
      { value: 0.1, messageId: 'id-5', timestamp: 45 },
    ];
    for (const e of events) await svc.produce(config.name, [e]);
    expect((await headItem(config))?.tb).toBe(0);
    const expected = events.map((e, offset) => ({
      topic: config.name,
      partition: 0,
      offset,
      key: e.key ?? null,
      ...(e.value === undefined ? {} : { value: e.value }),
      ...(e.valueBase64 === undefined ? {} : { valueBase64: e.valueBase64 }),
      headers: e.headers ?? {},
      timestamp: e.timestamp,
      messageId: e.messageId,
    }));
    expect(JSON.parse(JSON.stringify((await svc.fetch(config.name, 0, { offset: 0 })).events))).toEqual(expected);
    await svc.produce(config.name, [{ value: big('flush'), messageId: 'id-6', timestamp: 46 }]);
    expect((await headItem(config))?.tb).toBeUndefined();
    const flushed = (await svc.fetch(config.name, 0, { offset: 0 })).events;
    expect(JSON.parse(JSON.stringify(flushed.slice(0, 5)))).toEqual(expected);
    // The time index: the seek finds the out-of-order timestamp's successor by the running maximum.
    expect(await svc.offsetForTime(config.name, 0, 45)).toBe(4);
  });

  it('bills every one-write tail append one write unit, with multi-byte values and an idempotent producer on the head', async () => {
    const config = await newTopic();
    const svc = service();
    const stamp: ProducerStamp = { id: 'p-units-with-a-rather-long-identifier', epoch: 3, sequence: 0 };
    const units: number[] = [];
    let flushes = 0;
    for (let i = 0; i < 40; i++) {
      // Incompressible multi-byte text: its UTF-8 bytes, not its characters, fill the unit.
      const value = Array.from(randomBytes(20 + (i % 7) * 9), (b) => String.fromCodePoint(0x4e00 + b)).join('');
      const before = await headItem(config);
      const out = await svc.produce(config.name, [{ value }], { ...stamp, sequence: i });
      const after = await headItem(config);
      if (after?.tb !== undefined && (before?.tb === undefined || after.tb === before.tb)) units.push(out.consumedWriteUnits!);
      else flushes++;
    }
    console.log(`tail appends ${units.length}, flushes ${flushes}, units ${units.join(',')}`);
    expect(units.length).toBeGreaterThan(10);
    expect(flushes).toBeGreaterThan(2);
    expect(units.every((u) => u === 1)).toBe(true);
  });
});

describe('reads of the tail', () => {
  /** Two batch items (0, 1), then s2..s5 in the tail (base 2), and a stranded flush at the tail's base. */
  async function logWithTail() {
    const config = await newTopic();
    const svc = service();
    await svc.produce(config.name, [{ value: big('b0'), timestamp: 1_000 }]);
    await svc.produce(config.name, [{ value: big('b1'), timestamp: 2_000 }]);
    for (const [i, t] of [[2, 3_000], [3, 4_000], [4, 5_000], [5, 6_000]] as const) await svc.produce(config.name, [{ value: `s${i}`, timestamp: t }]);
    expect(await headItem(config)).toMatchObject({ nextOffset: 6, tb: 2 });
    // Readers must never take this item at the tail's base for the tail's events.
    await expect(crashHeads().produce(config.name, [{ value: big('ghost'), timestamp: 500 }])).rejects.toBeInstanceOf(OutcomeUnknownError);
    expect((await batchItems(config)).map((i) => i.offset)).toEqual([0, 1, 2]);
    return config;
  }
  const all = ['b0', 'b1', 's2', 's3', 's4', 's5'];

  it('fetches from inside the tail, across the last batch item into it, and cuts at a limit inside it', async () => {
    const config = await logWithTail();
    const svc = service();
    for (let start = 0; start <= 6; start++) {
      for (const limit of [1, 2, 3, 5, 1000]) {
        const page = await svc.fetch(config.name, 0, { offset: start, limit });
        const want = all.slice(start, start + limit);
        expect(labels(page.events), `from ${start} limit ${limit}`).toEqual(want);
        expect(page.events.map((e) => e.offset)).toEqual(want.map((_, i) => start + i));
        expect(page.nextOffset).toBe(start + want.length);
        expect(page.highWatermark).toBe(6);
      }
    }
  });

  it('seeks by timestamp into the tail, and across from the batches', async () => {
    const config = await logWithTail();
    const svc = service();
    const at = async (timestamp: number) => (await svc.fetch(config.name, 0, { timestamp, limit: 1 })).events[0]?.offset;
    expect(await at(0)).toBe(0);
    expect(await at(1_500)).toBe(1);
    expect(await at(2_500)).toBe(2);
    expect(await at(3_000)).toBe(2);
    expect(await at(4_500)).toBe(4);
    expect(await at(6_000)).toBe(5);
    expect(await at(6_001)).toBeUndefined();
    expect(await svc.offsetForTime(config.name, 0, 5_500)).toBe(5);
    expect(await svc.offsetForTime(config.name, 0, 7_000)).toBe(6);
  });

  it('starts the log at the tail when every batch item expired while the tail lives (describe and earliest)', async () => {
    const config = await logWithTail();
    expect(await expireAllBatches(config)).toBe(3);
    // A stranded item at the tail's base again, after the deletes.
    await expect(crashHeads().produce(config.name, [{ value: big('ghost-2') }])).rejects.toBeInstanceOf(OutcomeUnknownError);
    const svc = service();
    const [offsets] = await svc.partitionOffsets(config);
    expect(offsets).toEqual({ partition: 0, logStartOffset: 2, highWatermark: 6 });
    const page = await svc.fetch(config.name, 0, { offset: 'earliest' });
    expect(page.logStartOffset).toBe(2);
    expect(labels(page.events)).toEqual(['s2', 's3', 's4', 's5']);
    expect(await svc.offsetForTime(config.name, 0, 0)).toBe(2);

    // The next flush, planned from the crashed one's head, settles it and lands after it; the log start stays.
    const flushed = await svc.produce(config.name, [{ value: big('after') }]);
    expect(flushed.results[0]!.offset).toBe(7);
    const after = await fetchAll(config.name);
    expect(after.logStartOffset).toBe(2);
    expect(labels(after.events)).toEqual(['s2', 's3', 's4', 's5', 'ghost-2', 'after']);
  });

  it('hides tail events past retention and moves the log start into (and past) the tail', async () => {
    const config = await newTopic({ retentionMs: 10_000 });
    const time = clock();
    const svc = service(healthyStore(), { now: time.now });
    await svc.produce(config.name, [{ value: big('batch') }]);
    time.advance(2_000);
    await svc.produce(config.name, [{ value: 'old-1' }]);
    await svc.produce(config.name, [{ value: 'old-2' }]);
    time.advance(5_000);
    await svc.produce(config.name, [{ value: 'new' }]);
    expect(await headItem(config)).toMatchObject({ nextOffset: 4, tb: 1 });

    time.advance(3_000); // the batch is 10 s old
    let page = await svc.fetch(config.name, 0, { offset: 'earliest' });
    expect(labels(page.events)).toEqual(['old-1', 'old-2', 'new']);
    expect(page.logStartOffset).toBe(1);

    time.advance(2_000); // old-1 and old-2 are 10 s old
    page = await service(healthyStore(), { now: time.now }).fetch(config.name, 0, { offset: 'earliest' });
    expect(labels(page.events)).toEqual(['new']);
    expect(page.logStartOffset).toBe(3);
    const [offsets] = await service(healthyStore(), { now: time.now }).partitionOffsets(config);
    expect(offsets).toMatchObject({ logStartOffset: 3, highWatermark: 4 });
    expect(await service(healthyStore(), { now: time.now }).offsetForTime(config.name, 0, 0)).toBe(3);

    time.advance(5_000); // everything is gone
    page = await service(healthyStore(), { now: time.now }).fetch(config.name, 0, { offset: 'earliest' });
    expect(page).toMatchObject({ events: [], logStartOffset: 4, highWatermark: 4, nextOffset: 4 });
  });
});

describe('the SDK retrying a tail write after its answer was lost', () => {
  it('appends once and answers the right offsets', async () => {
    const config = await newTopic();
    const retried = faultyService(async (input) => {
      await put(input);
      return put(input);
    });
    for (let i = 0; i < 4; i++) {
      const { results } = await retried.produce(config.name, [{ value: `a${i}` }, { value: `b${i}` }]);
      expect(results.map((r) => r.offset)).toEqual([2 * i, 2 * i + 1]);
    }
    const all = await fetchAll(config.name);
    expectGapless(all.events, 8);
    expect(labels(all.events)).toEqual(['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'a3', 'b3']);
  });

  // Between the two sends, another producer appends: into the tail, as a flush (our events into a
  // batch item), or as a flush that crashes (the head keeps our tail).
  const between: [string, (config: TopicConfig) => Promise<unknown>][] = [
    ['a tail append', (config) => service().produce(config.name, [{ value: 'other' }])],
    ['a flush', (config) => service().produce(config.name, [{ value: big('other') }])],
    ['a crashed flush', (config) => crashHeads().produce(config.name, [{ value: big('ghost') }]).catch(() => undefined)],
  ];
  it.each(between)('recognises its first send as its own when %s came in between', async (kind, interleave) => {
    const config = await newTopic();
    await service().produce(config.name, [{ value: 's0' }]);
    let interleaved = false;
    const retried = faultyService(async (input) => {
      if (!isHead(input) || interleaved) return put(input);
      await put(input);
      interleaved = true;
      await interleave(config);
      return put(input);
    });
    const { results } = await retried.produce(config.name, [{ value: 'mine' }]);
    expect(interleaved).toBe(true);
    expect(results[0]).toMatchObject({ offset: 1, duplicate: false });
    const all = await fetchAll(config.name);
    const expected = kind === 'a crashed flush' ? ['s0', 'mine'] : ['s0', 'mine', 'other'];
    expectGapless(all.events, expected.length);
    expect(labels(all.events)).toEqual(expected);
    // The service's next append goes after everything (its cached head is stale: it re-plans).
    const next = await retried.produce(config.name, [{ value: 'next' }]);
    expect(next.results[0]!.offset).toBe(expected.length);
  });

  // A flush's two puts, each applied and sent again with another append in between: a tail append
  // from the same head (which discards the flush's item if it comes before the head write), or a flush.
  const flushPuts: [string, (input: PutCommandInput) => boolean][] = [
    ['its batch put', (input) => !isHead(input)],
    ['its head put', isHead],
  ];
  const others: [string, ProduceEvent][] = [
    ['a tail append', { value: 'other' }],
    ['a flush', { value: big('other') }],
  ];
  it.each(flushPuts.flatMap(([which, match]) => others.map(([kind, other]) => [which, kind, match, other] as const)))(
    'appends a flush once, answered right, when %s is sent again after %s', async (which, kind, match, other) => {
    const config = await newTopic();
    await fillTail(service(), config, ['s0', 's1']);
    let interleaved = false;
    const retried = faultyService(async (input) => {
      if (!match(input) || interleaved) return put(input);
      await put(input);
      interleaved = true;
      await service().produce(config.name, [other]);
      return put(input);
    });
    const { results } = await retried.produce(config.name, [{ value: big('mine') }]);
    expect(interleaved).toBe(true);
    const all = await fetchAll(config.name);
    const found = labels(all.events);
    expect(found.filter((l) => l === 'mine')).toHaveLength(1);
    expect(found.filter((l) => l === 'other')).toHaveLength(1);
    expect(found.slice(0, 2)).toEqual(['s0', 's1']);
    expectGapless(all.events, 4);
    expect(labelOf(all.events[results[0]!.offset]!.value)).toBe('mine');
    // Discarded only if the tail append came before our head write; else committed first.
    if (which === 'its batch put' && kind === 'a tail append') expect(results[0]!.offset).toBe(3);
    else expect(results[0]!.offset).toBe(2);
  });

  // A flush whose head put is slow: other appends land between its batch put and its head put.
  const meanwhile: [string, ProduceEvent[][], number][] = [
    // A tail append from the same head discards our item: we re-plan and land after it.
    ['a tail append', [[{ value: 'other' }]], 3],
    // A flush from the same head settles our item first: we are answered at our planned offset.
    ['a flush', [[{ value: big('other') }]], 2],
    // A tail append, then a flush that overwrites our discarded item with its own.
    ['a tail append then a flush', [[{ value: 'other' }], [{ value: big('other-2') }]], 4],
  ];
  it.each(meanwhile)('appends a flush once when its head put comes after %s', async (_, appends, offset) => {
    const config = await newTopic();
    await fillTail(service(), config, ['s0', 's1']);
    let delayed = false;
    const slow = faultyService(async (input) => {
      if (isHead(input) && !delayed) {
        delayed = true;
        for (const events of appends) await service().produce(config.name, events);
      }
      return put(input);
    });
    const { results } = await slow.produce(config.name, [{ value: big('mine') }]);
    expect(delayed).toBe(true);
    expect(results[0]!.offset).toBe(offset);
    const all = await fetchAll(config.name);
    expectGapless(all.events, 3 + appends.length);
    expect(labelOf(all.events[offset]!.value)).toBe('mine');
    expect(labels(all.events).filter((l) => l === 'mine')).toHaveLength(1);
  });

  it('appends an event planned from a stale head even when an earlier event has the same message ID and timestamp (dedupe off)', async () => {
    // Without dedupe a caller's message ID may repeat; a tail write that lost its race must not
    // take another request's event for its own.
    const config = await newTopic({ dedupeWindowMs: 0 });
    const stale = service();
    await stale.produce(config.name, [{ value: 'warm' }]);
    await service().produce(config.name, [{ value: 'first', messageId: 'same', timestamp: 5_000 }]);
    const { results } = await stale.produce(config.name, [{ value: 'second', messageId: 'same', timestamp: 5_000 }]);
    // The service's next append, planned from the head it now caches, must keep both.
    await stale.produce(config.name, [{ value: 'third' }]);
    const all = await fetchAll(config.name);
    expect(labels(all.events)).toEqual(['warm', 'first', 'second', 'third']);
    expect(results[0]).toMatchObject({ offset: 2, duplicate: false });
  });
});
