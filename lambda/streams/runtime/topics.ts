/**
 * Topic configuration as the runtime sees it: cached per process (a commit names its output topics,
 * and reading each one's config per commit would cost a read unit per topic per batch), and the
 * processor's internal topics (repartition and dead-letter), created on first use.
 */
import { TopicAlreadyExistsError, TopicNotFoundError } from '../../../api/errors';
import { TOPIC_DEFAULTS, type TopicConfig } from '../../../api/topics';
import { TopicConfigCache } from '../../core/topics/topic-config-cache';
import { newTopicId } from '../../core/topics/topic-id';
import type { TopicStore } from '../../core/topics/topic-store';

/** How long a cached topic config is trusted. A topic's partitions and ID change only when it is deleted and re-created. */
export const TOPIC_CACHE_MS = 60_000;

/**
 * A TopicStore whose getTopic answers from a per-process TopicConfigCache for TOPIC_CACHE_MS (why
 * that is safe: topic-config-cache.ts); its writes forget the topic they change.
 */
export class CachingTopicStore implements TopicStore {
  private readonly cache: TopicConfigCache;

  constructor(
    private readonly store: TopicStore,
    now: () => number = Date.now,
  ) {
    this.cache = new TopicConfigCache(store, now);
  }

  getTopic(name: string): Promise<TopicConfig | undefined> {
    return this.cache.get(name, TOPIC_CACHE_MS);
  }

  /** Reads `name` again, and caches what it read (meanwhile, other callers keep the cached config). */
  fresh(name: string): Promise<TopicConfig | undefined> {
    return this.cache.fresh(name);
  }

  async createTopic(config: TopicConfig): Promise<void> {
    this.cache.forget(config.name);
    await this.store.createTopic(config);
  }

  listTopics(): Promise<TopicConfig[]> {
    return this.store.listTopics();
  }

  updateTopic(name: string, changes: Partial<Pick<TopicConfig, 'retentionMs' | 'dedupeWindowMs'>>): Promise<TopicConfig> {
    this.cache.forget(name);
    return this.store.updateTopic(name, changes);
  }

  deleteTopic(name: string, topicId: string): Promise<number> {
    this.cache.forget(name);
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
    topicId: newTopicId(),
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
