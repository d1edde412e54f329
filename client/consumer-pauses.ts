/**
 * Which partitions of a Consumer are paused, and where each must be rewound to when resumed: the
 * records call reads all the member's partitions, so records of a paused one are fetched anyway;
 * the consumer drops them (neither delivered nor committed) and remembers the first offset
 * dropped, and a resume seeks the group back to it.
 */
import { tpKey, type TopicPartition } from './consumer-membership';

/** A topic, and some of its partitions (all when absent). */
export interface TopicPartitions {
  readonly topic: string;
  readonly partitions?: readonly number[];
}

export type Rewind = TopicPartition & { readonly offset: number };

export class Pauses {
  readonly #topics = new Set<string>();
  readonly #partitions = new Set<string>();
  /** First offset fetched and dropped while paused, per partition. */
  readonly #rewinds = new Map<string, Rewind>();

  pause(topics: readonly TopicPartitions[]): void {
    for (const { topic, partitions } of topics) {
      if (partitions === undefined) this.#topics.add(topic);
      else for (const p of partitions) this.#partitions.add(tpKey(topic, p));
    }
  }

  /**
   * Unpauses; answers the rewinds of the partitions no longer paused.
   * @throws TypeError for some partitions of a topic paused as a whole
   */
  resume(topics: readonly TopicPartitions[]): Rewind[] {
    for (const { topic, partitions } of topics) {
      if (partitions !== undefined && this.#topics.has(topic)) {
        throw new TypeError(`Topic "${topic}" is paused as a whole; resume it without partitions`);
      }
    }
    for (const { topic, partitions } of topics) {
      if (partitions !== undefined) for (const p of partitions) this.#partitions.delete(tpKey(topic, p));
      else {
        this.#topics.delete(topic);
        for (const key of this.#partitions) if (key.startsWith(`${topic}#`)) this.#partitions.delete(key);
      }
    }
    const due: Rewind[] = [];
    for (const [key, rewind] of this.#rewinds) {
      if (this.isPaused(rewind.topic, rewind.partition)) continue;
      this.#rewinds.delete(key);
      due.push(rewind);
    }
    return due;
  }

  /** Whole topics (no `partitions`), then single partitions. */
  paused(): TopicPartitions[] {
    const partitions = new Map<string, number[]>();
    for (const key of this.#partitions) {
      const at = key.lastIndexOf('#');
      const topic = key.slice(0, at);
      partitions.set(topic, [...(partitions.get(topic) ?? []), Number(key.slice(at + 1))]);
    }
    return [...[...this.#topics].map((topic) => ({ topic })), ...[...partitions].map(([topic, ps]) => ({ topic, partitions: ps }))];
  }

  isPaused(topic: string, partition: number): boolean {
    return this.#topics.has(topic) || this.#partitions.has(tpKey(topic, partition));
  }

  any(): boolean {
    return this.#topics.size > 0 || this.#partitions.size > 0;
  }

  /** Records of a paused partition were dropped from `offset` on (the first drop counts). */
  dropped(topic: string, partition: number, offset: number): void {
    const key = tpKey(topic, partition);
    if (!this.#rewinds.has(key)) this.#rewinds.set(key, { topic, partition, offset });
  }

  /** Forgets the rewind (a seek replaced it, or another member owns the partition now). */
  forget(topic: string, partition: number): void {
    this.#rewinds.delete(tpKey(topic, partition));
  }

  forgetUnless(owned: (topic: string, partition: number) => boolean): void {
    for (const rewind of [...this.#rewinds.values()]) if (!owned(rewind.topic, rewind.partition)) this.forget(rewind.topic, rewind.partition);
  }
}
