import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../../api/partitioner';
import { streams, TopologyTestDriver, type Serde } from '../../../lambda/streams';
import { prng } from './support';

interface Order {
  id: string;
  total: number;
  items: string[];
}

const order = (id: string, total: number, items: string[] = []): Order => ({ id, total, items });
const values = (records: { value: unknown }[]) => records.map((r) => r.value);

describe('stateless operations', () => {
  it('filter and filterNot keep and drop by predicate, with the key available', async () => {
    const app = streams('filters');
    const orders = app.stream<Order>('orders');
    orders.filter((o) => o.total > 100).to('big');
    orders.filterNot((o, key) => key === 'skip').to('not-skipped');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('orders', [
      { key: 'a', value: order('a', 150) },
      { key: 'skip', value: order('skip', 500) },
      { key: 'c', value: order('c', 100) },
    ]);
    expect(values(driver.output('big'))).toEqual([order('a', 150), order('skip', 500)]);
    expect(values(driver.output('not-skipped'))).toEqual([order('a', 150), order('c', 100)]);
  });

  it('map changes key and value; mapValues keeps the key; timestamps and headers pass through', async () => {
    const app = streams('maps');
    const orders = app.stream<Order>('orders');
    orders.map((o) => ({ key: `total-${o.total}`, value: o.id })).to('by-total');
    orders.mapValues((o, key) => ({ id: o.id, key })).to('ids');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('orders', { key: 'k1', value: order('o1', 7), timestamp: 1234, headers: { trace: 't1' } });
    expect(driver.output('by-total')).toEqual([
      { topic: 'by-total', partition: 0, offset: 0, key: 'total-7', value: 'o1', timestamp: 1234, headers: { trace: 't1' } },
    ]);
    expect(driver.output('ids').map((r) => [r.key, r.value, r.timestamp, r.headers])).toEqual([
      ['k1', { id: 'o1', key: 'k1' }, 1234, { trace: 't1' }],
    ]);
  });

  it('flatMap and flatMapValues emit zero or more records per record', async () => {
    const app = streams('flat');
    const orders = app.stream<Order>('orders');
    orders.flatMap((o) => o.items.map((item) => ({ key: item, value: o.id }))).to('by-item');
    orders.flatMapValues((o) => o.items).to('items');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('orders', [
      { key: 'o1', value: order('o1', 1, ['x', 'y']) },
      { key: 'o2', value: order('o2', 1, []) },
      { key: 'o3', value: order('o3', 1, ['z']) },
    ]);
    expect(driver.output('by-item').map((r) => [r.key, r.value])).toEqual([
      ['x', 'o1'],
      ['y', 'o1'],
      ['z', 'o3'],
    ]);
    expect(driver.output('items').map((r) => [r.key, r.value])).toEqual([
      ['o1', 'x'],
      ['o1', 'y'],
      ['o3', 'z'],
    ]);
  });

  it('branch sends each record to the first matching branch only; merge combines streams', async () => {
    const app = streams('branches');
    const [big, medium, rest] = app.stream<Order>('orders').branch(
      (o) => o.total >= 100,
      (o) => o.total >= 10,
      () => true,
    );
    big.to('big');
    medium.merge(rest).to('small');
    const random = prng(7);
    const inputs = Array.from({ length: 200 }, (_, i) => order(`o${i}`, random.int(0, 200)));
    const driver = new TopologyTestDriver(app);
    await driver.pipe(
      'orders',
      inputs.map((o) => ({ key: o.id, value: o })),
    );
    expect(values(driver.output('big'))).toEqual(inputs.filter((o) => o.total >= 100));
    // merge keeps each input's order; with one partition and one source the merged order is the input order.
    expect(values(driver.output('small'))).toEqual(inputs.filter((o) => o.total < 100));
  });

  it('merge of two topics sees every record of both', async () => {
    const app = streams('merge-topics');
    app.stream<number>('a').merge(app.stream<string>('b')).mapValues((v) => String(v)).to('out');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('a', [{ value: 1 }, { value: 2 }]);
    await driver.pipe('b', [{ value: 'x' }]);
    await driver.pipe('a', [{ value: 3 }]);
    expect(values(driver.output('out'))).toEqual(['1', '2', 'x', '3']);
  });

  it('peek sees each record and passes it on unchanged', async () => {
    const app = streams('peeks');
    const seen: [string | null, number][] = [];
    app
      .stream<number>('in')
      .peek((v, k) => seen.push([k, v]))
      .to('out');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('in', [
      { key: 'a', value: 1 },
      { key: null, value: 2 },
    ]);
    expect(seen).toEqual([
      ['a', 1],
      [null, 2],
    ]);
    expect(values(driver.output('out'))).toEqual([1, 2]);
  });

  it('selectKey(...).to() places each record by its new key; non-string keys become their JSON text', async () => {
    const app = streams('rekey');
    const orders = app.stream<Order>('orders');
    orders.selectKey((o) => o.id.toUpperCase()).to('by-id');
    orders.selectKey((o) => o.total).to('by-total');
    const driver = new TopologyTestDriver(app, { partitions: { orders: 3, 'by-id': 5, 'by-total': 2 } });
    const random = prng(11);
    const inputs = Array.from({ length: 60 }, (_, i) => order(`o${i}`, random.int(0, 999)));
    await driver.pipe(
      'orders',
      inputs.map((o) => ({ key: `k${o.total % 7}`, value: o })),
    );
    const byId = driver.output<Order>('by-id');
    expect(byId).toHaveLength(inputs.length);
    for (const record of byId) {
      expect(record.key).toBe(record.value.id.toUpperCase());
      expect(record.partition).toBe(partitionForKey(record.key!, 5));
    }
    const byTotal = driver.output<Order>('by-total');
    for (const record of byTotal) {
      expect(record.key).toBe(String(record.value.total));
      expect(record.partition).toBe(partitionForKey(record.key!, 2));
    }
    // No stateful operation: no repartition topic.
    expect(app.build().internalTopics).toEqual([]);
  });

  it('to() writes keyless records to the input partition modulo the output topic partitions', async () => {
    const app = streams('keyless');
    app.stream<number>('in').to('out');
    const driver = new TopologyTestDriver(app, { partitions: { in: 4, out: 3 } });
    await driver.pipe('in', [0, 1, 2, 3].map((p) => ({ value: p, partition: p })));
    expect(driver.output<number>('out').map((r) => [r.value, r.partition])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
      [3, 0],
    ]);
  });

  it('serdes map topic JSON to typed values and back', async () => {
    class Money {
      constructor(readonly cents: number) {}
      add(other: Money): Money {
        return new Money(this.cents + other.cents);
      }
    }
    const money: Serde<Money> = {
      deserialize: (json) => new Money(Math.round(Number(json) * 100)),
      serialize: (value) => (value.cents / 100).toFixed(2),
    };
    const app = streams('serdes');
    const prices = app.stream('prices', { serde: money });
    prices.filter((m) => m !== null).mapValues((m) => m.add(new Money(1))).to('prices-plus-a-cent', { serde: money });
    prices.to('copy', { serde: money });
    const driver = new TopologyTestDriver(app);
    await driver.pipe('prices', [{ value: 1.5 }, { value: null }]);
    expect(values(driver.output('prices-plus-a-cent'))).toEqual(['1.51']);
    // A null value (a tombstone) is never passed to a serde: it stays null both ways.
    expect(values(driver.output('copy'))).toEqual(['1.50', null]);
    expect(driver.deadLetters()).toEqual([]);
  });

  it('a record whose callback throws goes to the dead-letter topic with the error; its other effects are dropped and processing continues', async () => {
    const app = streams('failing');
    const orders = app.stream<Order>('orders');
    orders.mapValues((o) => o.id).to('first');
    orders
      .mapValues((o) => {
        if (o.total < 0) throw new RangeError(`negative total in ${o.id}`);
        return o.total;
      })
      .to('second');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('orders', [
      { key: 'a', value: order('a', 1) },
      { key: 'b', value: order('b', -1), timestamp: 99 },
      { key: 'c', value: order('c', 3) },
    ]);
    // 'first' ran before the failure, but the failed record's effects are all dropped.
    expect(values(driver.output('first'))).toEqual(['a', 'c']);
    expect(values(driver.output('second'))).toEqual([1, 3]);
    expect(driver.deadLetters()).toEqual([
      {
        topic: 'failing-dlq',
        partition: 0,
        offset: 0,
        key: 'b',
        timestamp: 99,
        headers: {},
        value: {
          topic: 'orders',
          partition: 0,
          offset: 1,
          key: 'b',
          value: order('b', -1),
          timestamp: 99,
          error: { name: 'RangeError', message: 'negative total in b' },
        },
      },
    ]);
    expect(driver.metric('deadLettered')).toBe(1);
  });

  it('a value that is not JSON (undefined) is a record error, dead-lettered', async () => {
    const app = streams('undefined-values');
    app
      .stream<number>('in')
      .mapValues((v) => (v > 0 ? v : undefined))
      .to('out');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('in', [{ value: 1 }, { value: 0 }]);
    expect(values(driver.output('out'))).toEqual([1]);
    expect(driver.deadLetters().map((r) => r.value.error.name)).toEqual(['StreamRecordError']);
  });
});
