/** TopologyTestDriver itself, driven with hand-written topologies that exercise the contract directly. */
import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../../../api/partitioner';
import { streams, TopologyTestDriver, type ProcessorContext, type SourceRecord, type SubTopology, type Topology } from '../../../lambda/streams';

/** A one-sub-topology Topology from a process function (and optional punctuate). */
function topology(
  process: (record: SourceRecord, ctx: ProcessorContext) => Promise<void>,
  extra: Partial<SubTopology> = {},
  sources = ['in'],
  sinks = ['out'],
): Topology {
  const sub: SubTopology = { id: '0', sources, sinks, stores: ['s'], copartitioned: [], process, ...extra };
  return {
    applicationId: 'hand',
    subTopologies: [sub],
    internalTopics: [],
    sourceTopics: sources,
    outputTopics: sinks,
    describe: () => 'hand-written',
  };
}

describe('TopologyTestDriver', () => {
  it('state: range reads by prefix and inclusive bounds in key order, with the batch’s own writes and deletes', async () => {
    const seen: unknown[] = [];
    const driver = new TopologyTestDriver(
      topology(async (record, ctx) => {
        const { op, key } = record.value as { op: string; key: string };
        if (op === 'put') ctx.state.put('s', key, { key });
        if (op === 'delete') ctx.state.delete('s', key);
        if (op === 'range') {
          seen.push((await ctx.state.range<{ key: string }>('s', 'a|')).map((e) => e.key));
          seen.push((await ctx.state.range('s', 'a|', 'a|2', 'a|4')).map((e) => e.key));
          seen.push((await ctx.state.range('s', 'a|', 'a|3')).map((e) => e.key));
          seen.push(await ctx.state.get('s', 'a|1'));
        }
      }),
    );
    const op = (o: string, key = '') => ({ value: { op: o, key } });
    await driver.pipe('in', [op('put', 'a|4'), op('put', 'a|2'), op('put', 'b|1'), op('put', 'a|1'), op('put', 'a|5')]);
    await driver.pipe('in', [op('delete', 'a|1'), op('put', 'a|3'), op('put', 'a|\u00e9'), op('put', 'a|\u{1f600}'), op('put', 'a|\uffff'), op('range')]);
    expect(seen).toEqual([
      // Code-point order (DynamoDB's UTF-8 byte order): U+FFFF before U+1F600, unlike UTF-16 order.
      ['a|2', 'a|3', 'a|4', 'a|5', 'a|\u00e9', 'a|\uffff', 'a|\u{1f600}'],
      ['a|2', 'a|3', 'a|4'],
      ['a|3', 'a|4', 'a|5', 'a|\u00e9', 'a|\uffff', 'a|\u{1f600}'],
      undefined,
    ]);
  });

  it('state reads never share objects with the store (a mutated read does not change state)', async () => {
    const values: unknown[] = [];
    const driver = new TopologyTestDriver(
      topology(async (_record, ctx) => {
        const list = (await ctx.state.get<number[]>('s', 'k')) ?? [];
        values.push([...list]);
        list.push(list.length);
        if (list.length % 2 === 1) ctx.state.put('s', 'k', list);
      }),
    );
    await driver.pipe('in', [{ value: 1 }, { value: 1 }, { value: 1 }]);
    expect(values).toEqual([[], [0], [0]]);
  });

  it('keeps state per partition', async () => {
    const app = streams('per-partition');
    app.stream('in').groupByKey().count({ name: 'c' });
    const driver = new TopologyTestDriver(app, { partitions: { in: 2 } });
    await driver.pipe('in', [
      { key: 'k', value: 1, partition: 0 },
      { key: 'k', value: 1, partition: 1 },
      { key: 'k', value: 1, partition: 1 },
    ]);
    expect([driver.store(0, 'c'), driver.store(1, 'c')]).toEqual([[{ key: 'k', value: 1 }], [{ key: 'k', value: 2 }]]);
  });

  it('places input by key (murmur2), keyless round-robin, or as given; offsets count per partition', async () => {
    const records: SourceRecord[] = [];
    const driver = new TopologyTestDriver(
      topology(async (record) => {
        records.push(record);
      }),
      { partitions: { in: 3 } },
    );
    await driver.pipe('in', [{ key: 'alpha', value: 1 }, { value: 2 }, { value: 3 }, { value: 4 }, { key: 'x', value: 5, partition: 2 }]);
    const placed: [number, number][] = [
      [1, partitionForKey('alpha', 3)],
      [2, 0],
      [3, 1],
      [4, 2],
      [5, 2],
    ];
    const expected = placed.map(([value, partition], i) => [value, partition, placed.slice(0, i).filter(([, p]) => p === partition).length]);
    const actual = records.map((r) => [r.value as number, r.partition, r.offset]).sort((a, b) => a[0]! - b[0]!);
    expect(actual).toEqual(expected);
  });

  it('runs punctuate once per batch, with the batch’s final stream time; batchSize splits batches', async () => {
    const punctuations: number[] = [];
    const processTimes: number[] = [];
    const make = () =>
      topology(
        async (_record, ctx) => {
          processTimes.push(ctx.streamTime);
        },
        {
          punctuate: async (ctx) => {
            punctuations.push(ctx.streamTime);
          },
        },
      );
    const driver = new TopologyTestDriver(make());
    await driver.pipe('in', [5, 3, 9, 7].map((timestamp) => ({ value: 0, timestamp })));
    expect(processTimes).toEqual([5, 5, 9, 9]);
    expect(punctuations).toEqual([9]);
    expect(driver.streamTime('0', 0)).toBe(9);

    punctuations.length = 0;
    const split = new TopologyTestDriver(make(), { batchSize: 2 });
    await split.pipe('in', [5, 3, 9, 7].map((timestamp) => ({ value: 0, timestamp })));
    expect(punctuations).toEqual([5, 9]);
    expect(split.batches).toBe(2);
  });

  it('honours an explicit emit partition and rejects emits to topics that are not sinks', async () => {
    const driver = new TopologyTestDriver(
      topology(async (record, ctx) => {
        ctx.emit('out', { key: 'k', value: record.value, timestamp: 1, headers: {} }, record.value as number);
        if (record.value === 1) ctx.emit('elsewhere', { key: 'k', value: 1, timestamp: 1, headers: {} });
      }),
      { partitions: { out: 3 } },
    );
    await driver.pipe('in', [{ value: 2 }, { value: 1 }]);
    expect(driver.output('out').map((r) => [r.value, r.partition])).toEqual([[2, 2]]);
    // The bad emit made the record fail: dead-lettered with the reason.
    expect(driver.deadLetters().map((r) => r.value.error.message)).toEqual([
      "sub-topology 0 emitted to 'elsewhere', which is not one of its sinks",
    ]);
  });

  it('readOutput returns what was written since the last read; metrics sum over partitions', async () => {
    const driver = new TopologyTestDriver(
      topology(async (record, ctx) => {
        ctx.count('seen');
        ctx.emit('out', record);
      }),
      { partitions: { in: 2 } },
    );
    await driver.pipe('in', [
      { value: 1, partition: 0 },
      { value: 2, partition: 1 },
    ]);
    expect(driver.readOutput('out').map((r) => r.value)).toEqual([1, 2]);
    await driver.pipe('in', { value: 3, partition: 1 });
    expect(driver.readOutput('out').map((r) => r.value)).toEqual([3]);
    expect([driver.metric('seen'), driver.metric('seen', 1), driver.metrics()]).toEqual([3, 2, { seen: 3 }]);
  });

  it('rejects piping to a topic the topology does not read, including its repartition topics', async () => {
    const app = streams('pipes');
    app.stream<string>('in').selectKey((v) => v).groupByKey().count();
    const driver = new TopologyTestDriver(app);
    await expect(driver.pipe('nope', { value: 1 })).rejects.toThrow("'nope' is not a source topic of 'pipes'");
    await expect(driver.pipe('pipes-repartition-0', { value: 1 })).rejects.toThrow('is not a source topic');
  });

  it('deletes expired state eagerly (expiresAt < stream time) unless told not to', async () => {
    const make = () =>
      topology(async (record, ctx) => {
        ctx.state.put('s', `t${record.timestamp}`, 1, { expiresAt: record.timestamp + 10 });
        ctx.state.put('s', 'forever', 1);
      });
    const eager = new TopologyTestDriver(make());
    await eager.pipe('in', [{ value: 0, timestamp: 0 }, { value: 0, timestamp: 10 }, { value: 0, timestamp: 11 }]);
    expect(eager.store(0, 's').map((e) => e.key)).toEqual(['forever', 't10', 't11']);
    const lazy = new TopologyTestDriver(make(), { expireState: false });
    await lazy.pipe('in', [{ value: 0, timestamp: 0 }, { value: 0, timestamp: 11 }]);
    expect(lazy.store(0, 's').map((e) => e.key)).toEqual(['forever', 't0', 't11']);
  });
});
