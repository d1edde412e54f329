/**
 * The deliverer's core: one message of the deliveries queue at a time (the handler keeps FIFO
 * order). A wake-up delivers the subscription's matching events from its cursor on the partition
 * to the message's `upTo`, a delivery (≤ 100 events, ≤ 256 KiB) at a time, moving the cursor after
 * each with a write conditioned on its version (a seek made meanwhile wins, and its own wake-up
 * delivers from the new position). A wake-up that comes before its batch is readable is retried
 * for a while (UNREADABLE_BATCH_RETRY). A failed delivery is retried with backoff; after the
 * subscription's maxAttempts its events become dead letters and the cursor moves past them. A
 * redrive delivers a partition's dead letters and then deletes them. Knows nothing of Lambda.
 */
import { createHash } from 'node:crypto';
import { OffsetOutOfRangeError, TopicNotFoundError } from '../../../api/errors';
import type { FetchedEvent } from '../../../api/events';
import { SUBSCRIPTION_LIMITS, type DeliveredEvent, type DeliveryBody } from '../../../api/subscriptions';
import type { LogReadService } from '../log/log-read-service';
import type { Logger } from '../logger';
import type { SubscriptionCatalog } from './catalog';
import { matchesFilter } from './filter';
import type { DeliveriesMessage, RedriveMessage, WakeMessage } from './messages';
import { startOffset } from './start';
import type { Cursor, Subscription } from './subscription-store';
import type { DeliverySender } from './targets';

export type DeliveryOutcome =
  | { readonly kind: 'done'; readonly delivered: number; readonly deadLettered: number }
  /** Not done: make the message visible again after `delaySeconds` and report it failed. */
  | { readonly kind: 'retry'; readonly delaySeconds: number; readonly reason: string };

/**
 * A wake-up can come before the batch it announces is readable: a single-batch append writes the
 * batch (whose stream record wakes the subscription) before the partition head, and reads stop at
 * the head. Consuming that wake-up would leave the batch's events waiting for the partition's next
 * append, so while the head is below the woken `upTo` the message is retried, 1 s then doubling up
 * to `maxDelaySeconds`, until its `maxReceives`-th receive: about a minute in all, longer than a
 * writer's head write (and the SDK's retries of it) takes. Then it is done: a writer that crashed
 * between its two writes leaves the batch for the partition's next append, which moves the head past
 * it (settleHead) and whose own wake-up delivers it. SQS's receive count counts every receive, so a
 * message already retried for failed deliveries gives up sooner; it has also waited longer.
 */
export const UNREADABLE_BATCH_RETRY = { maxReceives: 10, maxDelaySeconds: 8 } as const;

export interface BackoffOptions {
  /** First retry after about this long, doubling per attempt. @default 1000 */
  readonly baseMs: number;
  /** @default 300000 (5 minutes) */
  readonly maxMs: number;
}

export interface DelivererOptions {
  readonly catalog: SubscriptionCatalog;
  readonly log: LogReadService;
  readonly sender: DeliverySender;
  readonly logger: Logger;
  readonly backoff?: Partial<BackoffOptions>;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
}

export class Deliverer {
  private readonly backoff: BackoffOptions;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: DelivererOptions) {
    this.backoff = { baseMs: 1000, maxMs: 300_000, ...options.backoff };
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /**
   * Handles one message. `receiveCount` is SQS's ApproximateReceiveCount; `deadline` (epoch ms)
   * is when the handler must stop starting new deliveries.
   */
  async handle(message: DeliveriesMessage, receiveCount: number, deadline = Infinity): Promise<DeliveryOutcome> {
    const sub = await this.options.catalog.get(message.topic, message.topicId, message.subscription);
    if (!sub || sub.topicId !== message.topicId) return { kind: 'done', delivered: 0, deadLettered: 0 }; // deleted since
    return message.kind === 'wake' ? this.wake(sub, message, receiveCount, deadline) : this.redrive(sub, message, receiveCount, deadline);
  }

  /** Seconds before attempt `attempts + 1`: exponential, with jitter (half to all of it). */
  delaySeconds(attempts: number): number {
    const ceiling = Math.min(this.backoff.maxMs, this.backoff.baseMs * 2 ** Math.max(0, attempts - 1));
    return Math.min(43_200, Math.ceil((ceiling * (0.5 + this.random() / 2)) / 1000));
  }

  private async wake(sub: Subscription, message: WakeMessage, receiveCount: number, deadline: number): Promise<DeliveryOutcome> {
    const { store } = this.options.catalog;
    const { partition } = message;
    let cursor: Cursor | undefined = await store.readCursor(sub.topicId, sub.name, partition);
    if (!cursor) {
      const start = await startOffset(this.options.log, sub, partition, message.from);
      cursor = await store.createCursor(sub.topicId, sub.name, partition, start);
    }
    let delivered = 0;
    let deadLettered = 0;
    while (cursor.next < message.upTo) {
      if (this.now() >= deadline) return { kind: 'retry', delaySeconds: 0, reason: 'out of time; continues at once' };
      let read;
      try {
        read = await this.options.log.fetch(sub.topic, partition, { offset: cursor.next, limit: SUBSCRIPTION_LIMITS.maxEventsPerDelivery });
      } catch (err) {
        if (err instanceof TopicNotFoundError) break;
        if (err instanceof OffsetOutOfRangeError) {
          const logStart = Number(err.details.logStartOffset);
          if (cursor.next < logStart) {
            // Expired before delivery (retention passed): skip to the first live event, and say so.
            this.options.logger.warn('events expired before delivery; skipping to the log start', {
              subscription: sub.name, topic: sub.topic, partition, from: cursor.next, to: logStart,
            });
            const moved = await this.advance(sub, cursor, logStart);
            if (!moved) break;
            cursor = moved;
            continue;
          }
          break; // past the high watermark (a topic re-created under the same ID cannot happen): nothing to do
        }
        throw err;
      }
      if (read.nextOffset <= cursor.next) {
        // Nothing readable from here. Below `upTo`, the woken batch's head write has not landed yet.
        if (read.highWatermark < message.upTo) {
          if (receiveCount < UNREADABLE_BATCH_RETRY.maxReceives) {
            const delaySeconds = Math.min(UNREADABLE_BATCH_RETRY.maxDelaySeconds, 2 ** Math.max(0, receiveCount - 1));
            return { kind: 'retry', delaySeconds, reason: `the woken batch is not readable yet (high watermark ${read.highWatermark} < ${message.upTo})` };
          }
          this.options.logger.warn(
            "the woken batch is still not readable; leaving it to the partition's next append, whose wake-up delivers it",
            { subscription: sub.name, topic: sub.topic, partition, highWatermark: read.highWatermark, upTo: message.upTo, receiveCount },
          );
        }
        break;
      }
      const matching = read.events.filter((e) => matchesFilter(sub.filter, e)).map((e) => toDelivered(sub, e));
      const chunk = takeDelivery(matching);
      const end = chunk.length === matching.length ? read.nextOffset : chunk[chunk.length - 1]!.offset + 1;
      if (chunk.length > 0) {
        try {
          await this.options.sender.send(sub.target, this.delivery(sub, partition, chunk));
          delivered += chunk.length;
        } catch (err) {
          const error = describe(err);
          const attempts = cursor.attempts + 1;
          if (attempts < sub.maxAttempts) {
            const recorded = await store.recordFailure(sub.topicId, sub.name, cursor, attempts, error);
            if (!recorded) return { kind: 'done', delivered, deadLettered }; // a seek moved the cursor: its wake-up takes over
            this.options.logger.info('delivery failed; will retry', { subscription: sub.name, topic: sub.topic, partition, attempts, error });
            return { kind: 'retry', delaySeconds: this.delaySeconds(attempts), reason: error };
          }
          // Out of attempts: the events become dead letters, with the error, and the cursor moves on.
          const failedAt = new Date(this.now()).toISOString();
          await store.putDeadLetters(
            sub.topicId,
            sub.name,
            chunk.map((event) => ({ partition, offset: event.offset, event, error, attempts, failedAt })),
          );
          this.options.logger.warn('delivery failed for the last time; events dead-lettered', {
            subscription: sub.name, topic: sub.topic, partition, attempts, error, count: chunk.length,
          });
          deadLettered += chunk.length;
        }
      }
      const moved = await this.advance(sub, cursor, end);
      if (!moved) break; // a seek moved the cursor meanwhile: its wake-up delivers from there
      cursor = moved;
    }
    return { kind: 'done', delivered, deadLettered };
  }

  private async redrive(sub: Subscription, message: RedriveMessage, receiveCount: number, deadline: number): Promise<DeliveryOutcome> {
    const { store } = this.options.catalog;
    let delivered = 0;
    for (;;) {
      if (this.now() >= deadline) return { kind: 'retry', delaySeconds: 0, reason: 'out of time; continues at once' };
      const letters = await store.readDeadLetters(sub.topicId, sub.name, {
        partition: message.partition,
        limit: SUBSCRIPTION_LIMITS.maxEventsPerDelivery,
      });
      if (letters.length === 0) return { kind: 'done', delivered, deadLettered: 0 };
      const chunk = takeDelivery(letters.map((l) => l.event));
      try {
        await this.options.sender.send(sub.target, this.delivery(sub, message.partition, chunk, true));
      } catch (err) {
        const error = describe(err);
        if (receiveCount >= sub.maxAttempts) {
          this.options.logger.warn('redrive failed for the last time; the dead letters stay', { subscription: sub.name, error });
          return { kind: 'done', delivered, deadLettered: 0 };
        }
        return { kind: 'retry', delaySeconds: this.delaySeconds(receiveCount), reason: error };
      }
      await store.deleteDeadLetters(sub.topicId, sub.name, chunk.map((e) => ({ partition: e.partition, offset: e.offset })));
      delivered += chunk.length;
    }
  }

  private async advance(sub: Subscription, cursor: Cursor, next: number): Promise<Cursor | undefined> {
    const at = new Date(this.now()).toISOString();
    const ok = await this.options.catalog.store.advanceCursor(sub.topicId, sub.name, cursor, next, at);
    return ok ? { partition: cursor.partition, next, version: cursor.version + 1, attempts: 0, lastDeliveredAt: at } : undefined;
  }

  private delivery(sub: Subscription, partition: number, events: readonly DeliveredEvent[], redrive = false) {
    const body: DeliveryBody = { v: 1, subscription: sub.name, topic: sub.topic, partition, events, ...(redrive ? { redrive: true } : {}) };
    const first = events[0]!.offset;
    const last = events[events.length - 1]!.offset;
    return {
      body,
      deliveryId: createHash('sha256')
        .update([sub.name, sub.topicId, partition, first, last, redrive ? 'redrive' : ''].join('\u0000'))
        .digest('hex')
        .slice(0, 64),
      groupId: `${sub.topic}#${partition}`,
      topicId: sub.topicId,
    };
  }
}

function toDelivered(sub: Subscription, e: FetchedEvent): DeliveredEvent {
  return { subscription: sub.name, ...e };
}

/** The leading events that fit one delivery: at most 100, at most 256 KiB of JSON (at least one). */
function takeDelivery(events: readonly DeliveredEvent[]): DeliveredEvent[] {
  const out: DeliveredEvent[] = [];
  let bytes = 200; // the envelope
  for (const event of events) {
    const size = Buffer.byteLength(JSON.stringify(event)) + 1;
    if (out.length > 0 && (bytes + size > SUBSCRIPTION_LIMITS.maxDeliveryBytes || out.length >= SUBSCRIPTION_LIMITS.maxEventsPerDelivery)) break;
    out.push(event);
    bytes += size;
  }
  return out;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
