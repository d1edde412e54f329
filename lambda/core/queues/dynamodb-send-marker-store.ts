/**
 * Send markers in the dedupe table, beside produce's message IDs (their IDs start with `queue#`,
 * which no topic ID does). TTL removes them; since it runs up to two days late, the condition
 * checks the window's end too.
 */
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { isConditionalCheckFailed, toSluiceError } from '../aws/errors';
import type { SendMarker, SendMarkerStore } from './send-marker-store';

export interface DynamoDbSendMarkerStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly dedupeTable: string;
}

export class DynamoDbSendMarkerStore implements SendMarkerStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoDbSendMarkerStoreOptions) {
    this.client = options.client;
    this.table = options.dedupeTable;
  }

  async mark(marker: SendMarker, nowMs: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { id: marker.id, untilMs: marker.untilMs, expiresAt: Math.ceil(marker.untilMs / 1000) },
          ConditionExpression: 'attribute_not_exists(id) OR untilMs <= :now',
          ExpressionAttributeValues: { ':now': nowMs },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw toSluiceError(err, 'MarkQueueMessage', { write: true });
    }
  }
}
