import { describe, expect, it } from 'vitest';
import { BufferedContext } from '../../../lambda/streams/dsl/buffered-context';
import type { ProcessorContext, StreamRecord } from '../../../lambda/streams';

/** A plain in-memory context (one store) to buffer in front of. */
function baseContext() {
  const entries = new Map<string, unknown>([
    ['a|1', 1],
    ['a|3', 3],
  ]);
  const emitted: [string, StreamRecord][] = [];
  const counted: [string, number | undefined][] = [];
  const ctx: ProcessorContext = {
    streamTime: 42,
    state: {
      get: async <T>(_store: string, key: string) => entries.get(key) as T | undefined,
      put: (_store, key, value) => void entries.set(key, value),
      delete: (_store, key) => void entries.delete(key),
      range: async <T>(_store: string, prefix: string, from?: string, to?: string) =>
        [...entries]
          .filter(([k]) => k.startsWith(prefix) && (from === undefined || k >= from) && (to === undefined || k <= to))
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([key, value]) => ({ key, value: value as T })),
    },
    emit: (topic, record) => void emitted.push([topic, record]),
    count: (metric, n) => void counted.push([metric, n]),
  };
  return { ctx, entries, emitted, counted };
}

describe('BufferedContext', () => {
  it('reads its own writes over the base, and changes nothing until commit()', async () => {
    const base = baseContext();
    const buffered = new BufferedContext(base.ctx);
    buffered.state.put('s', 'a|2', { n: 2 }, { expiresAt: 5 });
    buffered.state.delete('s', 'a|3');
    buffered.state.put('s', 'b|1', 'b');
    buffered.emit('out', { key: 'k', value: 1, timestamp: 0, headers: {} });
    buffered.count('seen', 2);
    expect(buffered.streamTime).toBe(42);
    expect(await buffered.state.range('s', 'a|')).toEqual([
      { key: 'a|1', value: 1 },
      { key: 'a|2', value: { n: 2 } },
    ]);
    expect(await buffered.state.range('s', 'a|', 'a|2', 'a|9')).toEqual([{ key: 'a|2', value: { n: 2 } }]);
    expect([await buffered.state.get('s', 'a|3'), await buffered.state.get('s', 'b|1'), await buffered.state.get('s', 'a|1')]).toEqual([undefined, 'b', 1]);
    expect([...base.entries.keys()]).toEqual(['a|1', 'a|3']);
    expect([base.emitted, base.counted]).toEqual([[], []]);

    buffered.commit();
    expect(Object.fromEntries(base.entries)).toEqual({ 'a|1': 1, 'a|2': { n: 2 }, 'b|1': 'b' });
    expect(base.emitted).toEqual([['out', { key: 'k', value: 1, timestamp: 0, headers: {} }]]);
    expect(base.counted).toEqual([['seen', 2]]);
  });

  it('keeps a copy of what was put: mutating the value afterwards changes nothing', async () => {
    const base = baseContext();
    const buffered = new BufferedContext(base.ctx);
    const value = { list: [1] };
    buffered.state.put('s', 'k', value);
    value.list.push(2);
    expect(await buffered.state.get('s', 'k')).toEqual({ list: [1] });
  });
});
