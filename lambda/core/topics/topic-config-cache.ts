/**
 * The per-process cache of topic configurations, read through a TopicStore. Each caller says how
 * old a configuration it accepts (0: read it now), because what makes a stale one safe differs:
 * - produce and fetch (LogReadService): a deleted topic's partition heads are tombstones, so an
 *   append or fetch planned from a configuration that outlived its topic meets one, and reads the
 *   topic again; so does a request for a partition the cached configuration lacks. Other changes
 *   (retention, dedupe window) arrive within the caller's max age.
 * - the stream-processing runtime (CachingTopicStore): it reads its source topic fresh on every
 *   attempt and compares the topic ID its position was committed with, so a re-created input starts
 *   again from its start; its appends go through LogService, which catches a deleted output topic
 *   by its tombstones (and is given the plain store, not this cache).
 * A missing topic is not cached: it may be created any moment (an internal topic, by another instance).
 */
import type { TopicConfig } from '../../../api/topics';
import type { TopicStore } from './topic-store';

/** Configurations cached before the cache starts again empty (a bound on an instance's memory). */
export const MAX_CACHED_TOPICS = 10_000;

export class TopicConfigCache {
  /** Configurations by topic name, with when they were read. */
  private readonly entries = new Map<string, { config: TopicConfig; at: number }>();

  constructor(
    private readonly store: TopicStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** The topic's configuration as read less than `maxAgeMs` ago, else read now; undefined when there is no such topic. */
  async get(name: string, maxAgeMs: number): Promise<TopicConfig | undefined> {
    const now = this.now();
    const hit = this.entries.get(name);
    if (hit && now - hit.at < maxAgeMs) return hit.config;
    const config = await this.store.getTopic(name);
    if (!config) {
      this.entries.delete(name);
      return undefined;
    }
    if (!this.entries.has(name) && this.entries.size >= MAX_CACHED_TOPICS) this.entries.clear();
    this.entries.set(name, { config, at: now });
    return config;
  }

  /** Reads the topic now, and caches what it read (meanwhile, other callers keep the cached config). */
  fresh(name: string): Promise<TopicConfig | undefined> {
    return this.get(name, 0);
  }

  /** Forgets the topic, so the next get reads it (it turned out deleted, or was just written). */
  forget(name: string): void {
    this.entries.delete(name);
  }
}
