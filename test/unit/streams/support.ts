/** Helpers for the streams tests: a seeded PRNG, so a randomized case is the same every run. */

/** mulberry32: a small, well-mixed 32-bit PRNG; the same seed gives the same sequence. */
export function prng(seed: number): Random {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
    chance: (p) => next() < p,
  };
}

export interface Random {
  /** [0, 1) */
  next(): number;
  /** An integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** Splits `items` into consecutive chunks of random sizes in [1, max]. */
export function randomChunks<T>(random: Random, items: readonly T[], max: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; ) {
    const n = random.int(1, max);
    chunks.push(items.slice(i, i + n));
    i += n;
  }
  return chunks;
}

/** Groups `items` by `keyOf`, keeping their order within each group. */
export function groupBy<T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), item]);
  return groups;
}
