/**
 * Joins checked exactly against brute force: every pair of records is tested against the join rule
 * (same key, timestamps within the difference, the earlier-arriving record's window still open when
 * the later one arrives), with stream time tracked per partition.
 */
import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../../api/partitioner';
import { JoinWindows, streams, TopologyTestDriver } from '../../../lambda/streams';
import { prng, type Random } from './support';

interface Order {
  id: string;
  customer: string;
  total: number;
}
interface Payment {
  id: string;
  amount: number;
}
interface Customer {
  name: string;
  tier: string;
}

const MINUTE = 60_000;

describe('stream-stream join', () => {
  function ordersWithPayments(kind: 'join' | 'leftJoin', grace = 0) {
    const app = streams('paid-orders');
    const orders = app.stream<Order>('orders');
    const payments = app.stream<Payment>('payments');
    const windows = JoinWindows.ofTimeDifference(5 * MINUTE).grace(grace);
    if (kind === 'join') orders.join(payments, (o, p) => ({ order: o.id, payment: p.id }), windows).to('paid');
    else orders.leftJoin(payments, (o, p) => ({ order: o.id, payment: p?.id ?? null }), windows).to('paid');
    return app;
  }

  it('joins orders with payments within 5 minutes, either arriving first; drops a late record', async () => {
    const driver = new TopologyTestDriver(ordersWithPayments('join'));
    await driver.pipe('orders', { key: 'k1', value: { id: 'o1', customer: 'c', total: 1 }, timestamp: 0 });
    await driver.pipe('payments', { key: 'k1', value: { id: 'p1', amount: 1 }, timestamp: 4 * MINUTE });
    await driver.pipe('payments', { key: 'k2', value: { id: 'p2', amount: 1 }, timestamp: 10 * MINUTE });
    // The order arrives after its payment, 1 minute earlier in event time.
    await driver.pipe('orders', { key: 'k2', value: { id: 'o2', customer: 'c', total: 1 }, timestamp: 9 * MINUTE });
    // 6 minutes apart: no join.
    await driver.pipe('orders', { key: 'k3', value: { id: 'o3', customer: 'c', total: 1 }, timestamp: 8 * MINUTE });
    await driver.pipe('payments', { key: 'k3', value: { id: 'p3', amount: 1 }, timestamp: 14 * MINUTE });
    // Stream time is 14 min: a record at 8 min 59 s has its window end (13 min 59 s) behind it: late.
    await driver.pipe('payments', { key: 'k3', value: { id: 'p4', amount: 1 }, timestamp: 9 * MINUTE - 1_000 });
    expect(driver.output('paid').map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['k1', { order: 'o1', payment: 'p1' }, 4 * MINUTE],
      ['k2', { order: 'o2', payment: 'p2' }, 10 * MINUTE],
    ]);
    expect(driver.metric('lateDropped')).toBe(1);
  });

  it('a left join emits (order, null) once the order’s window closes unmatched, never after a match', async () => {
    const driver = new TopologyTestDriver(ordersWithPayments('leftJoin', MINUTE));
    await driver.pipe('orders', { key: 'a', value: { id: 'o1', customer: 'c', total: 1 }, timestamp: 0 });
    await driver.pipe('orders', { key: 'b', value: { id: 'o2', customer: 'c', total: 1 }, timestamp: MINUTE });
    await driver.pipe('payments', { key: 'b', value: { id: 'p2', amount: 1 }, timestamp: 2 * MINUTE });
    // Window of o1 closes after 0 + 5 + 1 minutes.
    await driver.pipe('orders', { key: 'x', value: { id: 'o3', customer: 'c', total: 1 }, timestamp: 6 * MINUTE });
    expect(driver.output('paid').map((r) => r.value)).toEqual([{ order: 'o2', payment: 'p2' }]);
    await driver.pipe('orders', { key: 'x', value: { id: 'o4', customer: 'c', total: 1 }, timestamp: 6 * MINUTE + 1 });
    expect(driver.output('paid').map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['b', { order: 'o2', payment: 'p2' }, 2 * MINUTE],
      ['a', { order: 'o1', payment: null }, 0],
    ]);
    // o2's window closes too, later: matched, so nothing more for it.
    await driver.pipe('orders', { key: 'x', value: { id: 'o5', customer: 'c', total: 1 }, timestamp: 20 * MINUTE });
    expect(driver.output('paid').map((r) => r.value)).toEqual([
      { order: 'o2', payment: 'p2' },
      { order: 'o1', payment: null },
      { order: 'o3', payment: null },
      { order: 'o4', payment: null },
    ]);
  });

  it('an (l, null) emission that throws is dead-lettered alone: its effects dropped, the other emissions kept', async () => {
    const app = streams('unmatched-failures');
    app
      .stream<{ id: string }>('l')
      .leftJoin(app.stream<{ id: string }>('r'), (l, r) => ({ id: l.id, r: r?.id ?? null }), JoinWindows.ofTimeDifference(10))
      .groupByKey()
      .aggregate(() => [] as string[], (ids, v) => [...ids, v.id], { name: 'ids' })
      .toStream()
      .mapValues((ids) => {
        if (ids.at(-1) === 'bad') throw new Error('bad record');
        return ids;
      })
      .to('out');
    const topology = app.build();
    expect(topology.subTopologies[0]!.sinks).toEqual(['out', 'unmatched-failures-dlq']);
    expect(topology.outputTopics).toEqual(['out']);
    const driver = new TopologyTestDriver(topology);
    await driver.pipe('l', [
      { key: 'k', value: { id: 'first' }, timestamp: 0 },
      { key: 'k', value: { id: 'bad' }, timestamp: 1 },
      { key: 'k', value: { id: 'last' }, timestamp: 2 },
    ]);
    await driver.pipe('r', { key: 'other', value: { id: 'r' }, timestamp: 100 });
    expect(driver.output('out').map((r) => r.value)).toEqual([['first'], ['first', 'last']]);
    expect(driver.store(0, 'ids')).toEqual([{ key: 'k', value: ['first', 'last'] }]);
    expect(driver.deadLetters().map((r) => r.value)).toEqual([
      { topic: 'l', partition: 0, offset: 1, key: 'k', value: { id: 'bad' }, timestamp: 1, error: { name: 'Error', message: 'bad record' } },
    ]);
    expect(driver.metric('deadLettered')).toBe(1);
    // Nothing is left to emit: the failed record is not retried.
    await driver.pipe('r', { key: 'other', value: { id: 'r2' }, timestamp: 1_000 });
    expect(driver.output('out')).toHaveLength(2);
    expect(driver.deadLetters()).toHaveLength(1);
  });

  interface JoinEvent {
    side: 'left' | 'right';
    key: string;
    partition: number;
    ts: number;
    id: string;
  }

  const KEYS = Array.from({ length: 12 }, (_, i) => `order-${i}`);
  const PARTITIONS = 3;

  function generate(random: Random, n: number): JoinEvent[] {
    let clock = 1_700_000_000_000;
    const events = Array.from({ length: n }, (_, i): JoinEvent => {
      // Multiples of 15 s, so records and stream time often sit exactly on window boundaries (where off-by-one mistakes show).
      clock += random.int(0, 3) * 15_000;
      const behind = (random.chance(0.08) ? random.int(0, 60) : random.int(0, 22)) * 15_000;
      const key = random.pick(KEYS);
      return { side: random.chance(0.5) ? 'left' : 'right', key, partition: KEYS.indexOf(key) % PARTITIONS, ts: clock - behind, id: `e${i}` };
    });
    // A last record far ahead on each partition closes every window, so every unmatched left record is due.
    for (let p = 0; p < PARTITIONS; p++) {
      events.push({ side: 'right', key: 'flush', partition: p, ts: clock + 60 * MINUTE, id: `flush${p}` });
    }
    return events;
  }

  /** Brute force over all pairs, in arrival order. Returns output lines `key|left|right|timestamp`. */
  function bruteJoin(events: readonly JoinEvent[], difference: number, grace: number, outer: boolean) {
    const streamTime = new Map<number, number>();
    const accepted: (JoinEvent & { matched: boolean; emitted: boolean })[] = [];
    const lines: string[] = [];
    let dropped = 0;
    const open = (e: JoinEvent) => streamTime.get(e.partition)! <= e.ts + difference + grace;
    for (const e of events) {
      streamTime.set(e.partition, Math.max(streamTime.get(e.partition) ?? -Infinity, e.ts));
      if (!open(e)) {
        dropped++;
        continue;
      }
      const self = { ...e, matched: false, emitted: false };
      for (const other of accepted) {
        if (other.side === e.side || other.key !== e.key || Math.abs(other.ts - e.ts) > difference || !open(other)) continue;
        const [l, r] = e.side === 'left' ? [self, other] : [other, self];
        l.matched = true;
        lines.push(`${e.key}|${l.id}|${r.id}|${Math.max(l.ts, r.ts)}`);
      }
      accepted.push(self);
      if (outer) {
        // The punctuation after this record's batch: (l, null) for unmatched left records whose window closed.
        for (const l of accepted) {
          if (l.side === 'left' && !l.matched && !l.emitted && l.partition === e.partition && !open(l)) {
            l.emitted = true;
            lines.push(`${l.key}|${l.id}|null|${l.ts}`);
          }
        }
      }
    }
    return { lines: lines.sort(), dropped, accepted };
  }

  it.each([
    ['inner', false, 0, 1],
    ['inner, with grace', false, 2 * MINUTE, 2],
    ['left', true, 0, 3],
    ['left, with grace', true, 2 * MINUTE, 4],
  ])('%s join of random, out-of-order and late records matches brute force', async (_name, outer, grace, seed) => {
    const difference = 5 * MINUTE;
    const app = streams('random-join');
    const left = app.stream<{ id: string }>('left');
    const right = app.stream<{ id: string }>('right');
    const windows = JoinWindows.ofTimeDifference(difference).grace(grace);
    if (outer) left.leftJoin(right, (l, r) => ({ l: l.id, r: r?.id ?? null }), windows).to('joined');
    else left.join(right, (l, r) => ({ l: l.id, r: r.id }), windows).to('joined');

    const random = prng(seed);
    const events = generate(random, 700);
    const driver = new TopologyTestDriver(app, { partitions: { left: PARTITIONS, right: PARTITIONS } });
    // Runs of consecutive same-side records go in one pipe() (one batch per partition).
    for (let i = 0; i < events.length; ) {
      const run = [events[i]!];
      const max = random.int(1, 8);
      while (run.length < max && events[i + run.length]?.side === run[0]!.side) run.push(events[i + run.length]!);
      i += run.length;
      await driver.pipe(
        run[0]!.side,
        run.map((e) => ({ key: e.key, value: { id: e.id }, timestamp: e.ts, partition: e.partition })),
      );
    }
    const truth = bruteJoin(events, difference, grace, outer);
    const lines = driver
      .output<{ l: string; r: string | null }>('joined')
      .map((r) => `${r.key}|${r.value.l}|${r.value.r}|${r.timestamp}`)
      .sort();
    expect(truth.dropped).toBeGreaterThan(5);
    expect(truth.lines.filter((l) => !l.includes('|null|')).length).toBeGreaterThan(100);
    expect(lines).toEqual(truth.lines);
    expect(driver.metric('lateDropped')).toBe(truth.dropped);
    if (outer) {
      // Every accepted left record: either joined, or emitted once with null, never both.
      for (const l of truth.accepted.filter((e) => e.side === 'left')) {
        const mine = lines.filter((line) => line.split('|')[1] === l.id);
        const nulls = mine.filter((line) => line.includes('|null|'));
        if (nulls.length > 0) expect(mine).toEqual([nulls[0]]);
        else expect(mine.length).toBeGreaterThan(0);
      }
      expect(truth.lines.filter((l) => l.includes('|null|')).length).toBeGreaterThan(20);
    }
  });

  it('join buffers are keyed for range reads and expire at ts + difference + grace; unmatched left records wait without expiry', async () => {
    const app = streams('join-state');
    app
      .stream('l')
      .leftJoin(app.stream('r'), (a, b) => [a, b], JoinWindows.ofTimeDifference(100).grace(10))
      .to('out');
    const topology = app.build();
    expect(topology.subTopologies[0]!.stores).toEqual(['leftJoin-2-left', 'leftJoin-2-unmatched', 'leftJoin-2-right']);
    const driver = new TopologyTestDriver(topology, { expireState: false });
    await driver.pipe('l', { key: 'k', value: 1, timestamp: 1_000 });
    expect(driver.store(0, 'leftJoin-2-left')).toEqual([
      { key: '1:k|0000000000001000|l@0000000000000000#0', value: { timestamp: 1_000, value: 1, uid: 'l@0000000000000000#0', matched: false }, expiresAt: 1_110 },
    ]);
    expect(driver.store(0, 'leftJoin-2-unmatched')).toEqual([
      {
        key: '0000000000001000|1:k|l@0000000000000000#0',
        value: { key: 'k', timestamp: 1_000, value: 1, headers: {}, source: { topic: 'l', partition: 0, offset: 0 } },
      },
    ]);
    await driver.pipe('r', { key: 'k', value: 2, timestamp: 1_050 });
    expect(driver.store(0, 'leftJoin-2-unmatched')).toEqual([]);
    expect(driver.store<{ matched: boolean }>(0, 'leftJoin-2-left')[0]!.value.matched).toBe(true);
    expect(driver.output('out').map((r) => r.value)).toEqual([[1, 2]]);
  });

  it('re-keyed sides are repartitioned; the join’s topics must be co-partitioned', async () => {
    const app = streams('rekeyed-join');
    const orders = app.stream<Order>('orders').selectKey((o) => o.id);
    const payments = app.stream<Payment>('payments');
    orders.join(payments, (o, p) => ({ order: o.id, amount: p.amount }), JoinWindows.ofTimeDifference(MINUTE)).to('paid');
    const topology = app.build();
    // The re-keyed side follows the other side's partition count.
    expect(topology.internalTopics).toEqual([{ name: 'rekeyed-join-repartition-0', partitionsLike: 'payments' }]);
    expect(topology.subTopologies.map((s) => s.copartitioned)).toEqual([[], [['payments', 'rekeyed-join-repartition-0']]]);
    const driver = new TopologyTestDriver(topology, { partitions: { orders: 5, payments: 3 } });
    await driver.pipe('orders', [
      { key: 'customer-1', value: { id: 'o1', customer: 'customer-1', total: 5 }, timestamp: 1_000 },
      { key: 'customer-2', value: { id: 'o2', customer: 'customer-2', total: 7 }, timestamp: 2_000 },
    ]);
    await driver.pipe('payments', [
      { key: 'o1', value: { id: 'p1', amount: 5 }, timestamp: 3_000 },
      { key: 'o2', value: { id: 'p2', amount: 7 }, timestamp: 3_000 },
    ]);
    expect(driver.output('paid').map((r) => [r.key, r.value, r.partition])).toEqual([
      ['o1', { order: 'o1', amount: 5 }, partitionForKey('o1', 1)],
      ['o2', { order: 'o2', amount: 7 }, partitionForKey('o2', 1)],
    ]);
    await expect(new TopologyTestDriver(ordersWithPayments('join'), { partitions: { orders: 3, payments: 2 } }).pipe('orders', [])).rejects.toThrow(
      /orders, payments must have equal partition counts/,
    );
  });
});

describe('stream-table join', () => {
  it('joins each order with the customer’s latest value; updates and deletes apply to later orders only', async () => {
    const app = streams('enrich');
    const customers = app.table<Customer>('customers');
    const orders = app.stream<Order>('orders');
    orders.join(customers, (o, c) => ({ id: o.id, name: c.name })).to('inner');
    orders.leftJoin(customers, (o, c) => ({ id: o.id, name: c?.name ?? null })).to('left');
    customers.toStream().to('customer-changes');
    const driver = new TopologyTestDriver(app);
    const order = (id: string, customer: string) => ({ key: customer, value: { id, customer, total: 1 } });
    await driver.pipe('orders', order('o1', 'c1'));
    await driver.pipe('customers', { key: 'c1', value: { name: 'Ann', tier: 'gold' } });
    await driver.pipe('orders', order('o2', 'c1'));
    await driver.pipe('customers', { key: 'c1', value: { name: 'Ann B', tier: 'gold' } });
    await driver.pipe('orders', order('o3', 'c1'));
    await driver.pipe('customers', { key: 'c1', value: null });
    await driver.pipe('orders', order('o4', 'c1'));
    expect(driver.output('inner').map((r) => r.value)).toEqual([
      { id: 'o2', name: 'Ann' },
      { id: 'o3', name: 'Ann B' },
    ]);
    expect(driver.output('left').map((r) => r.value)).toEqual([
      { id: 'o1', name: null },
      { id: 'o2', name: 'Ann' },
      { id: 'o3', name: 'Ann B' },
      { id: 'o4', name: null },
    ]);
    expect(driver.output('customer-changes').map((r) => r.value)).toEqual([
      { name: 'Ann', tier: 'gold' },
      { name: 'Ann B', tier: 'gold' },
      null,
    ]);
    expect(app.build().subTopologies.map((s) => s.copartitioned)).toEqual([[['customers', 'orders']]]);
  });

  it('random updates, deletes and re-keyed orders match brute force', async () => {
    const app = streams('enrich-random');
    const customers = app.table<Customer>('customers');
    const orders = app.stream<Order>('orders').selectKey((o) => o.customer);
    orders.join(customers, (o, c, key) => `${o.id}:${key}:${c.name}`).to('inner');
    orders.leftJoin(customers, (o, c) => `${o.id}:${c?.name ?? '-'}`).to('left');
    const topology = app.build();
    expect(topology.internalTopics).toEqual([
      { name: 'enrich-random-repartition-0', partitionsLike: 'customers' },
      { name: 'enrich-random-repartition-1', partitionsLike: 'customers' },
    ]);
    const random = prng(99);
    const names = Array.from({ length: 10 }, (_, i) => `c${i}`);
    const driver = new TopologyTestDriver(topology, { partitions: { orders: 4, customers: 3 } });
    const table = new Map<string, Customer>();
    const inner: string[] = [];
    const left: string[] = [];
    for (let i = 0; i < 500; i++) {
      const customer = random.pick(names);
      if (random.chance(0.3)) {
        const value = random.chance(0.25) ? null : { name: `${customer}-v${i}`, tier: 'x' };
        await driver.pipe('customers', { key: customer, value });
        if (value === null) table.delete(customer);
        else table.set(customer, value);
      } else {
        // Keyed by order id on 'orders': the join needs the repartition by customer.
        await driver.pipe('orders', { key: `o${i}`, value: { id: `o${i}`, customer, total: 1 } });
        const row = table.get(customer);
        if (row) inner.push(`o${i}:${customer}:${row.name}`);
        left.push(`o${i}:${row?.name ?? '-'}`);
      }
    }
    expect(inner.length).toBeGreaterThan(100);
    expect(left.length - inner.length).toBeGreaterThan(20);
    expect(driver.output<string>('inner').map((r) => r.value)).toEqual(inner);
    expect(driver.output<string>('left').map((r) => r.value)).toEqual(left);
  });

  it('a stream joins an aggregation’s table (running count per key)', async () => {
    const app = streams('join-counts');
    const counts = app.stream<number>('visits').groupByKey().count();
    app
      .stream<string>('lookups')
      .leftJoin(counts, (q, n) => `${q}=${n ?? 0}`)
      .to('answers');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('lookups', { key: 'a', value: 'a' });
    await driver.pipe('visits', [
      { key: 'a', value: 1 },
      { key: 'a', value: 1 },
    ]);
    await driver.pipe('lookups', [
      { key: 'a', value: 'a' },
      { key: 'b', value: 'b' },
      { key: null, value: 'keyless' },
    ]);
    expect(driver.output('answers').map((r) => r.value)).toEqual(['a=0', 'a=2', 'b=0', 'keyless=0']);
  });
});
