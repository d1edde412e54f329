/**
 * The dispatcher's core: for each log item that commits events (a stream record's NEW_IMAGE: a
 * record batch item, or a partition head holding a tail) and each subscription of its topic whose
 * filter matches at least one of those events, one wake-up on the deliveries queue. Events no
 * subscription wants enqueue nothing. Knows nothing of Lambda.
 *
 * A head write that appends to its tail is the only write of those events (dynamodb-log-store.ts),
 * so its image is the one chance to wake for them. Each such image holds the whole tail, so events
 * already woken for by an earlier head write wake again: harmless, the deliverer reads from its
 * cursor. A flush then writes the tail's events with later ones into a batch item at the tail's
 * base; that item's INSERT (or MODIFY, when it overwrites an uncommitted one) wakes for them all.
 */
import type { Logger } from '../logger';
import { HEAD_OFFSET } from '../log/dynamodb-log-store';
import { codecOf, decodeRecords, type Codec } from '../log/record-batch';
import type { SubscriptionCatalog } from './catalog';
import { matchesFilter } from './filter';
import { wakeFromBatch, type DeliveriesQueue, type OutgoingMessage } from './messages';
import type { Subscription } from './subscription-store';
import type { TopicLookup } from './topic-ids';

/** A log item from the stream, unmarshalled, and the stream's sequence number. */
export interface LogStreamRecord {
  readonly sequenceNumber: string;
  readonly image: Record<string, unknown>;
}

export interface DispatchResult {
  /** Wake-ups enqueued. */
  readonly enqueued: number;
  /** The first record not fully handled (report it: the event source retries from there). */
  readonly failedSequenceNumber?: string;
}

export class Dispatcher {
  constructor(
    private readonly catalog: SubscriptionCatalog,
    private readonly topics: TopicLookup,
    private readonly queue: DeliveriesQueue,
    private readonly logger: Logger,
  ) {}

  async dispatch(records: readonly LogStreamRecord[]): Promise<DispatchResult> {
    const subscriptions = new Map<string, Promise<Subscription[]>>();
    const outgoing: { index: number; message: OutgoingMessage }[] = [];
    let planned = records.length;
    for (let index = 0; index < records.length; index++) {
      try {
        const batch = parseCommitted(records[index]!.image);
        if (!batch) continue; // a head without a tail, a tombstone, anything else: no events
        let subs = subscriptions.get(batch.topicId);
        if (!subs) {
          subs = this.subscriptionsOf(batch.topicId);
          subscriptions.set(batch.topicId, subs);
        }
        const wanted = await subs;
        if (wanted.length === 0) continue;
        const events = decodeRecords(batch).map((r) => ({ key: r.k ?? null, headers: r.h ?? {}, value: r.v }));
        for (const sub of wanted) {
          if (!events.some((e) => matchesFilter(sub.filter, e))) continue;
          outgoing.push({
            index,
            message: wakeFromBatch(
              {
                subscription: sub.name,
                topic: sub.topic,
                topicId: batch.topicId,
                partition: batch.partition,
                upTo: batch.baseOffset + batch.count,
                from: batch.baseOffset,
              },
              batch.plannedFrom,
            ),
          });
        }
      } catch (error) {
        this.logger.warn('could not plan the wake-ups of a record batch; will retry from it', { error, index });
        planned = index;
        break;
      }
    }
    const ready = outgoing.filter((o) => o.index < planned);
    // In order, 10 at a time: FIFO keeps the order of a batch's entries within a message group.
    for (let i = 0; i < ready.length; i += 10) {
      const chunk = ready.slice(i, i + 10);
      try {
        await this.queue.send(chunk.map((c) => c.message));
      } catch (error) {
        const failed = chunk[0]!.index;
        this.logger.warn('could not enqueue wake-ups; will retry from the record', { error, index: failed });
        return { enqueued: i, failedSequenceNumber: records[failed]!.sequenceNumber };
      }
    }
    return {
      enqueued: ready.length,
      ...(planned < records.length ? { failedSequenceNumber: records[planned]!.sequenceNumber } : {}),
    };
  }

  /** The table's subscriptions of a topic ID, and the declared ones whose topic has this ID now. */
  private async subscriptionsOf(topicId: string): Promise<Subscription[]> {
    const stored = await this.catalog.store.listSubscriptions(topicId);
    const declaredTopics = this.catalog.declaredTopics();
    if (declaredTopics.length === 0) return stored;
    const declared: Subscription[] = [];
    for (const name of declaredTopics) {
      const config = await this.topics.getTopic(name);
      if (config?.topicId === topicId) declared.push(...this.catalog.declaredFor(name, topicId));
    }
    const names = new Set(declared.map((d) => d.name));
    return [...declared, ...stored.filter((s) => !names.has(s.name))];
  }
}

/** Events a log item commits, as a record batch: a batch item, or a head's tail. */
export interface ParsedBatch {
  readonly topicId: string;
  readonly partition: number;
  readonly baseOffset: number;
  readonly count: number;
  readonly codec: Codec;
  readonly data: Uint8Array;
  /**
   * A batch item's `hv` (the nextOffset of the head it was planned from), when it has one: an item
   * overwritten at the same key (an uncommitted flush replaced by the real one) may end at the same
   * offset, and its wake-up must not be deduplicated against the first one's.
   */
  readonly plannedFrom?: number;
}

/** The events a log item's image commits: a record batch item's, or its head's tail; else undefined. */
export function parseCommitted(image: Record<string, unknown>): ParsedBatch | undefined {
  return parseBatch(image) ?? parseTail(image);
}

/** A record batch item of the log table (pk "<topicId>#<partition>", offset ≥ 0); else undefined. */
export function parseBatch(image: Record<string, unknown>): ParsedBatch | undefined {
  const offset = Number(image.offset);
  const key = partitionKey(image.pk);
  if (!key || !Number.isInteger(offset) || offset < 0 || image.data === undefined) return undefined;
  return {
    ...key,
    baseOffset: offset,
    count: Number(image.count),
    codec: codecOf(image.codec),
    data: image.data as Uint8Array,
    ...(typeof image.hv === 'number' ? { plannedFrom: image.hv } : {}),
  };
}

/**
 * The tail of a partition head (offset -1): its events [tb, nextOffset), encoded like a batch's
 * (tk codec, td data). Undefined for a head without a tail, a tombstone, or anything else.
 */
export function parseTail(image: Record<string, unknown>): ParsedBatch | undefined {
  const key = partitionKey(image.pk);
  if (!key || Number(image.offset) !== HEAD_OFFSET || image.deleted === true) return undefined;
  const base = Number(image.tb);
  const next = Number(image.nextOffset);
  if (image.tb === undefined || image.td === undefined || !Number.isInteger(base) || !(next > base)) return undefined;
  return { ...key, baseOffset: base, count: next - base, codec: codecOf(image.tk), data: image.td as Uint8Array };
}

function partitionKey(pk: unknown): { topicId: string; partition: number } | undefined {
  if (typeof pk !== 'string') return undefined;
  const hash = pk.lastIndexOf('#');
  const partition = Number(pk.slice(hash + 1));
  if (hash <= 0 || !Number.isInteger(partition)) return undefined;
  return { topicId: pk.slice(0, hash), partition };
}
