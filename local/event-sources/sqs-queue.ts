/**
 * The local stand-in for a Lambda SQS event source mapping: long-polls the queue with the
 * function's own role (as Lambda's poller does, so a missing consume grant fails here too),
 * invokes the function with an SQSEvent, deletes what succeeded and leaves the failures to
 * reappear after the visibility timeout (and reach the DLQ after maxReceiveCount). A partial
 * batch response counts only when the mapping has ReportBatchItemFailures, as on AWS.
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
  let failed: Set<string>;
  try {
    const { payload } = await options.function.invoke(event);
    const response = options.reportBatchItemFailures ? (JSON.parse(payload) as SQSBatchResponse | null) : null;
    failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  } catch (error) {
    // A thrown error fails the whole batch, as in Lambda.
    options.logger.warn('SQS handler failed; batch will be retried', { function: options.function.name, error });
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

function toRecord(m: Message, queueArn: string): SQSRecord {
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
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: queueArn.split(':')[3] ?? 'us-east-1',
  };
}
