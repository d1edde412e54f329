/**
 * Topic administration. Knows nothing about Lambda or HTTP: handlers and tests call it directly.
 */
import { randomUUID } from 'node:crypto';
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
import type { TopicStore } from './topic-store';

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
  /** @default crypto.randomUUID */
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
    this.newTopicId = options.newTopicId ?? randomUUID;
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
   * Changes retention and/or the dedupe window. Reads apply the new retention at once (a shorter
   * one hides older events immediately); stored items keep the expiry they were written with, so
   * a longer retention cannot bring back events DynamoDB has already deleted.
   */
  updateTopic(name: string, changes: UpdateTopicRequest): Promise<TopicConfig> {
    return this.store.updateTopic(name, changes);
  }

  /**
   * Deletes the topic at once; its events become unreachable immediately (they are keyed by the
   * topicId, which a re-created topic does not share) and are removed by the purge job.
   */
  async deleteTopic(name: string): Promise<void> {
    const config = await this.requireTopic(name);
    await this.purgeQueue.enqueue({ name, topicId: config.topicId, partitions: config.partitions });
    await this.store.deleteTopic(name, config.topicId);
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
