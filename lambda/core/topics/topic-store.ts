/**
 * Persistence for topic configuration (and the purge of a deleted topic's log). The service talks to this interface;
 * DynamoDbTopicStore implements it, and tests can swap it.
 */
import type { TopicConfig } from '../../../api/topics';

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
  /** Removes every log item (events and head) of one partition of a deleted topic; returns how many. */
  purgePartition(topicId: string, partition: number): Promise<number>;
}
