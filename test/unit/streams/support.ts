/** Helpers for the streams tests. */
import { prng, type Random } from '../../support/prng';

export { prng, type Random };

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
