/**
 * Message queues through the local platform over HTTP: the real queues handler under the local IAM,
 * on the SQS server (fauxqs) and DynamoDB Local. Administration, order within a group, dedupe under
 * retries, visibility expiry, ack/nack/extend per receipt handle, the dead-letter queue after
 * maxReceiveCount and redrive, purge, the size limit, and bad input.
 *
 * Every stack synthesized for the tests has the same message-queue prefix (the platform's own
 * prefix names tables, not message queues), so concurrent test files share one namespace of
 * queues: each queue here gets a unique name.
 */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ListQueueTagsCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_DEFAULTS, QUEUE_LIMITS } from '../../api/queues';
import { FUNCTIONS } from '../../definitions/functions';
import { TABLES } from '../../definitions/tables';
import { MESSAGE_QUEUES, messageDeadLetterQueueName, messageQueueName } from '../../definitions/queues';
import type { Platform } from '../../local/platform';
import { waitFor } from '../../local/support';
import { emulatorClients, startTestPlatform } from '../support/emulators';

/* eslint-disable @typescript-eslint/no-explicit-any */
interface Res {
  readonly status: number;
  readonly body: any;
}

let platform: Platform;
let prefix: string;
const clients = emulatorClients();
const run = randomUUID().slice(0, 8);
/** A queue name unique to this run of this file. */
const unique = (name: string) => `${name}-${run}`;

async function call(method: string, path: string, body?: unknown): Promise<Res> {
  const res = await fetch(`${platform.endpoint}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function ok(method: string, path: string, body?: unknown): Promise<Res> {
  const res = await call(method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

async function createQueue(name: string, settings: Record<string, unknown> = {}): Promise<string> {
  const queue = unique(name);
  await ok('POST', '/queues', { name: queue, ...settings });
  return queue;
}

const send = (queue: string, messages: unknown[]) => call('POST', `/queues/${queue}/messages`, { messages });
const receive = async (queue: string, request: Record<string, unknown> = {}) =>
  (await ok('POST', `/queues/${queue}/receive`, request)).body.messages as any[];
const ack = (queue: string, receiptHandles: string[]) => ok('POST', `/queues/${queue}/ack`, { receiptHandles });
const describeQueue = async (queue: string) => (await ok('GET', `/queues/${queue}`)).body;

/** How many messages the queue holds in any state (SQS's counts, exact on the SQS server). */
async function depth(queue: string): Promise<number> {
  const d = await describeQueue(queue);
  return d.messages.visible + d.messages.inFlight + d.messages.delayed;
}

/** Receives and acks until `count` messages were received; answers them in the order received. */
async function drain(queue: string, count: number): Promise<any[]> {
  const got: any[] = [];
  await waitFor(
    async () => {
      const messages = await receive(queue, { waitMs: 1000 });
      got.push(...messages);
      if (messages.length > 0) await ack(queue, messages.map((m) => m.receiptHandle));
      return got.length >= count;
    },
    { timeoutMs: 30_000, what: `${count} messages from ${queue}` },
  );
  return got;
}

beforeAll(async () => {
  platform = await startTestPlatform('queues');
  const fn = [...platform.twin.functions.values()].find((f) => f.environment[MESSAGE_QUEUES.prefixEnvVar] !== undefined);
  prefix = fn!.environment[MESSAGE_QUEUES.prefixEnvVar]!;
}, 120_000);

afterAll(async () => {
  await platform?.stop();
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('create, list, describe, delete', () => {
  it('creates a FIFO queue in high-throughput mode with a FIFO dead-letter queue, and describes it', async () => {
    const name = unique('admin');
    const before = Date.now();
    const created = await call('POST', '/queues', { name, visibilityTimeoutMs: 1500, maxReceiveCount: 2, retentionMs: 3_600_000 });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toEqual({
      name,
      origin: 'api',
      // 1.5 s rounded up to whole seconds, as SQS counts them.
      visibilityTimeoutMs: 2000,
      maxReceiveCount: 2,
      retentionMs: 3_600_000,
      deliveryDelayMs: 0,
      createdAt: expect.any(Number),
      messages: { visible: 0, inFlight: 0, delayed: 0 },
      deadLetters: { visible: 0 },
      oldestMessageAgeMs: null,
    });
    expect(created.body.createdAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    expect(await describeQueue(name)).toEqual(created.body);

    // What SQS holds: both queues FIFO, high throughput, tagged; the redrive policy names the DLQ.
    const url = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: messageQueueName(prefix, name) }))).QueueUrl!;
    const dlqUrl = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: messageDeadLetterQueueName(prefix, name) }))).QueueUrl!;
    const attrs = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }))).Attributes!;
    const dlqAttrs = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['All'] }))).Attributes!;
    expect(attrs).toMatchObject({ FifoQueue: 'true', DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId', VisibilityTimeout: '2' });
    expect(JSON.parse(attrs.RedrivePolicy!)).toEqual({ deadLetterTargetArn: dlqAttrs.QueueArn, maxReceiveCount: 2 });
    expect(dlqAttrs).toMatchObject({ FifoQueue: 'true', MessageRetentionPeriod: String(14 * 24 * 3600) });
    for (const u of [url, dlqUrl]) {
      expect((await clients.sqs.send(new ListQueueTagsCommand({ QueueUrl: u }))).Tags).toEqual({ [MESSAGE_QUEUES.originTag]: 'api' });
    }
  });

  it('applies the documented defaults', async () => {
    const name = await createQueue('defaults');
    expect(await describeQueue(name)).toMatchObject({
      visibilityTimeoutMs: QUEUE_DEFAULTS.visibilityTimeoutMs,
      maxReceiveCount: QUEUE_DEFAULTS.maxReceiveCount,
      retentionMs: QUEUE_DEFAULTS.retentionMs,
      deliveryDelayMs: QUEUE_DEFAULTS.deliveryDelayMs,
    });
  });

  it('answers 409 QueueAlreadyExists for an existing name and keeps the queue as it was', async () => {
    const name = await createQueue('dup', { maxReceiveCount: 3 });
    const again = await call('POST', '/queues', { name, maxReceiveCount: 7 });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: 'QueueAlreadyExists', queue: name });
    const same = await call('POST', '/queues', { name, maxReceiveCount: 3 });
    expect(same.status).toBe(409);
    expect((await describeQueue(name)).maxReceiveCount).toBe(3);
  });

  it('lists the queues with their origin, and not their dead-letter queues', async () => {
    const a = await createQueue('list-a');
    const b = await createQueue('list-b');
    const listed = (await ok('GET', '/queues')).body.queues as { name: string; origin: string }[];
    expect(listed).toEqual(expect.arrayContaining([{ name: a, origin: 'api' }, { name: b, origin: 'api' }]));
    const names = listed.map((q) => q.name);
    expect(names).toEqual([...names].sort());
    expect(names.some((n) => n.includes('.fifo') || n.startsWith('d-'))).toBe(false);
  });

  it('answers 404 QueueNotFound for an unknown queue on every route', async () => {
    const name = unique('nowhere');
    const routes: [string, string, unknown][] = [
      ['GET', `/queues/${name}`, undefined],
      ['DELETE', `/queues/${name}`, undefined],
      ['POST', `/queues/${name}/messages`, { messages: [{ body: 1 }] }],
      ['POST', `/queues/${name}/receive`, {}],
      ['POST', `/queues/${name}/ack`, { receiptHandles: ['h'] }],
      ['POST', `/queues/${name}/nack`, { receiptHandles: ['h'] }],
      ['POST', `/queues/${name}/extend`, { receiptHandles: ['h'], visibilityTimeoutMs: 1000 }],
      ['POST', `/queues/${name}/redrive`, {}],
      ['POST', `/queues/${name}/purge`, {}],
    ];
    for (const [method, path, body] of routes) {
      const res = await call(method, path, body);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.error, `${method} ${path}`).toMatchObject({ code: 'QueueNotFound', queue: name });
    }
    expect((await clients.sqs.send(new GetQueueUrlCommand({ QueueName: messageQueueName(prefix, name) })).catch((e: Error) => e.name))).toBe(
      'QueueDoesNotExist',
    );
  });

  it('deletes a queue and its dead-letter queue; a second delete is 404', async () => {
    const name = await createQueue('doomed');
    expect((await send(name, [{ body: 'x' }])).status).toBe(200);
    expect((await call('DELETE', `/queues/${name}`)).status).toBe(204);
    expect((await call('GET', `/queues/${name}`)).status).toBe(404);
    expect((await ok('GET', '/queues')).body.queues.map((q: { name: string }) => q.name)).not.toContain(name);
    for (const sqsName of [messageQueueName(prefix, name), messageDeadLetterQueueName(prefix, name)]) {
      const gone = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: sqsName })).catch((e: Error) => e.name);
      expect(gone, sqsName).toBe('QueueDoesNotExist');
    }
    const again = await call('DELETE', `/queues/${name}`);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('QueueNotFound');
  });

  it('refuses to delete a queue declared in the stack (409 QueueReadOnly) and lists it as such', async () => {
    // What `sluice.addQueue` deploys, made here directly: tagged origin=stack.
    const name = unique('declared');
    await clients.sqs.send(
      new CreateQueueCommand({ QueueName: messageQueueName(prefix, name), Attributes: { FifoQueue: 'true' }, tags: { [MESSAGE_QUEUES.originTag]: 'stack' } }),
    );
    const res = await call('DELETE', `/queues/${name}`);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({ code: 'QueueReadOnly', queue: name });
    expect((await describeQueue(name)).origin).toBe('stack');
    expect((await ok('GET', '/queues')).body.queues).toContainEqual({ name, origin: 'stack' });
  });
});

describe('send and receive', () => {
  it('delivers the messages of a group in order, one group member at a time', async () => {
    const queue = await createQueue('order');
    const sent: { group: string; n: number }[] = [];
    // Two requests, the groups interleaved, so order comes from the group and not from a request.
    for (const part of [0, 1]) {
      const messages = [];
      for (let i = 0; i < 6; i++) {
        const group = i % 2 === 0 ? 'a' : 'b';
        const n = part * 6 + i;
        sent.push({ group, n });
        messages.push({ body: { group, n }, groupId: group, messageId: `order-${n}` });
      }
      const res = await send(queue, messages);
      expect(res.status).toBe(200);
      expect(res.body.results.map((r: { status: string }) => r.status)).toEqual(Array(6).fill('sent'));
    }
    // While a group has a message in flight, none of its later messages is handed out.
    const first = await receive(queue, { maxMessages: 10 });
    expect(first.length).toBeGreaterThan(0);
    expect(await receive(queue, { maxMessages: 10 })).toEqual([]);
    await ack(queue, first.map((m) => m.receiptHandle));
    const rest = await drain(queue, sent.length - first.length);
    const got = [...first, ...rest];
    for (const group of ['a', 'b']) {
      expect(got.filter((m) => m.groupId === group).map((m) => m.body.n)).toEqual(sent.filter((s) => s.group === group).map((s) => s.n));
    }
    expect(await depth(queue)).toBe(0);
  });

  it('answers each message as sent: any JSON body, its IDs, receive count and send time', async () => {
    const queue = await createQueue('bodies');
    const bodies = [{ nested: { a: [1, 'two', null, true] } }, 'a string', 42.5, null, [1, [2]], 'emoji \u{1F600} and U+FFFF \uffff', JSON.parse('{"__proto__":"data"}')];
    const before = Date.now();
    const res = await send(queue, bodies.map((body, i) => ({ body: JSON.parse(JSON.stringify(body)), groupId: `g${i}`, messageId: `body-${i}` })));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    // A message without IDs gets a UUID as its messageId, and that as its group.
    const anonymous = await send(queue, [{ body: 'anonymous' }]);
    expect(anonymous.body.results[0]).toMatchObject({ status: 'sent', messageId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    expect(anonymous.body.results[0].groupId).toBe(anonymous.body.results[0].messageId);
    expect(anonymous.body.results[0].sequenceNumber).toMatch(/^\d+$/);

    const got = await drain(queue, bodies.length + 1);
    for (const [i, body] of bodies.entries()) {
      const m = got.find((x) => x.messageId === `body-${i}`);
      expect(m, `body-${i}`).toMatchObject({ groupId: `g${i}`, receiveCount: 1, sequenceNumber: res.body.results[i].sequenceNumber });
      expect(m.body).toEqual(JSON.parse(JSON.stringify(body)));
      expect(m.sentAt).toBeGreaterThanOrEqual(before - 1000);
      expect(m.receiptHandle).toEqual(expect.any(String));
    }
    expect(got.find((m) => m.body === 'anonymous')).toMatchObject({
      messageId: anonymous.body.results[0].messageId,
      groupId: anonymous.body.results[0].messageId,
    });
  });

  it('enqueues nothing new for a retried send: the answer says duplicate', async () => {
    const queue = await createQueue('dedupe');
    const request = [
      { body: { n: 1 }, groupId: 'g', messageId: 'm-1' },
      { body: { n: 2 }, groupId: 'g', messageId: 'm-2' },
    ];
    const first = await send(queue, request);
    expect(first.body.results.map((r: { status: string }) => r.status)).toEqual(['sent', 'sent']);
    // The same request again (a client retry), then a mix of old and new, then one ID twice in one request.
    const retry = await send(queue, request);
    expect(retry.body.results).toEqual(first.body.results.map((r: object) => ({ ...r, status: 'duplicate' })));
    const mixed = await send(queue, [request[1], { body: { n: 3 }, groupId: 'g', messageId: 'm-3' }]);
    expect(mixed.body.results.map((r: { status: string }) => r.status)).toEqual(['duplicate', 'sent']);
    const twice = await send(queue, [
      { body: { n: 4 }, groupId: 'h', messageId: 'm-4' },
      { body: { n: 4 }, groupId: 'h', messageId: 'm-4' },
    ]);
    expect(twice.body.results.map((r: { status: string }) => r.status)).toEqual(['sent', 'duplicate']);
    expect(twice.body.results[1].sequenceNumber).toBe(twice.body.results[0].sequenceNumber);

    // Deduplication is per message group (high-throughput FIFO): the same ID in another group is a new message.
    const otherGroup = await send(queue, [{ body: { n: 5 }, groupId: 'other', messageId: 'm-1' }]);
    expect(otherGroup.body.results.map((r: { status: string }) => r.status)).toEqual(['sent']);

    expect(await depth(queue)).toBe(5);
    const got = await drain(queue, 5);
    expect(got.map((m) => `${m.groupId}/${m.messageId}`).sort()).toEqual(['g/m-1', 'g/m-2', 'g/m-3', 'h/m-4', 'other/m-1']);
    expect(await receive(queue, { waitMs: 1000 })).toEqual([]);
  });

  it('hands a message out again once its visibility timeout runs out (the queue default or the receive\'s)', async () => {
    const queue = await createQueue('visibility', { visibilityTimeoutMs: 1000 });
    await send(queue, [{ body: 'v', messageId: 'vis-1' }]);
    const [first] = await receive(queue);
    expect(first).toMatchObject({ messageId: 'vis-1', receiveCount: 1 });
    const again = await waitFor(async () => (await receive(queue, { waitMs: 1000 }))[0], { timeoutMs: 10_000, what: 'the redelivery' });
    expect(again).toMatchObject({ messageId: 'vis-1', receiveCount: 2 });
    expect(again.receiptHandle).not.toBe(first.receiptHandle);

    // A receive's own visibilityTimeoutMs overrides the queue's.
    const slow = await createQueue('visibility-override', { visibilityTimeoutMs: 60_000 });
    await send(slow, [{ body: 'w', messageId: 'vis-2' }]);
    expect((await receive(slow, { visibilityTimeoutMs: 1000 }))[0]).toMatchObject({ receiveCount: 1 });
    const back = await waitFor(async () => (await receive(slow, { waitMs: 1000 }))[0], { timeoutMs: 10_000, what: 'the redelivery' });
    expect(back).toMatchObject({ messageId: 'vis-2', receiveCount: 2 });
  });

  it('extend keeps a message hidden past its timeout; nack hands it back at once or after a delay', async () => {
    const queue = await createQueue('extend');
    await send(queue, [{ body: 'e', messageId: 'ext-1' }]);
    const [m] = await receive(queue, { visibilityTimeoutMs: 2000 });
    const extended = await ok('POST', `/queues/${queue}/extend`, { receiptHandles: [m.receiptHandle], visibilityTimeoutMs: 30_000 });
    expect(extended.body.results).toEqual([{ receiptHandle: m.receiptHandle, status: 'ok' }]);
    // Four seconds of long polling, well past the 2 s it was received with: nothing.
    expect(await receive(queue, { waitMs: 4000 })).toEqual([]);

    const nacked = await ok('POST', `/queues/${queue}/nack`, { receiptHandles: [m.receiptHandle] });
    expect(nacked.body.results).toEqual([{ receiptHandle: m.receiptHandle, status: 'ok' }]);
    const [again] = await receive(queue, { waitMs: 1000 });
    expect(again).toMatchObject({ messageId: 'ext-1', receiveCount: 2 });

    await ok('POST', `/queues/${queue}/nack`, { receiptHandles: [again.receiptHandle], delayMs: 4000 });
    expect(await receive(queue, { waitMs: 1000 })).toEqual([]);
    const later = await waitFor(async () => (await receive(queue, { waitMs: 1000 }))[0], { timeoutMs: 15_000, what: 'the delayed nack' });
    expect(later).toMatchObject({ messageId: 'ext-1', receiveCount: 3 });
  });

  it('answers ack, nack and extend per receipt handle, in request order, with an invalid handle among them', async () => {
    const queue = await createQueue('handles');
    await send(queue, [1, 2, 3, 4].map((n) => ({ body: n, groupId: `g${n}`, messageId: `h-${n}` })));
    const got = await receiveUnacked(queue, 4);
    const [h1, h2, h3, h4] = got.map((m) => m.receiptHandle);
    const bogus = 'not-a-receipt-handle';

    const nacked = await ok('POST', `/queues/${queue}/nack`, { receiptHandles: [h1, bogus, h2], delayMs: 60_000 });
    expect(nacked.body.results).toEqual([
      { receiptHandle: h1, status: 'ok' },
      { receiptHandle: bogus, status: 'failed', error: { code: 'ReceiptHandleIsInvalid', message: expect.any(String) } },
      { receiptHandle: h2, status: 'ok' },
    ]);
    const extended = await ok('POST', `/queues/${queue}/extend`, { receiptHandles: [bogus, h3], visibilityTimeoutMs: 60_000 });
    expect(extended.body.results).toEqual([
      { receiptHandle: bogus, status: 'failed', error: { code: 'ReceiptHandleIsInvalid', message: expect.any(String) } },
      { receiptHandle: h3, status: 'ok' },
    ]);
    // fauxqs (like SQS for a handle that is well-formed but stale) deletes nothing and says ok for
    // an unknown handle on ack; SQS answers ReceiptHandleIsInvalid for a malformed one.
    const acked = await ok('POST', `/queues/${queue}/ack`, { receiptHandles: [h3, bogus, h4] });
    expect(acked.body.results.map((r: { receiptHandle: string }) => r.receiptHandle)).toEqual([h3, bogus, h4]);
    expect(acked.body.results[0]).toEqual({ receiptHandle: h3, status: 'ok' });
    expect(acked.body.results[2]).toEqual({ receiptHandle: h4, status: 'ok' });
    // 3 and 4 are resolved; 1 and 2 wait out their nack delay, hidden (in flight, as SQS counts them).
    expect(await describeQueue(queue)).toMatchObject({ messages: { visible: 0, inFlight: 2, delayed: 0 } });

    // Over 10 handles: several SQS batches, still one answer in request order.
    const many = Array.from({ length: 23 }, (_, i) => `bogus-${i}`);
    const big = await ok('POST', `/queues/${queue}/nack`, { receiptHandles: many });
    expect(big.body.results.map((r: { receiptHandle: string; status: string }) => [r.receiptHandle, r.status])).toEqual(many.map((h) => [h, 'failed']));
  });

  it('moves a message to the dead-letter queue after maxReceiveCount receives; redrive brings it back', async () => {
    const queue = await createQueue('poison', { maxReceiveCount: 2 });
    await send(queue, [
      { body: { poison: 1 }, groupId: 'p1', messageId: 'poison-1' },
      { body: { poison: 2 }, groupId: 'p2', messageId: 'poison-2' },
      { body: { poison: 3 }, groupId: 'p3', messageId: 'poison-3' },
    ]);
    // Nacked on every receive: the receive after the second moves each to the DLQ.
    const counts = new Map<string, number>();
    await waitFor(
      async () => {
        const messages = await receive(queue, { waitMs: 1000 });
        for (const m of messages) counts.set(m.messageId, m.receiveCount);
        if (messages.length > 0) await ok('POST', `/queues/${queue}/nack`, { receiptHandles: messages.map((m) => m.receiptHandle) });
        return (await describeQueue(queue)).deadLetters.visible === 3;
      },
      { timeoutMs: 30_000, what: 'three dead letters' },
    );
    expect([...counts.values()]).toEqual([2, 2, 2]);
    expect(await describeQueue(queue)).toMatchObject({ messages: { visible: 0, inFlight: 0, delayed: 0 }, deadLetters: { visible: 3 } });

    const partial = await ok('POST', `/queues/${queue}/redrive`, { maxMessages: 2 });
    expect(partial.body).toEqual({ moved: 2, remaining: 1 });
    const rest = await ok('POST', `/queues/${queue}/redrive`, {});
    expect(rest.body).toEqual({ moved: 1, remaining: 0 });
    expect(await describeQueue(queue)).toMatchObject({ messages: { visible: 3 }, deadLetters: { visible: 0 } });

    // Back as they were sent: same ID, group and body, counted from 1 again.
    const back = await drain(queue, 3);
    expect(back.map((m) => [m.messageId, m.groupId, m.body, m.receiveCount]).sort()).toEqual([
      ['poison-1', 'p1', { poison: 1 }, 1],
      ['poison-2', 'p2', { poison: 2 }, 1],
      ['poison-3', 'p3', { poison: 3 }, 1],
    ]);
    expect((await ok('POST', `/queues/${queue}/redrive`, {})).body).toEqual({ moved: 0, remaining: 0 });
  });

  it('purges the queue, or its dead letters', async () => {
    const queue = await createQueue('purge', { maxReceiveCount: 1 });
    await send(queue, [1, 2, 3].map((n) => ({ body: n, groupId: `g${n}` })));
    expect(await depth(queue)).toBe(3);
    expect((await ok('POST', `/queues/${queue}/purge`)).body).toEqual({ target: 'queue' });
    expect(await depth(queue)).toBe(0);

    await send(queue, [{ body: 'dead', messageId: 'dead-1' }]);
    const [m] = await receive(queue);
    await ok('POST', `/queues/${queue}/nack`, { receiptHandles: [m.receiptHandle] });
    await waitFor(async () => (await receive(queue, { waitMs: 1000 })).length === 0 && (await describeQueue(queue)).deadLetters.visible === 1, {
      timeoutMs: 10_000,
      what: 'the dead letter',
    });
    expect((await ok('POST', `/queues/${queue}/purge`, { target: 'dead-letters' })).body).toEqual({ target: 'dead-letters' });
    expect((await describeQueue(queue)).deadLetters.visible).toBe(0);
  });
});

describe('limits and bad input', () => {
  /** A body whose message is exactly `bytes` as SQS counts it (JSON text plus the attribute). */
  function bodyOf(bytes: number, messageId: string): string {
    const attribute = 'sluice-message-id'.length + 'String'.length + messageId.length;
    return 'x'.repeat(bytes - attribute - 2); // the two quotes of a JSON string
  }

  it('answers 413 MessageTooLarge for a message over 1 MiB and enqueues nothing of that request', async () => {
    const queue = await createQueue('large');
    const atLimit = await send(queue, [{ body: bodyOf(QUEUE_LIMITS.maxMessageBytes, 'at-limit'), messageId: 'at-limit' }]);
    expect(atLimit.status, JSON.stringify(atLimit.body).slice(0, 300)).toBe(200);
    expect((await drain(queue, 1))[0].body).toHaveLength(QUEUE_LIMITS.maxMessageBytes - 'sluice-message-id'.length - 'String'.length - 'at-limit'.length - 2);

    const over = await send(queue, [
      { body: 'small', messageId: 'small-1' },
      { body: bodyOf(QUEUE_LIMITS.maxMessageBytes + 1, 'over'), messageId: 'over' },
    ]);
    expect(over.status).toBe(413);
    expect(over.body.error).toMatchObject({ code: 'MessageTooLarge', index: 1, max: QUEUE_LIMITS.maxMessageBytes, actual: QUEUE_LIMITS.maxMessageBytes + 1 });
    expect(await depth(queue)).toBe(0);
    expect(await receive(queue, { waitMs: 1000 })).toEqual([]);
  });

  it('answers every bad request with 400 and a code, and enqueues or creates nothing', async () => {
    const queue = await createQueue('bad');
    const q = `/queues/${queue}`;
    const newName = unique('never');
    const cases: [string, string, unknown][] = [
      ['POST', '/queues', { name: 'bad name' }],
      ['POST', '/queues', { name: 'a.b' }],
      ['POST', '/queues', { name: '' }],
      ['POST', '/queues', { name: 'x'.repeat(QUEUE_LIMITS.maxNameLength + 1) }],
      ['POST', '/queues', {}],
      ['POST', '/queues', { name: newName, visibilityTimeoutMs: QUEUE_LIMITS.maxVisibilityTimeoutMs + 1 }],
      ['POST', '/queues', { name: newName, visibilityTimeoutMs: 1.5 }],
      ['POST', '/queues', { name: newName, maxReceiveCount: 0 }],
      ['POST', '/queues', { name: newName, maxReceiveCount: QUEUE_LIMITS.maxReceiveCount + 1 }],
      ['POST', '/queues', { name: newName, retentionMs: QUEUE_LIMITS.minRetentionMs - 1 }],
      ['POST', '/queues', { name: newName, retentionMs: QUEUE_LIMITS.maxRetentionMs + 1 }],
      ['POST', '/queues', { name: newName, deliveryDelayMs: QUEUE_LIMITS.maxDeliveryDelayMs + 1 }],
      ['POST', '/queues', { name: newName, fifo: false }],
      ['GET', '/queues/bad%20name', undefined],
      ['POST', `${q}/messages`, {}],
      ['POST', `${q}/messages`, { messages: [] }],
      ['POST', `${q}/messages`, { messages: Array.from({ length: QUEUE_LIMITS.maxMessagesPerSend + 1 }, () => ({ body: 1 })) }],
      ['POST', `${q}/messages`, { messages: [{ groupId: 'g' }] }],
      ['POST', `${q}/messages`, { messages: [{ body: 1 }, { body: 2, groupId: 'has space' }] }],
      ['POST', `${q}/messages`, { messages: [{ body: 1 }, { body: 2, groupId: 'x'.repeat(129) }] }],
      ['POST', `${q}/messages`, { messages: [{ body: 1 }, { body: 2, messageId: 'é' }] }],
      ['POST', `${q}/messages`, { messages: [{ body: 1 }, { body: 2, messageId: '' }] }],
      ['POST', `${q}/messages`, { messages: [{ body: 1 }, { body: 2, delayMs: 1000 }] }],
      ['POST', `${q}/messages`, { messages: [{ body: 1 }, { body: 2, priority: 1 }] }],
      ['POST', `${q}/messages`, `{"messages":[{"body":1},{"body":${'['.repeat(QUEUE_LIMITS.maxBodyDepth + 1)}${']'.repeat(QUEUE_LIMITS.maxBodyDepth + 1)}}]}`],
      ['POST', `/queues/bad%20name/messages`, { messages: [{ body: 1 }] }],
      ['POST', `${q}/receive`, { maxMessages: 0 }],
      ['POST', `${q}/receive`, { maxMessages: QUEUE_LIMITS.maxReceive + 1 }],
      ['POST', `${q}/receive`, { waitMs: QUEUE_LIMITS.maxWaitMs + 1 }],
      ['POST', `${q}/receive`, { visibilityTimeoutMs: -1 }],
      ['POST', `${q}/ack`, { receiptHandles: [] }],
      ['POST', `${q}/ack`, { receiptHandles: Array.from({ length: QUEUE_LIMITS.maxReceiptHandles + 1 }, (_, i) => `h${i}`) }],
      ['POST', `${q}/ack`, { receiptHandles: [''] }],
      ['POST', `${q}/nack`, { receiptHandles: ['h'], delayMs: QUEUE_LIMITS.maxVisibilityTimeoutMs + 1 }],
      ['POST', `${q}/extend`, { receiptHandles: ['h'] }],
      ['POST', `${q}/redrive`, { maxMessages: 0 }],
      ['POST', `${q}/purge`, { target: 'everything' }],
    ];
    for (const [method, path, body] of cases) {
      const res = await call(method, path, body);
      const label = `${method} ${path} ${typeof body === 'string' ? body.slice(0, 80) : JSON.stringify(body)?.slice(0, 80)}`;
      expect(res.status, `${label}: ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body.error, label).toMatchObject({ code: 'InvalidRequest', message: expect.any(String) });
    }
    expect(await depth(queue)).toBe(0);
    expect((await call('GET', `/queues/${newName}`)).status).toBe(404);
  });
});

describe('grants', () => {
  // Last: by now every route has run.
  it('the queues function called SQS only within its grants, and needed each of them', () => {
    expect(platform.deniedCalls).toEqual([]);
    // The one function with the message-queue prefix and no subscriptions table (the deliverer and subscriptions have both).
    const role = [...platform.twin.functions.values()].find(
      (f) => f.environment[MESSAGE_QUEUES.prefixEnvVar] !== undefined && f.environment[TABLES.subscriptions.envVar] === undefined,
    )!;
    const used = new Set(
      [...platform.usedGrants].filter((g) => g.startsWith(`${role.roleName} sqs:`)).map((g) => g.split(' ')[1]!.slice('sqs:'.length)),
    );
    // TagQueue: for CreateQueue with tags, which IAM checks as both actions.
    expect([...used].sort()).toEqual([...FUNCTIONS.queues.messageQueues].sort());
  });
});

/** Receives `count` messages without acking them (each group's first: they are in different groups). */
async function receiveUnacked(queue: string, count: number): Promise<any[]> {
  const got: any[] = [];
  await waitFor(
    async () => {
      got.push(...(await receive(queue, { waitMs: 1000 })));
      return got.length >= count;
    },
    { timeoutMs: 15_000, what: `${count} messages` },
  );
  return got;
}
