/**
 * `sluiceSubscriber({ source: 'queue' })`, the middleware of queue consumers (`queue.addConsumer(fn)`),
 * on real SQS FIFO queues of the SQS server: messages sent in Sluice's format (JSON body, Sluice's
 * message ID in the `sluice-message-id` attribute and as the deduplication ID), received as
 * Lambda's event source receives them, turned into the SQS event the local platform's event source
 * hands a function (`toRecord`), and deleted unless the middleware reported them failed. Failed
 * messages really come back after their visibility timeout, with their receive count.
 *
 * fauxqs 1.9.2 differs from SQS here: one receive returns at most ONE message per message group
 * (SQS returns several of a group, in order). So the rule "once a message of a group fails, the
 * later ones of that group in the batch fail too, unprocessed" is checked on a batch assembled, as
 * SQS would hand it over, from records fauxqs really delivered.
 */
import { CreateTableCommand, DeleteTableCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MESSAGE_ID_ATTRIBUTE, queueIdempotencyKey, sluiceSubscriber, type SluiceQueueBatch, type SluiceQueueMessage, type SqsBatchResponse } from '../../lambda/subscriber';
import { toRecord } from '../../local/event-sources/sqs-queue';
import { emulatorClients, uniquePrefix } from '../support/emulators';

const { dynamodb, sqs } = emulatorClients();
const prefix = uniquePrefix('subscriber-queue');
const table = `${prefix}-processed`;
const silent = { error: () => {} };
const context = { getRemainingTimeInMillis: () => 30_000 };
const queueUrls: string[] = [];

beforeAll(async () => {
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
});
afterAll(async () => {
  for (const QueueUrl of queueUrls) await sqs.send(new DeleteQueueCommand({ QueueUrl }));
  await dynamodb.send(new DeleteTableCommand({ TableName: table }));
  dynamodb.destroy();
  sqs.destroy();
});

let queues = 0;
/** A Sluice message queue as the stack and the API create it: FIFO, high throughput. */
async function createQueue(visibilityTimeoutSeconds = 1): Promise<{ url: string; arn: string; name: string }> {
  const name = `${prefix}-q${++queues}.fifo`;
  const { QueueUrl } = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        FifoQueue: 'true',
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
      },
    }),
  );
  queueUrls.push(QueueUrl!);
  const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl!, arn: Attributes!.QueueArn!, name };
}

interface Outgoing {
  readonly body: unknown;
  readonly groupId: string;
  readonly messageId: string;
  /** Leave out the `sluice-message-id` attribute (a message someone sent with SQS directly). */
  readonly raw?: boolean;
  /** The deduplication ID, if not the message ID (a redrive sends `redrive-<id>`). */
  readonly dedupeId?: string;
  /** A body sent as it is, not JSON-encoded. */
  readonly rawBody?: string;
}

/** Sends as Sluice sends: JSON body, the message ID as the attribute and the deduplication ID. */
async function send(url: string, messages: readonly Outgoing[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: messages.slice(i, i + 10).map((m, j) => ({
          Id: String(j),
          MessageBody: m.rawBody ?? JSON.stringify(m.body),
          MessageGroupId: m.groupId,
          MessageDeduplicationId: m.dedupeId ?? m.messageId,
          ...(m.raw ? {} : { MessageAttributes: { [MESSAGE_ID_ATTRIBUTE]: { DataType: 'String', StringValue: m.messageId } } }),
        })),
      }),
    );
  }
}

type Invoke = (event: unknown) => Promise<unknown>;

/**
 * What Lambda's SQS event source does once: receive up to 10 (long-polling `waitSeconds`), invoke,
 * delete what the partial batch response does not name. Answers the records and the failures.
 */
async function pollOnce(queue: { url: string; arn: string }, invoke: Invoke, waitSeconds = 0) {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queue.url,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: waitSeconds,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  if (Messages.length === 0) return undefined;
  const event = { Records: Messages.map((m) => toRecord(m, queue.arn)) };
  const response = (await invoke(event)) as SqsBatchResponse;
  const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
  const done = Messages.filter((m) => !failed.has(m.MessageId!));
  if (done.length > 0) {
    await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queue.url, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
  }
  return { records: event.Records, failed: event.Records.filter((r) => failed.has(r.messageId)) };
}

/** A consumer whose effect is recording each message; `failOn` makes it throw for some. */
function consumer(options: { idempotent?: boolean; failOn?: (m: SluiceQueueMessage) => boolean; wholeBatch?: boolean } = {}) {
  const effects: SluiceQueueMessage[] = [];
  const invocations: number[] = [];
  const handler = middy()
    .use(sluiceSubscriber({ source: 'queue', logger: silent, ...(options.idempotent ? { idempotent: { table, client: dynamodb } } : {}) }))
    .handler(async (batch: SluiceQueueBatch) => {
      invocations.push(batch.messages.length);
      const apply = (m: SluiceQueueMessage) => {
        if (options.failOn?.(m)) throw new Error(`cannot handle ${m.messageId}`);
        effects.push(m);
      };
      if (options.wholeBatch) {
        for (const m of batch.messages) if (options.failOn?.(m)) throw new Error('the batch failed');
        batch.messages.forEach(apply);
      } else {
        await batch.eachMessage(apply);
      }
    });
  const invoke: Invoke = (event) => handler(event as never, context as never);
  return { invoke, effects, invocations };
}

const ids = (messages: readonly { messageId: string }[]) => messages.map((m) => m.messageId);

describe('sluiceSubscriber({ source: "queue" }) on real FIFO queues', () => {
  it('hands the handler decoded messages: JSON body, Sluice message ID, group, receive count, sent time', async () => {
    const queue = await createQueue();
    const before = Date.now();
    await send(queue.url, [
      { body: { order: 1, items: ['a'] }, groupId: 'order-1', messageId: 'change-1' },
      { body: 'a string', groupId: 'order-2', messageId: 'change-2' },
      { body: null, groupId: 'order-5', messageId: 'change-3' },
      // Sent with SQS directly, without Sluice's attribute and not as JSON.
      { body: undefined, rawBody: 'not json {', groupId: 'order-3', messageId: 'dedupe-4', raw: true },
    ]);
    const c = consumer();
    const polled = await pollOnce(queue, c.invoke);
    expect(polled?.failed).toEqual([]);
    expect(ids(c.effects)).toEqual(['change-1', 'change-2', 'change-3', 'dedupe-4']);
    expect(c.effects[0]).toMatchObject({
      messageId: 'change-1',
      groupId: 'order-1',
      body: { order: 1, items: ['a'] },
      receiveCount: 1,
      queue: queue.name,
      sqsMessageId: polled!.records[0]!.messageId,
    });
    expect(c.effects[0]!.sentAt).toBeGreaterThanOrEqual(before - 1000);
    expect(c.effects[0]!.sequenceNumber).toMatch(/^\d+$/);
    expect(c.effects.map((m) => m.body)).toEqual([{ order: 1, items: ['a'] }, 'a string', null, 'not json {']);
    // Succeeded messages were deleted: nothing comes back.
    expect(await pollOnce(queue, c.invoke, 2)).toBeUndefined();
  });

  it('a failing message fails with the later messages of its group, unprocessed; other groups go on', async () => {
    const queue = await createQueue(1);
    await send(queue.url, [
      { body: 1, groupId: 'A', messageId: 'a1' },
      { body: 2, groupId: 'A', messageId: 'a2' },
      { body: 1, groupId: 'B', messageId: 'b1' },
      { body: 3, groupId: 'A', messageId: 'a3' },
      { body: 2, groupId: 'B', messageId: 'b2' },
    ]);
    // The records fauxqs delivers, one group message at a time, then in one SQS-like batch.
    const drained: Record<string, unknown>[] = [];
    const drain: Invoke = async (event) => {
      drained.push(...(event as { Records: Record<string, unknown>[] }).Records);
      return { batchItemFailures: [] };
    };
    while (drained.length < 5) await pollOnce(queue, drain, 1);
    const byId = (id: string) => drained.find((r) => JSON.parse(String(r.body)) === Number(id.slice(1)) && (r.attributes as { MessageGroupId: string }).MessageGroupId === id[0]!.toUpperCase())!;
    const batch = { Records: ['a1', 'a2', 'b1', 'a3', 'b2'].map(byId) };
    const attempts: string[] = [];
    const c = consumer({
      failOn: (m) => {
        attempts.push(m.messageId);
        return m.messageId === 'a2';
      },
    });
    const response = (await c.invoke(batch)) as SqsBatchResponse;
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: byId('a2').messageId }, { itemIdentifier: byId('a3').messageId }]);
    expect(ids(c.effects)).toEqual(['a1', 'b1', 'b2']);
    expect(attempts).toEqual(['a1', 'a2', 'b1', 'b2']); // a3 never reached the handler
  });

  it('a failed message comes back after its visibility timeout and is processed before the later ones of its group', async () => {
    const queue = await createQueue(1);
    await send(queue.url, [
      { body: 1, groupId: 'A', messageId: 'a1' },
      { body: 1, groupId: 'B', messageId: 'b1' },
      { body: 2, groupId: 'A', messageId: 'a2' },
    ]);
    let failing = true;
    const c = consumer({ failOn: (m) => failing && m.messageId === 'a1' });
    const first = await pollOnce(queue, c.invoke);
    expect(first!.failed.map((r) => r.attributes.MessageGroupId)).toEqual(['A']);
    expect(ids(c.effects)).toEqual(['b1']);
    // Group A is locked while a1 is in flight: a2 is not handed out before a1 is resolved.
    expect(await pollOnce(queue, c.invoke)).toBeUndefined();
    failing = false;
    const again = await waitForPoll(queue, c.invoke);
    expect(again.records.map((r) => [JSON.parse(r.body), r.attributes.ApproximateReceiveCount])).toEqual([[1, '2']]);
    await waitForPoll(queue, c.invoke);
    expect(ids(c.effects)).toEqual(['b1', 'a1', 'a2']);
  });

  it('a handler that throws fails the whole batch (as batch item failures, not an error)', async () => {
    const queue = await createQueue(1);
    await send(queue.url, [
      { body: 1, groupId: 'A', messageId: 'x1' },
      { body: 2, groupId: 'B', messageId: 'x2' },
    ]);
    let failing = true;
    const c = consumer({ wholeBatch: true, failOn: () => failing });
    const first = await pollOnce(queue, c.invoke);
    expect(first!.failed).toHaveLength(2);
    expect(c.effects).toEqual([]);
    failing = false;
    const again = await waitForPoll(queue, c.invoke);
    expect(again.failed).toEqual([]);
    expect(ids(c.effects).sort()).toEqual(['x1', 'x2']);
  });

  it('with idempotency, a message redelivered after its effect (a crash before the ack) or redriven is skipped', async () => {
    const queue = await createQueue(1);
    await send(queue.url, [
      { body: 1, groupId: 'A', messageId: 'i1' },
      { body: 2, groupId: 'B', messageId: 'i2' },
    ]);
    const c = consumer({ idempotent: true });
    // The function ran, then died before Lambda deleted the messages: nothing is deleted.
    const crashed: Invoke = async (event) => {
      await c.invoke(event);
      throw new Error('the execution environment died before the acknowledgement');
    };
    await expect(pollOnce(queue, crashed)).rejects.toThrow(/died/);
    expect(ids(c.effects)).toEqual(['i1', 'i2']);
    const redelivered = await waitForPoll(queue, c.invoke);
    expect(redelivered.failed).toEqual([]);
    expect(redelivered.records.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['2', '2']);
    expect(c.invocations).toEqual([2]); // the redelivery did not even run the handler

    // A redrive sends it back with a new deduplication ID and the same Sluice message ID.
    await send(queue.url, [{ body: 1, groupId: 'A', messageId: 'i1', dedupeId: 'redrive-1' }, { body: 3, groupId: 'C', messageId: 'i3' }]);
    const redriven = await waitForPoll(queue, c.invoke);
    expect(redriven.records).toHaveLength(2);
    expect(redriven.failed).toEqual([]);
    expect(ids(c.effects)).toEqual(['i1', 'i2', 'i3']);
    // The same message ID in another group is another message (SQS deduplicates per group in
    // high-throughput mode; fauxqs 1.9.2 deduplicates per queue, hence another deduplication ID here).
    await send(queue.url, [{ body: 4, groupId: 'D', messageId: 'i1', dedupeId: 'i1-in-D' }]);
    await waitForPoll(queue, c.invoke);
    expect(c.effects.map((m) => `${m.groupId}/${m.messageId}`)).toEqual(['A/i1', 'B/i2', 'C/i3', 'D/i1']);
  });

  it('with idempotency, a message another invocation is processing right now fails, to come back after it', async () => {
    const queue = await createQueue(1);
    await send(queue.url, [
      { body: 1, groupId: 'A', messageId: 'held' },
      { body: 2, groupId: 'B', messageId: 'free' },
    ]);
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: queueIdempotencyKey({ queue: queue.name, groupId: 'A', messageId: 'held' }) },
          status: { S: 'IN_PROGRESS' },
          claim: { S: 'another invocation' },
          claimedUntil: { N: String(Date.now() + 60_000) },
        },
      }),
    );
    const c = consumer({ idempotent: true });
    const polled = await pollOnce(queue, c.invoke);
    expect(polled!.failed.map((r) => r.attributes.MessageGroupId)).toEqual(['A']);
    expect(ids(c.effects)).toEqual(['free']);
  });

  it('refuses an unknown source at once', () => {
    expect(() => sluiceSubscriber({ source: 'topics' as never })).toThrow(/source must be 'topic' or 'queue'/);
  });

  it('delivers every message once and in order per group through flaky failures (no idempotency needed for that)', async () => {
    const queue = await createQueue(1);
    const GROUPS = 4;
    const PER_GROUP = 25;
    const outgoing: Outgoing[] = [];
    for (let n = 0; n < PER_GROUP; n++) for (let g = 0; g < GROUPS; g++) outgoing.push({ body: { g, n }, groupId: `g${g}`, messageId: `g${g}-${n}` });
    await send(queue.url, outgoing);
    const attempts = new Map<string, number>();
    let failures = 0;
    const c = consumer({
      failOn: (m) => {
        const attempt = (attempts.get(m.messageId) ?? 0) + 1;
        attempts.set(m.messageId, attempt);
        // Deterministically flaky: every seventh message fails its first attempt.
        const fail = attempt === 1 && (m.body as { n: number }).n % 7 === 3;
        if (fail) failures++;
        return fail;
      },
    });
    let idle = 0;
    const deadline = Date.now() + 25_000;
    while (c.effects.length < GROUPS * PER_GROUP && Date.now() < deadline && idle < 5) {
      idle = (await pollOnce(queue, c.invoke, 1)) ? 0 : idle + 1;
    }
    expect(failures).toBeGreaterThan(0);
    expect(c.effects).toHaveLength(GROUPS * PER_GROUP);
    for (let g = 0; g < GROUPS; g++) {
      const seen = c.effects.filter((m) => m.groupId === `g${g}`).map((m) => (m.body as { n: number }).n);
      expect(seen).toEqual(Array.from({ length: PER_GROUP }, (_, n) => n));
    }
  }, 40_000);

  it('refuses an invocation that is not an SQS event', async () => {
    const c = consumer();
    await expect(c.invoke({ hello: 1 })).rejects.toThrow(/not an SQS event/);
  });
});

/** Polls until a batch arrives (a redelivery after the visibility timeout). */
async function waitForPoll(queue: { url: string; arn: string }, invoke: Invoke) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const polled = await pollOnce(queue, invoke, 1);
    if (polled) return polled;
  }
  throw new Error('nothing was redelivered within 10 s');
}
