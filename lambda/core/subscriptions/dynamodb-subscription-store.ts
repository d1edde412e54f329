/**
 * DynamoDB implementation of SubscriptionStore, on the subscriptions table (pk, sk strings):
 *
 *   pk "T#<topicId>"          sk "<name>"                          a subscription's config (Query lists a topic's)
 *   pk "S#<topicId>#<name>"   sk "c#<partition>"                   cursor: next offset, version, attempts, last error
 *   pk "S#<topicId>#<name>"   sk "d#<partition>#<offset>"          a dead letter: the event, the error
 *
 * Partitions and offsets are zero-padded so items sort by number. Cursors and dead letters are one
 * item collection per subscription, so a busy subscription never shares a partition key with
 * another; the config items of a topic share one, read once per dispatcher batch.
 */
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { SubscriptionAlreadyExistsError } from '../../../api/errors';
import { batchWriteAll } from '../aws/batch';
import { isConditionalCheckFailed, toSluiceError } from '../aws/errors';
import type { Cursor, StoredDeadLetter, Subscription, SubscriptionStore } from './subscription-store';

const configKey = (topicId: string, name: string) => ({ pk: `T#${topicId}`, sk: name });
const statePk = (topicId: string, name: string) => `S#${topicId}#${name}`;
const pad = (n: number, width: number) => String(n).padStart(width, '0');
const cursorSk = (partition: number) => `c#${pad(partition, 4)}`;
const deadLetterSk = (partition: number, offset: number) => `d#${pad(partition, 4)}#${pad(offset, 16)}`;
const MAX_ERROR_CHARS = 1000;

export interface DynamoDbSubscriptionStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly table: string;
}

export class DynamoDbSubscriptionStore implements SubscriptionStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoDbSubscriptionStoreOptions) {
    this.client = options.client;
    this.table = options.table;
  }

  async putSubscription(subscription: Subscription): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...configKey(subscription.topicId, subscription.name), kind: 'subscription', ...subscription },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) {
        throw new SubscriptionAlreadyExistsError(`Topic "${subscription.topic}" already has a subscription "${subscription.name}"`, {
          details: { topic: subscription.topic, subscription: subscription.name },
        });
      }
      throw toSluiceError(err, 'PutSubscription', { write: true });
    }
  }

  async getSubscription(topicId: string, name: string): Promise<Subscription | undefined> {
    try {
      const out = await this.client.send(new GetCommand({ TableName: this.table, Key: configKey(topicId, name), ConsistentRead: true }));
      return out.Item ? toSubscription(out.Item) : undefined;
    } catch (err) {
      throw toSluiceError(err, 'GetSubscription');
    }
  }

  async listSubscriptions(topicId: string): Promise<Subscription[]> {
    const items = await this.queryAll('ListSubscriptions', {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `T#${topicId}` },
    });
    return items.map(toSubscription);
  }

  async deleteSubscription(topicId: string, name: string): Promise<boolean> {
    try {
      const out = await this.client.send(new DeleteCommand({ TableName: this.table, Key: configKey(topicId, name), ReturnValues: 'ALL_OLD' }));
      return out.Attributes !== undefined;
    } catch (err) {
      throw toSluiceError(err, 'DeleteSubscription', { write: true });
    }
  }

  async deleteSubscriptionState(topicId: string, name: string): Promise<void> {
    const items = await this.queryAll('ReadSubscriptionState', {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': statePk(topicId, name) },
      ProjectionExpression: 'pk, sk',
    });
    await batchWriteAll(
      this.client,
      this.table,
      items.map((i) => ({ DeleteRequest: { Key: { pk: i.pk, sk: i.sk } } })),
      'DeleteSubscriptionState',
    );
  }

  async readCursor(topicId: string, name: string, partition: number): Promise<Cursor | undefined> {
    try {
      const out = await this.client.send(
        new GetCommand({ TableName: this.table, Key: { pk: statePk(topicId, name), sk: cursorSk(partition) }, ConsistentRead: true }),
      );
      return out.Item ? toCursor(out.Item) : undefined;
    } catch (err) {
      throw toSluiceError(err, 'ReadCursor');
    }
  }

  async readCursors(topicId: string, name: string): Promise<Map<number, Cursor>> {
    const items = await this.queryAll('ReadCursors', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :c)',
      ExpressionAttributeValues: { ':pk': statePk(topicId, name), ':c': 'c#' },
    });
    return new Map(items.map((i) => [Number(i.partition), toCursor(i)]));
  }

  async createCursor(topicId: string, name: string, partition: number, next: number): Promise<Cursor> {
    const cursor: Cursor = { partition, next, version: 1, attempts: 0 };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: statePk(topicId, name), sk: cursorSk(partition), ...cursor },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return cursor;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw toSluiceError(err, 'CreateCursor', { write: true });
    }
    const existing = await this.readCursor(topicId, name, partition);
    if (!existing) throw new Error(`cursor ${topicId}/${name}/${partition} exists and then does not`);
    return existing;
  }

  async setCursors(topicId: string, name: string, positions: readonly { partition: number; next: number }[]): Promise<Cursor[]> {
    // One UpdateItem each (a version bump needs the old version): a seek of many partitions is rare.
    const result: Cursor[] = [];
    for (let i = 0; i < positions.length; i += 16) {
      result.push(
        ...(await Promise.all(
          positions.slice(i, i + 16).map(async ({ partition, next }) => {
            try {
              const out = await this.client.send(
                new UpdateCommand({
                  TableName: this.table,
                  Key: { pk: statePk(topicId, name), sk: cursorSk(partition) },
                  UpdateExpression: 'SET #next = :next, #partition = :p, attempts = :zero ADD version :one REMOVE lastError',
                  ExpressionAttributeNames: { '#next': 'next', '#partition': 'partition' },
                  ExpressionAttributeValues: { ':next': next, ':p': partition, ':zero': 0, ':one': 1 },
                  ReturnValues: 'ALL_NEW',
                }),
              );
              return toCursor(out.Attributes!);
            } catch (err) {
              throw toSluiceError(err, 'SetCursor', { write: true });
            }
          }),
        )),
      );
    }
    return result;
  }

  async advanceCursor(topicId: string, name: string, expected: Cursor, next: number, deliveredAt: string): Promise<boolean> {
    return this.conditionalUpdate('AdvanceCursor', topicId, name, expected, {
      UpdateExpression: 'SET #next = :next, attempts = :zero, lastDeliveredAt = :at ADD version :one REMOVE lastError',
      ExpressionAttributeValues: { ':next': next, ':zero': 0, ':at': deliveredAt },
    });
  }

  async recordFailure(topicId: string, name: string, expected: Cursor, attempts: number, error: string): Promise<boolean> {
    return this.conditionalUpdate('RecordDeliveryFailure', topicId, name, expected, {
      UpdateExpression: 'SET attempts = :attempts, lastError = :error ADD version :one',
      ExpressionAttributeValues: { ':attempts': attempts, ':error': error.slice(0, MAX_ERROR_CHARS) },
    });
  }

  private async conditionalUpdate(
    operation: string,
    topicId: string,
    name: string,
    expected: Cursor,
    update: { UpdateExpression: string; ExpressionAttributeValues: Record<string, unknown> },
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: statePk(topicId, name), sk: cursorSk(expected.partition) },
          UpdateExpression: update.UpdateExpression,
          ConditionExpression: 'version = :version',
          ExpressionAttributeNames: update.UpdateExpression.includes('#next') ? { '#next': 'next' } : undefined,
          ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':version': expected.version, ':one': 1 },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw toSluiceError(err, operation, { write: true });
    }
  }

  async putDeadLetters(topicId: string, name: string, letters: readonly StoredDeadLetter[]): Promise<void> {
    await batchWriteAll(
      this.client,
      this.table,
      letters.map((l) => ({
        PutRequest: {
          Item: {
            pk: statePk(topicId, name),
            sk: deadLetterSk(l.partition, l.offset),
            ...l,
            event: JSON.stringify(l.event),
            error: l.error.slice(0, MAX_ERROR_CHARS),
          },
        },
      })),
      'PutDeadLetters',
    );
  }

  async readDeadLetters(topicId: string, name: string, options: { partition?: number; limit: number }): Promise<StoredDeadLetter[]> {
    const prefix = options.partition === undefined ? 'd#' : `d#${pad(options.partition, 4)}#`;
    const items = await this.queryAll(
      'ReadDeadLetters',
      {
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :d)',
        ExpressionAttributeValues: { ':pk': statePk(topicId, name), ':d': prefix },
      },
      options.limit,
    );
    return items.map(toDeadLetter);
  }

  async countDeadLetters(topicId: string, name: string, partition?: number): Promise<number> {
    let count = 0;
    for (const n of (await this.deadLetterPartitions(topicId, name)).entries()) {
      if (partition === undefined || n[0] === partition) count += n[1];
    }
    return count;
  }

  async deadLetterPartitions(topicId: string, name: string): Promise<Map<number, number>> {
    const items = await this.queryAll('CountDeadLetters', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :d)',
      ExpressionAttributeValues: { ':pk': statePk(topicId, name), ':d': 'd#' },
      ProjectionExpression: 'sk',
    });
    const counts = new Map<number, number>();
    for (const item of items) {
      const partition = Number(String(item.sk).split('#')[1]);
      counts.set(partition, (counts.get(partition) ?? 0) + 1);
    }
    return counts;
  }

  async deleteDeadLetters(topicId: string, name: string, letters: readonly { partition: number; offset: number }[]): Promise<void> {
    await batchWriteAll(
      this.client,
      this.table,
      letters.map((l) => ({ DeleteRequest: { Key: { pk: statePk(topicId, name), sk: deadLetterSk(l.partition, l.offset) } } })),
      'DeleteDeadLetters',
    );
  }

  private async queryAll(
    operation: string,
    input: Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeValues' | 'ProjectionExpression'>,
    limit = Infinity,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const out = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            ConsistentRead: true,
            ...input,
            ...(Number.isFinite(limit) ? { Limit: limit - items.length } : {}),
            ExclusiveStartKey: start,
          }),
        );
        items.push(...(out.Items ?? []));
        start = out.LastEvaluatedKey;
      } while (start && items.length < limit);
    } catch (err) {
      throw toSluiceError(err, operation);
    }
    return items;
  }
}

function toSubscription(item: Record<string, unknown>): Subscription {
  return {
    topic: String(item.topic),
    topicId: String(item.topicId),
    name: String(item.name),
    target: item.target as Subscription['target'],
    ...(item.filter === undefined ? {} : { filter: item.filter as Subscription['filter'] }),
    startAt: (item.startAt ?? 'latest') as Subscription['startAt'],
    maxAttempts: Number(item.maxAttempts),
    source: 'api',
    ...(item.createdAt === undefined ? {} : { createdAt: String(item.createdAt) }),
  };
}

function toCursor(item: Record<string, unknown>): Cursor {
  return {
    partition: Number(item.partition),
    next: Number(item.next),
    version: Number(item.version),
    attempts: Number(item.attempts ?? 0),
    ...(item.lastError === undefined ? {} : { lastError: String(item.lastError) }),
    ...(item.lastDeliveredAt === undefined ? {} : { lastDeliveredAt: String(item.lastDeliveredAt) }),
  };
}

function toDeadLetter(item: Record<string, unknown>): StoredDeadLetter {
  return {
    partition: Number(item.partition),
    offset: Number(item.offset),
    event: JSON.parse(String(item.event)) as StoredDeadLetter['event'],
    error: String(item.error),
    attempts: Number(item.attempts),
    failedAt: String(item.failedAt),
  };
}
