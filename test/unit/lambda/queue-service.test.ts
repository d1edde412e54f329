/**
 * QueueService against SQS faults the SQS server does not produce on demand (aws-sdk-client-mock):
 * SQS's 60-second refusals, failed entries of a batch, a send whose marker cannot be written, a
 * receive larger than one Lambda answer. The rest of the service runs against the real SQS server
 * in test/integration/queues-api.test.ts.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  PurgeQueueInProgress,
  QueueDeletedRecently,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type SendMessageBatchRequestEntry,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  DependencyFailedError,
  InternalError,
  OutcomeUnknownError,
  QueueBusyError,
  QueueNotFoundError,
  ThrottledError,
} from '../../../api/errors';
import { FETCH_LIMITS } from '../../../api/events';
import { deduplicationId, encodeBody } from '../../../lambda/core/queues/message-format';
import { QueueDirectory } from '../../../lambda/core/queues/queue-directory';
import { QueueService } from '../../../lambda/core/queues/queue-service';
import { InMemorySendMarkerStore, type SendMarkerStore } from '../../../lambda/core/queues/send-marker-store';

const sqsMock = mockClient(SQSClient);
const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/p-q-jobs.fifo';
const meta = { $metadata: {} };

function service(markers: SendMarkerStore = new InMemorySendMarkerStore()) {
  const client = new SQSClient({ region: 'eu-west-1' });
  return new QueueService({ directory: new QueueDirectory(client, 'p-'), markers, sleep: async () => {} });
}

beforeEach(() => {
  sqsMock.reset();
  sqsMock.on(GetQueueUrlCommand).resolves({ QueueUrl: URL });
  sqsMock.on(GetQueueAttributesCommand).resolves({ Attributes: { CreatedTimestamp: '1700000000', QueueArn: 'arn:aws:sqs:eu-west-1:123456789012:p-d-jobs.fifo' } });
});

const accepted = (entries: SendMessageBatchRequestEntry[] = []) => ({
  Successful: entries.map((e, i) => ({ Id: e.Id!, MessageId: `sqs-${e.Id}`, MD5OfMessageBody: '', SequenceNumber: String(100 + i) })),
  Failed: [],
});

describe('SQS refusals for a while', () => {
  it('answers a create within 60 s of deleting the name with 409 QueueBusy (retriable)', async () => {
    sqsMock.on(GetQueueUrlCommand).rejects(new QueueDoesNotExist({ message: 'gone', ...meta }));
    sqsMock.on(CreateQueueCommand).rejects(new QueueDeletedRecently({ message: 'You must wait 60 seconds', ...meta }));
    const err = await service().create({ name: 'jobs' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueBusyError);
    expect(err).toMatchObject({ status: 409, retriable: true, details: { queue: 'jobs', reason: 'QueueDeletedRecently' } });
  });

  it('answers a second purge within 60 s with 409 QueueBusy', async () => {
    sqsMock.on(PurgeQueueCommand).rejects(new PurgeQueueInProgress({ message: 'Only one PurgeQueue operation is allowed every 60 seconds', ...meta }));
    const err = await service().purge('jobs', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueueBusyError);
    expect(err).toMatchObject({ details: { reason: 'PurgeQueueInProgress' } });
  });

  it('answers 404 when a cached queue was deleted meanwhile, and looks it up afresh next time', async () => {
    const s = service();
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => accepted(input.Entries));
    await s.send('jobs', { messages: [{ body: 1 }] });
    sqsMock.on(SendMessageBatchCommand).rejects(new QueueDoesNotExist({ message: 'gone', ...meta }));
    await expect(s.send('jobs', { messages: [{ body: 1 }] })).rejects.toBeInstanceOf(QueueNotFoundError);
    const lookups = sqsMock.commandCalls(GetQueueUrlCommand).length;
    await s.send('jobs', { messages: [{ body: 1 }] }).catch(() => undefined);
    expect(sqsMock.commandCalls(GetQueueUrlCommand).length).toBe(lookups + 1);
  });
});

describe('send: failed entries of a batch', () => {
  it('sends a failed entry again under the same deduplication ID, and answers every message in order', async () => {
    let calls = 0;
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
      calls++;
      if (calls === 1) {
        const [first, ...rest] = input.Entries;
        return { ...accepted(rest), Failed: [{ Id: first!.Id!, SenderFault: false, Code: 'InternalError', Message: 'try again' }] };
      }
      return accepted(input.Entries);
    });
    const res = await service().send('jobs', {
      messages: [
        { body: 'a', messageId: 'a' },
        { body: 'b', messageId: 'b' },
      ],
    });
    expect(res.results.map((r) => [r.messageId, r.status])).toEqual([
      ['a', 'sent'],
      ['b', 'sent'],
    ]);
    const [first, retried] = sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries!);
    expect(retried!.map((e) => [e.Id, e.MessageDeduplicationId, e.MessageGroupId])).toEqual([['0', deduplicationId('a', 'a'), 'a']]);
    expect(retried![0]!.MessageDeduplicationId).toBe(first![0]!.MessageDeduplicationId);
  });

  it('gives up after a few tries with a retriable error naming what was sent', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
      const [first, ...rest] = input.Entries;
      if (first!.Id === '0') return { ...accepted(rest), Failed: [{ Id: '0', SenderFault: false, Code: 'ServiceUnavailable', Message: 'down' }] };
      return accepted(input.Entries);
    });
    const err = await service()
      .send('jobs', { messages: [{ body: 'a' }, { body: 'b' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalError);
    expect(err).toMatchObject({ retriable: true, details: { sent: [1], failed: [0] } });
    // The first try and three more.
    expect(sqsMock.commandCalls(SendMessageBatchCommand)).toHaveLength(4);
  });

  it('answers throttled entries with 429 Throttled, and an entry SQS refuses for good with DependencyFailed', async () => {
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: '0', SenderFault: false, Code: 'ThrottlingException', Message: 'slow down' }] });
    await expect(service().send('jobs', { messages: [{ body: 'a' }] })).rejects.toBeInstanceOf(ThrottledError);
    sqsMock.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [{ Id: '0', SenderFault: true, Code: 'InvalidParameterValue', Message: 'no' }] });
    await expect(service().send('jobs', { messages: [{ body: 'a' }] })).rejects.toBeInstanceOf(DependencyFailedError);
  });

  it('answers OutcomeUnknown, with what was sent before, when a batch call gets no answer', async () => {
    let calls = 0;
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => {
      if (++calls === 2) throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError' });
      return accepted(input.Entries);
    });
    const messages = Array.from({ length: 12 }, (_, i) => ({ body: i }));
    const err = await service().send('jobs', { messages }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    expect((err as OutcomeUnknownError).details.sent).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('answers an error naming what SQS accepted when a marker cannot be written', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => accepted(input.Entries));
    const broken: SendMarkerStore = { mark: async () => Promise.reject(new OutcomeUnknownError('no answer')) };
    const err = await service(broken).send('jobs', { messages: [{ body: 1, messageId: 'm' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    expect((err as OutcomeUnknownError).details.sent).toEqual([0]);
  });

  it('needs no marker for a message sent without an ID (new by construction)', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => accepted(input.Entries));
    const markers = new InMemorySendMarkerStore();
    const res = await service(markers).send('jobs', { messages: [{ body: 1 }, { body: 2, messageId: 'given' }] });
    expect(res.results.map((r) => r.status)).toEqual(['sent', 'sent']);
    expect([...markers.markers.keys()]).toEqual(['queue#p-q-jobs.fifo#1700000000#given#given']);
  });

  it('splits a send into batches of at most 10 messages and 1 MiB, in request order', async () => {
    sqsMock.on(SendMessageBatchCommand).callsFake((input: { Entries: SendMessageBatchRequestEntry[] }) => accepted(input.Entries));
    const big = 'x'.repeat(400_000);
    const messages = [...Array.from({ length: 12 }, (_, i) => ({ body: i })), { body: big }, { body: big }, { body: big }];
    await service().send('jobs', { messages });
    const batches = sqsMock.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries!.map((e) => Number(e.Id)));
    expect(batches).toEqual([[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [10, 11, 12, 13], [14]]);
  });
});

describe('receive', () => {
  it('answers what fits one Lambda response and makes the rest visible again at once', async () => {
    // Quote-heavy bodies: each about 1 MiB in SQS and twice that inside Lambda's response.
    const body = encodeBody('"'.repeat(500_000));
    sqsMock.on(ReceiveMessageCommand).resolves({
      Messages: Array.from({ length: 5 }, (_, i) => ({
        MessageId: `m${i}`,
        ReceiptHandle: `h${i}`,
        Body: body,
        Attributes: { MessageGroupId: `g${i}`, ApproximateReceiveCount: '1', SentTimestamp: '1', SequenceNumber: String(i) },
      })),
    });
    sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [{ Id: '0' }, { Id: '1' }, { Id: '2' }], Failed: [] });
    const res = await service().receive('jobs', { maxMessages: 5 });
    const taken = res.messages.length;
    expect(taken).toBeGreaterThan(0);
    expect(taken).toBeLessThan(5);
    expect(taken * 2 * 1_000_000).toBeLessThanOrEqual(FETCH_LIMITS.maxLambdaResponseBytes);
    const released = sqsMock.commandCalls(ChangeMessageVisibilityBatchCommand)[0]!.args[0].input.Entries!;
    expect(released.map((e) => [e.ReceiptHandle, e.VisibilityTimeout])).toEqual(
      Array.from({ length: 5 - taken }, (_, i) => [`h${taken + i}`, 0]),
    );
  });
});

describe('deduplicationId', () => {
  it('is the same for a retry, differs per group, and fits SQS whatever the IDs', () => {
    expect(deduplicationId('g', 'm')).toBe(deduplicationId('g', 'm'));
    expect(deduplicationId('g1', 'm')).not.toBe(deduplicationId('g2', 'm'));
    // The separator keeps ("ab","c") and ("a","bc") apart.
    expect(deduplicationId('ab', 'c')).not.toBe(deduplicationId('a', 'bc'));
    expect(deduplicationId('g'.repeat(128), 'm'.repeat(128))).toMatch(/^[0-9a-f]{64}$/);
  });
});
