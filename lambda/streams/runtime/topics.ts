/**
 * Topic configuration as the runtime sees it: cached per process (a commit names its output topics,
 * and reading each one's config per commit would cost a read unit per topic per batch), and the
 * processor's internal topics (repartition and dead-letter), created on first use.
 */
import { randomUUID } from 'node:crypto';
import { TopicAlreadyExistsError, TopicNotFoundError } from '../../../api/errors';
import { TOPIC_DEFAULTS, type TopicConfig } from '../../../api/topics';
import type { TopicStore } from '../../core/topics/topic-store';

/** How long a cached topic config is trusted. A topic's partitions and ID change only when it is deleted and re-created. */
export const TOPIC_CACHE_MS = 60_000;

/** A TopicStore whose getTopic answers from a per-process cache for TOPIC_CACHE_MS. */
export class CachingTopicStore implements TopicStore {
  private readonly cache = new Map<string, { config: TopicConfig | undefined; at: number }>();

  constructor(
    private readonly store: TopicStore,
    private readonly now: () => number = Date.now,
    private readonly ttlMs: number = TOPIC_CACHE_MS,
  ) {}

  async getTopic(name: string): Promise<TopicConfig | undefined> {
    const hit = this.cache.get(name);
    // A missing topic is not cached: it may be created any moment (an internal topic, by another instance).
    if (hit?.config && this.now() - hit.at < this.ttlMs) return hit.config;
    const config = await this.store.getTopic(name);
    this.cache.set(name, { config, at: this.now() });
    return config;
  }

  /** Reads `name` again, and caches what it read (meanwhile, other callers keep the cached config). */
  async fresh(name: string): Promise<TopicConfig | undefined> {
    const config = await this.store.getTopic(name);
    this.cache.set(name, { config, at: this.now() });
    return config;
  }

  /** Forgets `name`, so the next getTopic reads it again (after a create, or a topic ID that disagrees). */
  invalidate(name: string): void {
    this.cache.delete(name);
  }

  async createTopic(config: TopicConfig): Promise<void> {
    this.invalidate(config.name);
    await this.store.createTopic(config);
  }

  listTopics(): Promise<TopicConfig[]> {
    return this.store.listTopics();
  }

  updateTopic(name: string, changes: Partial<Pick<TopicConfig, 'retentionMs' | 'dedupeWindowMs'>>): Promise<TopicConfig> {
    this.invalidate(name);
    return this.store.updateTopic(name, changes);
  }

  deleteTopic(name: string, topicId: string): Promise<number> {
    this.invalidate(name);
    return this.store.deleteTopic(name, topicId);
  }

  purgePartition(topicId: string, partition: number): Promise<number> {
    return this.store.purgePartition(topicId, partition);
  }
}

export async function requireTopic(topics: TopicStore, name: string, why: string): Promise<TopicConfig> {
  const config = await topics.getTopic(name);
  if (!config) throw new TopicNotFoundError(`Topic "${name}" does not exist (${why})`, { details: { topic: name } });
  return config;
}

/**
 * The internal topic `name` with `partitions` partitions: created when missing (default retention,
 * and the default dedupe window, which the deterministic message IDs of chunked commits rely on).
 * Idempotent, and safe when instances race to create it.
 */
export async function ensureInternalTopic(topics: TopicStore, name: string, partitions: number, now: () => number = Date.now): Promise<TopicConfig> {
  const existing = await topics.getTopic(name);
  if (existing) return existing;
  const config: TopicConfig = {
    name,
    topicId: randomUUID(),
    partitions,
    retentionMs: TOPIC_DEFAULTS.retentionMs,
    dedupeWindowMs: TOPIC_DEFAULTS.dedupeWindowMs,
    createdAt: new Date(now()).toISOString(),
  };
  try {
    await topics.createTopic(config);
    return config;
  } catch (err) {
    if (!(err instanceof TopicAlreadyExistsError)) throw err;
    // Another instance created it first: use theirs.
    return requireTopic(topics, name, 'created concurrently');
  }
}
