/**
 * The messages of the shared `deliveries` FIFO queue (docs/architecture.md, "Push subscriptions"):
 * wake-ups ("partition p has events up to offset upTo", from the dispatcher, a seek or a create)
 * and redrives (deliver this partition's dead letters). The events are not in them: the deliverer
 * reads the log from the subscription's cursor.
 *
 * Message group = hash(topicId, subscription, partition), so a subscription's partition is served
 * in order and every other group goes on in parallel; deduplication ID = hash(topicId,
 * subscription, partition, what the message is about), so a re-driven dispatcher batch enqueues
 * nothing twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';

export const wakeMessageSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('wake'),
  subscription: z.string().min(1),
  topic: z.string().min(1),
  topicId: z.string().min(1),
  partition: z.number().int().min(0),
  /** Deliver until the cursor reaches this offset (exclusive: one past the batch's last event). */
  upTo: z.number().int().min(0),
  /**
   * The first offset this wake-up is about (the base offset of the batch, or of the head's tail). A
   * subscription that has no cursor on the partition yet and starts at `latest` starts here
   * (CDK-declared subscriptions get their cursors this way, at the first batch the dispatcher sees).
   */
  from: z.number().int().min(0).optional(),
});
export type WakeMessage = z.infer<typeof wakeMessageSchema>;

export const redriveMessageSchema = z.strictObject({
  v: z.literal(1),
  kind: z.literal('redrive'),
  subscription: z.string().min(1),
  topic: z.string().min(1),
  topicId: z.string().min(1),
  partition: z.number().int().min(0),
});
export type RedriveMessage = z.infer<typeof redriveMessageSchema>;

export const deliveriesMessageSchema = z.discriminatedUnion('kind', [wakeMessageSchema, redriveMessageSchema]);
export type DeliveriesMessage = z.infer<typeof deliveriesMessageSchema>;

export interface OutgoingMessage {
  readonly body: DeliveriesMessage;
  readonly groupId: string;
  readonly deduplicationId: string;
}

const hash = (...parts: (string | number)[]) => createHash('sha256').update(parts.join('\u0000')).digest('hex');

export function messageGroupId(topicId: string, subscription: string, partition: number): string {
  return hash('group', topicId, subscription, partition);
}

/**
 * A wake-up from the dispatcher: deduplicated by the events it announces, up to `upTo` (every head
 * write that commits events has its own nextOffset, so each enqueues). `plannedFrom` is a batch
 * item's `hv`: an uncommitted flush overwritten at its key by the real one can end at the same
 * offset, and the real one's wake-up must not be dropped as a duplicate of the first.
 */
export function wakeFromBatch(m: Omit<WakeMessage, 'v' | 'kind'>, plannedFrom?: number): OutgoingMessage {
  return {
    body: { v: 1, kind: 'wake', ...m },
    groupId: messageGroupId(m.topicId, m.subscription, m.partition),
    deduplicationId:
      plannedFrom === undefined
        ? hash('wake', m.topicId, m.subscription, m.partition, m.upTo)
        : hash('wake', m.topicId, m.subscription, m.partition, m.upTo, 'hv', plannedFrom),
  };
}

/** A wake-up after a create or seek moved a cursor: deduplicated by the cursor's version. */
export function wakeAfterSeek(m: Omit<WakeMessage, 'v' | 'kind' | 'from'>, cursorVersion: number): OutgoingMessage {
  return {
    body: { v: 1, kind: 'wake', ...m },
    groupId: messageGroupId(m.topicId, m.subscription, m.partition),
    deduplicationId: hash('seek', m.topicId, m.subscription, m.partition, cursorVersion),
  };
}

/** A redrive: never deduplicated against an earlier one. */
export function redrive(m: Omit<RedriveMessage, 'v' | 'kind'>): OutgoingMessage {
  return {
    body: { v: 1, kind: 'redrive', ...m },
    groupId: messageGroupId(m.topicId, m.subscription, m.partition),
    deduplicationId: hash('redrive', m.topicId, m.subscription, m.partition, randomUUID()),
  };
}

/** Sends messages to the deliveries queue. */
export interface DeliveriesQueue {
  send(messages: readonly OutgoingMessage[]): Promise<void>;
}
