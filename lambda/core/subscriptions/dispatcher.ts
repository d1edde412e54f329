/**
 * The dispatcher's core: for each new record batch of the log (a stream record's NEW_IMAGE) and
 * each subscription of its topic whose filter matches at least one of its events, one wake-up on
 * the deliveries queue. A batch no subscription wants enqueues nothing. Knows nothing of Lambda.
 */
import type { Logger } from '../logger';
import { decodeRecords, type Codec } from '../log/record-batch';
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
        const batch = parseBatch(records[index]!.image);
        if (!batch) continue; // a head or anything else: not a record batch
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
            message: wakeFromBatch({
              subscription: sub.name,
              topic: sub.topic,
              topicId: batch.topicId,
              partition: batch.partition,
              upTo: batch.baseOffset + batch.count,
              from: batch.baseOffset,
            }),
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

interface ParsedBatch {
  readonly topicId: string;
  readonly partition: number;
  readonly baseOffset: number;
  readonly count: number;
  readonly codec: Codec;
  readonly data: Uint8Array;
}

/** A record batch item of the log table (pk "<topicId>#<partition>", offset ≥ 0); else undefined. */
export function parseBatch(image: Record<string, unknown>): ParsedBatch | undefined {
  const pk = image.pk;
  const offset = Number(image.offset);
  if (typeof pk !== 'string' || !Number.isInteger(offset) || offset < 0 || image.data === undefined) return undefined;
  const hash = pk.lastIndexOf('#');
  const partition = Number(pk.slice(hash + 1));
  if (hash <= 0 || !Number.isInteger(partition)) return undefined;
  return {
    topicId: pk.slice(0, hash),
    partition,
    baseOffset: offset,
    count: Number(image.count),
    codec: image.codec as Codec,
    data: image.data as Uint8Array,
  };
}
