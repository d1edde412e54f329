/**
 * Key → partition exactly as Kafka's Java client places it (`Utils.murmur2` on the UTF-8 key bytes,
 * made positive with `& 0x7fffffff`, modulo the partition count), so a key lands on the partition
 * number a Java producer would pick; keyless events are spread by KeylessPartitioner. Shared by the
 * service and the client's Producer.
 */

/** Kafka's murmur2 (seed 0x9747b28c), returning a signed 32-bit integer like Java's. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  const m = 0x5bd1e995;
  const r = 24;
  let h = (0x9747b28c ^ length) | 0;
  const length4 = length >> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  // Java's switch falls through from case 3 to case 1.
  if (rest === 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

const encoder = new TextEncoder();

/** The partition Kafka's Java client picks for this key. */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(encoder.encode(key)) & 0x7fffffff) % partitions;
}

export interface KeylessPartitionerOptions {
  /**
   * Keyless events placed on one partition before moving to the next: a producer's batch size, so
   * a batch fills on one partition (Kafka's `batch.size`); 1 moves on after every placement.
   */
  readonly stickyEvents: number;
  /** Bytes placed on one partition before moving on, whatever the count. @default no limit */
  readonly stickyBytes?: number;
  /** Picks the first partition. @default Math.random */
  readonly random?: () => number;
}

/**
 * Where keyless events go, for one topic, as Kafka's built-in partitioner places them since
 * KIP-794 (the "uniform sticky" partitioner): every keyless event goes to the current partition
 * until `stickyEvents` events (or `stickyBytes` bytes) went there, then the current partition moves
 * on. Placement counts events, never requests or batches, so it does not depend on how events
 * are batched, how long requests take, or which partition has a request in flight: the partition
 * moved to is the one that has received the fewest events from this partitioner (ties: the next
 * one round robin), so every partition stays within one run (or one request) of the others.
 *
 * Each producer and each Lambda instance has its own, starting at a random partition, so the
 * sum over any number of them is balanced too (within one run per partitioner).
 */
export class KeylessPartitioner {
  readonly partitions: number;
  readonly #stickyEvents: number;
  readonly #stickyBytes: number;
  /** Keyless events placed on each partition. */
  readonly #placed: number[];
  #current: number;
  #runEvents = 0;
  #runBytes = 0;

  constructor(partitions: number, options: KeylessPartitionerOptions) {
    if (!Number.isInteger(partitions) || partitions < 1) throw new RangeError(`partitions must be a positive integer, got ${partitions}`);
    if (!(options.stickyEvents >= 1)) throw new RangeError(`stickyEvents must be at least 1, got ${options.stickyEvents}`);
    this.partitions = partitions;
    this.#stickyEvents = options.stickyEvents;
    this.#stickyBytes = options.stickyBytes ?? Infinity;
    this.#placed = new Array<number>(partitions).fill(0);
    this.#current = Math.min(partitions - 1, Math.floor((options.random ?? Math.random)() * partitions));
  }

  /** The partition for the next `events` keyless events (totalling `bytes`), counted as placed there. */
  next(events = 1, bytes = 0): number {
    if (this.#runEvents >= this.#stickyEvents || this.#runBytes >= this.#stickyBytes) this.#moveOn();
    const partition = this.#current;
    this.#placed[partition]! += events;
    this.#runEvents += events;
    this.#runBytes += bytes;
    return partition;
  }

  /** To the partition with the fewest events; of equals, the first after the current one. */
  #moveOn(): void {
    let best = this.#current;
    for (let i = 1; i <= this.partitions; i++) {
      const candidate = (this.#current + i) % this.partitions;
      if (this.#placed[candidate]! < this.#placed[best]! || (best === this.#current && this.#placed[candidate] === this.#placed[best])) {
        best = candidate;
      }
    }
    this.#current = best;
    this.#runEvents = 0;
    this.#runBytes = 0;
  }
}
