/**
 * Delivers the records one records call returned for one partition to the user's handler, and
 * commits them as the guarantee says:
 * - at-most-once: nothing to do after the handler (the consumer committed before delivering);
 * - at-least-once: after the handler, commit the offset after the last record it processed;
 * - exactly-once: the handler's outputs (collected by `transaction.send`) and that offset go in one
 *   POST /transactions; each output's message ID is derived from the group, the input's
 *   topic/partition/offset and the output's index, so a redelivered input yields the same IDs and
 *   the topic's dedupe window drops a second copy.
 * A handler that throws is retried in place (`retry`), from the first record it did not finish,
 * as long as the member still owns the partition in the batch's generation (not at-most-once).
 * A commit the group refuses (a rebalance, a fenced member) commits nothing: the consumer
 * learns its new assignments and the records are read again from the committed offset.
 */
import { createHash } from 'node:crypto';
import { FencedMemberError, RebalanceInProgressError } from '../api/errors';
import type { FetchedEvent, ProduceEvent } from '../api/events';
import { RetriesExceededError, withRetries, type RetryOptions } from '../api/retry';
import type { Membership } from './consumer-membership';
import type { SluiceClient } from './sluice-client';

export type Guarantee = 'at-most-once' | 'at-least-once' | 'exactly-once';

/** Collects the outputs of an exactly-once handler; they are appended with its commit. */
export interface ConsumerTransaction {
  /** Queues messages for `topic`; a message without `messageId` gets a deterministic one. */
  send(record: { readonly topic: string; readonly messages: readonly ProduceEvent[] }): void;
}

export interface EachMessagePayload {
  readonly topic: string;
  readonly partition: number;
  readonly message: FetchedEvent;
  /** Heartbeats now (also learns a rebalance); useful in a long handler. */
  heartbeat(): Promise<void>;
  /** Exactly-once only: outputs to append atomically with this message's commit. */
  readonly transaction: ConsumerTransaction;
}

export interface EachBatchPayload {
  readonly batch: { readonly topic: string; readonly partition: number; readonly messages: readonly FetchedEvent[] };
  /** At-least-once: marks the records up to this offset processed, so a retry starts after it. */
  resolveOffset(offset: number): void;
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True once the group moved on (a rebalance): this batch will not be committed; return early. */
  isStale(): boolean;
  /** Exactly-once only: outputs to append atomically with the batch's commit. */
  readonly transaction: ConsumerTransaction;
}

export type Handler =
  | { readonly eachMessage: (payload: EachMessagePayload) => Promise<void>; readonly eachBatch?: undefined }
  | { readonly eachBatch: (payload: EachBatchPayload) => Promise<void>; readonly eachMessage?: undefined };

export interface PartitionBatch {
  readonly topic: string;
  readonly partition: number;
  /** The generation the records were read in (their commit is fenced by it). */
  readonly generation: number;
  readonly records: readonly FetchedEvent[];
}

export type DeliveryClient = Pick<SluiceClient, 'commitOffsets' | 'transaction'>;

export interface DeliveryContext {
  readonly group: string;
  readonly client: DeliveryClient;
  readonly membership: Membership;
  readonly guarantee: Guarantee;
  readonly handler: Handler;
  readonly retry: RetryOptions;
  isRunning(): boolean;
  /** True once the batch's generation is over or its partition is no longer the member's. */
  isStale(batch: PartitionBatch): boolean;
  /** Why to stop before the next record of the partition: paused, or another reason. */
  interruption(batch: PartitionBatch): 'paused' | 'stop' | undefined;
  /** The partition was paused: records from `offset` on were fetched and not processed. */
  onPaused(topic: string, partition: number, offset: number): void;
}

interface Output {
  readonly topic: string;
  readonly event: ProduceEvent;
}

interface Progress {
  /** Records of the batch processed so far (a prefix). */
  done: number;
  /** Outputs of those records (exactly-once). */
  readonly outputs: Output[];
}

/** A failure of the user's handler (as opposed to one of the consumer's own requests). */
class HandlerFailed extends Error {
  constructor(cause: unknown) {
    super('handler failed', { cause });
  }
}

/**
 * Delivers and commits one partition's batch. Rejects with the handler's error (at-most-once) or
 * `RetriesExceededError` (its cause the handler's last error) when the handler keeps failing, after
 * committing what it did process; resolves without committing when the batch went stale meanwhile.
 */
export async function deliver(ctx: DeliveryContext, batch: PartitionBatch): Promise<void> {
  const progress: Progress = { done: 0, outputs: [] };
  try {
    await withRetries(() => attempt(ctx, batch, progress), {
      ...ctx.retry,
      isRetriable: (err) =>
        err instanceof HandlerFailed && ctx.guarantee !== 'at-most-once' && ctx.isRunning() && !ctx.isStale(batch),
    });
  } catch (err) {
    const failed = err instanceof RetriesExceededError ? err.cause : err;
    if (!(failed instanceof HandlerFailed)) throw err;
    if (ctx.guarantee !== 'at-most-once' && ctx.isStale(batch)) return;
    await commit(ctx, batch, progress);
    if (!ctx.isRunning()) return;
    throw err instanceof RetriesExceededError ? new RetriesExceededError(err.attempts, failed.cause) : failed.cause;
  }
  // A stale batch's commit would be refused: its records are read again from the committed offset.
  if (ctx.guarantee !== 'at-most-once' && ctx.isStale(batch)) return;
  await commit(ctx, batch, progress);
}

async function attempt(ctx: DeliveryContext, batch: PartitionBatch, progress: Progress): Promise<void> {
  const { topic, partition, records } = batch;
  const heartbeat = () => ctx.membership.heartbeat();
  if ('eachMessage' in ctx.handler && ctx.handler.eachMessage) {
    for (let i = progress.done; i < records.length; i++) {
      const interruption = ctx.interruption(batch);
      if (interruption === 'paused') ctx.onPaused(topic, partition, records[i]!.offset);
      if (interruption) return;
      const message = records[i]!;
      const outputs: Output[] = [];
      const transaction = collector(ctx, batch, message.offset, outputs);
      try {
        await ctx.handler.eachMessage({ topic, partition, message, heartbeat, transaction });
      } catch (err) {
        throw new HandlerFailed(err);
      }
      progress.outputs.push(...outputs);
      progress.done = i + 1;
    }
    return;
  }
  const messages = records.slice(progress.done);
  if (messages.length === 0) return;
  let resolved = progress.done;
  const outputs: Output[] = [];
  try {
    await ctx.handler.eachBatch!({
      batch: { topic, partition, messages },
      resolveOffset: (offset) => {
        resolved = Math.max(resolved, records.findLastIndex((r) => r.offset <= offset) + 1);
      },
      heartbeat,
      isRunning: () => ctx.isRunning(),
      isStale: () => ctx.isStale(batch),
      transaction: collector(ctx, batch, messages[0]!.offset, outputs),
    });
  } catch (err) {
    // Exactly-once: the outputs cannot be told apart by input, so the whole batch is redone.
    if (ctx.guarantee === 'at-least-once') progress.done = resolved;
    throw new HandlerFailed(err);
  }
  progress.outputs.push(...outputs);
  progress.done = records.length;
}

/** Commits the processed prefix of the batch (at-least-once, exactly-once); nothing else. */
async function commit(ctx: DeliveryContext, batch: PartitionBatch, progress: Progress): Promise<void> {
  if (ctx.guarantee === 'at-most-once' || progress.done === 0) return;
  const offsets = [{ topic: batch.topic, partition: batch.partition, offset: batch.records[progress.done - 1]!.offset + 1 }];
  const fence = { memberId: ctx.membership.memberId, generation: batch.generation, offsets };
  try {
    if (ctx.guarantee === 'at-least-once') await ctx.client.commitOffsets(ctx.group, fence);
    else await ctx.client.transaction({ produce: byTopic(progress.outputs), commit: { group: ctx.group, ...fence } });
  } catch (err) {
    if (!(err instanceof RebalanceInProgressError || err instanceof FencedMemberError)) throw err;
    // Nothing was written. Learn the new generation (rejoin if gone); the records are read again
    // from the committed offset by whoever owns the partition now.
    await ctx.membership.heartbeat();
  }
}

function collector(ctx: DeliveryContext, batch: PartitionBatch, inputOffset: number, outputs: Output[]): ConsumerTransaction {
  return {
    send({ topic, messages }) {
      if (ctx.guarantee !== 'exactly-once') {
        throw new TypeError(`transaction.send needs guarantee "exactly-once" (this consumer runs "${ctx.guarantee}")`);
      }
      for (const message of messages) {
        const messageId = message.messageId ?? outputMessageId(ctx.group, batch, inputOffset, outputs.length);
        outputs.push({ topic, event: { ...message, messageId } });
      }
    },
  };
}

/**
 * The message ID of output `index` of the input at `offset` (eachMessage) or of the batch starting
 * there (eachBatch): a hash, since topic names alone may be longer than a message ID.
 */
export function outputMessageId(group: string, input: { topic: string; partition: number }, offset: number, index: number): string {
  const source = JSON.stringify([group, input.topic, input.partition, offset, index]);
  return `eo-${createHash('sha256').update(source).digest('base64url')}`;
}

function byTopic(outputs: readonly Output[]): { topic: string; events: ProduceEvent[] }[] {
  const topics = new Map<string, ProduceEvent[]>();
  for (const { topic, event } of outputs) {
    const events = topics.get(topic) ?? [];
    events.push(event);
    topics.set(topic, events);
  }
  return [...topics].map(([topic, events]) => ({ topic, events }));
}
