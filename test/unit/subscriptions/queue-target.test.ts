/** The Sluice-queue subscription target: its schema, and how an event is named and grouped in the queue. */
import { describe, expect, it } from 'vitest';
import { createSubscriptionRequestSchema, type DeliveredEvent } from '../../../api/subscriptions';
import { eventGroupId, eventMessageId } from '../../../lambda/core/subscriptions/targets';

const event = (over: Partial<DeliveredEvent> = {}): DeliveredEvent => ({
  subscription: 'to-work',
  topic: 'orders',
  partition: 2,
  offset: 17,
  key: 'order-7',
  value: { a: 1 },
  headers: {},
  timestamp: 1,
  messageId: 'producer-id',
  ...over,
});

describe('the queue target', () => {
  const parse = (target: unknown) => createSubscriptionRequestSchema.safeParse({ name: 's', target });

  it('takes a Sluice queue by name, or an SQS queue by URL, never both or neither', () => {
    expect(parse({ type: 'queue', queue: 'jobs' }).data?.target).toEqual({ type: 'queue', queue: 'jobs' });
    expect(parse({ type: 'queue', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q.fifo' }).success).toBe(true);
    expect(parse({ type: 'queue', queue: 'jobs', queueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q.fifo' }).success).toBe(false);
    expect(parse({ type: 'queue' }).success).toBe(false);
    expect(parse({ type: 'queue', queue: 'jobs.fifo' }).success).toBe(false);
    expect(parse({ type: 'queue', queue: 'x'.repeat(49) }).success).toBe(false);
    expect(parse({ type: 'queue', queue: 'jobs', extra: 1 }).success).toBe(false);
  });
});

describe('an event as a queue message', () => {
  it('is grouped by its key, or by topic and partition without one', () => {
    expect(eventGroupId(event())).toBe('order-7');
    expect(eventGroupId(event({ key: null }))).toBe('orders#2');
  });

  it('is grouped by a hash of a key SQS cannot take as a group, the same for the same key', () => {
    for (const key of ['has space', 'ünïcode', 'k'.repeat(129), '']) {
      const group = eventGroupId(event({ key }));
      expect(group, key).toMatch(/^key-sha256-[0-9a-f]{64}$/);
      expect(eventGroupId(event({ key, offset: 99 }))).toBe(group);
    }
    expect(eventGroupId(event({ key: 'k'.repeat(128) }))).toBe('k'.repeat(128));
  });

  it('has an ID that is the same on every attempt and differs by subscription, topic incarnation and offset', () => {
    const id = eventMessageId('topic-id-1', event());
    expect(id).toMatch(/^orders-2-17-[0-9a-f]{32}$/);
    expect(eventMessageId('topic-id-1', event())).toBe(id);
    expect(eventMessageId('topic-id-2', event())).not.toBe(id);
    expect(eventMessageId('topic-id-1', event({ subscription: 'other' }))).not.toBe(id);
    expect(eventMessageId('topic-id-1', event({ offset: 18 }))).not.toBe(id);
    // Within SQS's alphabet and length, whatever the topic's name.
    const long = eventMessageId('t', event({ topic: 'a'.repeat(249), partition: 999, offset: Number.MAX_SAFE_INTEGER }));
    expect(long.length).toBeLessThanOrEqual(128);
    expect(long).toMatch(/^[\x21-\x7e]+$/);
  });
});
