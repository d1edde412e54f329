import { describe, expect, it } from 'vitest';
import { assign, tpKey, type Owners } from '../../../lambda/core/groups/assignor';

const counts = (owners: Owners) => {
  const c: Record<string, number> = {};
  for (const m of Object.values(owners)) c[m] = (c[m] ?? 0) + 1;
  return c;
};
const moved = (before: Owners, after: Owners) => Object.keys(after).filter((tp) => before[tp] && before[tp] !== after[tp]).length;

describe('assign (sticky, balanced)', () => {
  it('splits 4 partitions 2/2 between two members', () => {
    const owners = assign([{ topic: 't', partitions: 4 }], { a: ['t'], b: ['t'] }, {});
    expect(Object.keys(owners)).toHaveLength(4);
    expect(counts(owners)).toEqual({ a: 2, b: 2 });
  });

  it('moves only the leaving member’s partitions', () => {
    const before = assign([{ topic: 't', partitions: 6 }], { a: ['t'], b: ['t'], c: ['t'] }, {});
    const after = assign([{ topic: 't', partitions: 6 }], { a: ['t'], b: ['t'] }, before);
    expect(counts(after)).toEqual({ a: 3, b: 3 });
    for (const [tp, m] of Object.entries(before)) if (m !== 'c') expect(after[tp]).toBe(m);
  });

  it('moves as few partitions as balance needs when a member joins', () => {
    const before = assign([{ topic: 't', partitions: 7 }], { a: ['t'], b: ['t'] }, {});
    const after = assign([{ topic: 't', partitions: 7 }], { a: ['t'], b: ['t'], c: ['t'] }, before);
    expect(Object.values(counts(after)).sort()).toEqual([2, 2, 3]);
    expect(moved(before, after)).toBe(2);
  });

  it.each([
    [1, 3],
    [3, 1],
    [10, 3],
    [12, 5],
    [2, 2],
  ])('gives each of %i partitions exactly one owner among %i members, counts within one', (partitions, n) => {
    const members = Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${i}`, ['t']]));
    const owners = assign([{ topic: 't', partitions }], members, {});
    expect(Object.keys(owners).sort()).toEqual(Array.from({ length: partitions }, (_, p) => tpKey('t', p)).sort());
    const c = Object.values(counts(owners));
    if (c.length > 0) expect(Math.max(...c) - Math.min(...c, ...(c.length < n ? [0] : []))).toBeLessThanOrEqual(1);
  });

  it('assigns a topic only to members subscribed to it', () => {
    const owners = assign(
      [
        { topic: 'x', partitions: 2 },
        { topic: 'y', partitions: 2 },
      ],
      { a: ['x'], b: ['x', 'y'] },
      {},
    );
    expect(owners[tpKey('y', 0)]).toBe('b');
    expect(owners[tpKey('y', 1)]).toBe('b');
  });

  it('stays stable across many random churns', () => {
    let owners: Owners = {};
    let members = ['a', 'b', 'c'];
    for (let round = 0; round < 50; round++) {
      members = round % 2 === 0 ? [...members, `n${round}`] : members.filter((_, i) => i !== round % members.length);
      owners = assign([{ topic: 't', partitions: 16 }], Object.fromEntries(members.map((m) => [m, ['t']])), owners);
      expect(Object.keys(owners)).toHaveLength(16);
      for (const m of Object.values(owners)) expect(members).toContain(m);
    }
  });
});
