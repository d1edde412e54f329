/**
 * DynamoDB implementation of LogStore.
 *
 * log table:    pk "<topicId>#<partition>", offset = base offset of a record batch; the head at
 *               offset -1 holds nextOffset and maxTimestamp.
 * dedupe table: id "<topicId>#<messageId>" → partition, offset, untilMs; TTL expiresAt.
 *
 * One append is one TransactWriteItems: per partition, the head (conditioned on the head the plan
 * was made from, so offsets stay gapless under concurrent producers) and its batches; per message
 * ID, a dedupe record (conditioned on no live record, so a message ID is appended once).
 */
import { randomUUID } from 'node:crypto';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  QueryCommand,
  TransactWriteCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from '../aws/batch';
import { toSluiceError } from '../aws/errors';
import { HEAD_OFFSET, logPartitionKey } from '../topics/dynamodb-topic-store';
import {
  AppendConflict,
  type AppendOutcome,
  type AppendPlan,
  type DedupeRecord,
  type LogReadStore,
  type LogStore,
  type PartitionHead,
  type StoredBatch,
} from './log-store';
import type { Codec } from './record-batch';

export interface DynamoDbLogReadStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly logTable: string;
}

export interface DynamoDbLogStoreOptions extends DynamoDbLogReadStoreOptions {
  readonly dedupeTable: string;
}

type Action = { kind: 'head' } | { kind: 'batch' } | { kind: 'dedupe'; key: string } | { kind: 'alsoWrite' };

/** The read side: the log table only (fetch, describe, group records, the purge function). */
export class DynamoDbLogReadStore implements LogReadStore {
  protected readonly client: DynamoDBDocumentClient;
  protected readonly logTable: string;

  constructor(options: DynamoDbLogReadStoreOptions) {
    this.client = options.client;
    this.logTable = options.logTable;
  }

  async readHeads(topicId: string, partitions: readonly number[]): Promise<Map<number, PartitionHead>> {
    const keys = partitions.map((p) => ({ pk: logPartitionKey(topicId, p), offset: HEAD_OFFSET }));
    const items = await batchGetAll(this.client, this.logTable, keys, 'ReadHeads');
    const heads = new Map<number, PartitionHead>();
    for (const item of items) {
      const partition = Number(String(item.pk).slice(topicId.length + 1));
      heads.set(partition, { nextOffset: Number(item.nextOffset), maxTimestamp: Number(item.maxTimestamp ?? 0) });
    }
    return heads;
  }

  async readBatchAtOrBefore(topicId: string, partition: number, offset: number): Promise<StoredBatch | undefined> {
    const out = await this.query('ReadBatch', {
      KeyConditionExpression: 'pk = :pk AND #offset BETWEEN :zero AND :offset',
      ExpressionAttributeValues: { ':pk': logPartitionKey(topicId, partition), ':zero': 0, ':offset': offset },
      ScanIndexForward: false,
      Limit: 1,
    });
    const item = out[0];
    return item ? toStoredBatch(partition, item) : undefined;
  }

  async readBatchesAfter(
    topicId: string,
    partition: number,
    afterOffset: number,
    maxBatches: number,
    upToOffset = Number.MAX_SAFE_INTEGER,
  ): Promise<StoredBatch[]> {
    if (upToOffset <= afterOffset) return [];
    const out = await this.query('ReadBatches', {
      KeyConditionExpression: 'pk = :pk AND #offset BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': logPartitionKey(topicId, partition),
        ':from': Math.max(afterOffset, HEAD_OFFSET) + 1,
        ':to': upToOffset,
      },
      Limit: maxBatches,
    });
    return out.map((item) => toStoredBatch(partition, item));
  }

  private async query(
    operation: string,
    input: Pick<ConstructorParameters<typeof QueryCommand>[0], 'KeyConditionExpression' | 'ExpressionAttributeValues' | 'ScanIndexForward' | 'Limit'>,
  ): Promise<Record<string, unknown>[]> {
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.logTable,
          ConsistentRead: true,
          ExpressionAttributeNames: { '#offset': 'offset' },
          ...input,
        }),
      );
      return out.Items ?? [];
    } catch (err) {
      throw toSluiceError(err, operation);
    }
  }
}

/** The whole log: the read side plus the dedupe table and appends (produce, transactions). */
export class DynamoDbLogStore extends DynamoDbLogReadStore implements LogStore {
  private readonly dedupeTable: string;

  constructor(options: DynamoDbLogStoreOptions) {
    super(options);
    this.dedupeTable = options.dedupeTable;
  }

  async readDedupe(topicId: string, messageIds: readonly string[]): Promise<Map<string, DedupeRecord>> {
    const items = await batchGetAll(
      this.client,
      this.dedupeTable,
      messageIds.map((m) => ({ id: `${topicId}#${m}` })),
      'ReadDedupe',
    );
    return new Map(items.map((item) => [String(item.messageId), toDedupeRecord(item)]));
  }

  async append(plans: readonly AppendPlan[], alsoWrite: readonly unknown[] = []): Promise<AppendOutcome> {
    const actions: Action[] = [];
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [];
    for (const plan of plans) {
      for (const part of plan.partitions) {
        const pk = logPartitionKey(plan.topicId, part.partition);
        actions.push({ kind: 'head' });
        items.push({
          Put: {
            TableName: this.logTable,
            Item: { pk, offset: HEAD_OFFSET, nextOffset: part.next.nextOffset, maxTimestamp: part.next.maxTimestamp },
            // Gapless offsets: the head must still be the one the offsets were numbered from.
            ...(part.expected
              ? {
                  ConditionExpression: 'nextOffset = :expected',
                  ExpressionAttributeValues: { ':expected': part.expected.nextOffset },
                }
              : { ConditionExpression: 'attribute_not_exists(pk)' }),
          },
        });
        for (const batch of part.batches) {
          actions.push({ kind: 'batch' });
          items.push({ Put: { TableName: this.logTable, Item: toBatchItem(pk, batch) } });
        }
      }
      for (const record of plan.dedupe) {
        const id = `${plan.topicId}#${record.messageId}`;
        actions.push({ kind: 'dedupe', key: id });
        items.push({
          Put: {
            TableName: this.dedupeTable,
            Item: {
              id,
              messageId: record.messageId,
              partition: record.partition,
              offset: record.offset,
              untilMs: record.untilMs,
              expiresAt: Math.ceil(record.untilMs / 1000),
            },
            // A message ID is taken until its window ends (TTL deletes late, so check the time too).
            ConditionExpression: 'attribute_not_exists(id) OR untilMs <= :now',
            ExpressionAttributeValues: { ':now': plan.nowMs },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        });
      }
    }
    for (const item of alsoWrite) {
      actions.push({ kind: 'alsoWrite' });
      items.push(item as (typeof items)[number]);
    }
    try {
      const out = await this.client.send(
        new TransactWriteCommand({
          TransactItems: items,
          ReturnConsumedCapacity: 'TOTAL',
          // The SDK retries a transaction whose answer was lost with the same input, so with one
          // token per append DynamoDB applies it at most once (for 10 minutes).
          ClientRequestToken: randomUUID(),
        }),
      );
      const units = (out.ConsumedCapacity ?? []).reduce((sum, c) => sum + (c.WriteCapacityUnits ?? c.CapacityUnits ?? 0), 0);
      return { consumedWriteUnits: out.ConsumedCapacity ? units : undefined };
    } catch (err) {
      throw toConflict(err, actions) ?? toSluiceError(err, 'Append', { write: true });
    }
  }
}

function toBatchItem(pk: string, batch: StoredBatch): Record<string, unknown> {
  return {
    pk,
    offset: batch.baseOffset,
    count: batch.count,
    codec: batch.codec,
    data: batch.data,
    runningMaxTimestamp: batch.runningMaxTimestamp,
    ...(batch.expiresAt === undefined ? {} : { expiresAt: batch.expiresAt }),
  };
}

function toStoredBatch(partition: number, item: Record<string, unknown>): StoredBatch {
  return {
    partition,
    baseOffset: Number(item.offset),
    count: Number(item.count),
    codec: item.codec as Codec,
    data: item.data as Uint8Array,
    runningMaxTimestamp: Number(item.runningMaxTimestamp),
    ...(item.expiresAt === undefined ? {} : { expiresAt: Number(item.expiresAt) }),
  };
}

function toDedupeRecord(item: Record<string, unknown>): DedupeRecord {
  return {
    messageId: String(item.messageId),
    partition: Number(item.partition),
    offset: Number(item.offset),
    untilMs: Number(item.untilMs),
  };
}

/** Reads a cancelled transaction's reasons: how many heads moved, which message IDs were taken. */
function toConflict(err: unknown, actions: readonly Action[]): AppendConflict | undefined {
  if ((err as { name?: string }).name !== 'TransactionCanceledException') return undefined;
  const reasons = (err as { CancellationReasons?: { Code?: string; Item?: Record<string, AttributeValue> }[] })
    .CancellationReasons ?? [];
  let moved = 0;
  let alsoWriteFailed = false;
  const taken = new Map<string, DedupeRecord>();
  let otherFailure = false;
  reasons.forEach((reason, i) => {
    if (!reason.Code || reason.Code === 'None') return;
    // Another transaction held one of these items at the same moment: a race lost like a moved
    // head, so the caller re-plans (the SDK does not retry a cancelled transaction).
    if (reason.Code === 'TransactionConflict') {
      moved++;
      return;
    }
    const action = actions[i];
    if (reason.Code !== 'ConditionalCheckFailed' || !action) {
      otherFailure = true;
      return;
    }
    if (action.kind === 'head') moved++;
    else if (action.kind === 'alsoWrite') alsoWriteFailed = true;
    else if (action.kind === 'dedupe' && reason.Item) taken.set(action.key, toDedupeRecord(unmarshall(reason.Item)));
    else otherFailure = true;
  });
  // Throttling or a rejected item (size, validation): toSluiceError decides whether it is retriable.
  if (otherFailure || (moved === 0 && taken.size === 0 && !alsoWriteFailed)) return undefined;
  return new AppendConflict(moved, taken, alsoWriteFailed);
}
