/** An in-memory TopicStore for unit tests: counts getTopic reads and records deletes and purges in order. */
import { TopicAlreadyExistsError, TopicNotFoundError } from '../../api/errors';
import type { TopicConfig } from '../../api/topics';
import type { TopicStore } from '../../lambda/core/topics/topic-store';

export class MemoryTopicStore implements TopicStore {
  readonly topics = new Map<string, TopicConfig>();
  /** Deletes and purges, in order (a test may add its own entries, such as enqueued jobs). */
  readonly calls: string[] = [];
  reads = 0;

  async createTopic(config: TopicConfig) {
    if (this.topics.has(config.name)) throw new TopicAlreadyExistsError(config.name);
    this.topics.set(config.name, config);
  }

  async getTopic(name: string) {
    this.reads++;
    return this.topics.get(name);
  }

  async listTopics() {
    return [...this.topics.values()];
  }

  async updateTopic(name: string, changes: Partial<TopicConfig>) {
    const current = this.topics.get(name);
    if (!current) throw new TopicNotFoundError(name);
    const updated = { ...current, ...changes };
    this.topics.set(name, updated);
    return updated;
  }

  async deleteTopic(name: string, topicId: string) {
    this.calls.push(`delete ${name}`);
    const topic = this.topics.get(name);
    if (topic?.topicId !== topicId) throw new TopicNotFoundError(name);
    this.topics.delete(name);
    return topic.partitions;
  }

  /** Purges two batches of every partition. */
  async purgePartition(topicId: string, partition: number) {
    this.calls.push(`purge ${topicId}#${partition}`);
    return 2;
  }
}
