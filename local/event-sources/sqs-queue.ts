/**
 * The local stand-in for a Lambda SQS event source mapping: long-polls the queue with the
 * function's own role (as Lambda's poller does, so a missing consume grant fails here too),
 * invokes the function with an SQSEvent, deletes what succeeded and leaves the failures to
 * reappear after the visibility timeout (and reach the DLQ after maxReceiveCount). A partial
 * batch response counts only when the mapping has ReportBatchItemFailures, and is read as Lambda
 * reads it (`batchItemFailures`).
 *
 * FIFO queues: the SQS server locks a message group while any of its messages is in flight, so
 * however many pollers run, a group has one batch in flight at a time and its messages arrive in
 * order. A failed message stays in flight until its visibility timeout ends, holding its group.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Logger } from '../../lambda/core/logger';
import type { FunctionPool } from '../lambda/function-pool';

export interface SqsPollerOptions {
  readonly client: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly function: FunctionPool;
  readonly batchSize: number;
  readonly reportBatchItemFailures: boolean;
  readonly logger: Logger;
}

export interface SqsPoller {
  stop(): Promise<void>;
}

export function startSqsPoller(options: SqsPollerOptions): SqsPoller {
  const abort = new AbortController();
  const loop = (async () => {
    while (!abort.signal.aborted) {
      try {
        await pollOnce(options, abort.signal);
      } catch (error) {
        if (abort.signal.aborted) break;
        options.logger.warn('SQS poll failed; retrying', { queueUrl: options.queueUrl, error });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  })();
  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

async function pollOnce(options: SqsPollerOptions, signal: AbortSignal): Promise<void> {
  const out = await options.client.send(
    new ReceiveMessageCommand({
      QueueUrl: options.queueUrl,
      MaxNumberOfMessages: options.batchSize,
      WaitTimeSeconds: 5,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
    { abortSignal: signal },
  );
  const messages = out.Messages ?? [];
  if (messages.length === 0) return;
  const event: SQSEvent = { Records: messages.map((m) => toRecord(m, options.queueArn)) };
  let failed: ReadonlySet<string> | 'all';
  try {
    const { payload } = await options.function.invoke(event);
    failed = options.reportBatchItemFailures ? batchItemFailures(payload, messages.map((m) => m.MessageId ?? '')) : new Set();
  } catch (error) {
    // A thrown error fails the whole batch, as in Lambda.
    options.logger.warn('SQS handler failed; batch will be retried', { function: options.function.name, error });
    return;
  }
  if (failed === 'all') {
    options.logger.warn('SQS handler answered an invalid partial batch response; the whole batch will be retried', {
      function: options.function.name,
    });
    return;
  }
  const done = messages.filter((m) => !failed.has(m.MessageId ?? ''));
  if (done.length === 0) return;
  await options.client.send(
    new DeleteMessageBatchCommand({
      QueueUrl: options.queueUrl,
      Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
    }),
  );
}

/**
 * The message IDs a partial batch response reports failed, read as Lambda reads it: no response,
 * no `batchItemFailures` or an empty list is a success of the whole batch; a response that is not
 * JSON, or an item whose `itemIdentifier` is missing, empty, not a string or not a message of the
 * batch fails the whole batch ('all').
 */
export function batchItemFailures(payload: string, batchMessageIds: readonly string[]): ReadonlySet<string> | 'all' {
  let response: unknown;
  try {
    response = payload.trim() === '' ? null : JSON.parse(payload);
  } catch {
    return 'all';
  }
  if (response === null || typeof response !== 'object') return new Set();
  const failures = (response as Partial<SQSBatchResponse>).batchItemFailures;
  if (failures === undefined || failures === null) return new Set();
  if (!Array.isArray(failures)) return 'all';
  const ids = new Set(batchMessageIds);
  const failed = new Set<string>();
  for (const item of failures as unknown[]) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !ids.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

/** A received message as Lambda's SQS event source hands it to the function (one `SQSEvent` record). */
export function toRecord(m: Message, queueArn: string): SQSRecord {
  const attrs = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? '1',
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attrs.MessageGroupId ? { MessageGroupId: attrs.MessageGroupId } : {}),
      ...(attrs.MessageDeduplicationId ? { MessageDeduplicationId: attrs.MessageDeduplicationId } : {}),
      ...(attrs.SequenceNumber ? { SequenceNumber: attrs.SequenceNumber } : {}),
    },
    // Lambda's shape: camel-case keys, binary values base64-encoded.
    messageAttributes: Object.fromEntries(
      Object.entries(m.MessageAttributes ?? {}).map(([name, a]) => [
        name,
        {
          ...(a.StringValue !== undefined ? { stringValue: a.StringValue } : {}),
          ...(a.BinaryValue !== undefined ? { binaryValue: Buffer.from(a.BinaryValue).toString('base64') } : {}),
          stringListValues: [],
          binaryListValues: [],
          dataType: a.DataType ?? 'String',
        },
      ]),
    ),
    ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? 'us-east-1',
  };
}
