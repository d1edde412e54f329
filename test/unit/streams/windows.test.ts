/**
 * Windowed aggregations checked exactly against ground truth computed here by brute force: every
 * candidate window is tested for containing the event, and stream time is tracked per partition.
 */
import { describe, expect, it } from 'vitest';
import { SessionWindows, streams, TimeWindows, TopologyTestDriver, type Windowed } from '../../../lambda/streams';
import { groupBy, prng, randomChunks, type Random } from './support';

interface Click {
  id: number;
  page: string;
  ms: number;
}

interface Event {
  key: string;
  partition: number;
  ts: number;
  value: Click;
}

const KEYS = ['home', 'cart', 'search', 'about', 'help', 'blog', 'faq', 'news', 'jobs', 'shop', 'team', 'docs'];
const PARTITIONS = 3;
/** Each key is pinned to one partition (groupByKey needs that; the test does not depend on the partitioner). */
const partitionOf = (key: string) => KEYS.indexOf(key) % PARTITIONS;
const BASE = 1_700_000_000_000;
const QUANTUM = 5_000;

/**
 * Mostly in order, some out of order within `jitter`, some far behind (late). Times are multiples of
 * QUANTUM, so events and stream time often sit exactly on window boundaries (where off-by-one
 * mistakes show).
 */
function generate(random: Random, n: number, keys: readonly string[], o: { step: number; jitter: number; lateChance: number; late: number }): Event[] {
  let clock = BASE;
  const steps = (max: number) => random.int(0, Math.floor(max / QUANTUM)) * QUANTUM;
  return Array.from({ length: n }, (_, id) => {
    clock += steps(o.step);
    const behind = random.chance(o.lateChance) ? steps(o.late) : steps(o.jitter);
    const key = random.pick(keys);
    const ts = clock - behind;
    return { key, partition: partitionOf(key), ts, value: { id, page: key, ms: random.int(1, 500) } };
  });
}

type Update = [start: number, end: number, value: unknown];

/** Brute-force windowed fold: per event, every window start near it is tested; returns each key's updates in order. */
function bruteTimeWindows(
  events: readonly Event[],
  w: { size: number; advance: number; grace: number },
  fold: (acc: unknown, e: Event) => unknown,
): { updates: Map<string, Update[]>; dropped: number; acceptedOutOfOrder: number } {
  const streamTime = new Map<number, number>();
  const aggregates = new Map<string, unknown>();
  const updates = new Map<string, Update[]>();
  let dropped = 0;
  let acceptedOutOfOrder = 0;
  for (const e of events) {
    const before = streamTime.get(e.partition) ?? -Infinity;
    const now = Math.max(before, e.ts);
    streamTime.set(e.partition, now);
    let accepted = false;
    for (let start = Math.floor((e.ts - w.size) / w.advance) * w.advance; start <= e.ts; start += w.advance) {
      const end = start + w.size;
      if (start < 0 || e.ts < start || e.ts >= end || now >= end + w.grace) continue;
      accepted = true;
      const id = `${e.key}@${start}`;
      const next = fold(aggregates.get(id), e);
      aggregates.set(id, next);
      updates.set(e.key, [...(updates.get(e.key) ?? []), [start, end, next]]);
    }
    if (!accepted) dropped++;
    else if (e.ts < before) acceptedOutOfOrder++;
  }
  return { updates, dropped, acceptedOutOfOrder };
}

function updatesByKey(records: { key: string | null; value: Windowed<unknown> }[]): Map<string, Update[]> {
  const byKey = groupBy(records, (r) => r.key!);
  return new Map([...byKey].map(([key, rs]) => [key, rs.map((r): Update => {
    expect(r.value.key).toBe(key);
    return [r.value.window.start, r.value.window.end, r.value.value];
  })]));
}

async function pipeInChunks(driver: TopologyTestDriver, topic: string, random: Random, events: readonly Event[]): Promise<void> {
  for (const chunk of randomChunks(random, events, 25)) {
    await driver.pipe(topic, chunk.map((e) => ({ key: e.key, value: e.value, timestamp: e.ts, partition: e.partition })));
  }
}

function sorted<K, V>(map: Map<K, V>): [K, V][] {
  return [...map].sort(([a], [b]) => String(a).localeCompare(String(b)));
}

describe('time windows', () => {
  it('tumbling: counts an example minute by minute, drops an event after window end + grace', async () => {
    const app = streams('clicks-per-minute');
    app
      .stream<Click>('clicks')
      .groupByKey()
      .windowedBy(TimeWindows.ofSize(60_000).grace(10_000))
      .count()
      .toStream()
      .to('counts');
    const driver = new TopologyTestDriver(app);
    const at = (ts: number) => ({ key: 'home', value: { id: ts, page: 'home', ms: 1 }, timestamp: ts });
    await driver.pipe('clicks', [at(10_000), at(50_000), at(65_000), at(30_000), at(80_000), at(40_000)]);
    // 30 s arrives at stream time 65 s: window [0, 60 s) is open until 70 s, so it counts.
    // 40 s arrives at stream time 80 s: that window has closed, so it is dropped and counted.
    expect(driver.output<Windowed<number>>('counts').map((r) => [r.value.window.start, r.value.value])).toEqual([
      [0, 1],
      [0, 2],
      [60_000, 1],
      [0, 3],
      [60_000, 2],
    ]);
    expect(driver.metric('lateDropped')).toBe(1);
    expect(driver.output<Windowed<number>>('counts')[0]).toMatchObject({
      key: 'home',
      timestamp: 10_000,
      value: { key: 'home', window: { start: 0, end: 60_000 }, value: 1 },
    });
  });

  it.each([
    ['tumbling', 60_000, 60_000, 1],
    ['hopping', 60_000, 20_000, 2],
    ['hopping, advance not dividing the size', 50_000, 15_000, 3],
  ])('%s counts per window match brute force, with out-of-order and late events', async (_name, size, advance, seed) => {
    const grace = 10_000;
    const app = streams('window-counts');
    app
      .stream<Click>('clicks')
      .groupByKey()
      .windowedBy(TimeWindows.ofSize(size).advanceBy(advance).grace(grace))
      .count()
      .toStream()
      .to('counts');
    const random = prng(seed);
    const events = generate(random, 800, KEYS, { step: 5_000, jitter: 15_000, lateChance: 0.1, late: 120_000 });
    const driver = new TopologyTestDriver(app, { partitions: { clicks: PARTITIONS } });
    await pipeInChunks(driver, 'clicks', random, events);

    const truth = bruteTimeWindows(events, { size, advance, grace }, (acc) => ((acc as number | undefined) ?? 0) + 1);
    expect(truth.dropped).toBeGreaterThan(10);
    expect(truth.acceptedOutOfOrder).toBeGreaterThan(50);
    expect(sorted(updatesByKey(driver.output('counts')))).toEqual(sorted(truth.updates));
    expect(driver.metric('lateDropped')).toBe(truth.dropped);
  });

  it('windowed reduce and aggregate match brute force', async () => {
    const w = { size: 60_000, advance: 30_000, grace: 5_000 };
    const windows = TimeWindows.ofSize(w.size).advanceBy(w.advance).grace(w.grace);
    const app = streams('window-folds');
    const grouped = app.stream<Click>('clicks').groupByKey();
    grouped
      .windowedBy(windows)
      .reduce((a, b) => ({ ...a, ms: a.ms + b.ms, id: Math.max(a.id, b.id) }))
      .toStream()
      .mapValues((w) => ({ ...w, value: w.value.ms }))
      .to('total-ms');
    grouped
      .windowedBy(windows)
      .aggregate(
        () => ({ ids: [] as number[], max: 0 }),
        (agg, click) => ({ ids: [...agg.ids, click.id], max: Math.max(agg.max, click.ms) }),
      )
      .toStream()
      .to('ids');
    const random = prng(5);
    const events = generate(random, 500, KEYS, { step: 10_000, jitter: 20_000, lateChance: 0.08, late: 100_000 });
    const driver = new TopologyTestDriver(app, { partitions: { clicks: PARTITIONS } });
    await pipeInChunks(driver, 'clicks', random, events);

    const sums = bruteTimeWindows(events, w, (acc, e) => ((acc as number | undefined) ?? 0) + e.value.ms);
    const lists = bruteTimeWindows(events, w, (acc, e) => {
      const a = (acc as { ids: number[]; max: number } | undefined) ?? { ids: [], max: 0 };
      return { ids: [...a.ids, e.value.id], max: Math.max(a.max, e.value.ms) };
    });
    expect(sums.dropped).toBeGreaterThan(0);
    expect(sorted(updatesByKey(driver.output('total-ms')))).toEqual(sorted(sums.updates));
    expect(sorted(updatesByKey(driver.output('ids')))).toEqual(sorted(lists.updates));
    // Two windowed operations each drop the same late events.
    expect(driver.metric('lateDropped')).toBe(2 * sums.dropped);
  });

  it('window state is keyed for range reads (padded start) and expires at window end + grace', async () => {
    const app = streams('window-state');
    app.stream('clicks').groupByKey().windowedBy(TimeWindows.ofSize(1_000).grace(500)).count({ name: 'per-second' });
    const driver = new TopologyTestDriver(app, { expireState: false });
    await driver.pipe('clicks', [
      { key: 'k', value: 1, timestamp: 999 },
      { key: 'k', value: 1, timestamp: 10_000 },
    ]);
    expect(driver.store(0, 'per-second')).toEqual([
      { key: '1:k|0000000000000000', value: 1, expiresAt: 1_500 },
      { key: '1:k|0000000000010000', value: 1, expiresAt: 11_500 },
    ]);
  });

  it('expired window state is deleted without changing results (the driver expires eagerly)', async () => {
    const app = streams('window-expiry');
    app.stream('clicks').groupByKey().windowedBy(TimeWindows.ofSize(1_000)).count({ name: 'per-second' }).toStream().to('out');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('clicks', [
      { key: 'k', value: 1, timestamp: 100 },
      { key: 'k', value: 1, timestamp: 5_000 },
    ]);
    expect(driver.store(0, 'per-second').map((e) => e.key)).toEqual(['1:k|0000000000005000']);
  });

  it('null keys and null values are skipped and counted, as in Kafka', async () => {
    const app = streams('window-nulls');
    app.stream('clicks').groupByKey().windowedBy(TimeWindows.ofSize(1_000)).count().toStream().to('out');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('clicks', [
      { key: null, value: 1, timestamp: 1 },
      { key: 'k', value: null, timestamp: 2 },
      { key: 'k', value: 1, timestamp: 3 },
    ]);
    expect(driver.output<Windowed<number>>('out').map((r) => r.value.value)).toEqual([1]);
    expect(driver.metrics()).toEqual({ nullKeyDropped: 1, nullValueDropped: 1 });
  });

  it('a negative timestamp in a windowed operation is a record error (dead-lettered)', async () => {
    const app = streams('window-bad-ts');
    app.stream('clicks').groupByKey().windowedBy(TimeWindows.ofSize(1_000)).count().toStream().to('out');
    const driver = new TopologyTestDriver(app);
    await driver.pipe('clicks', [{ key: 'k', value: 1, timestamp: -5 }]);
    expect(driver.deadLetters().map((r) => r.value.error.name)).toEqual(['StreamRecordError']);
  });
});

interface Session {
  start: number;
  end: number;
  value: unknown;
}

/**
 * Brute-force sessions per key: open sessions (stream time <= end + gap + grace) within the gap of
 * the event merge with it; merged-away sessions are emitted as tombstones (end, then start, order).
 */
function bruteSessions(
  events: readonly Event[],
  w: { gap: number; grace: number },
  add: (acc: unknown, e: Event) => unknown,
  merge: (a: unknown, b: unknown) => unknown,
  initial: () => unknown,
): { updates: Map<string, Update[]>; sessions: Map<string, Session[]>; dropped: number; merges: number; onBoundary: number } {
  const streamTime = new Map<number, number>();
  const sessions = new Map<string, Session[]>();
  const updates = new Map<string, Update[]>();
  let dropped = 0;
  let merges = 0;
  let onBoundary = 0;
  for (const e of events) {
    const now = Math.max(streamTime.get(e.partition) ?? -Infinity, e.ts);
    streamTime.set(e.partition, now);
    const mine = sessions.get(e.key) ?? [];
    const touching = mine
      .filter((s) => now <= s.end + w.gap + w.grace && s.end >= e.ts - w.gap && s.start <= e.ts + w.gap)
      .sort((a, b) => a.end - b.end || a.start - b.start);
    if (touching.length === 0 && now > e.ts + w.gap + w.grace) {
      dropped++;
      continue;
    }
    if (now === e.ts + w.gap + w.grace) onBoundary++;
    let acc = initial();
    for (const s of touching) acc = merge(acc, s.value);
    acc = add(acc, e);
    const merged: Session = {
      start: Math.min(e.ts, ...touching.map((s) => s.start)),
      end: Math.max(e.ts, ...touching.map((s) => s.end)),
      value: acc,
    };
    const out = updates.get(e.key) ?? [];
    for (const s of touching) {
      if (s.start === merged.start && s.end === merged.end) continue;
      out.push([s.start, s.end, null]);
      merges++;
    }
    out.push([merged.start, merged.end, merged.value]);
    updates.set(e.key, out);
    sessions.set(e.key, [...mine.filter((s) => !touching.includes(s)), merged]);
  }
  return { updates, sessions, dropped, merges, onBoundary };
}

/** The last update per (key, window), tombstones removing: the table the output topic describes. */
function finalTable(updates: Map<string, Update[]>): string[] {
  const table = new Map<string, unknown>();
  for (const [key, list] of updates) {
    for (const [start, end, value] of list) {
      if (value === null) table.delete(`${key}@${start}-${end}`);
      else table.set(`${key}@${start}-${end}`, value);
    }
  }
  return [...table].map(([id, v]) => `${id}=${JSON.stringify(v)}`).sort();
}

describe('session windows', () => {
  it('merges two sessions bridged by a record, emitting a tombstone for each merged-away session', async () => {
    const app = streams('sessions-example');
    app.stream('clicks').groupByKey().windowedBy(SessionWindows.withInactivityGap(10_000).grace(20_000)).count().toStream().to('sessions');
    const driver = new TopologyTestDriver(app);
    const at = (ts: number) => ({ key: 'u1', value: 1, timestamp: ts });
    await driver.pipe('clicks', [at(0), at(5_000), at(25_000), at(15_000)]);
    expect(driver.output<Windowed<number | null>>('sessions').map((r) => [r.value.window.start, r.value.window.end, r.value.value])).toEqual([
      [0, 0, 1],
      // Extending a session replaces its window: the old window gets a tombstone.
      [0, 0, null],
      [0, 5_000, 2],
      [25_000, 25_000, 1],
      // 15 s is within 10 s of both sessions' edges: they merge into [0, 25 s] with 4 clicks.
      [0, 5_000, null],
      [25_000, 25_000, null],
      [0, 25_000, 4],
    ]);
  });

  it('a closed session (stream time past end + gap + grace) is not extended; a record only it could take is dropped', async () => {
    const app = streams('sessions-closed');
    app.stream('clicks').groupByKey().windowedBy(SessionWindows.withInactivityGap(10_000)).count().toStream().to('sessions');
    const driver = new TopologyTestDriver(app);
    const at = (ts: number) => ({ key: 'u1', value: 1, timestamp: ts });
    // At stream time 25 s, [0, 5 s] closed at 15 s: 16 s starts its own session with 25 s; 3 s is late.
    await driver.pipe('clicks', [at(0), at(5_000), at(25_000), at(16_000), at(3_000)]);
    expect(driver.output<Windowed<number | null>>('sessions').map((r) => [r.value.window.start, r.value.window.end, r.value.value])).toEqual([
      [0, 0, 1],
      [0, 0, null],
      [0, 5_000, 2],
      [25_000, 25_000, 1],
      [25_000, 25_000, null],
      [16_000, 25_000, 2],
    ]);
    expect(driver.metric('lateDropped')).toBe(1);
  });

  it('with no late events, final sessions are the clusters of each key’s timestamps (gaps <= inactivity gap)', async () => {
    const gap = 30_000;
    const app = streams('sessions-clusters');
    app.stream<Click>('clicks').groupByKey().windowedBy(SessionWindows.withInactivityGap(gap).grace(10 ** 9)).count().toStream().to('sessions');
    const random = prng(21);
    const events = generate(random, 400, KEYS.slice(0, 3), { step: 15_000, jitter: 60_000, lateChance: 0.1, late: 300_000 });
    const driver = new TopologyTestDriver(app, { partitions: { clicks: PARTITIONS } });
    await pipeInChunks(driver, 'clicks', random, events);

    // Independent truth: sort each key's timestamps and cut where the step exceeds the gap.
    const clusters = new Map<string, Update[]>();
    for (const [key, list] of groupBy(events, (e) => e.key)) {
      const ts = list.map((e) => e.ts).sort((a, b) => a - b);
      const out: Update[] = [];
      let start = ts[0]!;
      let count = 1;
      for (let i = 1; i <= ts.length; i++) {
        if (i === ts.length || ts[i]! - ts[i - 1]! > gap) {
          out.push([start, ts[i - 1]!, count]);
          start = ts[i]!;
          count = 1;
        } else count++;
      }
      clusters.set(key, out);
    }
    const output = updatesByKey(driver.output('sessions'));
    expect(finalTable(output)).toEqual(finalTable(clusters));
    expect([...output.values()].flat().filter(([, , v]) => v === null).length).toBeGreaterThan(5);
    expect(driver.metric('lateDropped')).toBe(0);
  });

  it('session count, reduce and aggregate (with merger) match brute force with late and out-of-order events', async () => {
    const w = { gap: 20_000, grace: 5_000 };
    const windows = SessionWindows.withInactivityGap(w.gap).grace(w.grace);
    const app = streams('sessions-random');
    const grouped = app.stream<Click>('clicks').groupByKey();
    grouped.windowedBy(windows).count().toStream().to('counts');
    grouped
      .windowedBy(windows)
      .reduce((a, b) => ({ ...a, ms: a.ms + b.ms }))
      .toStream()
      .mapValues((s) => ({ ...s, value: s.value === null ? null : s.value.ms }))
      .to('ms');
    grouped
      .windowedBy(windows)
      .aggregate(
        () => [] as number[],
        (ids, click) => [...ids, click.id].sort((a, b) => a - b),
        (a, b) => [...a, ...b].sort((x, y) => x - y),
      )
      .toStream()
      .to('ids');
    const random = prng(33);
    const events = generate(random, 700, KEYS, { step: 10_000, jitter: 40_000, lateChance: 0.08, late: 200_000 });
    const driver = new TopologyTestDriver(app, { partitions: { clicks: PARTITIONS } });
    await pipeInChunks(driver, 'clicks', random, events);

    const counts = bruteSessions(events, w, (acc, _e) => (acc as number) + 1, (a, b) => (a as number) + (b as number), () => 0);
    const ms = bruteSessions(
      events,
      w,
      (acc, e) => (acc === undefined ? e.value.ms : (acc as number) + e.value.ms),
      (a, b) => (a === undefined ? b : (a as number) + (b as number)),
      () => undefined,
    );
    const ids = bruteSessions(
      events,
      w,
      (acc, e) => [...(acc as number[]), e.value.id].sort((a, b) => a - b),
      (a, b) => [...(a as number[]), ...(b as number[])].sort((x, y) => x - y),
      () => [],
    );
    expect(counts.merges).toBeGreaterThan(10);
    // Records exactly at a session's closing time are accepted: the case an off-by-one would get wrong.
    expect(counts.onBoundary).toBeGreaterThan(3);
    expect(counts.dropped).toBeGreaterThan(10);
    expect(sorted(updatesByKey(driver.output('counts')))).toEqual(sorted(counts.updates));
    expect(sorted(updatesByKey(driver.output('ms')))).toEqual(sorted(ms.updates));
    expect(sorted(updatesByKey(driver.output('ids')))).toEqual(sorted(ids.updates));
    expect(driver.metric('lateDropped')).toBe(3 * counts.dropped);
  });

  it('session state is keyed by key, end, start and expires at end + gap + grace', async () => {
    const app = streams('session-state');
    app.stream('clicks').groupByKey().windowedBy(SessionWindows.withInactivityGap(100).grace(50)).count({ name: 'sessions' });
    const driver = new TopologyTestDriver(app, { expireState: false });
    await driver.pipe('clicks', [
      { key: 'ab', value: 1, timestamp: 1_000 },
      { key: 'ab', value: 1, timestamp: 1_080 },
    ]);
    expect(driver.store(0, 'sessions')).toEqual([
      { key: '2:ab|00000000000010800000000000001000', value: { start: 1_000, end: 1_080, aggregate: 2 }, expiresAt: 1_230 },
    ]);
  });
});
