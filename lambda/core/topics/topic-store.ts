/**
 * Persistence for topic configuration (and the purge of a deleted topic's log). The service talks to this interface;
 * DynamoDbTopicStore implements it, and tests can swap it.
 */
import { InvalidRequestError } from '../../../api/errors';
import type { TopicConfig } from '../../../api/topics';

export interface TopicStore {
  /** Stores a new topic; throws TopicAlreadyExistsError if the name is taken. */
  createTopic(config: TopicConfig): Promise<void>;
  getTopic(name: string): Promise<TopicConfig | undefined>;
  /** All topics, sorted by name. */
  listTopics(): Promise<TopicConfig[]>;
  /**
   * Changes retention, the dedupe window and/or the partition count; throws TopicNotFoundError if
   * the topic is gone, InvalidRequestError if it has more partitions than `changes.partitions`.
   */
  updateTopic(name: string, changes: Partial<Pick<TopicConfig, 'retentionMs' | 'dedupeWindowMs' | 'partitions'>>): Promise<TopicConfig>;
  /**
   * Deletes the topic if it still has this topicId, and tombstones its partitions' heads; returns
   * the partition count it had. Throws TopicNotFoundError otherwise.
   */
  deleteTopic(name: string, topicId: string): Promise<number>;
  /** Removes the batches of one partition of a deleted topic (its head stays a tombstone); returns how many. */
  purgePartition(topicId: string, partition: number): Promise<number>;
}

/**
 * The answer to a request for fewer partitions than the topic has: partitions can only be added
 * (as in Kafka), as events, offsets and committed positions live on them.
 */
export function fewerPartitions(current: TopicConfig, requested: number): InvalidRequestError {
  const message = `must be at least ${current.partitions}: topic "${current.name}" has ${current.partitions} partitions, and partitions can only be added`;
  return new InvalidRequestError(`Invalid request: body.partitions: ${message}`, {
    details: { issues: [{ path: 'body.partitions', message }], topic: current.name, partitions: current.partitions, requested },
  });
}
