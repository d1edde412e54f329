/**
 * The `processors` table as the stream runtime reads and writes it (definitions/tables.ts), and the
 * one definition of its key layout. One partition key per processor partition,
 * `<applicationId>#<partition>`:
 *
 *   sk "meta"             version (optimistic concurrency: every commit is conditioned on it and
 *                         bumps it), streamTime (largest over sub-topologies), streamTimes (per
 *                         sub-topology), counters (processed, lateDropped, deadLettered, …),
 *                         updatedAt (epoch ms), pending (a record whose outputs are being committed
 *                         in chunks, see runtime.ts)
 *   sk "pos#<topic>"      offset (the next offset to process of that input topic partition), topicId
 *   sk "s#<store>#<key>"  value (JSON text), expiresAt (TTL, epoch seconds)
 *
 * Every read is strongly consistent: a batch computes on what it read, and its commit holds only if
 * the meta item still has the version read with it, so a read must not miss an earlier commit.
 */
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { batchGetAll } from '../../core/aws/batch';
import { toSluiceError } from '../../core/aws/errors';
import type { TransactionPart, WriteAction } from '../../core/aws/write-transaction';
import { compareKeys } from '../dsl/keys';

export const META_SK = 'meta';
export const POSITION_PREFIX = 'pos#';
export const STATE_PREFIX = 's#';

export const partitionKey = (applicationId: string, partition: number): string => `${applicationId}#${partition}`;
export const positionSk = (topic: string): string => `${POSITION_PREFIX}${topic}`;
export const stateSk = (store: string, key: string): string => `${STATE_PREFIX}${store}#${key}`;

/** A step whose outputs did not fit one transaction: committed in chunks before its state (runtime.ts). */
export interface PendingStep {
  readonly kind: 'record' | 'punctuate';
  readonly subTopology: string;
  /** The input topic of a record step, and the one whose delivery ran a punctuation. */
  readonly topic: string;
  /** The record's offset (a record step). */
  readonly offset?: number;
  /** The stream time a punctuation ran at. */
  readonly streamTime?: number;
  /** Output chunks already committed. */
  readonly chunks: number;
}

export interface PartitionMeta {
  /** 0 before the first commit (no meta item). */
  readonly version: number;
  /**
   * Chosen at the partition's first commit and kept: with the version, it names one state of the
   * partition (a partition whose items were deleted starts again at version 1 with another epoch).
   */
  readonly epoch?: string;
  readonly streamTimes: Readonly<Record<string, number>>;
  readonly counters: Readonly<Record<string, number>>;
  readonly pending?: PendingStep;
}

export interface StoredPosition {
  readonly offset: number;
  readonly topicId?: string;
}

/** A state entry: its JSON text and, when written, when it may be deleted (epoch ms, event time). */
export interface StateEntry {
  readonly json: string;
  readonly expiresAt?: number;
}

/** One state change of a commit: a put, or a delete (null). */
export type StateWrite = readonly [store: string, key: string, entry: StateEntry | null];

export interface CommitParts {
  readonly pk: string;
  /** The meta as read: the commit holds only if the stored version is still this one. */
  readonly expectedVersion: number;
  readonly meta: Omit<PartitionMeta, 'version'> & { readonly streamTime?: number };
  readonly positions: readonly { readonly topic: string; readonly offset: number; readonly topicId: string }[];
  readonly writes: readonly StateWrite[];
  /** Epoch ms, written as updatedAt. */
  readonly now: number;
}

/** Another commit of the same processor partition came first (the meta version moved). */
export class VersionConflict extends Error {
  constructor(pk: string) {
    super(`processor partition ${pk} was committed by another delivery meanwhile`);
    this.name = 'VersionConflict';
  }
}

/**
 * How long a state entry outlives its event-time expiry in DynamoDB. TTL runs on wall-clock time,
 * and event time may lag it (a replay, a stalled input): an entry is kept until a day after both
 * its expiry and its last write, so TTL never removes what an open window still needs while its
 * input keeps flowing. Reads ignore expired entries by stream time anyway (lambda/streams/dsl).
 */
export const STATE_TTL_MARGIN_SECONDS = 24 * 60 * 60;

export class ProcessorStateStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly table: string,
  ) {}

  /** The partition's meta and its position on `topic`, as of now. */
  async loadHead(pk: string, topic: string): Promise<{ meta: PartitionMeta; position?: StoredPosition }> {
    const items = await batchGetAll(this.client, this.table, [{ pk, sk: META_SK }, { pk, sk: positionSk(topic) }], 'ReadProcessorPartition');
    const meta = items.find((i) => i.sk === META_SK);
    const pos = items.find((i) => i.sk === positionSk(topic));
    return {
      meta: meta ? toMeta(meta) : { version: 0, streamTimes: {}, counters: {} },
      ...(pos ? { position: { offset: Number(pos.offset), ...(typeof pos.topicId === 'string' ? { topicId: pos.topicId } : {}) } } : {}),
    };
  }

  async get(pk: string, store: string, key: string): Promise<StateEntry | undefined> {
    const [item] = await batchGetAll(this.client, this.table, [{ pk, sk: stateSk(store, key) }], 'ReadProcessorState');
    return item ? toEntry(item) : undefined;
  }

  /** Entries of `store` whose key starts with `prefix` and lies in [from, to], in key order (UTF-8 bytes, as DynamoDB sorts). */
  async range(pk: string, store: string, prefix: string, from?: string, to?: string): Promise<[string, StateEntry][]> {
    const base = `${STATE_PREFIX}${store}#`;
    const low = from !== undefined && compareKeys(from, prefix) > 0 ? from : prefix;
    // Above every key that starts with the prefix (U+10FFFF is the largest code point).
    const prefixEnd = `${prefix}\u{10FFFF}`;
    const high = to !== undefined && compareKeys(to, prefixEnd) < 0 ? to : prefixEnd;
    if (compareKeys(low, high) > 0) return [];
    const found: [string, StateEntry][] = [];
    let start: Record<string, unknown> | undefined;
    do {
      let out: QueryCommandOutput;
      try {
        out = await this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'pk = :pk AND sk BETWEEN :low AND :high',
            ExpressionAttributeValues: { ':pk': pk, ':low': base + low, ':high': base + high },
            ConsistentRead: true,
            ExclusiveStartKey: start,
          }),
        );
      } catch (err) {
        throw toSluiceError(err, 'RangeProcessorState');
      }
      for (const item of out.Items ?? []) {
        const key = String(item.sk).slice(base.length);
        if (key.startsWith(prefix) && (from === undefined || compareKeys(key, from) >= 0) && (to === undefined || compareKeys(key, to) <= 0)) {
          found.push([key, toEntry(item)]);
        }
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return found;
  }

  /**
   * One commit's part of the transaction: the meta (conditioned on the version read, bumped), the
   * positions and the state changes. Its only condition is the meta's: a failure is a VersionConflict.
   */
  commitPart(parts: CommitParts): TransactionPart<VersionConflict> {
    const { pk, expectedVersion, meta, now } = parts;
    const actions: WriteAction[] = [
      {
        type: 'put',
        table: this.table,
        item: {
          pk,
          sk: META_SK,
          version: expectedVersion + 1,
          ...(meta.epoch === undefined ? {} : { epoch: meta.epoch }),
          ...(meta.streamTime === undefined ? {} : { streamTime: meta.streamTime }),
          streamTimes: meta.streamTimes,
          counters: meta.counters,
          updatedAt: now,
          ...(meta.pending ? { pending: meta.pending } : {}),
        },
        condition:
          expectedVersion === 0
            ? { expression: 'attribute_not_exists(pk)' }
            : { expression: 'version = :expected', values: { ':expected': expectedVersion } },
      },
    ];
    for (const p of parts.positions) {
      actions.push({ type: 'put', table: this.table, item: { pk, sk: positionSk(p.topic), offset: p.offset, topicId: p.topicId, updatedAt: now } });
    }
    for (const [store, key, entry] of parts.writes) {
      const sk = stateSk(store, key);
      if (entry === null) {
        actions.push({ type: 'delete', table: this.table, key: { pk, sk } });
        continue;
      }
      const ttl =
        entry.expiresAt === undefined ? undefined : Math.ceil(Math.max(entry.expiresAt, now) / 1000) + STATE_TTL_MARGIN_SECONDS;
      actions.push({
        type: 'put',
        table: this.table,
        item: { pk, sk, value: entry.json, ...(ttl === undefined ? {} : { expiresAt: ttl }) },
      });
    }
    return {
      actions,
      conditionFailed: (failures) => (failures.every((f) => f.index === 0) ? new VersionConflict(pk) : undefined),
    };
  }
}

/** Bytes a state item takes in a transaction (attribute names and values, roughly as DynamoDB counts). */
export function stateItemBytes(pk: string, store: string, key: string, entry: StateEntry | null): number {
  const keyBytes = Buffer.byteLength(pk) + Buffer.byteLength(stateSk(store, key)) + 4;
  return entry === null ? keyBytes : keyBytes + Buffer.byteLength(entry.json) + 40;
}

function toMeta(item: Record<string, unknown>): PartitionMeta {
  const numbers = (value: unknown): Record<string, number> => {
    const out: Record<string, number> = {};
    if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) if (typeof v === 'number') out[k] = v;
    return out;
  };
  return {
    version: Number(item.version ?? 0),
    ...(typeof item.epoch === 'string' ? { epoch: item.epoch } : {}),
    streamTimes: numbers(item.streamTimes),
    counters: numbers(item.counters),
    ...(item.pending && typeof item.pending === 'object' ? { pending: item.pending as PendingStep } : {}),
  };
}

function toEntry(item: Record<string, unknown>): StateEntry {
  return { json: String(item.value) };
}
