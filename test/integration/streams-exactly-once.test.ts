/**
 * Exactly-once of the stream runtime under crashes, against DynamoDB Local. Deliveries are read from
 * the real log by a simulated push subscription (streams-harness.ts: a cursor per topic partition,
 * redelivery from the cursor after a failure), while crashes are injected at random (seeded):
 * before a commit, after a commit but before the runtime hears of it (mid-way through split
 * commits, or before the ack), on state reads mid-record; acknowledgements are lost (the delivery
 * comes again) and whole deliveries are dropped (as SQS does after maxReceiveCount: the runtime
 * finds their events in the log). The two sides of a join are delivered side by side on the same
 * partition. Every output is then checked EXACTLY against ground truth this file computes on its
 * own, from the inputs (and, for the stage after a repartition topic, from that topic's actual order):
 * no double count, no lost update, no duplicate output. Lower transaction limits force the split
 * (several commits per delivery) and the chunked path (one record's outputs over several commits).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProduceEvent } from '../../api/events';
import { partitionForKey } from '../../api/partitioner';
import { JoinWindows, streams, TimeWindows, type Windowed } from '../../lambda/streams';
import { drive, prng, streamsFixture, type CrashCounts, type StreamsFixture } from './streams-harness';

let fixture: StreamsFixture;
beforeAll(async () => {
  fixture = await streamsFixture('streams-eos');
});
afterAll(() => {
  fixture.clients.doc.destroy();
});

/** Event times: from an hour ago, aligned to a minute (topics keep 7 days, so nothing expires). */
const T0 = Math.floor(Date.now() / 60_000) * 60_000 - 60 * 60_000;
const MINUTE = 60_000;
/**
 * Upstream partitions progress at their own pace, so a repartition topic interleaves them minutes
 * apart (in event time): a grace period that absorbs most of that skew.
 */
const GRACE = 20 * MINUTE;

interface Click {
  readonly id: string;
  readonly page: string;
  readonly user: string;
}

function report(name: string, numbers: Record<string, unknown>): void {
  // The counts the issue asks the note to report.
  console.log(`[exactly-once] ${name}: ${JSON.stringify(numbers)}`);
}

const CRASHES = { beforeCommit: 0.08, afterCommit: 0.08, onRead: 0.01 };

describe('exactly-once under crashes and redeliveries', () => {
  // 100: DynamoDB's limit (a delivery fits one commit); 9: deliveries split into several commits;
  // 5: a click's two outputs on two partitions (6 actions with the meta and position) no longer fit
  // one transaction, so each click's outputs go out in chunks with deterministic message IDs.
  it.each([
    { seed: 11, maxTransactionActions: 100 },
    { seed: 12, maxTransactionActions: 9 },
    { seed: 13, maxTransactionActions: 5 },
  ])(
    'clicks per minute: windowed count with late and out-of-order events, re-keyed across partitions (seed $seed, $maxTransactionActions actions)',
    async ({ seed, maxTransactionActions }) => {
      const random = prng(seed);
      const id = `cpm${seed}`;
      const [clicks, perMinute, byUser] = [`${id}-clicks`, `${id}-per-minute`, `${id}-by-user`];
      await fixture.createTopic(clicks, 4);
      await fixture.createTopic(perMinute, 2);
      await fixture.createTopic(byUser, 3);

      const app = streams(id);
      const stream = app.stream<Click>(clicks);
      stream
        .groupBy((c) => c.page)
        .windowedBy(TimeWindows.ofSize(MINUTE).grace(GRACE))
        .count()
        .toStream()
        .to(perMinute);
      stream.selectKey((c) => c.user).to(byUser);
      const repartition = `${id}-repartition-0`;

      // Over 40 minutes: mostly in order, up to 30 s out of order, and 1 in 25 half an hour to
      // 45 minutes late (past the grace period).
      const events: ProduceEvent[] = [];
      const inputs = new Map<string, Click & { ts: number }>();
      for (let i = 0; i < 600; i++) {
        const click: Click = { id: `c${i}`, page: `/p${random.int(0, 9)}`, user: `u${random.int(0, 29)}` };
        const base = T0 + i * 4_000;
        const ts = random.chance(0.04) ? base - random.int(30 * MINUTE, 45 * MINUTE) : base - random.int(0, 30_000);
        inputs.set(click.id, { ...click, ts });
        events.push({ key: click.user, value: click, timestamp: ts });
      }
      await fixture.produce(clicks, events);

      const crashes: CrashCounts = { beforeCommit: 0, afterCommit: 0, onRead: 0 };
      const runtime = fixture.runtime(app, { crashes: CRASHES, random, counts: crashes, maxTransactionActions });
      const run = await drive(fixture, runtime, [clicks, repartition], { random, lostAck: 0.1, lostDelivery: 0.02, maxEvents: 30 });

      // Stage 1 (source → repartition topic by page): each click exactly once, on its page's partition,
      // and the clicks of one source partition in their source order.
      const rekeyed = await fixture.readAll(repartition);
      expect(rekeyed.map((e) => (e.value as Click).id).sort()).toEqual([...inputs.keys()].sort());
      for (const e of rekeyed) {
        expect(e.key).toBe((e.value as Click).page);
        expect(e.partition).toBe(partitionForKey(e.key!, 4));
        expect(e.timestamp).toBe(inputs.get((e.value as Click).id)!.ts);
      }
      const sourceOrder = (c: Click) => Number(c.id.slice(1)); // produced in id order, per user key
      for (let p = 0; p < 4; p++) {
        const seen = new Map<number, number>();
        for (const e of rekeyed.filter((r) => r.partition === p)) {
          const c = e.value as Click;
          const from = partitionForKey(c.user, 4);
          expect(sourceOrder(c)).toBeGreaterThan(seen.get(from) ?? -1);
          seen.set(from, sourceOrder(c));
        }
      }

      // Stage 2 (repartition topic → counts), from that topic's actual order: per partition, stream
      // time is the largest timestamp so far; a click whose window closed (stream time >= end +
      // grace) is dropped and counted; every other one emits its window's new count.
      const expected: string[] = [];
      let late = 0;
      for (let p = 0; p < 4; p++) {
        const counts = new Map<string, number>();
        let streamTime = -Infinity;
        for (const e of rekeyed.filter((r) => r.partition === p).sort((a, b) => a.offset - b.offset)) {
          streamTime = Math.max(streamTime, e.timestamp);
          const start = Math.floor(e.timestamp / MINUTE) * MINUTE;
          if (streamTime >= start + MINUTE + GRACE) {
            late++;
            continue;
          }
          const window = `${e.key}|${start}`;
          counts.set(window, (counts.get(window) ?? 0) + 1);
          expected.push(`${window}|${counts.get(window)}`);
        }
      }
      const counted = await fixture.readAll(perMinute);
      for (const e of counted) {
        const v = e.value as Windowed<number>;
        expect(e.key).toBe(v.key);
        expect(v.window.end).toBe(v.window.start + MINUTE);
      }
      expect(counted.map((e) => { const v = e.value as Windowed<number>; return `${v.key}|${v.window.start}|${v.value}`; }).sort()).toEqual(expected.sort());
      expect(late).toBeGreaterThan(0);
      expect(late).toBeLessThan(inputs.size / 2);
      expect(await fixture.counter(id, 4, 'lateDropped')).toBe(late);

      // selectKey(...).to(): no repartition topic, placed by the new key on a topic of another size.
      const users = await fixture.readAll(byUser);
      expect(users.map((e) => (e.value as Click).id).sort()).toEqual([...inputs.keys()].sort());
      for (const e of users) expect([e.key, e.partition]).toEqual([(e.value as Click).user, partitionForKey((e.value as Click).user, 3)]);

      expect(await fixture.counter(id, 4, 'processed')).toBe(2 * inputs.size);
      expect(await fixture.counter(id, 4, 'deadLettered')).toBe(0);
      for (let p = 0; p < 4; p++) expect((await fixture.meta(id, p)).meta.pending).toBeUndefined();
      if (maxTransactionActions === 5) expect(run.chunked).toBeGreaterThan(0);
      // The crashes did happen, and the runs that lost them were redelivered.
      expect(crashes.beforeCommit + crashes.afterCommit).toBeGreaterThan(0);
      expect(run.redeliveries).toBeGreaterThan(0);
      report(`clicks per minute (${maxTransactionActions} actions)`, {
        inputEvents: inputs.size,
        repartitionedEvents: rekeyed.length,
        crashes,
        deliveries: run.deliveries,
        redeliveries: run.redeliveries,
        failedDeliveries: run.failed,
        lostAcks: run.lostAcks,
        lostDeliveries: run.lost,
        recoveredFromLog: run.recovered,
        chunkedRecords: run.chunked,
        outputs: { perMinute: counted.length, byUser: users.length },
        lateDropped: late,
      });
    },
    180_000,
  );

  interface Order {
    readonly id: string;
    readonly customer: string;
  }
  interface Payment {
    readonly id: string;
    readonly order: string;
  }
  interface Customer {
    readonly name: string;
    readonly tier: string;
  }

  it.each([
    { seed: 21, maxTransactionActions: 100 },
    { seed: 22, maxTransactionActions: 6 },
  ])(
    'orders joined with payments within 5 minutes (both sides delivered at once) and enriched from a customers table (seed $seed, $maxTransactionActions actions)',
    async ({ seed, maxTransactionActions }) => {
      const random = prng(seed);
      const id = `shop${seed}`;
      const [customersTopic, ordersTopic, paymentsTopic, paid, enriched] = ['customers', 'orders', 'payments', 'paid', 'enriched'].map((t) => `${id}-${t}`) as [
        string,
        string,
        string,
        string,
        string,
      ];
      for (const t of [customersTopic, ordersTopic, paymentsTopic]) await fixture.createTopic(t, 4);
      await fixture.createTopic(paid, 3);
      await fixture.createTopic(enriched, 2);

      const app = streams(id);
      const customers = app.table<Customer>(customersTopic);
      const orders = app.stream<Order>(ordersTopic);
      const payments = app.stream<Payment>(paymentsTopic);
      orders
        .join(payments, (o, p) => ({ order: o.id, payment: p.id }), JoinWindows.ofTimeDifference(5 * MINUTE).grace(60 * MINUTE))
        .to(paid);
      orders
        .selectKey((o) => o.customer)
        .join(customers, (o, c) => ({ order: o.id, customer: c.name, tier: c.tier }))
        .to(enriched);

      // The table first: customers, some updated, some deleted (a null value).
      const table = new Map<string, Customer | null>();
      const customerEvents: ProduceEvent[] = [];
      for (let i = 0; i < 30; i++) {
        const c = { name: `Customer ${i}`, tier: random.pick(['gold', 'silver']) };
        table.set(`k${i}`, c);
        customerEvents.push({ key: `k${i}`, value: c });
      }
      for (let n = 0; n < 12; n++) {
        const key = `k${random.int(0, 29)}`;
        const update = random.chance(0.25) ? null : { name: `Customer ${key} v${n}`, tier: random.pick(['gold', 'silver', 'bronze']) };
        table.set(key, update);
        customerEvents.push({ key, value: update });
      }
      await fixture.produce(customersTopic, customerEvents);
      const crashes: CrashCounts = { beforeCommit: 0, afterCommit: 0, onRead: 0 };
      const runtime = fixture.runtime(app, { crashes: CRASHES, random, counts: crashes, maxTransactionActions });
      const tableRun = await drive(fixture, runtime, [customersTopic], { random, lostAck: 0.1 });

      // Then orders (some for unknown or deleted customers) and payments (0 to 3 per order, some
      // more than 5 minutes away, some for no order), within 20 minutes: with a grace of an hour no
      // record is late, so which pairs join does not depend on how the two sides interleave.
      const orderList: (Order & { ts: number })[] = [];
      const paymentList: (Payment & { ts: number })[] = [];
      for (let i = 0; i < 200; i++) {
        const order = { id: `o${i}`, customer: `k${random.int(0, 33)}`, ts: T0 + random.int(0, 20 * MINUTE) };
        orderList.push(order);
        for (let n = random.int(0, 3); n > 0; n--) {
          paymentList.push({ id: `p${paymentList.length}`, order: order.id, ts: Math.max(T0, order.ts + random.int(-8 * MINUTE, 8 * MINUTE)) });
        }
      }
      for (let i = 0; i < 10; i++) paymentList.push({ id: `p${paymentList.length}`, order: `o-none-${i}`, ts: T0 + random.int(0, 20 * MINUTE) });
      await fixture.produce(ordersTopic, orderList.map(({ ts, ...o }) => ({ key: o.id, value: o, timestamp: ts })));
      await fixture.produce(paymentsTopic, paymentList.map(({ ts, ...p }) => ({ key: p.order, value: p, timestamp: ts })));
      const repartition = `${id}-repartition-0`;
      const run = await drive(fixture, runtime, [ordersTopic, paymentsTopic, repartition], {
        random,
        lostAck: 0.1,
        lostDelivery: 0.02,
        together: [[ordersTopic, paymentsTopic]],
      });

      const ordersById = new Map(orderList.map((o) => [o.id, o]));
      const expectedPaid = paymentList
        .filter((p) => ordersById.has(p.order) && Math.abs(ordersById.get(p.order)!.ts - p.ts) <= 5 * MINUTE)
        .map((p) => `${p.order}|${p.id}|${Math.max(p.ts, ordersById.get(p.order)!.ts)}`);
      const paidOut = await fixture.readAll(paid);
      for (const e of paidOut) expect([e.key, e.partition]).toEqual([(e.value as { order: string }).order, partitionForKey(e.key!, 3)]);
      expect(paidOut.map((e) => `${(e.value as { order: string }).order}|${(e.value as { payment: string }).payment}|${e.timestamp}`).sort()).toEqual(
        expectedPaid.sort(),
      );

      const expectedEnriched = orderList
        .filter((o) => table.get(o.customer))
        .map((o) => `${o.id}|${table.get(o.customer)!.name}|${table.get(o.customer)!.tier}`);
      const enrichedOut = await fixture.readAll(enriched);
      for (const e of enrichedOut) expect(e.partition).toBe(partitionForKey(e.key!, 2));
      expect(
        enrichedOut.map((e) => { const v = e.value as { order: string; customer: string; tier: string }; return `${v.order}|${v.customer}|${v.tier}`; }).sort(),
      ).toEqual(expectedEnriched.sort());
      expect(expectedPaid.length).toBeGreaterThan(100);
      expect(expectedEnriched.length).toBeLessThan(orderList.length);

      const inputEvents = customerEvents.length + orderList.length + paymentList.length;
      expect(await fixture.counter(id, 4, 'processed')).toBe(inputEvents + orderList.length);
      expect(await fixture.counter(id, 4, 'lateDropped')).toBe(0);
      expect(crashes.beforeCommit + crashes.afterCommit).toBeGreaterThan(0);
      // Both sides of the join did meet on a partition, and lost the race to each other.
      expect(run.concurrentPairs).toBeGreaterThan(0);
      expect(tableRun.retries + run.retries).toBeGreaterThan(0);
      report(`orders × payments, orders × customers (${maxTransactionActions} actions)`, {
        inputEvents,
        crashes,
        deliveries: tableRun.deliveries + run.deliveries,
        redeliveries: tableRun.redeliveries + run.redeliveries,
        failedDeliveries: tableRun.failed + run.failed,
        lostAcks: tableRun.lostAcks + run.lostAcks,
        lostDeliveries: run.lost,
        recoveredFromLog: run.recovered,
        chunkedRecords: run.chunked,
        concurrentJoinDeliveries: run.concurrentPairs,
        versionConflictRetries: tableRun.retries + run.retries,
        outputs: { paid: paidOut.length, enriched: enrichedOut.length },
      });
    },
    180_000,
  );
});
