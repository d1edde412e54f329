/**
 * The stream runtime against DynamoDB Local, case by case: the split of a batch that needs more
 * than DynamoDB's 100 transaction actions (state or outputs), the chunked commit of one record too
 * big for any transaction (with a crash mid-way, completed by the next delivery of the partition),
 * dead-lettering, redelivery and lost deliveries, internal topics, re-created input topics, and
 * the Lambda handler (SQS partial batch responses, direct invocation, environment).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicNotFoundError } from '../../api/errors';
import type { FetchedEvent, ProduceEvent } from '../../api/events';
import { partitionForKey } from '../../api/partitioner';
import type { DeliveryBody } from '../../api/subscriptions';
import { TABLES } from '../../definitions/tables';
import { silentLogger } from '../../lambda/core/logger';
import { JoinWindows, sluiceProcessor, streams, TimeWindows, type DeadLetterValue } from '../../lambda/streams';
import { TopologyError } from '../../lambda/streams/dsl/errors';
import { processorRuntimeFromEnv } from '../../lambda/streams/runtime/environment';
import type { ProcessorRuntime } from '../../lambda/streams/runtime/runtime';
import { ProcessorStateStore } from '../../lambda/streams/runtime/state-store';
import { InjectedCrash, streamsFixture, type StreamsFixture } from './streams-harness';

let fixture: StreamsFixture;
beforeAll(async () => {
  fixture = await streamsFixture('streams-rt');
});
afterAll(() => {
  fixture.clients.doc.destroy();
});

const NOW = Date.now() - 60_000;

/** A delivery of `topic`'s partition `partition`, offsets [from, to), read from the log. */
async function deliveryOf(topic: string, partition: number, from: number, to: number): Promise<DeliveryBody> {
  const events: FetchedEvent[] = [];
  for (let offset = from; offset < to; ) {
    const page = await fixture.log.fetch(topic, partition, { offset, limit: Math.min(1000, to - offset) });
    if (page.events.length === 0) break;
    events.push(...page.events.filter((e) => e.offset < to));
    offset = page.nextOffset;
  }
  return { v: 1, subscription: 'test', topic, partition, events: events.map((e) => ({ ...e, subscription: 'test' })) };
}

const keyed = (n: number, key: (i: number) => string, value: (i: number) => unknown = (i) => ({ i })): ProduceEvent[] =>
  Array.from({ length: n }, (_, i) => ({ key: key(i), value: value(i), timestamp: NOW + i }));

describe('the 100-action split', () => {
  it('commits a batch whose state changes need more than 100 actions in several transactions, each with its own position', async () => {
    const app = streams('split-state');
    app.stream('split-state-in').groupByKey().count().toStream().to('split-state-out');
    await fixture.createTopic('split-state-in', 1);
    await fixture.createTopic('split-state-out', 1);
    // 100 keys: 100 state puts, the meta and the position, and a head and a batch on the output: 104 actions.
    await fixture.produce('split-state-in', keyed(100, (i) => `k${i}`));
    const runtime = fixture.runtime(app);
    const delivery = await deliveryOf('split-state-in', 0, 0, 100);
    const outcome = await runtime.processDelivery(delivery);
    expect(outcome).toMatchObject({ processed: 100, commits: 2, skipped: 0, chunked: 0 });
    const out = await fixture.readAll('split-state-out');
    expect(out.map((e) => `${e.key}=${e.value}`).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `k${i}=1`).sort());
    expect((await fixture.meta('split-state', 0, 'split-state-in')).position?.offset).toBe(100);

    // The same delivery again (its acknowledgement lost): all of it was committed, nothing happens.
    expect(await runtime.processDelivery(delivery)).toMatchObject({ processed: 0, commits: 0, skipped: 100 });

    // A crash right after the first of the two commits: the delivery comes again, and only what
    // the first commit did not cover (from the position it carried) is processed.
    await fixture.produce('split-state-in', keyed(100, (i) => `k${i}`));
    const second = await deliveryOf('split-state-in', 0, 100, 200);
    const crashing = fixture.runtime(app, { crashes: { afterCommit: (call) => call === 1 } });
    await expect(crashing.processDelivery(second)).rejects.toBeInstanceOf(InjectedCrash);
    const { position } = await fixture.meta('split-state', 0, 'split-state-in');
    expect(position!.offset).toBeGreaterThan(100);
    expect(position!.offset).toBeLessThan(200);
    const again = await runtime.processDelivery(second);
    expect(again).toMatchObject({ skipped: position!.offset - 100, processed: 200 - position!.offset, commits: 1 });
    const all = await fixture.readAll('split-state-out');
    expect(all.filter((e) => e.value === 2).map((e) => e.key).sort()).toEqual(Array.from({ length: 100 }, (_, i) => `k${i}`).sort());
    expect(all).toHaveLength(200);
    expect((await fixture.meta('split-state', 0)).meta.counters).toMatchObject({ processed: 200 });
  });

  it('splits a batch whose outputs touch too many partitions for one transaction', async () => {
    const app = streams('split-out');
    app.stream<{ i: number }>('split-out-in').mapValues((v) => ({ doubled: v.i * 2 })).to('split-out-out');
    await fixture.createTopic('split-out-in', 2);
    await fixture.createTopic('split-out-out', 128);
    // 60 keys on 60 different partitions: a head and a batch each, 120 actions with the meta and position.
    const keys: string[] = [];
    const used = new Set<number>();
    for (let n = 0; keys.length < 60; n++) {
      if (used.has(partitionForKey(`key-${n}`, 128))) continue;
      used.add(partitionForKey(`key-${n}`, 128));
      keys.push(`key-${n}`);
    }
    await fixture.produce('split-out-in', keyed(60, (i) => keys[i]!).map((e) => ({ ...e, partition: 1 })));
    const outcome = await fixture.runtime(app).processDelivery(await deliveryOf('split-out-in', 1, 0, 60));
    expect(outcome).toMatchObject({ processed: 60, commits: 2 });
    const out = await fixture.readAll('split-out-out');
    expect(out.map((e) => `${e.key}:${e.partition}:${(e.value as { doubled: number }).doubled}`).sort()).toEqual(
      keys.map((key, i) => `${key}:${partitionForKey(key, 128)}:${i * 2}`).sort(),
    );
  });
});

describe('a record too big for one transaction', () => {
  /** One input record fans out to `n` outputs, keyed k0…, over the 64 partitions of the output topic. */
  function fanOut(name: string) {
    const app = streams(name);
    app
      .stream<{ n: number }>(`${name}-a`)
      .merge(app.stream<{ n: number }>(`${name}-b`))
      .flatMap((v) => Array.from({ length: v.n }, (_, i) => ({ key: `k${i}`, value: { i } })))
      .to(`${name}-out`);
    return app;
  }

  it('commits its outputs in chunks with deterministic message IDs, then its position', async () => {
    const app = fanOut('fan');
    for (const t of ['fan-a', 'fan-b']) await fixture.createTopic(t, 1);
    await fixture.createTopic('fan-out', 64);
    // 150 outputs over (about) 58 of 64 partitions: a head and a batch each, more than one transaction holds.
    await fixture.produce('fan-a', [{ value: { n: 150 }, timestamp: NOW }]);
    const outcome = await fixture.runtime(app).processDelivery(await deliveryOf('fan-a', 0, 0, 1));
    expect(outcome).toMatchObject({ processed: 1, chunked: 1 });
    expect(outcome.commits).toBeGreaterThanOrEqual(3);
    const out = await fixture.readAll('fan-out');
    expect(out.map((e) => e.key).sort()).toEqual(Array.from({ length: 150 }, (_, i) => `k${i}`).sort());
    expect(out.map((e) => e.messageId).sort()).toEqual(Array.from({ length: 150 }, (_, n) => `fan:0:fan-a:0:${n}`).sort());
    const { meta, position } = await fixture.meta('fan', 0, 'fan-a');
    expect(meta.pending).toBeUndefined();
    expect(position?.offset).toBe(1);
  });

  it('after a crash between chunks, the next delivery of the partition (another topic) completes it first: every output once', async () => {
    const app = fanOut('fan2');
    for (const t of ['fan2-a', 'fan2-b']) await fixture.createTopic(t, 1);
    await fixture.createTopic('fan2-out', 64);
    await fixture.produce('fan2-a', [{ value: { n: 150 }, timestamp: NOW }]);
    await fixture.produce('fan2-b', [{ value: { n: 3 }, timestamp: NOW + 1 }]);
    const a = await deliveryOf('fan2-a', 0, 0, 1);
    const crashing = fixture.runtime(app, { crashes: { afterCommit: (call) => call === 2 } });
    await expect(crashing.processDelivery(a)).rejects.toBeInstanceOf(InjectedCrash);
    const { meta } = await fixture.meta('fan2', 0);
    expect(meta.pending).toMatchObject({ kind: 'record', topic: 'fan2-a', offset: 0, chunks: 2 });
    const written = (await fixture.readAll('fan2-out')).length;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(150);

    // The other side's delivery finishes the pending record before its own.
    const runtime = fixture.runtime(app);
    const b = await runtime.processDelivery(await deliveryOf('fan2-b', 0, 0, 1));
    expect(b).toMatchObject({ processed: 2, chunked: 1 });
    // The first delivery comes again: already committed.
    expect(await runtime.processDelivery(a)).toMatchObject({ processed: 0, skipped: 1 });
    const out = await fixture.readAll('fan2-out');
    expect(out.filter((e) => e.messageId.startsWith('fan2:0:fan2-a:0:')).map((e) => e.key).sort()).toEqual(
      Array.from({ length: 150 }, (_, i) => `k${i}`).sort(),
    );
    expect(out).toHaveLength(153);
    expect((await fixture.meta('fan2', 0)).meta.pending).toBeUndefined();
    expect((await fixture.meta('fan2', 0)).meta.counters).toMatchObject({ processed: 2 });
  });
});

describe('a record whose state changes do not fit one transaction', () => {
  it('is dead-lettered with that error (its changes cannot be split atomically)', async () => {
    const app = streams('hop-app');
    // 150 hopping windows per record: 150 state entries.
    app
      .stream('hop-in')
      .groupByKey()
      .windowedBy(TimeWindows.ofSize(150_000).advanceBy(1_000))
      .count()
      .toStream()
      .to('hop-out');
    await fixture.createTopic('hop-in', 1);
    await fixture.createTopic('hop-out', 1);
    await fixture.produce('hop-in', [{ key: 'k', value: {}, timestamp: NOW }]);
    const outcome = await fixture.runtime(app).processDelivery(await deliveryOf('hop-in', 0, 0, 1));
    expect(outcome).toMatchObject({ processed: 1, deadLettered: 1 });
    expect(await fixture.readAll('hop-out')).toEqual([]);
    const [dead] = await fixture.readAll('hop-app-dlq');
    expect((dead!.value as DeadLetterValue).error).toEqual({ name: 'StreamRecordError', message: expect.stringMatching(/changes 150 state entries/) });
  });
});

describe('punctuation', () => {
  it("emits a left join's unmatched records once their window closes, in the commit of the delivery that closed it", async () => {
    const app = streams('left-app');
    app
      .stream<{ id: string }>('left-orders')
      .leftJoin(app.stream<{ id: string }>('left-payments'), (o, p) => ({ order: o.id, payment: p?.id ?? null }), JoinWindows.ofTimeDifference(60_000))
      .to('left-out');
    for (const t of ['left-orders', 'left-payments', 'left-out']) await fixture.createTopic(t, 1);
    const t0 = NOW - 10 * 60_000;
    await fixture.produce('left-orders', [
      { key: 'o1', value: { id: 'o1' }, timestamp: t0 },
      { key: 'o2', value: { id: 'o2' }, timestamp: t0 + 10_000 },
    ]);
    await fixture.produce('left-payments', [{ key: 'o1', value: { id: 'p1' }, timestamp: t0 + 5_000 }]);
    const runtime = fixture.runtime(app);
    await runtime.processDelivery(await deliveryOf('left-orders', 0, 0, 2));
    await runtime.processDelivery(await deliveryOf('left-payments', 0, 0, 1));
    expect((await fixture.readAll('left-out')).map((e) => e.value)).toEqual([{ order: 'o1', payment: 'p1' }]);
    // A later order moves stream time past o2's window: the punctuation emits (o2, null).
    await fixture.produce('left-orders', [{ key: 'o3', value: { id: 'o3' }, timestamp: t0 + 5 * 60_000 }]);
    const outcome = await runtime.processDelivery(await deliveryOf('left-orders', 0, 2, 3));
    expect(outcome).toMatchObject({ processed: 1, commits: 1 });
    expect((await fixture.readAll('left-out')).map((e) => e.value)).toEqual([
      { order: 'o1', payment: 'p1' },
      { order: 'o2', payment: null },
    ]);
    expect((await fixture.meta('left-app', 0)).meta.streamTimes).toEqual({ '0': t0 + 5 * 60_000 });
  });
});

describe('dead letters', () => {
  it("sends a record whose code throws to '<app>-dlq' with its error, drops its effects, counts it, and goes on", async () => {
    interface Order {
      readonly id: string;
      readonly bad?: boolean;
    }
    const app = streams('dlq-app');
    const orders = app.stream<Order>('dlq-orders');
    orders.groupByKey().count().toStream().to('dlq-counts');
    orders
      .mapValues((o) => {
        if (o.bad) throw new Error(`order ${o.id} is bad`);
        return o;
      })
      .to('dlq-good');
    await fixture.createTopic('dlq-orders', 2);
    await fixture.createTopic('dlq-counts', 1);
    await fixture.createTopic('dlq-good', 1);
    const events = Array.from({ length: 30 }, (_, i) => ({ key: `c${i % 3}`, value: { id: `o${i}`, ...(i % 7 === 3 ? { bad: true } : {}) }, timestamp: NOW + i, partition: 0 }));
    await fixture.produce('dlq-orders', events);
    await fixture.produce('dlq-orders', [{ valueBase64: Buffer.from('not json').toString('base64'), key: 'c0', partition: 0, timestamp: NOW + 99 }]);
    const outcome = await fixture.runtime(app).processDelivery(await deliveryOf('dlq-orders', 0, 0, 31));
    const bad = events.filter((e) => e.value.bad);
    expect(outcome).toMatchObject({ processed: 31, deadLettered: bad.length + 1 });

    const dead = await fixture.readAll('dlq-app-dlq');
    expect(dead.map((e) => e.value as DeadLetterValue)).toEqual([
      ...bad.map((e) => ({
        topic: 'dlq-orders',
        partition: 0,
        offset: events.indexOf(e),
        key: e.key,
        value: e.value,
        timestamp: e.timestamp,
        error: { name: 'Error', message: `order ${e.value.id} is bad` },
      })),
      expect.objectContaining({ offset: 30, error: expect.objectContaining({ name: 'StreamRecordError', message: expect.stringContaining('valueBase64') }) }),
    ]);
    expect(dead.every((e) => e.partition === 0)).toBe(true);
    // A bad record's count was dropped with it: the counts are those of the good records only.
    const good = events.filter((e) => !e.value.bad);
    const expectedCounts = new Map<string, number>();
    const counts: string[] = [];
    for (const e of good) {
      expectedCounts.set(e.key, (expectedCounts.get(e.key) ?? 0) + 1);
      counts.push(`${e.key}=${expectedCounts.get(e.key)}`);
    }
    expect((await fixture.readAll('dlq-counts')).map((e) => `${e.key}=${e.value}`)).toEqual(counts);
    expect((await fixture.readAll('dlq-good')).map((e) => (e.value as Order).id)).toEqual(good.map((e) => e.value.id));
    expect((await fixture.meta('dlq-app', 0)).meta.counters).toMatchObject({ processed: 31, deadLettered: bad.length + 1 });
  });
});

describe('deliveries', () => {
  it('reads the events a lost delivery held from the log, so none is skipped', async () => {
    const app = streams('gap-app');
    app.stream('gap-in').to('gap-out');
    await fixture.createTopic('gap-in', 1);
    await fixture.createTopic('gap-out', 1);
    await fixture.produce('gap-in', keyed(15, (i) => `k${i}`));
    const runtime = fixture.runtime(app);
    expect(await runtime.processDelivery(await deliveryOf('gap-in', 0, 0, 5))).toMatchObject({ processed: 5, recovered: 0 });
    // 5..9 never delivered (moved to the queue's dead-letter queue after its receives ran out).
    expect(await runtime.processDelivery(await deliveryOf('gap-in', 0, 10, 15))).toMatchObject({ processed: 10, recovered: 5 });
    expect((await fixture.readAll('gap-out')).map((e) => e.key)).toEqual(Array.from({ length: 15 }, (_, i) => `k${i}`));
  });

  it('processes a re-created input topic from its start (positions carry the topic ID)', async () => {
    const app = streams('recreate-app');
    app.stream('recreate-in').to('recreate-out');
    await fixture.createTopic('recreate-in', 1);
    await fixture.createTopic('recreate-out', 1);
    await fixture.produce('recreate-in', keyed(5, (i) => `old${i}`));
    const runtime = fixture.runtime(app);
    await runtime.processDelivery(await deliveryOf('recreate-in', 0, 0, 5));
    const old = await fixture.topicStore.getTopic('recreate-in');
    await fixture.topicStore.deleteTopic('recreate-in', old!.topicId);
    await fixture.createTopic('recreate-in', 1);
    await fixture.produce('recreate-in', keyed(3, (i) => `new${i}`));
    expect(await runtime.processDelivery(await deliveryOf('recreate-in', 0, 0, 3))).toMatchObject({ processed: 3, skipped: 0 });
    expect((await fixture.readAll('recreate-out')).map((e) => e.key)).toEqual(['old0', 'old1', 'old2', 'old3', 'old4', 'new0', 'new1', 'new2']);
  });

  it('writes to a re-created output topic, not the deleted one, though the runtime caches topic configs', async () => {
    const app = streams('reborn-app');
    app.stream('reborn-in').to('reborn-out');
    await fixture.createTopic('reborn-in', 1);
    await fixture.createTopic('reborn-out', 1);
    await fixture.produce('reborn-in', keyed(4, (i) => `k${i}`));
    const runtime = fixture.runtime(app);
    await runtime.processDelivery(await deliveryOf('reborn-in', 0, 0, 2));
    const old = await fixture.topicStore.getTopic('reborn-out');
    await fixture.topicStore.deleteTopic('reborn-out', old!.topicId);
    await fixture.createTopic('reborn-out', 1);
    expect(await runtime.processDelivery(await deliveryOf('reborn-in', 0, 2, 4))).toMatchObject({ processed: 2 });
    expect((await fixture.readAll('reborn-out')).map((e) => e.key)).toEqual(['k2', 'k3']);
  });

  it('fails a delivery whose output topic does not exist, and processes it once the topic is there', async () => {
    const app = streams('missing-app');
    app.stream('missing-in').to('missing-out');
    await fixture.createTopic('missing-in', 1);
    await fixture.produce('missing-in', keyed(2, (i) => `k${i}`));
    const runtime = fixture.runtime(app);
    const delivery = await deliveryOf('missing-in', 0, 0, 2);
    await expect(runtime.processDelivery(delivery)).rejects.toBeInstanceOf(TopicNotFoundError);
    await fixture.createTopic('missing-out', 1);
    await expect(runtime.processDelivery(delivery)).resolves.toMatchObject({ processed: 2 });
  });
});

describe('state kept between deliveries', () => {
  it("is used only while the partition's version is still the one this process committed", async () => {
    const app = streams('cache-app');
    app.stream('cache-in').groupByKey().count().toStream().to('cache-out');
    await fixture.createTopic('cache-in', 1);
    await fixture.createTopic('cache-out', 1);
    await fixture.produce('cache-in', keyed(40, () => 'k'));
    /** Counts the state reads that reach the table. */
    class CountingStore extends ProcessorStateStore {
      reads = 0;
      override async get(pk: string, store: string, key: string) {
        this.reads++;
        return super.get(pk, store, key);
      }
    }
    const [storeA, storeB] = [0, 1].map(() => new CountingStore(fixture.clients.doc, fixture.resources.tables.processors));
    // Two execution environments of the processor, each with its own memory.
    const a = fixture.runtime(app, { state: storeA! });
    const b = fixture.runtime(app, { state: storeB! });
    await a.processDelivery(await deliveryOf('cache-in', 0, 0, 10));
    await a.processDelivery(await deliveryOf('cache-in', 0, 10, 20));
    expect(storeA!.reads).toBe(1); // the second delivery knew the count from the first one's commit
    await b.processDelivery(await deliveryOf('cache-in', 0, 20, 30));
    await a.processDelivery(await deliveryOf('cache-in', 0, 30, 40));
    expect(storeA!.reads).toBe(2); // b committed meanwhile: a read the count again
    expect((await fixture.readAll('cache-out')).map((e) => e.value)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  });
});

describe('internal topics', () => {
  it('creates the repartition and dead-letter topics on first use, with the partitions they follow, once', async () => {
    const app = streams('internal-app');
    app
      .stream<{ page: string }>('internal-in')
      .groupBy((v) => v.page)
      .count()
      .toStream()
      .to('internal-out');
    await fixture.createTopic('internal-in', 6);
    await fixture.createTopic('internal-out', 1);
    const first = fixture.runtime(app);
    const second = fixture.runtime(app);
    await Promise.all([first.start(), second.start()]);
    expect((await fixture.topicStore.getTopic('internal-app-repartition-0'))?.partitions).toBe(6);
    expect((await fixture.topicStore.getTopic('internal-app-dlq'))?.partitions).toBe(6);
    expect((await fixture.topicStore.listTopics()).filter((t) => t.name.startsWith('internal-app-'))).toHaveLength(2);
  });

  it('refuses co-partitioned topics with different partition counts', async () => {
    const app = streams('copart-app');
    app
      .stream('copart-left')
      .join(app.stream('copart-right'), (l, r) => ({ l, r }), JoinWindows.ofTimeDifference(1000))
      .to('copart-out');
    await fixture.createTopic('copart-left', 2);
    await fixture.createTopic('copart-right', 3);
    await fixture.createTopic('copart-out', 1);
    await expect(fixture.runtime(app).start()).rejects.toThrow(TopologyError);
  });
});

describe('sluiceProcessor (the Lambda handler)', () => {
  const envFor = (name: string) => ({
    SLUICE_PROCESSOR_NAME: name,
    [TABLES.topics.envVar]: fixture.resources.tables.topics,
    [TABLES.log.envVar]: fixture.resources.tables.log,
    [TABLES.dedupe.envVar]: fixture.resources.tables.dedupe,
    [TABLES.processors.envVar]: fixture.resources.tables.processors,
  });

  function passThrough(name: string) {
    const app = streams(name);
    app.stream(`${name}-in`).to(`${name}-out`);
    return app;
  }

  it('answers an SQS batch with the failed messages: a failure fails the later messages of its partition, not the others', async () => {
    const app = passThrough('handler-app');
    await fixture.createTopic('handler-app-in', 2);
    await fixture.createTopic('handler-app-out', 2);
    await fixture.produce('handler-app-in', keyed(6, (i) => `a${i}`).map((e) => ({ ...e, partition: 0 })));
    await fixture.produce('handler-app-in', keyed(2, (i) => `b${i}`).map((e) => ({ ...e, partition: 1 })));
    const handler = sluiceProcessor(app, { env: envFor('handler-app'), client: fixture.clients.doc, logger: silentLogger });
    expect(handler.topology.applicationId).toBe('handler-app');
    const message = (id: string, group: string, body: unknown) => ({ messageId: id, body: JSON.stringify(body), attributes: { MessageGroupId: group } });
    const notRead: DeliveryBody = { ...(await deliveryOf('handler-app-in', 1, 0, 2)), topic: 'some-other-topic' };
    const response = await handler({
      Records: [
        message('m1', 'handler-app-in#0', await deliveryOf('handler-app-in', 0, 0, 3)),
        message('m2', 'handler-app-in#1', notRead),
        message('m3', 'handler-app-in#0', await deliveryOf('handler-app-in', 0, 3, 6)),
        message('m4', 'handler-app-in#1', await deliveryOf('handler-app-in', 1, 0, 2)),
        message('m5', 'x', { not: 'a delivery' }),
      ],
    });
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }, { itemIdentifier: 'm4' }, { itemIdentifier: 'm5' }] });
    expect((await fixture.readAll('handler-app-out')).map((e) => e.key).sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5']);

    // A Lambda target's direct invocation: one delivery; its outcome, or its failure thrown.
    await expect(handler(await deliveryOf('handler-app-in', 1, 0, 2))).resolves.toMatchObject({ processed: 2 });
    await expect(handler({ v: 1, topic: 'handler-app-in' })).rejects.toThrow(/Not a Sluice delivery/);
  });

  it("refuses to start as another processor, and without its environment", async () => {
    const app = passThrough('env-app');
    expect(() => sluiceProcessor(app, { env: { ...envFor('env-app'), SLUICE_PROCESSOR_NAME: 'other-app' } })).toThrow(/env-app/);
    const unconfigured = sluiceProcessor(app, { env: {} });
    await expect(unconfigured({ Records: [] })).rejects.toThrow(/SLUICE_PROCESSOR_NAME/);
    const { [TABLES.processors.envVar]: _, ...withoutTable } = envFor('env-app');
    expect(() => processorRuntimeFromEnv(app.build(), withoutTable, { client: fixture.clients.doc })).toThrow(TABLES.processors.envVar);
    const runtime: ProcessorRuntime = processorRuntimeFromEnv(app.build(), envFor('env-app'), { client: fixture.clients.doc });
    expect(runtime.applicationId).toBe('env-app');
  });
});
