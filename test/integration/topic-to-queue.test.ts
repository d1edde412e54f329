/**
 * A topic turned into a work queue, end to end on the local platform: a subscription whose target
 * is a Sluice queue; events produced → the log's stream → the dispatcher → the deliveries queue →
 * the deliverer → one message per event in the queue; two competing receivers share them over
 * HTTP, and each event is resolved exactly once, each key's events in offset order. Then the
 * subscription is rewound: the deliverer sends every event again under the same IDs, and SQS
 * enqueues none of them twice.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DeliveredEvent } from '../../api/subscriptions';
import { eventGroupId, eventMessageId } from '../../lambda/core/subscriptions/targets';
import type { Platform } from '../../local/platform';
import { waitFor } from '../../local/support';
import { startTestPlatform } from '../support/emulators';

/* eslint-disable @typescript-eslint/no-explicit-any */
let platform: Platform;
const QUEUE = `work-${randomUUID().slice(0, 8)}`;
const TOPIC = 'orders';
const SUBSCRIPTION = 'to-work';
const KEYS = Array.from({ length: 8 }, (_, i) => `order-${i}`);
const KEYED = 40;
const KEYLESS = 10;

async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${platform.endpoint}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function ok(method: string, path: string, body?: unknown) {
  const res = await call(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

beforeAll(async () => {
  platform = await startTestPlatform('topic-queue');
  await ok('POST', '/queues', { name: QUEUE, visibilityTimeoutMs: 30_000 });
  await ok('POST', '/topics', { name: TOPIC, partitions: 3 });
}, 120_000);

afterAll(async () => {
  await platform?.stop();
});

describe('a subscription to a Sluice queue', () => {
  it('is refused for a queue that does not exist, and needs exactly one of queue and queueUrl', async () => {
    const missing = await call('POST', `/topics/${TOPIC}/subscriptions`, { name: 'nowhere', target: { type: 'queue', queue: `none-${QUEUE}` } });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({ code: 'QueueNotFound', queue: `none-${QUEUE}` });
    for (const target of [{ type: 'queue' }, { type: 'queue', queue: QUEUE, queueUrl: 'https://sqs.example.com/1/q' }, { type: 'queue', queue: 'bad name' }]) {
      const res = await call('POST', `/topics/${TOPIC}/subscriptions`, { name: 'bad-target', target });
      expect(res.status, JSON.stringify(target)).toBe(400);
      expect(res.body.error.code).toBe('InvalidRequest');
    }
    expect((await ok('GET', `/topics/${TOPIC}/subscriptions`)).subscriptions).toEqual([]);
  });

  it('hands each event to one of two competing receivers, exactly once, in order per key', async () => {
    const created = await ok('POST', `/topics/${TOPIC}/subscriptions`, { name: SUBSCRIPTION, target: { type: 'queue', queue: QUEUE } });
    expect(created.target).toEqual({ type: 'queue', queue: QUEUE });
    const { topicId } = await ok('GET', `/topics/${TOPIC}`);

    const events = [
      ...Array.from({ length: KEYED }, (_, i) => ({ key: KEYS[i % KEYS.length], value: { n: i }, headers: { source: 'test' } })),
      ...Array.from({ length: KEYLESS }, (_, i) => ({ value: { keyless: i }, partition: i % 3 })),
    ];
    // In several requests, so the deliverer sees the partitions grow while it works.
    const produced: { partition: number; offset: number }[] = [];
    for (let i = 0; i < events.length; i += 10) {
      produced.push(...(await ok('POST', `/topics/${TOPIC}/events`, { events: events.slice(i, i + 10) })).results);
    }

    let order = 0;
    const resolved: { receiver: string; at: number; message: any }[] = [];
    const receiver = async (name: string) => {
      await waitFor(
        async () => {
          const { messages } = await ok('POST', `/queues/${QUEUE}/receive`, { maxMessages: 2, waitMs: 1000 });
          for (const message of messages) resolved.push({ receiver: name, at: order++, message });
          if (messages.length > 0) {
            const acked = await ok('POST', `/queues/${QUEUE}/ack`, { receiptHandles: messages.map((m: any) => m.receiptHandle) });
            expect(acked.results.every((r: any) => r.status === 'ok')).toBe(true);
          }
          return resolved.length >= events.length;
        },
        { timeoutMs: 90_000, what: `${events.length} events resolved` },
      );
    };
    await Promise.all([receiver('A'), receiver('B')]);

    // Exactly once: every produced event, and nothing else.
    const ids = resolved.map(({ message }) => `${message.body.partition}:${message.body.offset}`);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(produced.map((p) => `${p.partition}:${p.offset}`).sort());
    // Shared: both receivers resolved some.
    const byReceiver = new Map<string, number>();
    for (const r of resolved) byReceiver.set(r.receiver, (byReceiver.get(r.receiver) ?? 0) + 1);
    expect(byReceiver.get('A')).toBeGreaterThan(0);
    expect(byReceiver.get('B')).toBeGreaterThan(0);
    // In order: each key's events (and each partition's keyless ones) in offset order.
    const groups = new Map<string, number[]>();
    for (const { message } of [...resolved].sort((a, b) => a.at - b.at)) {
      groups.set(message.groupId, [...(groups.get(message.groupId) ?? []), message.body.offset]);
    }
    expect([...groups.keys()].sort()).toEqual([...KEYS, `${TOPIC}#0`, `${TOPIC}#1`, `${TOPIC}#2`].sort());
    for (const [group, offsets] of groups) expect(offsets, group).toEqual([...offsets].sort((a, b) => a - b));

    // The queue's format: the event as body, a deterministic ID, the key (or topic#partition) as group.
    for (const { message } of resolved) {
      const event = message.body as DeliveredEvent;
      expect(event).toMatchObject({ subscription: SUBSCRIPTION, topic: TOPIC, timestamp: expect.any(Number), messageId: expect.any(String) });
      expect(message.messageId).toBe(eventMessageId(topicId, event));
      expect(message.groupId).toBe(eventGroupId(event));
      expect(message.groupId).toBe(event.key ?? `${TOPIC}#${event.partition}`);
      expect(message.receiveCount).toBe(1);
    }
    expect(await ok('POST', `/queues/${QUEUE}/receive`, { waitMs: 2000 })).toEqual({ messages: [] });
    expect((await ok('GET', `/topics/${TOPIC}/subscriptions/${SUBSCRIPTION}`)).lag).toBe(0);
  });

  it('enqueues nothing twice when the subscription delivers the same events again (within SQS\'s 5 minutes)', async () => {
    const before = await ok('GET', `/topics/${TOPIC}/subscriptions/${SUBSCRIPTION}`);
    await ok('POST', `/topics/${TOPIC}/subscriptions/${SUBSCRIPTION}/seek`, { to: 'earliest' });
    expect((await ok('GET', `/topics/${TOPIC}/subscriptions/${SUBSCRIPTION}`)).lag).toBe(KEYED + KEYLESS);
    // Delivered again: the cursors are back at the high watermarks.
    await waitFor(
      async () => {
        const d = await ok('GET', `/topics/${TOPIC}/subscriptions/${SUBSCRIPTION}`);
        return d.lag === 0 && d.partitions.every((p: any, i: number) => p.lastDeliveredAt !== before.partitions[i].lastDeliveredAt);
      },
      { timeoutMs: 60_000, what: 'the redelivery' },
    );
    expect(await ok('POST', `/queues/${QUEUE}/receive`, { waitMs: 2000 })).toEqual({ messages: [] });
    expect((await ok('GET', `/queues/${QUEUE}`)).messages).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
  });
});
