/**
 * Persistence for topic configuration and partition heads. The service talks to this interface;
 * DynamoDbTopicStore implements it, and tests can swap it.
 */
import type { TopicConfig } from '../../../api/topics';

export interface PartitionHead {
  readonly partition: number;
  /** Offset the next appended event gets: the high watermark. */
  readonly nextOffset: number;
  /** First offset not yet known to be expired or deleted. */
  readonly logStartOffset: number;
}

export interface TopicStore {
  /** Stores a new topic; throws TopicAlreadyExistsError if the name is taken. */
  createTopic(config: TopicConfig): Promise<void>;
  getTopic(name: string): Promise<TopicConfig | undefined>;
  /** All topics, sorted by name. */
  listTopics(): Promise<TopicConfig[]>;
  /** Changes retention and/or the dedupe window; throws TopicNotFoundError if the topic is gone. */
  updateTopic(name: string, changes: Partial<Pick<TopicConfig, 'retentionMs' | 'dedupeWindowMs'>>): Promise<TopicConfig>;
  /** Deletes the topic if it still has this topicId; throws TopicNotFoundError otherwise. */
  deleteTopic(name: string, topicId: string): Promise<void>;
  /** Heads of partitions 0..count-1; a partition nothing was appended to reads as 0/0. */
  readPartitionHeads(topicId: string, count: number): Promise<PartitionHead[]>;
  /** Removes every log item (events and head) of one partition of a deleted topic; returns how many. */
  purgePartition(topicId: string, partition: number): Promise<number>;
}
