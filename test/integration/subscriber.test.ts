/**
 * `sluiceSubscriber()` (sluice/subscriber) with real redeliveries against DynamoDB Local: the same
 * SQS event delivered twice, a handler failing midway through a FIFO batch and the messages
 * redelivered, a whole-batch failure, a claim held by a concurrent invocation, an abandoned claim,
 * and messages that are not deliveries. The handler's effects are counted per event: with
 * idempotency each happens exactly once, however often SQS redelivers.
 */
import { CreateTableCommand, DeleteTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { DeliveredEvent, DeliveryBody } from '../../api/subscriptions';
import { idempotencyKey, sluiceSubscriber, type SluiceBatch, type SluiceEvent, type SqsEventLike, type SqsRecordLike } from '../../lambda/subscriber';
import { emulatorClients, uniquePrefix } from '../support/emulators';

const { dynamodb } = emulatorClients();
const table = `${uniquePrefix('subscriber')}-processed`;
const silent = { error: () => {} };
const context = { getRemainingTimeInMillis: () => 30_000 };

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
  await dynamodb.send(new DeleteTableCommand({ TableName: table }));
  dynamodb.destroy();
});

let subscription: string;
let n = 0;
beforeEach(() => {
  subscription = `sub-${++n}`; // a fresh subscription per test: no records from the others
});

const TOPIC = 'orders';

function event(partition: number, offset: number): DeliveredEvent {
  return {
    subscription,
    topic: TOPIC,
    partition,
    offset,
    key: `k${offset}`,
    value: { partition, offset },
    headers: { h: 'v' },
    timestamp: 1_700_000_000_000 + offset,
    messageId: `m-${partition}-${offset}`,
  };
}

/** An SQS record of a FIFO subscriber queue: one delivery of consecutive offsets of a partition. */
function record(messageId: string, partition: number, offsets: number[]): SqsRecordLike {
  const body: DeliveryBody = { v: 1, subscription, topic: TOPIC, partition, events: offsets.map((o) => event(partition, o)) };
  return {
    messageId,
    body: JSON.stringify(body),
    attributes: { MessageGroupId: `${TOPIC}#${partition}` },
    eventSourceARN: 'arn:aws:sqs:us-east-1:111111111111:sub.fifo',
  };
}

const sqsEvent = (...records: SqsRecordLike[]): SqsEventLike => ({ Records: records });
const failures = (response: unknown) => (response as { batchItemFailures: { itemIdentifier: string }[] }).batchItemFailures.map((f) => f.itemIdentifier);

/** A subscriber whose effect is counting events; `failOn` makes it throw for some events. */
function subscriber(options: { idempotent?: boolean; failOn?: (e: SluiceEvent) => boolean; wholeBatch?: boolean } = {}) {
  const effects = new Map<string, number>();
  const invocations: number[] = [];
  const handler = middy()
    .use(sluiceSubscriber({ idempotent: options.idempotent === false ? undefined : { table, client: dynamodb }, logger: silent }))
    .handler(async (batch: SluiceBatch) => {
      invocations.push(batch.events.length);
      const apply = (e: SluiceEvent) => {
        if (options.failOn?.(e)) throw new Error(`cannot handle ${e.partition}/${e.offset}`);
        const id = `${e.partition}/${e.offset}`;
        effects.set(id, (effects.get(id) ?? 0) + 1);
      };
      if (options.wholeBatch) {
        for (const e of batch.events) if (options.failOn?.(e)) throw new Error('the batch failed');
        for (const e of batch.events) apply(e);
      } else {
        await batch.eachEvent(apply);
      }
    });
  const invoke = (e: SqsEventLike) => handler(e as never, context as never);
  return { invoke, effects, invocations };
}

describe('sluiceSubscriber', () => {
  it('hands the handler Sluice events in order and reports no failure', async () => {
    const seen: SluiceEvent[] = [];
    const handler = middy()
      .use(sluiceSubscriber())
      .handler(async (batch: SluiceBatch) => {
        await batch.eachEvent((e) => {
          seen.push(e);
        });
      });
    const response = await handler(sqsEvent(record('a', 0, [0, 1]), record('b', 1, [5])) as never, context as never);
    expect(failures(response)).toEqual([]);
    expect(seen.map((e) => [e.partition, e.offset])).toEqual([[0, 0], [0, 1], [1, 5]]);
    expect(seen[0]).toMatchObject({ topic: TOPIC, subscription, key: 'k0', value: { partition: 0, offset: 0 }, headers: { h: 'v' }, messageId: 'm-0-0' });
  });

  it('with idempotency, a redelivered SQS event has no effect the second time', async () => {
    const s = subscriber();
    const batch = sqsEvent(record('a', 0, [0, 1, 2]), record('b', 1, [0]));
    expect(failures(await s.invoke(batch))).toEqual([]);
    expect(failures(await s.invoke(batch))).toEqual([]);
    expect(Object.fromEntries(s.effects)).toEqual({ '0/0': 1, '0/1': 1, '0/2': 1, '1/0': 1 });
    expect(s.invocations).toEqual([4]); // the redelivery did not even run the handler
    const item = await dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: idempotencyKey({ topic: TOPIC, subscription, partition: 0, offset: 1 }) } } }),
    );
    expect(item.Item?.status?.S).toBe('COMPLETED');
    expect(Number(item.Item?.expiresAt?.N)).toBeGreaterThan(Date.now() / 1000);
  });

  it('without idempotency, a redelivery is processed again (at least once)', async () => {
    const s = subscriber({ idempotent: false });
    const batch = sqsEvent(record('a', 0, [0, 1]));
    await s.invoke(batch);
    await s.invoke(batch);
    expect(Object.fromEntries(s.effects)).toEqual({ '0/0': 2, '0/1': 2 });
  });

  it('a failure midway fails its message and the later ones of its group; the redelivery finishes each event once', async () => {
    let failing = true;
    const s = subscriber({ failOn: (e) => failing && e.partition === 0 && e.offset === 1 });
    const batch = sqsEvent(record('a', 0, [0, 1, 2]), record('c', 1, [0, 1]), record('b', 0, [3, 4]));
    expect(failures(await s.invoke(batch)).sort()).toEqual(['a', 'b']);
    // Partition 0's offset 0 happened, 1 failed, 2 and 3-4 waited for it; partition 1 went on.
    expect(Object.fromEntries(s.effects)).toEqual({ '0/0': 1, '1/0': 1, '1/1': 1 });

    // SQS redelivers the failed messages (the same bodies) after their visibility timeout; a
    // second one still fails the same way, then the subscriber recovers.
    expect(failures(await s.invoke(sqsEvent(record('a', 0, [0, 1, 2]), record('b', 0, [3, 4]))))).toEqual(['a', 'b']);
    failing = false;
    expect(failures(await s.invoke(sqsEvent(record('a', 0, [0, 1, 2]), record('b', 0, [3, 4]))))).toEqual([]);
    expect(Object.fromEntries(s.effects)).toEqual({ '0/0': 1, '0/1': 1, '0/2': 1, '0/3': 1, '0/4': 1, '1/0': 1, '1/1': 1 });
  });

  it('a handler that throws fails the whole batch and leaves no record: the redelivery processes everything', async () => {
    let failing = true;
    const s = subscriber({ wholeBatch: true, failOn: (e) => failing && e.offset === 1 });
    const batch = sqsEvent(record('a', 0, [0, 1]), record('b', 1, [7]));
    expect(failures(await s.invoke(batch)).sort()).toEqual(['a', 'b']);
    expect(s.effects.size).toBe(0);
    failing = false;
    expect(failures(await s.invoke(batch))).toEqual([]);
    expect(s.invocations).toEqual([3, 3]);
    expect(Object.fromEntries(s.effects)).toEqual({ '0/0': 1, '0/1': 1, '1/7': 1 });
  });

  it('an event in two messages of one batch (a re-sent delivery) is processed once', async () => {
    const s = subscriber();
    expect(failures(await s.invoke(sqsEvent(record('a', 0, [0, 1]), record('b', 0, [1, 2]))))).toEqual([]);
    expect(Object.fromEntries(s.effects)).toEqual({ '0/0': 1, '0/1': 1, '0/2': 1 });
  });

  it('an event another invocation is processing right now fails its message, to be retried after it', async () => {
    const held = idempotencyKey({ topic: TOPIC, subscription, partition: 0, offset: 1 });
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: held }, status: { S: 'IN_PROGRESS' }, claim: { S: 'other' }, claimedUntil: { N: String(Date.now() + 60_000) } },
      }),
    );
    const s = subscriber();
    expect(failures(await s.invoke(sqsEvent(record('a', 0, [0, 1]), record('b', 0, [2]), record('c', 1, [0]))))).toEqual(['a', 'b']);
    expect(Object.fromEntries(s.effects)).toEqual({ '1/0': 1 });
    // Nothing of partition 0 was left claimed by this invocation: offset 0 is still free.
    const free = await dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { pk: { S: idempotencyKey({ topic: TOPIC, subscription, partition: 0, offset: 0 }) } } }),
    );
    expect(free.Item).toBeUndefined();
  });

  it('takes over a claim abandoned by an invocation that crashed (past its claimedUntil)', async () => {
    const abandoned = idempotencyKey({ topic: TOPIC, subscription, partition: 0, offset: 0 });
    await dynamodb.send(
      new PutItemCommand({
        TableName: table,
        Item: { pk: { S: abandoned }, status: { S: 'IN_PROGRESS' }, claim: { S: 'crashed' }, claimedUntil: { N: String(Date.now() - 1) } },
      }),
    );
    const s = subscriber();
    expect(failures(await s.invoke(sqsEvent(record('a', 0, [0]))))).toEqual([]);
    expect(Object.fromEntries(s.effects)).toEqual({ '0/0': 1 });
  });

  it('fails a message that is not a delivery, and the later messages of its group', async () => {
    const s = subscriber();
    const bad: SqsRecordLike = { messageId: 'bad', body: '{"hello":1}', attributes: { MessageGroupId: `${TOPIC}#0` } };
    expect(failures(await s.invoke(sqsEvent(bad, record('a', 0, [0]), record('c', 1, [0]))))).toEqual(['bad', 'a']);
    expect(Object.fromEntries(s.effects)).toEqual({ '1/0': 1 });
  });

  it('handles a direct invocation with one delivery (a Lambda target): throws on failure, and the retry has each effect once', async () => {
    let failing = true;
    const s = subscriber({ failOn: (e) => failing && e.offset === 2 });
    const body = JSON.parse(record('x', 0, [0, 1, 2, 3]).body) as DeliveryBody;
    await expect(s.invoke(body as never)).rejects.toThrow(/the delivery failed/);
    expect(Object.fromEntries(s.effects)).toEqual({ '0/0': 1, '0/1': 1 });
    failing = false;
    await expect(s.invoke(body as never)).resolves.toEqual({ batchItemFailures: [] });
    await expect(s.invoke(body as never)).resolves.toEqual({ batchItemFailures: [] });
    expect(Object.fromEntries(s.effects)).toEqual({ '0/0': 1, '0/1': 1, '0/2': 1, '0/3': 1 });
    await expect(s.invoke({ hello: 1 } as never)).rejects.toThrow(/Not a Sluice delivery/);
  });

  it('lets the handler see only the events not processed before', async () => {
    const s = subscriber();
    await s.invoke(sqsEvent(record('a', 0, [0, 1])));
    await s.invoke(sqsEvent(record('b', 0, [0, 1, 2, 3])));
    expect(s.invocations).toEqual([2, 2]);
    expect(Object.fromEntries(s.effects)).toEqual({ '0/0': 1, '0/1': 1, '0/2': 1, '0/3': 1 });
  });
});

/**
 * Through a real SQS FIFO queue (the SQS server), polled as Lambda's event source polls it: receive
 * up to 10, invoke, delete what did not fail; failed messages come back after their visibility
 * timeout. A handler that fails a third of its first attempts, and the deliverer sending a batch
 * twice (after a crash, with new deduplication IDs), still give every event exactly one effect, in
 * offset order per partition.
 */
describe('sluiceSubscriber on a real FIFO queue', () => {
  const { sqs } = emulatorClients();
  afterAll(() => sqs.destroy());

  it('gives every event one effect, in order per partition, through failures and duplicate deliveries', async () => {
    const { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageBatchCommand, DeleteQueueCommand } = await import(
      '@aws-sdk/client-sqs'
    );
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: `${uniquePrefix('subscriber')}.fifo`,
        Attributes: { FifoQueue: 'true', VisibilityTimeout: '1', DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' },
      }),
    );
    const PARTITIONS = 3;
    const PER_PARTITION = 30;
    const PER_DELIVERY = 5;
    // The deliverer's messages: per partition, deliveries of 5 consecutive offsets; each sent twice
    // (the second time as after a crash: a new deduplication ID), so FIFO dedupe does not help.
    const entries = [];
    for (let copy = 0; copy < 2; copy++) {
      for (let p = 0; p < PARTITIONS; p++) {
        for (let first = 0; first < PER_PARTITION; first += PER_DELIVERY) {
          const offsets = Array.from({ length: PER_DELIVERY }, (_, i) => first + i);
          const body: DeliveryBody = { v: 1, subscription, topic: TOPIC, partition: p, events: offsets.map((o) => event(p, o)) };
          entries.push({ Id: `${copy}-${p}-${first}`, MessageBody: JSON.stringify(body), MessageGroupId: `${TOPIC}#${p}`, MessageDeduplicationId: `${copy}-${p}-${first}` });
        }
      }
    }
    for (let i = 0; i < entries.length; i += 10) await sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries.slice(i, i + 10) }));

    const attempts = new Map<string, number>();
    const order = new Map<number, number[]>();
    let failures = 0;
    const effects = new Map<string, number>();
    const handler = middy()
      .use(sluiceSubscriber({ idempotent: { table, client: dynamodb }, logger: silent }))
      .handler(async (batch: SluiceBatch) => {
        await batch.eachEvent((e) => {
          const id = `${e.partition}/${e.offset}`;
          const attempt = (attempts.get(id) ?? 0) + 1;
          attempts.set(id, attempt);
          // Deterministically flaky: a third of the events fail their first attempt.
          if (attempt === 1 && e.offset % 3 === 1) {
            failures++;
            throw new Error(`flaky ${id}`);
          }
          effects.set(id, (effects.get(id) ?? 0) + 1);
          order.set(e.partition, [...(order.get(e.partition) ?? []), e.offset]);
        });
      });

    const deadline = Date.now() + 25_000;
    let idle = 0;
    while (Date.now() < deadline && idle < 3) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
      );
      if (Messages.length === 0) {
        idle++;
        continue;
      }
      idle = 0;
      const records = Messages.map((m) => ({
        messageId: m.MessageId!,
        body: m.Body!,
        attributes: { MessageGroupId: m.Attributes?.MessageGroupId },
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:subscriber.fifo',
      }));
      const response = (await handler({ Records: records } as never, context as never)) as { batchItemFailures: { itemIdentifier: string }[] };
      const failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const done = Messages.filter((m) => !failed.has(m.MessageId!));
      if (done.length > 0) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl, Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      }
    }
    await sqs.send(new DeleteQueueCommand({ QueueUrl }));

    expect(failures).toBeGreaterThan(0);
    expect(effects.size).toBe(PARTITIONS * PER_PARTITION);
    expect([...effects.values()].every((n) => n === 1)).toBe(true);
    for (let p = 0; p < PARTITIONS; p++) expect(order.get(p)).toEqual(Array.from({ length: PER_PARTITION }, (_, i) => i));
  }, 40_000);
});
