/**
 * Persistence of the partitioned log. LogService holds the rules (offsets, dedupe, retention);
 * a LogStore only reads and writes, atomically where asked. DynamoDbLogStore implements it.
 */
import type { WriteTransaction } from '../aws/write-transaction';
import type { ProducerStamp } from '../../../api/events';
import type { ProducerStates } from './producer-state';
import type { Codec } from './record-batch';

export interface PartitionHead {
  /** Offset the next event gets (the high watermark). */
  readonly nextOffset: number;
  /** Largest event timestamp appended so far (Kafka's time index is monotonic the same way). */
  readonly maxTimestamp: number;
  /**
   * Idempotent producers' state on this partition (producer-state.ts). Every head write carries
   * it forward, so an append by anyone else keeps it.
   */
  readonly producers?: ProducerStates;
  /** A tombstone: the topic was deleted (dynamodb-log-store.ts); nothing may be appended. */
  readonly deleted?: true;
  /**
   * The newest events, [tail.baseOffset, nextOffset), kept in the head item itself while they fit
   * in one write unit with it, so that a small append is one write (dynamodb-log-store.ts). Readers
   * take these events from here: log items at or past tail.baseOffset are not part of the log yet.
   * Absent when every event below nextOffset is in a batch item.
   */
  readonly tail?: StoredBatch;
}

/** Where the batch items of a partition end: offsets below it are in items, the rest in the head's tail. */
export const batchesEnd = (head: PartitionHead): number => head.tail?.baseOffset ?? head.nextOffset;

export interface StoredBatch {
  readonly partition: number;
  /** Offset of the first event. */
  readonly baseOffset: number;
  readonly count: number;
  readonly codec: Codec;
  readonly data: Uint8Array;
  /** Largest timestamp in this batch and all before it in the partition. */
  readonly runningMaxTimestamp: number;
  /** When DynamoDB may delete the item (epoch seconds); absent when the topic keeps events forever. */
  readonly expiresAt?: number;
  /** The idempotent producer that appended it, so a head moved past it records its sequence. */
  readonly producer?: ProducerStamp;
  /**
   * The producer's first event here has the stamp's own message ID (producerMessageId), from which
   * the stamp is read back: the item then stores a flag instead, keeping a small flush in one write
   * unit.
   */
  readonly producerInMessageId?: true;
}

export interface DedupeRecord {
  readonly messageId: string;
  readonly partition: number;
  readonly offset: number;
  /** Epoch ms after which the message ID may be used again. */
  readonly untilMs: number;
}

export interface PartitionAppend {
  readonly partition: number;
  /** The head this append was planned against; undefined if the partition had none. */
  readonly expected: PartitionHead | undefined;
  readonly next: PartitionHead;
  /**
   * The idempotent producer whose events these are. Its retry is recognised by its sequence
   * (producer-state.ts), so the store never takes an event with the same message ID for its own.
   */
  readonly producer?: ProducerStamp;
  /**
   * From the expected head's batchesEnd on: its tail's events, then the new ones. Empty when they
   * all stay in the next head's tail.
   */
  readonly batches: readonly StoredBatch[];
}

export interface AppendPlan {
  readonly topicId: string;
  readonly partitions: readonly PartitionAppend[];
  readonly dedupe: readonly DedupeRecord[];
  /** Epoch ms: a dedupe record whose untilMs is before this may be overwritten. */
  readonly nowMs: number;
}

export interface AppendOutcome {
  /** Write capacity units DynamoDB reports for the transaction, when it reports them. */
  readonly consumedWriteUnits?: number;
}

/**
 * The append lost a race and wrote nothing: another producer moved heads (or a concurrent
 * transaction held one of the items: `movedHeads` counts those too), some message IDs were
 * already taken (their records are given, keyed "<topicId>#<messageId>"), or the parts other
 * stores added to the same transaction failed their conditions (`joinedFailures`: each store's
 * own domain error, such as the groups store's CommitFenced).
 */
export class AppendConflict extends Error {
  constructor(
    readonly movedHeads: number,
    readonly takenMessageIds: ReadonlyMap<string, DedupeRecord>,
    readonly joinedFailures: readonly Error[],
  ) {
    super(
      `append conflicted: ${movedHeads} heads moved, ${takenMessageIds.size} message IDs taken, ` +
        `joined parts failed: ${joinedFailures.map((e) => e.name).join(', ') || 'none'}`,
    );
    this.name = 'AppendConflict';
  }
}

/**
 * An append was planned from a topic configuration whose topic has since been deleted (its heads
 * are tombstones). Nothing visible was written; plan again from the topic as it is now.
 */
export class StaleTopicConfig extends Error {
  constructor(readonly topicId: string) {
    super(`topic ${topicId} was deleted after its configuration was read`);
    this.name = 'StaleTopicConfig';
  }
}

/**
 * The read side of the log: heads and batches of the log table only. Fetch, describe and group
 * records need nothing more, so the functions serving them are given only the log table.
 */
export interface LogReadStore {
  /**
   * The heads of the partitions; consistent reads unless `consistent: false` is given (an append
   * whose write conditions catch a stale head, or a consumer group's check for new events, asks for
   * the cheaper eventually consistent read).
   */
  readHeads(topicId: string, partitions: readonly number[], options?: { readonly consistent?: boolean }): Promise<Map<number, PartitionHead>>;
  /** The batch holding `offset`, or the last one before it. */
  readBatchAtOrBefore(topicId: string, partition: number, offset: number): Promise<StoredBatch | undefined>;
  /** Batches with a base offset above `afterOffset` (and at most `upToOffset`), ascending, at most `maxBatches`. */
  readBatchesAfter(
    topicId: string,
    partition: number,
    afterOffset: number,
    maxBatches: number,
    upToOffset?: number,
  ): Promise<StoredBatch[]>;
}

/** The whole log: the read side plus appends and the dedupe table (produce and transactions). */
export interface LogStore extends LogReadStore {
  readDedupe(topicId: string, messageIds: readonly string[]): Promise<Map<string, DedupeRecord>>;
  /**
   * Whether `head`, tail included, is written in one write unit: an append whose events fit the
   * tail that way is one write (dynamodb-log-store.ts).
   */
  headFits(topicId: string, partition: number, head: PartitionHead): boolean;
  /**
   * Adds every head, batch and dedupe record of the plans to `tx` (a new transaction when none is
   * given; other stores may have added their parts to it) and commits it: everything is written,
   * or nothing (throws AppendConflict on a lost race or a failed condition of another part).
   * An append to one partition with no dedupe records and no joined parts is written without a
   * transaction: one head write when it has no batches (its events went into the head's tail), or
   * two conditional single-item writes for one batch. Either is visible all at once, when the head
   * moves.
   */
  append(plans: readonly AppendPlan[], tx?: WriteTransaction): Promise<AppendOutcome>;
}
