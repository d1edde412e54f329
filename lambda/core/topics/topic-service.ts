/**
 * Topic administration. Knows nothing about Lambda or HTTP: handlers and tests call it directly.
 */
import { SluiceError, TopicNotFoundError } from '../../../api/errors';
import {
  TOPIC_DEFAULTS,
  type CreateTopicRequest,
  type PartitionOffsets,
  type TopicConfig,
  type TopicDescription,
  type UpdateTopicRequest,
} from '../../../api/topics';
import { purgeJobSchema, type PurgeJob, type PurgeQueue } from './purge-queue';
import { fewerPartitions, type TopicStore } from './topic-store';
import { newTopicId } from './topic-id';

/** Where describe gets each partition's log start and high watermark (LogService). */
export interface PartitionOffsetsSource {
  partitionOffsets(config: TopicConfig): Promise<PartitionOffsets[]>;
}

export interface TopicServiceOptions {
  readonly store: TopicStore;
  readonly offsets: PartitionOffsetsSource;
  readonly purgeQueue: PurgeQueue;
  /** @default () => new Date() */
  readonly now?: () => Date;
  /** @default newTopicId */
  readonly newTopicId?: () => string;
}

/** The purge job's topic still exists under the same ID: its delete has not happened (yet). */
export class TopicStillLiveError extends SluiceError {
  override readonly code = 'TopicStillLive';
  override readonly status = 409;
  override readonly retriable = true;
}

export class TopicService {
  private readonly store: TopicStore;
  private readonly offsets: PartitionOffsetsSource;
  private readonly purgeQueue: PurgeQueue;
  private readonly now: () => Date;
  private readonly newTopicId: () => string;

  constructor(options: TopicServiceOptions) {
    this.store = options.store;
    this.offsets = options.offsets;
    this.purgeQueue = options.purgeQueue;
    this.now = options.now ?? (() => new Date());
    this.newTopicId = options.newTopicId ?? newTopicId;
  }

  async createTopic(request: CreateTopicRequest): Promise<TopicConfig> {
    const config: TopicConfig = {
      name: request.name,
      topicId: this.newTopicId(),
      partitions: request.partitions ?? TOPIC_DEFAULTS.partitions,
      retentionMs: request.retentionMs ?? TOPIC_DEFAULTS.retentionMs,
      dedupeWindowMs: request.dedupeWindowMs ?? TOPIC_DEFAULTS.dedupeWindowMs,
      createdAt: this.now().toISOString(),
    };
    await this.store.createTopic(config);
    return config;
  }

  listTopics(): Promise<TopicConfig[]> {
    return this.store.listTopics();
  }

  async describeTopic(name: string): Promise<TopicDescription> {
    const config = await this.requireTopic(name);
    return { ...config, partitionOffsets: await this.offsets.partitionOffsets(config) };
  }

  /**
   * Changes retention, the dedupe window and/or the partition count. Reads apply the new retention
   * at once (a shorter one hides older events immediately); stored items keep the expiry they were
   * written with, so a longer retention cannot bring back events DynamoDB has already deleted.
   *
   * `partitions` can only grow (as in Kafka's `--alter --partitions`); the same count changes
   * nothing, so a retried request succeeds. New partitions start empty; a partition has no item
   * until its first append, so adding them writes nothing but the topic. Keys then map to
   * partitions by the new count (murmur2 mod partitions), so most keys move; produce, fetch and
   * describe see the new count at once (produce within its config cache, TOPIC_CONFIG_CACHE_MS),
   * consumer groups on their members' next poll or heartbeat (GroupService).
   */
  async updateTopic(name: string, changes: UpdateTopicRequest): Promise<TopicConfig> {
    if (changes.partitions !== undefined) {
      const current = await this.requireTopic(name);
      // Checked here for the clear answer; the store's condition also holds against a concurrent change.
      if (changes.partitions < current.partitions) throw fewerPartitions(current, changes.partitions);
    }
    return this.store.updateTopic(name, changes);
  }

  /**
   * Deletes the topic at once; its events become unreachable immediately (they are keyed by the
   * topicId, which a re-created topic does not share) and are removed by the purge job.
   */
  async deleteTopic(name: string): Promise<void> {
    const config = await this.requireTopic(name);
    await this.purgeQueue.enqueue({ name, topicId: config.topicId, partitions: config.partitions });
    const partitions = await this.store.deleteTopic(name, config.topicId);
    // It grew between the read and the delete: the first job misses the partitions added.
    if (partitions > config.partitions) await this.purgeQueue.enqueue({ name, topicId: config.topicId, partitions });
  }

  /** Runs one purge job; returns the number of log items removed. */
  async purgeDeletedTopic(job: PurgeJob): Promise<number> {
    const { name, topicId, partitions } = purgeJobSchema.parse(job);
    const live = await this.store.getTopic(name);
    if (live?.topicId === topicId) {
      throw new TopicStillLiveError(`Topic "${name}" (${topicId}) is not deleted yet; purge will retry`);
    }
    let removed = 0;
    for (let p = 0; p < partitions; p++) removed += await this.store.purgePartition(topicId, p);
    return removed;
  }

  private async requireTopic(name: string): Promise<TopicConfig> {
    const config = await this.store.getTopic(name);
    if (!config) throw new TopicNotFoundError(`Topic "${name}" does not exist`, { details: { topic: name } });
    return config;
  }
}
