/** The current topicId of a topic name: all the dispatcher needs of the topics table (GetItem). */
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TopicConfig } from '../../../api/topics';
import { toSluiceError } from '../aws/errors';

export interface TopicLookup {
  getTopic(name: string): Promise<Pick<TopicConfig, 'name' | 'topicId'> | undefined>;
}

export class DynamoDbTopicLookup implements TopicLookup {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly topicsTable: string,
  ) {}

  async getTopic(name: string): Promise<Pick<TopicConfig, 'name' | 'topicId'> | undefined> {
    try {
      const out = await this.client.send(
        new GetCommand({ TableName: this.topicsTable, Key: { name }, ProjectionExpression: '#n, topicId', ExpressionAttributeNames: { '#n': 'name' } }),
      );
      return out.Item ? { name: String(out.Item.name), topicId: String(out.Item.topicId) } : undefined;
    } catch (err) {
      throw toSluiceError(err, 'GetTopic');
    }
  }
}
