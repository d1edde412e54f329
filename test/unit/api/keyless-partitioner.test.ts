import { describe, expect, it } from 'vitest';
import { KeylessPartitioner } from '../../../api/partitioner';

/** Events placed per partition after `sizes` went through `next`, one call each. */
function place(partitioner: KeylessPartitioner, sizes: readonly number[]): number[] {
  const counts = new Array<number>(partitioner.partitions).fill(0);
  for (const size of sizes) counts[partitioner.next(size)]! += size;
  return counts;
}

const startAt = (partition: number, partitions: number) => () => partition / partitions;

describe('Class: KeylessPartitioner', () => {
  it('keeps a partition for stickyEvents events, then moves round robin while the counts tie', () => {
    const partitioner = new KeylessPartitioner(3, { stickyEvents: 2, random: startAt(1, 3) });
    expect(Array.from({ length: 8 }, () => partitioner.next())).toEqual([1, 1, 2, 2, 0, 0, 1, 1]);
  });

  it('moves to the partition that got the fewest events, so request sizes do not skew the spread', () => {
    // One request per call (stickyEvents 1, as the service places keyless requests): a big one,
    // then three small ones, again and again. Round robin per request would put every big one on
    // the same partition.
    const sizes = Array.from({ length: 400 }, (_, i) => (i % 4 === 0 ? 50 : 1));
    const counts = place(new KeylessPartitioner(4, { stickyEvents: 1, random: startAt(0, 4) }), sizes);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(50);
  });

  it('moves on after stickyBytes bytes, whatever the count', () => {
    const partitioner = new KeylessPartitioner(2, { stickyEvents: 100, stickyBytes: 1000, random: startAt(0, 2) });
    expect([partitioner.next(1, 600), partitioner.next(1, 600), partitioner.next(1, 10)]).toEqual([0, 0, 1]);
  });

  it('starts at a random partition', () => {
    expect(new KeylessPartitioner(4, { stickyEvents: 1, random: () => 0.99 }).next()).toBe(3);
    expect(new KeylessPartitioner(4, { stickyEvents: 1, random: () => 0 }).next()).toBe(0);
  });

  it('keeps the sum over several partitioners (producers, Lambda instances) balanced', () => {
    for (const starts of [[0, 0, 0], [0, 1, 2], [3, 3, 1]]) {
      const partitioners = starts.map((s) => new KeylessPartitioner(4, { stickyEvents: 40, random: startAt(s, 4) }));
      const counts = [0, 0, 0, 0];
      for (let i = 0; i < 3000; i++) counts[partitioners[i % 3]!.next()]!++;
      for (const count of counts) expect(Math.abs(count - 750)).toBeLessThanOrEqual(3 * 40);
    }
  });

  it('refuses a partition count or run length below 1', () => {
    expect(() => new KeylessPartitioner(0, { stickyEvents: 1 })).toThrow(RangeError);
    expect(() => new KeylessPartitioner(2, { stickyEvents: 0 })).toThrow(RangeError);
  });
});
