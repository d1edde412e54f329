/**
 * DynamoDB implementation of TopicStore.
 *
 * topics table: one item per topic, keyed by name.
 * log table:    a deleted topic's head tombstones and the purge of its partitions; its key layout is the log store's
 *               (dynamodb-log-store.ts).
 */
import {
  UpdateCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { TopicAlreadyExistsError, TopicNotFoundError } from '../../../api/errors';
import type { TopicConfig } from '../../../api/topics';
import { isConditionalCheckFailed, toSluiceError } from '../aws/errors';
import { deleteLogPartition, tombstoneLogPartitions } from '../log/dynamodb-log-store';
import { fewerPartitions, type TopicStore } from './topic-store';

export interface DynamoDbTopicStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly topicsTable: string;
  readonly logTable: string;
}

export class DynamoDbTopicStore implements TopicStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly topicsTable: string;
  private readonly logTable: string;

  constructor(options: DynamoDbTopicStoreOptions) {
    this.client = options.client;
    this.topicsTable = options.topicsTable;
    this.logTable = options.logTable;
  }

  async createTopic(config: TopicConfig): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.topicsTable,
          Item: { ...config },
          // The name is the key: a second create of the same name must not overwrite the first.
          ConditionExpression: 'attribute_not_exists(#name)',
          ExpressionAttributeNames: { '#name': 'name' },
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) {
        throw new TopicAlreadyExistsError(`Topic "${config.name}" already exists`, { details: { topic: config.name } });
      }
      throw toSluiceError(err, 'CreateTopic', { write: true });
    }
  }

  async getTopic(name: string): Promise<TopicConfig | undefined> {
    try {
      const out = await this.client.send(
        new GetCommand({ TableName: this.topicsTable, Key: { name }, ConsistentRead: true }),
      );
      return out.Item ? toTopicConfig(out.Item) : undefined;
    } catch (err) {
      throw toSluiceError(err, 'GetTopic');
    }
  }

  async listTopics(): Promise<TopicConfig[]> {
    const topics: TopicConfig[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const out = await this.client.send(
          new ScanCommand({ TableName: this.topicsTable, ConsistentRead: true, ExclusiveStartKey: start }),
        );
        for (const item of out.Items ?? []) topics.push(toTopicConfig(item));
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      throw toSluiceError(err, 'ListTopics');
    }
    return topics.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async updateTopic(
    name: string,
    changes: Partial<Pick<TopicConfig, 'retentionMs' | 'dedupeWindowMs' | 'partitions'>>,
  ): Promise<TopicConfig> {
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined);
    try {
      const out = await this.client.send(
        new UpdateCommand({
          TableName: this.topicsTable,
          Key: { name },
          UpdateExpression: `SET ${entries.map(([k]) => `#${k} = :${k}`).join(', ')}`,
          ExpressionAttributeNames: { '#name': 'name', ...Object.fromEntries(entries.map(([k]) => [`#${k}`, k])) },
          ExpressionAttributeValues: Object.fromEntries(entries.map(([k, v]) => [`:${k}`, v])),
          // Never create a topic by updating one that does not exist, and never take partitions
          // away (a concurrent change may have added more than this one asks for).
          ConditionExpression:
            changes.partitions === undefined ? 'attribute_exists(#name)' : 'attribute_exists(#name) AND #partitions <= :partitions',
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toTopicConfig(out.Attributes!);
    } catch (err) {
      if (isConditionalCheckFailed(err)) {
        const current = changes.partitions === undefined ? undefined : await this.getTopic(name);
        if (current) throw fewerPartitions(current, changes.partitions!);
        throw new TopicNotFoundError(`Topic "${name}" does not exist`, { details: { topic: name } });
      }
      throw toSluiceError(err, 'UpdateTopic', { write: true });
    }
  }

  async deleteTopic(name: string, topicId: string): Promise<number> {
    try {
      const out = await this.client.send(
        new DeleteCommand({
          TableName: this.topicsTable,
          Key: { name },
          // Only the incarnation the caller looked at: a topic re-created meanwhile survives.
          ConditionExpression: 'topicId = :topicId',
          ExpressionAttributeValues: { ':topicId': topicId },
          ReturnValues: 'ALL_OLD',
        }),
      );
      // Before the delete returns: a produce still holding this topic's configuration (cached)
      // then finds its heads tombstoned and re-reads the topic instead of appending to the old one.
      const partitions = Number(out.Attributes?.partitions ?? 0);
      await tombstoneLogPartitions(this.client, this.logTable, topicId, partitions);
      return partitions;
    } catch (err) {
      if (isConditionalCheckFailed(err)) {
        throw new TopicNotFoundError(`Topic "${name}" does not exist`, { details: { topic: name } });
      }
      throw toSluiceError(err, 'DeleteTopic', { write: true });
    }
  }

  async purgePartition(topicId: string, partition: number): Promise<number> {
    try {
      return await deleteLogPartition(this.client, this.logTable, topicId, partition);
    } catch (err) {
      throw toSluiceError(err, 'PurgePartition', { write: true });
    }
  }
}

function toTopicConfig(item: Record<string, unknown>): TopicConfig {
  return {
    name: String(item.name),
    topicId: String(item.topicId),
    partitions: Number(item.partitions),
    retentionMs: Number(item.retentionMs),
    dedupeWindowMs: Number(item.dedupeWindowMs),
    createdAt: String(item.createdAt),
  };
}
