/**
 * The idempotent producer's state, kept on each partition head (Kafka's producer state per
 * partition): per producer ID its epoch and its last PRODUCER_BATCHES_KEPT batches (first
 * sequence, event count, first offset). A retried batch is recognised from it and answered with
 * its original offsets; an older epoch is fenced; a sequence that skips ahead is refused.
 * Pure functions: the log service checks and plans with them, the store settles heads with them.
 */
import { OutOfOrderSequenceError, ProducerFencedError } from '../../../api/errors';
import type { ProducerStamp } from '../../../api/events';

/** Batches remembered per producer and partition, as Kafka keeps five. */
export const PRODUCER_BATCHES_KEPT = 5;
/** A producer silent on a partition this long is forgotten there (longer than any retry takes). */
export const PRODUCER_STATE_MS = 60 * 60_000;
/** Producers kept on one head at most (the least recently written go first), so a head stays small. */
export const MAX_PRODUCERS_PER_HEAD = 32;

export interface ProducerBatch {
  /** Sequence of the batch's first event. */
  readonly s: number;
  /** Events in the batch. */
  readonly c: number;
  /** Offset of the batch's first event. */
  readonly o: number;
}

export interface ProducerEntry {
  readonly epoch: number;
  readonly batches: readonly ProducerBatch[];
  /** Epoch ms of the last batch appended. */
  readonly at: number;
}

/** Producer ID to its state on one partition. */
export type ProducerStates = Readonly<Record<string, ProducerEntry>>;

export type SequenceCheck = { readonly kind: 'append' } | { readonly kind: 'duplicate'; readonly offset: number };

/** The message ID of an idempotent producer's event: unique in the topic, and the same on every retry. */
export function producerMessageId(stamp: ProducerStamp, partition: number, index: number): string {
  return `${stamp.id}-${stamp.epoch}-${partition}-${stamp.sequence + index}`;
}

/** The stamp of the request whose first event got `messageId` from producerMessageId; undefined if none could have. */
export function stampFromMessageId(messageId: string): ProducerStamp | undefined {
  const parts = /^(.+)-(\d+)-\d+-(\d+)$/.exec(messageId);
  return parts ? { id: parts[1]!, epoch: Number(parts[2]), sequence: Number(parts[3]) } : undefined;
}

/** What a batch of `count` events stamped `stamp` is to a partition whose head holds `states`. */
export function checkSequence(states: ProducerStates | undefined, stamp: ProducerStamp, count: number): SequenceCheck {
  const entry = states && Object.hasOwn(states, stamp.id) ? states[stamp.id] : undefined;
  if (!entry || stamp.epoch > entry.epoch) return { kind: 'append' };
  if (stamp.epoch < entry.epoch) {
    throw new ProducerFencedError(
      `Producer "${stamp.id}" epoch ${stamp.epoch} is fenced: epoch ${entry.epoch} has written to this partition since. ` +
        'Nothing was appended; a restarted producer replaced this one.',
      { details: { producerId: stamp.id, epoch: stamp.epoch, currentEpoch: entry.epoch } },
    );
  }
  const seen = entry.batches.find((b) => b.s === stamp.sequence);
  if (seen && seen.c === count) return { kind: 'duplicate', offset: seen.o };
  const last = entry.batches[entry.batches.length - 1];
  const expected = last ? last.s + last.c : 0;
  if (seen || stamp.sequence !== expected) {
    throw new OutOfOrderSequenceError(
      `Producer "${stamp.id}" epoch ${stamp.epoch} sent sequence ${stamp.sequence} (${count} events); this partition ` +
        `expects ${expected} next. Nothing was appended: start a new epoch.`,
      { details: { producerId: stamp.id, epoch: stamp.epoch, sequence: stamp.sequence, expected } },
    );
  }
  return { kind: 'append' };
}

/** `states` with the batch appended at `offset` recorded, and old or surplus producers dropped. */
export function recordBatch(
  states: ProducerStates | undefined,
  stamp: ProducerStamp,
  count: number,
  offset: number,
  nowMs: number,
): ProducerStates {
  const entry = states && Object.hasOwn(states, stamp.id) ? states[stamp.id] : undefined;
  const batch: ProducerBatch = { s: stamp.sequence, c: count, o: offset };
  const batches = entry && entry.epoch === stamp.epoch ? [...entry.batches, batch].slice(-PRODUCER_BATCHES_KEPT) : [batch];
  const others = Object.entries(states ?? {})
    .filter(([id, e]) => id !== stamp.id && e.at > nowMs - PRODUCER_STATE_MS)
    .sort((a, b) => b[1].at - a[1].at)
    .slice(0, MAX_PRODUCERS_PER_HEAD - 1);
  return Object.fromEntries([...others, [stamp.id, { epoch: stamp.epoch, batches, at: nowMs }]]);
}
