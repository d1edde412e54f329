/**
 * Type-level tests: `tsc --noEmit` (npm test) checks them; the `@ts-expect-error` lines fail the type
 * check if the mistake they hold ever compiles. At run time they only build topologies.
 */
import { describe, expectTypeOf, it, expect } from 'vitest';
import {
  JoinWindows,
  SessionWindows,
  streams,
  TimeWindows,
  type Key,
  type KStream,
  type KTable,
  type Windowed,
} from '../../../lambda/streams';

interface Order {
  id: string;
  total: number;
  customer: string;
}
interface Payment {
  orderId: string;
  amount: number;
}
interface Customer {
  name: string;
}

describe('DSL types', () => {
  it('types values through the chain from the generic parameter', () => {
    const app = streams('typed');
    const orders = app.stream<Order>('orders');
    expectTypeOf(orders).toEqualTypeOf<KStream<Order>>();
    orders.filter((o, key) => {
      expectTypeOf(o).toEqualTypeOf<Order>();
      expectTypeOf(key).toEqualTypeOf<Key>();
      return o.total > 100;
    });
    // @ts-expect-error: Order has no field 'totl'.
    orders.filter((o) => o.totl > 100);
    // @ts-expect-error: total is a number.
    orders.mapValues((o) => o.total.toUpperCase());

    const totals = orders.mapValues((o) => ({ id: o.id, total: o.total }));
    expectTypeOf(totals).toEqualTypeOf<KStream<{ id: string; total: number }>>();
    expectTypeOf(orders.map((o) => ({ key: o.customer, value: o.total }))).toEqualTypeOf<KStream<number>>();
    expectTypeOf(orders.flatMapValues((o) => [o.id, o.customer])).toEqualTypeOf<KStream<string>>();
    expectTypeOf(orders.merge(app.stream<Payment>('payments'))).toEqualTypeOf<KStream<Order | Payment>>();

    // A type guard narrows.
    const withCustomer = app.stream<Order | Payment>('mixed').filter((v): v is Order => 'customer' in v);
    expectTypeOf(withCustomer).toEqualTypeOf<KStream<Order>>();

    // branch() returns one stream per predicate, as a tuple.
    const [big, small] = orders.branch(
      (o) => o.total > 100,
      () => true,
    );
    expectTypeOf(big).toEqualTypeOf<KStream<Order>>();
    expectTypeOf(small).toEqualTypeOf<KStream<Order>>();
    // @ts-expect-error: a serde of another type does not fit the stream's values.
    totals.to('x', { serde: { deserialize: (j: unknown) => String(j), serialize: (s: string) => s } });
    expect(app.build().sourceTopics).toEqual(['orders', 'payments', 'mixed']);
  });

  it('types aggregations and windowed results', () => {
    const app = streams('typed-aggregates');
    const byCustomer = app.stream<Order>('orders').groupBy((o) => o.customer);
    expectTypeOf(byCustomer.count()).toEqualTypeOf<KTable<number>>();
    expectTypeOf(byCustomer.reduce((a, b) => ({ ...a, total: a.total + b.total }))).toEqualTypeOf<KTable<Order>>();
    const sums = byCustomer.aggregate(
      () => ({ n: 0, sum: 0 }),
      (agg, o, key) => {
        expectTypeOf(key).toEqualTypeOf<string>();
        return { n: agg.n + 1, sum: agg.sum + o.total };
      },
    );
    expectTypeOf(sums).toEqualTypeOf<KTable<{ n: number; sum: number }>>();
    // @ts-expect-error: the aggregator must return the aggregate's type.
    byCustomer.aggregate(() => 0, (agg, o) => o.id);

    const perMinute = byCustomer.windowedBy(TimeWindows.ofSize(60_000)).count();
    expectTypeOf(perMinute).toEqualTypeOf<KTable<Windowed<number>>>();
    perMinute.toStream().mapValues((w) => {
      expectTypeOf(w.window.start).toEqualTypeOf<number>();
      expectTypeOf(w.value).toEqualTypeOf<number>();
      return w.value;
    });
    // Sessions merged away are tombstones: the value may be null.
    const sessions = byCustomer.windowedBy(SessionWindows.withInactivityGap(1_000)).aggregate(
      () => [] as string[],
      (ids, o) => [...ids, o.id],
      (a, b) => [...a, ...b],
    );
    expectTypeOf(sessions).toEqualTypeOf<KTable<Windowed<string[] | null>>>();
  });

  it('types joins: the right side is nullable only in left joins', () => {
    const app = streams('typed-joins');
    const orders = app.stream<Order>('orders');
    const payments = app.stream<Payment>('payments');
    const customers = app.table<Customer>('customers');
    const within = JoinWindows.ofTimeDifference(5 * 60_000);

    const paid = orders.join(payments, (o, p) => ({ id: o.id, amount: p.amount }), within);
    expectTypeOf(paid).toEqualTypeOf<KStream<{ id: string; amount: number }>>();
    const maybePaid = orders.leftJoin(payments, (o, p) => ({ id: o.id, amount: p?.amount ?? 0 }), within);
    expectTypeOf(maybePaid).toEqualTypeOf<KStream<{ id: string; amount: number }>>();
    // @ts-expect-error: in a left join the payment may be null.
    orders.leftJoin(payments, (o, p) => p.amount, within);

    const enriched = orders.selectKey((o) => o.customer).join(customers, (o, c) => ({ ...o, name: c.name }));
    expectTypeOf(enriched).toEqualTypeOf<KStream<{ name: string; id: string; total: number; customer: string }>>();
    orders.leftJoin(customers, (o, c, key) => {
      expectTypeOf(c).toEqualTypeOf<Customer | null>();
      expectTypeOf(key).toEqualTypeOf<Key>();
      return o.id;
    });
    expect(app.build().subTopologies.length).toBeGreaterThan(0);
  });
});
