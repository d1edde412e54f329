/**
 * DynamoDB implementation of LogStore, and the one definition of the log table's key layout.
 *
 * log table:    pk "<topicId>#<partition>", offset = base offset of a record batch; the head at
 *               offset -1 holds nextOffset and maxTimestamp, so it shares the partition key (and
 *               the transaction) of the events it numbers.
 * dedupe table: id "<topicId>#<messageId>" → partition, offset, untilMs; TTL expiresAt.
 *
 * One append is one transaction (write-transaction.ts): per partition, the head (conditioned on
 * the head the plan was made from, so offsets stay gapless under concurrent producers) and its
 * batches; per message ID, a dedupe record (conditioned on no live record, so a message ID is
 * appended once); and whatever parts other stores added to the same transaction.
 */
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, batchWriteAll } from '../aws/batch';
import { toSluiceError } from '../aws/errors';
import {
  commitTransaction,
  WriteTransaction,
  type ConditionFailure,
  type TransactionCancellation,
  type TransactionPart,
  type WriteAction,
} from '../aws/write-transaction';
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

/** Offset of the head item within a partition's key. */
export const HEAD_OFFSET = -1;

/** The log table's partition key of one partition of a topic. */
export const logPartitionKey = (topicId: string, partition: number): string => `${topicId}#${partition}`;

/**
 * Deletes every item of one partition of the log (its head and batches), page by page; returns
 * how many it deleted. For the purge of a deleted topic (DynamoDbTopicStore.purgePartition).
 */
export async function deleteLogPartition(
  client: DynamoDBDocumentClient,
  logTable: string,
  topicId: string,
  partition: number,
): Promise<number> {
  const pk = logPartitionKey(topicId, partition);
  let deleted = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: logTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ProjectionExpression: 'pk, #offset',
        ExpressionAttributeNames: { '#offset': 'offset' },
        ExclusiveStartKey: start,
      }),
    );
    const items = page.Items ?? [];
    await batchWriteAll(
      client,
      logTable,
      items.map((key) => ({ DeleteRequest: { Key: { pk: key.pk, offset: key.offset } } })),
      'PurgePartition',
    );
    deleted += items.length;
    start = page.LastEvaluatedKey;
  } while (start);
  return deleted;
}

export interface DynamoDbLogReadStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly logTable: string;
}

export interface DynamoDbLogStoreOptions extends DynamoDbLogReadStoreOptions {
  readonly dedupeTable: string;
}

/** What each action of an append part is, to read its failed conditions. */
type AppendAction = { kind: 'head' } | { kind: 'batch' } | { kind: 'dedupe'; key: string };

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

  async append(plans: readonly AppendPlan[], tx: WriteTransaction = new WriteTransaction()): Promise<AppendOutcome> {
    const part = tx.add(this.appendPart(plans));
    return commitTransaction(this.client, tx, {
      operation: 'Append',
      onCancelled: (cancellation) => toConflict(cancellation, part),
    });
  }

  /** The heads, batches and dedupe records of the plans, as one part of a transaction. */
  private appendPart(plans: readonly AppendPlan[]): TransactionPart<AppendConflict> {
    const kinds: AppendAction[] = [];
    const actions: WriteAction[] = [];
    for (const plan of plans) {
      for (const part of plan.partitions) {
        const pk = logPartitionKey(plan.topicId, part.partition);
        kinds.push({ kind: 'head' });
        actions.push({
          type: 'put',
          table: this.logTable,
          item: { pk, offset: HEAD_OFFSET, nextOffset: part.next.nextOffset, maxTimestamp: part.next.maxTimestamp },
          // Gapless offsets: the head must still be the one the offsets were numbered from.
          condition: part.expected
            ? { expression: 'nextOffset = :expected', values: { ':expected': part.expected.nextOffset } }
            : { expression: 'attribute_not_exists(pk)' },
        });
        for (const batch of part.batches) {
          kinds.push({ kind: 'batch' });
          actions.push({ type: 'put', table: this.logTable, item: toBatchItem(pk, batch) });
        }
      }
      for (const record of plan.dedupe) {
        const id = `${plan.topicId}#${record.messageId}`;
        kinds.push({ kind: 'dedupe', key: id });
        actions.push({
          type: 'put',
          table: this.dedupeTable,
          item: {
            id,
            messageId: record.messageId,
            partition: record.partition,
            offset: record.offset,
            untilMs: record.untilMs,
            expiresAt: Math.ceil(record.untilMs / 1000),
          },
          // A message ID is taken until its window ends (TTL deletes late, so check the time too).
          condition: { expression: 'attribute_not_exists(id) OR untilMs <= :now', values: { ':now': plan.nowMs } },
          returnItemOnFailure: true,
        });
      }
    }
    return { actions, conditionFailed: (failures) => toOwnConflict(failures, kinds) };
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

/**
 * The append part's failed conditions: how many heads moved, which message IDs were taken
 * (undefined for a condition an append does not expect: a batch's, or a dedupe record without it).
 */
function toOwnConflict(failures: readonly ConditionFailure[], kinds: readonly AppendAction[]): AppendConflict | undefined {
  let moved = 0;
  const taken = new Map<string, DedupeRecord>();
  for (const failure of failures) {
    const action = kinds[failure.index];
    if (action?.kind === 'head') moved++;
    else if (action?.kind === 'dedupe' && failure.item) taken.set(action.key, toDedupeRecord(failure.item));
    else return undefined;
  }
  return new AppendConflict(moved, taken, []);
}

/**
 * Reads a cancelled append: the race it lost (moved heads, taken message IDs), with the domain
 * errors of the other stores' parts whose conditions failed. Undefined (the AWS error is thrown)
 * for throttling or a rejected item: toSluiceError decides whether it is retriable.
 */
function toConflict(cancellation: TransactionCancellation, part: TransactionPart<AppendConflict>): AppendConflict | undefined {
  if (cancellation.unexplained > 0) return undefined;
  const own = cancellation.errorOf(part);
  const joined = cancellation.errors({ except: part });
  // Another transaction held one of these items at the same moment: a race lost like a moved
  // head, so the caller re-plans (the SDK does not retry a cancelled transaction).
  const moved = (own?.movedHeads ?? 0) + cancellation.conflicts;
  const taken = own?.takenMessageIds ?? new Map<string, DedupeRecord>();
  if (moved === 0 && taken.size === 0 && joined.length === 0) return undefined;
  return new AppendConflict(moved, taken, joined);
}
