/**
 * Persistence of push subscriptions: their config, a cursor per partition (the next offset to
 * deliver) and their dead letters. SubscriptionService and the deliverer hold the rules;
 * DynamoDbSubscriptionStore implements it.
 */
import type { DeliveredEvent, StartAt, SubscriptionFilter, SubscriptionTarget } from '../../../api/subscriptions';

export interface Subscription {
  readonly topic: string;
  readonly topicId: string;
  readonly name: string;
  readonly target: SubscriptionTarget;
  readonly filter?: SubscriptionFilter;
  readonly startAt: StartAt;
  readonly maxAttempts: number;
  /** `api`: in the table; `stack`: declared in CDK (SLUICE_DECLARED_SUBSCRIPTIONS), read-only. */
  readonly source: 'api' | 'stack';
  readonly createdAt?: string;
}

export interface Cursor {
  readonly partition: number;
  /** The next offset to deliver. */
  readonly next: number;
  /** Bumped by every write: a write conditioned on it loses to a seek made meanwhile. */
  readonly version: number;
  /** Failed attempts at `next` (0 after a success). */
  readonly attempts: number;
  readonly lastError?: string;
  readonly lastDeliveredAt?: string;
}

export interface StoredDeadLetter {
  readonly partition: number;
  readonly offset: number;
  readonly event: DeliveredEvent;
  readonly error: string;
  readonly attempts: number;
  readonly failedAt: string;
}

export interface SubscriptionStore {
  /** Throws SubscriptionAlreadyExistsError when the topic has one of that name. */
  putSubscription(subscription: Subscription): Promise<void>;
  getSubscription(topicId: string, name: string): Promise<Subscription | undefined>;
  /** The table's subscriptions of a topic, by name. */
  listSubscriptions(topicId: string): Promise<Subscription[]>;
  /** Removes the config; returns whether there was one. */
  deleteSubscription(topicId: string, name: string): Promise<boolean>;
  /** Removes every cursor and dead letter of a subscription. */
  deleteSubscriptionState(topicId: string, name: string): Promise<void>;

  readCursor(topicId: string, name: string, partition: number): Promise<Cursor | undefined>;
  readCursors(topicId: string, name: string): Promise<Map<number, Cursor>>;
  /** Creates the cursor at `next` unless it exists; returns the cursor that is there now. */
  createCursor(topicId: string, name: string, partition: number, next: number): Promise<Cursor>;
  /** Overwrites cursors (creation, seek): version + 1, attempts 0. Returns the new cursors. */
  setCursors(topicId: string, name: string, positions: readonly { partition: number; next: number }[]): Promise<Cursor[]>;
  /** Moves the cursor to `next` if its version is still `expected.version`; false when a seek won. */
  advanceCursor(topicId: string, name: string, expected: Cursor, next: number, deliveredAt: string): Promise<boolean>;
  /** Records a failed attempt if the cursor's version is still `expected.version`. */
  recordFailure(topicId: string, name: string, expected: Cursor, attempts: number, error: string): Promise<boolean>;

  putDeadLetters(topicId: string, name: string, letters: readonly StoredDeadLetter[]): Promise<void>;
  /** Oldest first (by partition, then offset). */
  readDeadLetters(topicId: string, name: string, options: { partition?: number; limit: number }): Promise<StoredDeadLetter[]>;
  countDeadLetters(topicId: string, name: string, partition?: number): Promise<number>;
  /** Partitions holding dead letters, with how many each. */
  deadLetterPartitions(topicId: string, name: string): Promise<Map<number, number>>;
  deleteDeadLetters(topicId: string, name: string, letters: readonly { partition: number; offset: number }[]): Promise<void>;
}
