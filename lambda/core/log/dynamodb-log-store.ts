/**
 * DynamoDB implementation of LogStore, and the one definition of the log table's key layout.
 *
 * log table:    pk "<topicId>#<partition>", offset = base offset of a record batch; the head at
 *               offset -1 holds nextOffset and maxTimestamp, so it shares the partition key (and
 *               the transaction) of the events it numbers. The head may also hold a tail: the
 *               newest events, [tb, nextOffset), encoded like a batch (tk codec, td data).
 * dedupe table: id "<topicId>#<messageId>" → partition, offset, untilMs; TTL expiresAt.
 *
 * The head is the commit point: an event is in the log once a head write has moved nextOffset
 * past it. Every head write is conditioned on the nextOffset it was planned from, and nextOffset
 * only grows, so heads form one sequence and offsets stay gapless under concurrent producers.
 * Batch items at or past the tail's base (batchesEnd) are not part of the log yet, and readers never
 * read them: the events there are read from the head's tail.
 *
 * Every append puts its events into the head's tail while the head, tail included, still fits one
 * write unit (1 KB); otherwise the tail's events and the new ones are flushed into batch items from
 * the tail's base on, and the head drops its tail. Written three ways:
 * - To the tail (appendToTail): one partition, no dedupe records, nothing joined. One conditional
 *   head write: one write unit and one round trip, the cheapest append there is.
 * - One batch (appendSingle): the same, when the tail would no longer fit. The batch item at the
 *   tail's base, then the head moved past it: two conditional single-item writes, not a transaction
 *   (which costs two write units per item).
 * - Anything else is one transaction (write-transaction.ts): per partition, the head (with its tail,
 *   or its batches); per message ID, a dedupe record (conditioned on no live record, so a message
 *   ID is appended once); and whatever parts other stores added to it.
 * Without a transaction, a write whose answer was lost and which the SDK sent again fails its
 * condition against itself: the store knows its own by the first new event (sameWrite).
 *
 * Batch items record `hv`, the nextOffset of the head they were planned from, and are put on the
 * condition "the key is free, or holds an item planned from an older head":
 * - An item planned from an older head than the current one was never committed (a head write
 *   conditioned on its head failed, or its writer stopped), so the next flush overwrites it.
 * - A committed item is never overwritten: once a head moves past key B, no head with base B
 *   is ever written again, so every writer planning for B planned from a head no newer than the
 *   one that committed it.
 * - Two flushes planned from the same head both try B: one put wins, the other fails. The loser
 *   finds the winner's item planned from the current head, which means in flight or its writer
 *   stopped before its head write: it moves the head past it for the writer (settleHead), as that
 *   writer's head write would have, and re-plans. So a crash between the two writes loses no offset;
 *   the crashed request was answered with an error, and its events appear once the head moves.
 * - The head item never expires, so a partition whose batches all expired continues from it.
 * - A deleted topic's heads become tombstones (tombstoneLogPartitions) before its delete returns,
 *   and a tombstone fails every head condition, so an append planned from a cached configuration
 *   of a deleted topic (LogService caches them briefly) writes nothing visible: it finds the
 *   tombstone (StaleTopicConfig) and is planned again from the topic as it is now.
 * The one assumption: TTL does not delete a batch within seconds of its write (DynamoDB's TTL
 * sweeper deletes expired items hours to days later), else a put from a head read seconds stale
 * could take a key below the head.
 */
import { OutcomeUnknownError } from '../../../api/errors';
import { GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetAll, batchWriteAll } from '../aws/batch';
import { isConditionalCheckFailed, toSluiceError } from '../aws/errors';
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
  batchesEnd,
  StaleTopicConfig,
  type AppendOutcome,
  type AppendPlan,
  type DedupeRecord,
  type LogReadStore,
  type LogStore,
  type PartitionAppend,
  type PartitionHead,
  type StoredBatch,
} from './log-store';
import { recordBatch, stampFromMessageId, type ProducerStates } from './producer-state';
import { codecOf, decodeRecords, storedCodec, type StoredRecord } from './record-batch';
import { documentItemSize, WRITE_UNIT_BYTES } from '../aws/item-size';

/** The attributes of a batch item a read decodes (toStoredBatch without the producer). */
// `rmt` is the running max timestamp (short: a flush of a few small events must fit one write
// unit); items written before it have `runningMaxTimestamp`.
const BATCH_READ_NAMES = { '#offset': 'offset', '#count': 'count', '#codec': 'codec', '#data': 'data', '#max': 'rmt', '#oldMax': 'runningMaxTimestamp', '#ttl': 'expiresAt' };
const BATCH_READ_PROJECTION = Object.keys(BATCH_READ_NAMES).join(', ');

/** Offset of the head item within a partition's key. */
export const HEAD_OFFSET = -1;

/**
 * How long a deleted topic's head tombstones are kept (TTL): far longer than any cached topic
 * configuration or in-flight append can outlive the delete.
 */
export const TOMBSTONE_TTL_SECONDS = 24 * 60 * 60;


/** The log table's partition key of one partition of a topic. */
export const logPartitionKey = (topicId: string, partition: number): string => `${topicId}#${partition}`;

/**
 * Turns the heads of a deleted topic's partitions into tombstones (kept TOMBSTONE_TTL_SECONDS), so
 * no append planned from the deleted topic can move them again. For DynamoDbTopicStore.deleteTopic.
 */
export async function tombstoneLogPartitions(
  client: DynamoDBDocumentClient,
  logTable: string,
  topicId: string,
  partitions: number,
  nowMs = Date.now(),
): Promise<void> {
  const requests = Array.from({ length: partitions }, (_, p) => ({ PutRequest: { Item: tombstone(logPartitionKey(topicId, p), nowMs) } }));
  await batchWriteAll(client, logTable, requests, 'TombstonePartitions');
}

function tombstone(pk: string, nowMs: number): Record<string, unknown> {
  return { pk, offset: HEAD_OFFSET, deleted: true, expiresAt: Math.ceil(nowMs / 1000) + TOMBSTONE_TTL_SECONDS };
}

/**
 * Deletes the batches of one partition of a deleted topic, page by page (its head stays a
 * tombstone until its TTL); returns how many it deleted. For the purge of a deleted topic
 * (DynamoDbTopicStore.purgePartition), which tombstones the head first in case the delete could not.
 */
export async function deleteLogPartition(
  client: DynamoDBDocumentClient,
  logTable: string,
  topicId: string,
  partition: number,
): Promise<number> {
  const pk = logPartitionKey(topicId, partition);
  await batchWriteAll(client, logTable, [{ PutRequest: { Item: tombstone(pk, Date.now()) } }], 'PurgePartition');
  let deleted = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: logTable,
        KeyConditionExpression: 'pk = :pk AND #offset > :head',
        ExpressionAttributeValues: { ':pk': pk, ':head': HEAD_OFFSET },
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
type AppendAction = { kind: 'head' } | { kind: 'batch'; pk: string; offset: number } | { kind: 'dedupe'; key: string };

/** The read side: the log table only (fetch, describe, group records, the purge function). */
export class DynamoDbLogReadStore implements LogReadStore {
  protected readonly client: DynamoDBDocumentClient;
  protected readonly logTable: string;

  constructor(options: DynamoDbLogReadStoreOptions) {
    this.client = options.client;
    this.logTable = options.logTable;
  }

  async readHeads(
    topicId: string,
    partitions: readonly number[],
    options: { readonly consistent?: boolean } = {},
  ): Promise<Map<number, PartitionHead>> {
    if (options.consistent === false && partitions.length === 1) {
      const partition = partitions[0]!;
      const item = await this.getItem(logPartitionKey(topicId, partition), HEAD_OFFSET, false, 'ReadHeads');
      return new Map(item ? [[partition, toHead(partition, item)]] : []);
    }
    const keys = partitions.map((p) => ({ pk: logPartitionKey(topicId, p), offset: HEAD_OFFSET }));
    const items = await batchGetAll(this.client, this.logTable, keys, 'ReadHeads', options);
    const heads = new Map<number, PartitionHead>();
    for (const item of items) {
      const partition = Number(String(item.pk).slice(topicId.length + 1));
      heads.set(partition, toHead(partition, item));
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
      // What a read needs: the partition key, the writer's stamps and write ID would only be parsed.
      ProjectionExpression: BATCH_READ_PROJECTION,
    });
    return out.map((item) => toStoredBatch(partition, item));
  }

  protected async getItem(pk: string, offset: number, consistent: boolean, operation: string): Promise<Record<string, unknown> | undefined> {
    try {
      const out = await this.client.send(new GetCommand({ TableName: this.logTable, Key: { pk, offset }, ConsistentRead: consistent }));
      return out.Item;
    } catch (err) {
      throw toSluiceError(err, operation);
    }
  }

  private async query(
    operation: string,
    input: Pick<ConstructorParameters<typeof QueryCommand>[0], 'KeyConditionExpression' | 'ExpressionAttributeValues' | 'ScanIndexForward' | 'Limit' | 'ProjectionExpression'>,
  ): Promise<Record<string, unknown>[]> {
    try {
      const out = await this.client.send(
        new QueryCommand({
          TableName: this.logTable,
          ConsistentRead: true,
          ExpressionAttributeNames: input.ProjectionExpression ? BATCH_READ_NAMES : { '#offset': 'offset' },
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

  headFits(topicId: string, partition: number, head: PartitionHead): boolean {
    return documentItemSize(toHeadItem(logPartitionKey(topicId, partition), head)) <= WRITE_UNIT_BYTES;
  }

  async append(plans: readonly AppendPlan[], tx: WriteTransaction = new WriteTransaction()): Promise<AppendOutcome> {
    const only = plans.length === 1 && tx.size === 0 ? plans[0]! : undefined;
    if (only && only.dedupe.length === 0 && only.partitions.length === 1) {
      const part = only.partitions[0]!;
      if (part.batches.length === 0 && part.next.tail) return this.appendToTail(only.topicId, part, part.next.tail);
      if (part.batches.length === 1) return this.appendSingle(only.topicId, part);
    }
    const collided: { pk: string; offset: number }[] = [];
    const part = tx.add(this.appendPart(plans, collided));
    try {
      return await commitTransaction(this.client, tx, {
        operation: 'Append',
        onCancelled: (cancellation) => toConflict(cancellation, part),
      });
    } catch (err) {
      // A batch key held an item planned from the current head: a single-batch append between its
      // two writes. Move that head on, so the re-planned append goes past it.
      if (err instanceof AppendConflict) for (const c of collided) await this.settleHead(c.pk, c.offset);
      throw err;
    }
  }

  /** The new events into the head's tail: one conditional write of the head (see the top of this file). */
  private async appendToTail(topicId: string, part: PartitionAppend, tail: StoredBatch): Promise<AppendOutcome> {
    const pk = logPartitionKey(topicId, part.partition);
    const at = part.expected?.nextOffset ?? 0;
    try {
      const out = await this.client.send(
        new PutCommand({
          TableName: this.logTable,
          Item: toHeadItem(pk, part.next),
          ...headCondition(part.expected),
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      return { consumedWriteUnits: out.ConsumedCapacity?.CapacityUnits ?? 0 };
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw toSluiceError(err, 'Append', { write: true });
    }
    // The head left `at`: another append won, unless it was ours, retried by the SDK after its
    // answer was lost. Ours if the event now at `at` is our first one (sameWrite).
    const headItem = await this.getItem(pk, HEAD_OFFSET, true, 'Append');
    const head = headItem ? toHead(part.partition, headItem) : undefined;
    if (head?.deleted) throw new StaleTopicConfig(topicId);
    const ours = decodeRecords(tail)[at - tail.baseOffset]!;
    if (head && head.nextOffset > at && sameWrite(await this.recordAt(pk, head, at, tail.baseOffset), ours, part)) return {};
    throw new AppendConflict(1, new Map(), []);
  }

  /**
   * The committed event at `at` (below `head.nextOffset`) that a tail based at `base` held: in the
   * head's tail still, or in the batches a flush wrote from `base` on (one, unless it was split).
   * Reads items by key only, as the produce function may get items but not query.
   */
  private async recordAt(pk: string, head: PartitionHead, at: number, base: number): Promise<StoredRecord | undefined> {
    const end = batchesEnd(head);
    if (at >= end) return head.tail ? decodeRecords(head.tail)[at - head.tail.baseOffset] : undefined;
    for (let key = base; key < end; ) {
      const item = await this.getItem(pk, key, true, 'Append');
      if (!item) return undefined;
      const batch = toStoredBatch(0, item);
      if (at < key + batch.count) return decodeRecords(batch)[at - key];
      key += batch.count;
    }
    return undefined;
  }

  /**
   * One batch to one partition in two conditional single-item writes (see the top of this file):
   * the batch at the planned head's batchesEnd, then the head moved past it.
   */
  private async appendSingle(topicId: string, part: PartitionAppend): Promise<AppendOutcome> {
    const pk = logPartitionKey(topicId, part.partition);
    const batch = part.batches[0]!;
    const at = batch.baseOffset;
    const planned = part.expected?.nextOffset ?? 0;
    // Whether the item at `at` is ours (our put, retried by the SDK after its answer was lost):
    // planned from our head, as many events, and our first new event where ours is.
    const ours = (item: Record<string, unknown> | undefined) => {
      if (!item || Number(item.hv) !== planned || Number(item.count) !== batch.count) return false;
      return sameWrite(decodeRecords(toStoredBatch(0, item))[planned - at], decodeRecords(batch)[planned - at]!, part);
    };
    let units = 0;
    try {
      const out = await this.client.send(
        new PutCommand({
          TableName: this.logTable,
          Item: toBatchItem(pk, batch, planned),
          ConditionExpression: BATCH_CONDITION,
          ExpressionAttributeValues: { ':hv': planned },
          ReturnConsumedCapacity: 'TOTAL',
        }),
      );
      units += out.ConsumedCapacity?.CapacityUnits ?? 0;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw toSluiceError(err, 'Append', { write: true });
      const taken = await this.getItem(pk, at, true, 'Append');
      if (!ours(taken)) {
        await this.settleHead(pk, at, taken);
        throw new AppendConflict(1, new Map(), []);
      }
    }
    try {
      const out = await this.client.send(
        new PutCommand({ TableName: this.logTable, Item: toHeadItem(pk, part.next), ...headCondition(part.expected), ReturnConsumedCapacity: 'TOTAL' }),
      );
      units += out.ConsumedCapacity?.CapacityUnits ?? 0;
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw afterBatchWritten(err);
      // The head left `planned`. Over our batch (another append found our key taken and moved the
      // head for us, or the SDK retried our head write after its answer was lost) if the head is
      // now past it and the item there is ours: committed items are never overwritten. Else
      // another append moved it first, and our batch is an uncommitted item the next flush replaces.
      const head = await this.getItem(pk, HEAD_OFFSET, true, 'Append');
      if (head?.deleted === true) throw new StaleTopicConfig(topicId);
      const moved = head ? batchesEnd(toHead(part.partition, head)) >= at + batch.count : false;
      if (!moved || !ours(await this.getItem(pk, at, true, 'Append'))) throw new AppendConflict(1, new Map(), []);
    }
    return { consumedWriteUnits: units };
  }

  /**
   * Moves the head past the batch item at `at` when that item was planned from the head as it is
   * now: a single-batch append between its two writes, or one whose writer stopped between them.
   * Conditioned on the head, so of several appends settling the same head one moves it and the rest
   * find it moved. An item planned from an older head is left alone: it was never committed.
   */
  private async settleHead(pk: string, at: number, stored?: Record<string, unknown>): Promise<void> {
    const headItem = await this.getItem(pk, HEAD_OFFSET, true, 'Append');
    const before = headItem ? toHead(0, headItem) : undefined;
    if (before?.deleted || (before ? batchesEnd(before) : 0) !== at) return;
    const item = stored ?? (await this.getItem(pk, at, true, 'Append'));
    const planned = before?.nextOffset ?? 0;
    // Items written before `hv` existed were planned from a head at their own base.
    if (!item || Number(item.hv ?? item.offset) !== planned) return;
    const batch = toStoredBatch(0, item);
    const end = at + batch.count;
    if (end <= planned) return;
    // The head moved past an idempotent producer's batch remembers its sequence, as its own head
    // write would have, so the producer's retry is answered as a duplicate. Its events are the
    // batch's last ones: the ones before `planned` are the tail it flushed.
    const stamp = batch.producer ?? (batch.producerInMessageId ? stampFromMessageId(decodeRecords(batch)[planned - at]!.m) : undefined);
    const producers = stamp ? recordBatch(before?.producers, stamp, end - planned, planned, Date.now()) : before?.producers;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.logTable,
          Item: toHeadItem(pk, {
            nextOffset: end,
            maxTimestamp: Math.max(before?.maxTimestamp ?? 0, batch.runningMaxTimestamp),
            ...(producers ? { producers } : {}),
          }),
          ...headCondition(before),
        }),
      );
    } catch (err) {
      if (!isConditionalCheckFailed(err)) throw toSluiceError(err, 'Append', { write: true });
    }
  }

  /** The heads, batches and dedupe records of the plans, as one part of a transaction. */
  private appendPart(plans: readonly AppendPlan[], collided: { pk: string; offset: number }[]): TransactionPart<AppendConflict> {
    const kinds: AppendAction[] = [];
    const actions: WriteAction[] = [];
    for (const plan of plans) {
      for (const part of plan.partitions) {
        const pk = logPartitionKey(plan.topicId, part.partition);
        kinds.push({ kind: 'head' });
        actions.push({
          type: 'put',
          table: this.logTable,
          item: toHeadItem(pk, part.next),
          // Gapless offsets: the head must still be the one the offsets were numbered from.
          condition: part.expected
            ? { expression: 'nextOffset = :expected', values: { ':expected': part.expected.nextOffset } }
            : { expression: 'attribute_not_exists(pk)' },
        });
        const planned = part.expected?.nextOffset ?? 0;
        for (const batch of part.batches) {
          kinds.push({ kind: 'batch', pk, offset: batch.baseOffset });
          // Free or uncommitted, unless a single-batch append (appendSingle) is between its two writes there.
          actions.push({ type: 'put', table: this.logTable, item: toBatchItem(pk, batch, planned), condition: { expression: BATCH_CONDITION, values: { ':hv': planned } } });
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
    return { actions, conditionFailed: (failures) => toOwnConflict(failures, kinds, collided) };
  }
}

/**
 * Whether `found` is the event `ours` (the first new event of `part`, an append without a
 * transaction): by its write ID when it has one (a caller's message ID), else by its message ID,
 * which the service made unique.
 */
function sameWrite(found: StoredRecord | undefined, ours: StoredRecord, part: PartitionAppend): boolean {
  if (found === undefined) return false;
  if (ours.w !== undefined) return found.w === ours.w;
  // An idempotent producer's message IDs are the same on every send of a sequence: its own write
  // and another send of it look alike. Re-planning answers either as a duplicate from its sequence.
  return part.producer === undefined && found.m === ours.m;
}

/** A batch item's put condition: its key is free, or holds an item planned from an older head (never committed). */
const BATCH_CONDITION = 'attribute_not_exists(pk) OR hv < :hv';

/** The condition of a head write planned from `expected` (undefined: the partition had no head). */
function headCondition(expected: PartitionHead | undefined): { ConditionExpression: string; ExpressionAttributeValues?: Record<string, unknown> } {
  return expected
    ? { ConditionExpression: 'nextOffset = :at', ExpressionAttributeValues: { ':at': expected.nextOffset } }
    : { ConditionExpression: 'attribute_not_exists(pk)' };
}

/** A batch item; `planned` is the nextOffset of the head it was planned from (`hv`). */
function toBatchItem(pk: string, batch: StoredBatch, planned: number): Record<string, unknown> {
  return {
    pk,
    offset: batch.baseOffset,
    hv: planned,
    count: batch.count,
    codec: storedCodec(batch.codec),
    data: batch.data,
    rmt: batch.runningMaxTimestamp,
    ...(batch.expiresAt === undefined ? {} : { expiresAt: batch.expiresAt }),
    ...(batch.producer === undefined
      ? {}
      : batch.producerInMessageId
        ? { pm: 1 }
        : { pid: batch.producer.id, pep: batch.producer.epoch, pseq: batch.producer.sequence }),
  };
}

/**
 * An error of the head write that follows a written batch: whatever the SDK says (even a throttle,
 * which otherwise means nothing was written), the batch is there and the next append to the
 * partition may make it visible (settleHead) or overwrite it, so the outcome is unknown to the caller.
 */
function afterBatchWritten(err: unknown): OutcomeUnknownError {
  const known = toSluiceError(err, 'Append', { write: true });
  if (known instanceof OutcomeUnknownError) return known;
  return new OutcomeUnknownError(
    `Append wrote its events but not yet the partition head (${known.message}): the partition's next append either ` +
      'makes them visible or discards them. Retry the same request: events sent without message IDs or an idempotent producer may then be appended twice.',
    { cause: err, details: { operation: 'Append' } },
  );
}

function toHead(partition: number, item: Record<string, unknown>): PartitionHead {
  if (item.deleted === true) return { nextOffset: 0, maxTimestamp: 0, deleted: true };
  const nextOffset = Number(item.nextOffset);
  const maxTimestamp = Number(item.maxTimestamp ?? 0);
  return {
    nextOffset,
    maxTimestamp,
    ...(item.producers === undefined ? {} : { producers: item.producers as ProducerStates }),
    ...(item.tb === undefined
      ? {}
      : {
          tail: {
            partition,
            baseOffset: Number(item.tb),
            count: nextOffset - Number(item.tb),
            codec: codecOf(item.tk),
            data: item.td as Uint8Array,
            runningMaxTimestamp: maxTimestamp,
          },
        }),
  };
}

function toHeadItem(pk: string, head: PartitionHead): Record<string, unknown> {
  const hasProducers = head.producers !== undefined && Object.keys(head.producers).length > 0;
  return {
    pk,
    offset: HEAD_OFFSET,
    nextOffset: head.nextOffset,
    maxTimestamp: head.maxTimestamp,
    ...(hasProducers ? { producers: head.producers } : {}),
    // Short names: the head, tail included, is kept within one write unit.
    ...(head.tail ? { tb: head.tail.baseOffset, tk: storedCodec(head.tail.codec), td: head.tail.data } : {}),
  };
}

function toStoredBatch(partition: number, item: Record<string, unknown>): StoredBatch {
  return {
    partition,
    baseOffset: Number(item.offset),
    count: Number(item.count),
    codec: codecOf(item.codec),
    data: item.data as Uint8Array,
    runningMaxTimestamp: Number(item.rmt ?? item.runningMaxTimestamp),
    ...(item.expiresAt === undefined ? {} : { expiresAt: Number(item.expiresAt) }),
    ...(item.pid === undefined ? {} : { producer: { id: String(item.pid), epoch: Number(item.pep), sequence: Number(item.pseq) } }),
    ...(item.pm === undefined ? {} : { producerInMessageId: true as const }),
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
 * The append part's failed conditions: how many heads moved (or batch keys were taken, noted in
 * `collided`), which message IDs were taken (undefined for a condition an append does not expect:
 * a dedupe record's without the item).
 */
function toOwnConflict(
  failures: readonly ConditionFailure[],
  kinds: readonly AppendAction[],
  collided: { pk: string; offset: number }[],
): AppendConflict | undefined {
  let moved = 0;
  const taken = new Map<string, DedupeRecord>();
  for (const failure of failures) {
    const action = kinds[failure.index];
    if (action?.kind === 'head') moved++;
    else if (action?.kind === 'batch') {
      // Its key holds a batch whose head has not moved yet: a lost race, like a moved head.
      moved++;
      collided.push({ pk: action.pk, offset: action.offset });
    }
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
