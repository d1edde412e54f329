import { describe, expect, it } from 'vitest';
import {
  JoinWindows,
  SessionWindows,
  streams,
  TimeWindows,
  TopologyError,
  TopologyTestDriver,
  type KTable,
  type Topology,
} from '../../../lambda/streams';

function clicksPerPage(): Topology {
  const app = streams('clicks-app');
  const clicks = app.stream<{ page: string }>('clicks');
  clicks.filter((c) => c.page !== '').to('valid-clicks');
  clicks
    .groupBy((c) => c.page)
    .windowedBy(TimeWindows.ofSize(60_000))
    .count()
    .toStream()
    .to('clicks-per-minute');
  return app.build();
}

const build = (define: () => unknown) => () => define();

describe('topology', () => {
  it('splits at repartition topics into sub-topologies with their sources, sinks and stores', () => {
    const topology = clicksPerPage();
    expect(topology.applicationId).toBe('clicks-app');
    expect(topology.sourceTopics).toEqual(['clicks']);
    expect(topology.outputTopics).toEqual(['valid-clicks', 'clicks-per-minute']);
    expect(topology.internalTopics).toEqual([{ name: 'clicks-app-repartition-0', partitionsLike: 'clicks' }]);
    expect(
      topology.subTopologies.map(({ id, sources, sinks, stores, copartitioned }) => ({ id, sources, sinks, stores, copartitioned })),
    ).toEqual([
      { id: '0', sources: ['clicks'], sinks: ['valid-clicks', 'clicks-app-repartition-0'], stores: [], copartitioned: [] },
      { id: '1', sources: ['clicks-app-repartition-0'], sinks: ['clicks-per-minute'], stores: ['windowed-count-6'], copartitioned: [] },
    ]);
    expect(topology.subTopologies[0]!.punctuate).toBeUndefined();
  });

  it('is the same (ids, stores, topics, description) each time the same code builds it', () => {
    const a = clicksPerPage();
    const b = clicksPerPage();
    expect(b.describe()).toBe(a.describe());
    expect(b.subTopologies.map((s) => [s.id, s.stores, s.sources])).toEqual(a.subTopologies.map((s) => [s.id, s.stores, s.sources]));
  });

  it('describes itself like Kafka’s TopologyDescription', () => {
    expect(clicksPerPage().describe()).toBe(
      [
        'Topology: clicks-app',
        '  Sub-topology: 0',
        '    source-0 (topic: clicks)',
        '      --> filter-1, groupBy-3',
        '    filter-1',
        '      --> sink-2',
        '      <-- source-0',
        '    sink-2 (topic: valid-clicks)',
        '      <-- filter-1',
        '    groupBy-3',
        '      --> repartition-sink-4',
        '      <-- source-0',
        '    repartition-sink-4 (topic: clicks-app-repartition-0)',
        '      <-- groupBy-3',
        '  Sub-topology: 1',
        '    repartition-source-5 (topic: clicks-app-repartition-0)',
        '      --> windowed-count-6',
        '    windowed-count-6 (TimeWindows(60000 ms, tumbling, grace 0 ms), store: windowed-count-6)',
        '      --> toStream-7',
        '      <-- repartition-source-5',
        '    toStream-7',
        '      --> sink-8',
        '      <-- windowed-count-6',
        '    sink-8 (topic: clicks-per-minute)',
        '      <-- toStream-7',
        '    stores: windowed-count-6',
        '  Repartition topic: clicks-app-repartition-0 (partitions like clicks)',
      ].join('\n'),
    );
  });

  it('records co-partitioning: merged topics feeding an aggregation, join sides, a table and its stream', () => {
    const app = streams('copart');
    app.stream('a').merge(app.stream('b')).groupByKey().count();
    app.stream('c').join(app.stream('d'), (x, y) => [x, y], JoinWindows.ofTimeDifference(1_000)).to('cd');
    app.stream('e').join(app.table('f'), (x, y) => [x, y]).to('ef');
    // Merged without a stateful operation: no requirement.
    app.stream('g').merge(app.stream('h')).to('gh');
    const topology = app.build();
    expect(topology.subTopologies.flatMap((s) => s.copartitioned)).toEqual([['a', 'b'], ['c', 'd'], ['e', 'f']]);
    expect(topology.subTopologies.filter((s) => s.punctuate !== undefined)).toEqual([]);
  });

  it('a left stream-stream join has a punctuate step', () => {
    const app = streams('punctuating');
    app.stream('a').leftJoin(app.stream('b'), (x, y) => [x, y], JoinWindows.ofTimeDifference(1_000)).to('out');
    expect(app.build().subTopologies[0]!.punctuate).toBeTypeOf('function');
  });

  it('a topic read twice as a stream is read by one sub-topology', async () => {
    const app = streams('twice');
    app.stream<number>('in').mapValues((n) => n + 1).to('plus');
    app.stream<number>('in').mapValues((n) => n * 10).to('times');
    const topology = app.build();
    expect(topology.subTopologies.map((s) => s.sources)).toEqual([['in']]);
    const driver = new TopologyTestDriver(topology);
    await driver.pipe('in', { value: 2 });
    expect([driver.output('plus')[0]!.value, driver.output('times')[0]!.value]).toEqual([3, 20]);
  });

  describe('rejects invalid topologies while they are built', () => {
    const other = streams('other-app');
    const otherTable: KTable<unknown> = other.table('customers');
    const otherStream = other.stream('x');

    it.each<[string, () => unknown, RegExp]>([
      ['an application id that is not a valid name', () => streams('big orders'), /application id "big orders" must be/],
      ['an application id too long', () => streams('a'.repeat(129)), /application id/],
      ['an invalid input topic name', () => streams('app').stream('orders/eu'), /stream\(\): topic name "orders\/eu" may contain only/],
      ['an invalid output topic name', () => streams('app').stream('a').to('..'), /to\(\): topic name "\.\." must not be/],
      ['an empty table topic name', () => streams('app').table(''), /table\(\): topic name "" must not be empty/],
      ['a window size of 0', () => TimeWindows.ofSize(0), /TimeWindows size must be an integer number of milliseconds > 0, got 0/],
      ['a negative window size', () => TimeWindows.ofSize(-60_000), /TimeWindows size/],
      ['a fractional window size', () => TimeWindows.ofSize(1.5), /TimeWindows size/],
      ['an advance of 0', () => TimeWindows.ofSize(10).advanceBy(0), /advance must be .* > 0/],
      ['an advance larger than the size', () => TimeWindows.ofSize(10).advanceBy(11), /must not exceed the size/],
      ['a negative grace', () => TimeWindows.ofSize(10).grace(-1), /grace must be .* >= 0/],
      ['a session gap of 0', () => SessionWindows.withInactivityGap(0), /inactivity gap must be .* > 0/],
      ['a negative join difference', () => JoinWindows.ofTimeDifference(-1), /time difference must be .* >= 0/],
      [
        'reading and writing the same topic',
        () => {
          const app = streams('app');
          app.stream('orders').to('orders');
        },
        /both reads and writes topic 'orders'/,
      ],
      [
        'writing a topic, then reading it',
        () => {
          const app = streams('app');
          app.stream('a').to('b');
          app.table('b');
        },
        /both reads and writes topic 'b'/,
      ],
      [
        'joining a table of another application',
        () => streams('app').stream('orders').join(otherTable, (o, c) => [o, c]),
        /the table passed to join\(\) belongs to application 'other-app', not 'app'/,
      ],
      [
        'joining a stream of another application',
        () => streams('app').stream('orders').leftJoin(otherStream, (o, c) => [o, c], JoinWindows.ofTimeDifference(1)),
        /belongs to application 'other-app'/,
      ],
      ['merging a stream of another application', () => streams('app').stream('orders').merge(otherStream), /belongs to application 'other-app'/],
      [
        'joining a windowed table',
        () => {
          const app = streams('app');
          const counts = app.stream('a').groupByKey().windowedBy(TimeWindows.ofSize(10)).count();
          app.stream('b').join(counts, (x, y) => [x, y]);
        },
        /cannot join a windowed table/,
      ],
      [
        'a stream-stream join without JoinWindows',
        () => {
          const app = streams('app');
          const b = app.stream('b');
          (app.stream('a').join as (...args: unknown[]) => unknown)(b, (x: unknown, y: unknown) => [x, y]);
        },
        /needs JoinWindows/,
      ],
      [
        'a stream-table join with JoinWindows',
        () => {
          const app = streams('app');
          const t = app.table('t');
          (app.stream('a').join as (...args: unknown[]) => unknown)(t, (x: unknown, y: unknown) => [x, y], JoinWindows.ofTimeDifference(1));
        },
        /takes no JoinWindows/,
      ],
      [
        'a topic read as a stream and as a table',
        () => {
          const app = streams('app');
          app.stream('customers');
          app.table('customers');
        },
        /read as a stream and again as a table/,
      ],
      [
        'a table read twice',
        () => {
          const app = streams('app');
          app.table('customers');
          app.table('customers');
        },
        /read as a table and again as a table/,
      ],
      ['writing a repartition topic', () => streams('app').stream('a').to('app-repartition-0'), /reserved for application 'app'/],
      ['writing the dead-letter topic', () => streams('app').stream('a').to('app-dlq'), /reserved/],
      ['a topology that reads nothing', () => streams('app').build(), /reads no topic/],
      [
        'a store name used twice',
        () => {
          const g = streams('app').stream('a').groupByKey();
          g.count({ name: 'counts' });
          g.count({ name: 'counts' });
        },
        /store name 'counts' is used twice/,
      ],
      ['an invalid store name', () => streams('app').stream('a').groupByKey().count({ name: 'a b' }), /store name 'a b'/],
      [
        'a session aggregate without a merger',
        () =>
          (streams('app').stream('a').groupByKey().windowedBy(SessionWindows.withInactivityGap(10)).aggregate as (...args: unknown[]) => unknown)(
            () => 0,
            (a: number) => a,
          ),
        /needs a merger/,
      ],
      ['branch() without predicates', () => streams('app').stream('a').branch(), /at least one predicate/],
    ])('%s', (_name, define, message) => {
      expect(build(define)).toThrow(TopologyError);
      expect(build(define)).toThrow(message);
    });

    it('TopologyError carries the InvalidTopology code', () => {
      try {
        TimeWindows.ofSize(0);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(TopologyError);
        expect((error as TopologyError).code).toBe('InvalidTopology');
      }
    });
  });
});
