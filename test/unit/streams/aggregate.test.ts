import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../../api/partitioner';
import { streams, TopologyTestDriver, type Serde } from '../../../lambda/streams';
import { groupBy, prng, randomChunks } from './support';

interface Click {
  user: string;
  page: string;
  ms: number;
}

const PAGES = Array.from({ length: 25 }, (_, i) => `page-${i}`);
const USERS = Array.from({ length: 40 }, (_, i) => `user-${i}`);

function clicks(seed: number, n: number): Click[] {
  const random = prng(seed);
  return Array.from({ length: n }, () => ({ user: random.pick(USERS), page: random.pick(PAGES), ms: random.int(1, 1000) }));
}

/** The last value written per key. */
function lastPerKey<V>(records: { key: string | null; value: V }[]): Map<string, V> {
  return new Map(records.map((r) => [r.key!, r.value]));
}

describe('aggregations', () => {
  it('count, reduce and aggregate per key match brute force; each update is emitted', async () => {
    const app = streams('per-user');
    const byUser = app.stream<Click>('clicks').groupByKey();
    byUser.count().toStream().to('count');
    byUser
      .reduce((a, b) => ({ ...a, ms: a.ms + b.ms }))
      .toStream()
      .mapValues((c) => c.ms)
      .to('ms');
    byUser
      .aggregate(
        () => ({ pages: [] as string[], total: 0 }),
        (agg, click) => ({ pages: [...new Set([...agg.pages, click.page])].sort(), total: agg.total + click.ms }),
      )
      .toStream()
      .to('summary');
    const input = clicks(1, 600);
    const driver = new TopologyTestDriver(app, { partitions: { clicks: 3 } });
    for (const chunk of randomChunks(prng(2), input, 40)) await driver.pipe('clicks', chunk.map((c) => ({ key: c.user, value: c })));

    const truth = new Map<string, { count: number; ms: number; pages: Set<string> }>();
    for (const c of input) {
      const t = truth.get(c.user) ?? { count: 0, ms: 0, pages: new Set<string>() };
      truth.set(c.user, { count: t.count + 1, ms: t.ms + c.ms, pages: t.pages.add(c.page) });
    }
    expect(driver.output('count')).toHaveLength(input.length);
    expect(Object.fromEntries(lastPerKey(driver.output<number>('count')))).toEqual(Object.fromEntries([...truth].map(([u, t]) => [u, t.count])));
    expect(Object.fromEntries(lastPerKey(driver.output<number>('ms')))).toEqual(Object.fromEntries([...truth].map(([u, t]) => [u, t.ms])));
    expect(Object.fromEntries(lastPerKey(driver.output('summary')))).toEqual(
      Object.fromEntries([...truth].map(([u, t]) => [u, { pages: [...t.pages].sort(), total: t.ms }])),
    );
    // Each user's count updates go 1, 2, 3, … in input order.
    for (const [user, records] of groupBy(driver.output<number>('count'), (r) => r.key!)) {
      expect(records.map((r) => r.value)).toEqual(Array.from({ length: truth.get(user)!.count }, (_, i) => i + 1));
    }
    // The key was not changed: no repartition topic.
    expect(app.build().internalTopics).toEqual([]);
  });

  it('selectKey then count: a repartition topic puts every key in exactly one partition, counts exact', async () => {
    const app = streams('rekey');
    app
      .stream<Click>('clicks')
      .selectKey((c) => c.page)
      .groupByKey()
      .count({ name: 'page-counts' })
      .toStream()
      .to('page-counts');
    const input = clicks(3, 1_000);
    // Keyed by user, each page is spread over the input partitions: without repartitioning it would be counted in several.
    const inputPartitions = new Map<string, Set<number>>();
    for (const c of input) inputPartitions.set(c.page, (inputPartitions.get(c.page) ?? new Set()).add(partitionForKey(c.user, 4)));
    expect([...inputPartitions.values()].every((ps) => ps.size > 1)).toBe(true);

    const driver = new TopologyTestDriver(app, { partitions: { clicks: 4, 'page-counts': 3 } });
    for (const chunk of randomChunks(prng(4), input, 50)) await driver.pipe('clicks', chunk.map((c) => ({ key: c.user, value: c })));

    const topology = app.build();
    expect(topology.internalTopics).toEqual([{ name: 'rekey-repartition-0', partitionsLike: 'clicks' }]);
    expect(driver.partitions('rekey-repartition-0')).toBe(4);
    const truth = new Map<string, number>();
    for (const c of input) truth.set(c.page, (truth.get(c.page) ?? 0) + 1);

    const stateByPage = new Map<string, { partition: number; count: number }[]>();
    for (let partition = 0; partition < 4; partition++) {
      for (const { key, value } of driver.store<number>(partition, 'page-counts')) {
        stateByPage.set(key, [...(stateByPage.get(key) ?? []), { partition, count: value }]);
      }
    }
    expect(new Set(stateByPage.keys())).toEqual(new Set(truth.keys()));
    for (const [page, places] of stateByPage) {
      expect(places).toEqual([{ partition: partitionForKey(page, 4), count: truth.get(page) }]);
    }
    const output = driver.output<number>('page-counts');
    expect(output).toHaveLength(input.length);
    for (const [page, records] of groupBy(output, (r) => r.key!)) {
      expect(records.map((r) => r.value)).toEqual(Array.from({ length: truth.get(page)! }, (_, i) => i + 1));
      expect(new Set(records.map((r) => r.partition))).toEqual(new Set([partitionForKey(page, 3)]));
    }
    // The repartition topic carried every record, placed by the new key.
    const repartitioned = driver.output<Click>('rekey-repartition-0');
    expect(repartitioned).toHaveLength(input.length);
    for (const r of repartitioned) expect(r.partition).toBe(partitionForKey(r.value.page, 4));
  });

  it('groupBy re-keys and repartitions (with the grouped serde); two aggregations share one repartition topic', async () => {
    const seen: unknown[] = [];
    const clickSerde: Serde<Click> = {
      deserialize: (json) => {
        seen.push(json);
        const [user, page, ms] = json as [string, string, number];
        return { user, page, ms };
      },
      serialize: (c) => [c.user, c.page, c.ms],
    };
    const app = streams('group-by');
    const byPage = app.stream<Click>('clicks').groupBy((c) => c.page, { serde: clickSerde });
    byPage.count().toStream().to('count');
    byPage
      .aggregate(
        () => 0,
        (total, c) => total + c.ms,
      )
      .toStream()
      .to('ms');
    const input = clicks(5, 300);
    const driver = new TopologyTestDriver(app, { partitions: { clicks: 2 } });
    await driver.pipe('clicks', input.map((c) => ({ key: c.user, value: c })));
    expect(app.build().internalTopics).toEqual([{ name: 'group-by-repartition-0', partitionsLike: 'clicks' }]);
    expect(driver.output('group-by-repartition-0')[0]!.value).toEqual([input[0]!.user, input[0]!.page, input[0]!.ms]);
    expect(seen).toHaveLength(input.length);
    const counts = new Map<string, number>();
    const ms = new Map<string, number>();
    for (const c of input) {
      counts.set(c.page, (counts.get(c.page) ?? 0) + 1);
      ms.set(c.page, (ms.get(c.page) ?? 0) + c.ms);
    }
    expect(lastPerKey(driver.output<number>('count'))).toEqual(counts);
    expect(lastPerKey(driver.output<number>('ms'))).toEqual(ms);
  });

  it('groupBy with a numeric key groups by its JSON text', async () => {
    const app = streams('numeric-keys');
    app
      .stream<Click>('clicks')
      .groupBy((c) => c.ms % 3)
      .count()
      .toStream()
      .to('out');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('clicks', [3, 4, 6, 8].map((ms) => ({ value: { user: 'u', page: 'p', ms } })));
    expect(driver.output('out').map((r) => [r.key, r.value])).toEqual([
      ['0', 1],
      ['1', 1],
      ['0', 2],
      ['2', 1],
    ]);
  });

  it('a group key of null is skipped and counted', async () => {
    const app = streams('null-groups');
    app
      .stream<Click>('clicks')
      .groupBy((c) => (c.page === 'none' ? null : c.page))
      .count()
      .toStream()
      .to('out');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('clicks', [
      { value: { user: 'u', page: 'none', ms: 1 } },
      { value: { user: 'u', page: 'a', ms: 1 } },
    ]);
    expect(driver.output('out').map((r) => [r.key, r.value])).toEqual([['a', 1]]);
    expect(driver.metric('nullKeyDropped')).toBe(1);
  });

  it('an aggregator returning undefined is a record error: dead-lettered, state untouched', async () => {
    const app = streams('bad-aggregator');
    app
      .stream<number>('in')
      .groupByKey()
      .aggregate(
        () => 0,
        (sum, v) => (v < 0 ? (undefined as unknown as number) : sum + v),
        { name: 'sums' },
      )
      .toStream()
      .to('out');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('in', [
      { key: 'k', value: 2 },
      { key: 'k', value: -1 },
      { key: 'k', value: 3 },
    ]);
    expect(driver.output('out').map((r) => r.value)).toEqual([2, 5]);
    expect(driver.deadLetters()).toHaveLength(1);
    expect(driver.store(0, 'sums')).toEqual([{ key: 'k', value: 5 }]);
  });
});
