/**
 * The publisher: a Lambda function on the "orders" table's stream. Each change of an order becomes
 * one message of the Sluice queue, in Sluice's message format (JSON body, Sluice's message ID in
 * the `sluice-message-id` attribute and as the deduplication ID), exactly what `POST
 * /queues/{queue}/messages` would enqueue:
 * - group = the order ID: the queue hands each order's changes out in order, one at a time;
 * - message ID = the stream record's eventID: a batch the stream retries (after a failure, or a
 *   crash of this function) enqueues nothing new within SQS's 5-minute deduplication window, and
 *   later the worker's version check makes the copy a no-op;
 * - body = the new image (or a delete marker) and the version (see ./change.ts).
 * It sends to SQS directly, with the queue's own grant (`queue.grantSendMessages`): no API hop on
 * the write path. When a send fails it reports the first record not sent as the batch item
 * failure, so the stream retries from there, in order.
 */
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { ORDER_KEY, type EventAttributeValue, type OrderChange } from './change';

const sqs = new SQSClient({});
const QUEUE_URL = process.env.QUEUE_URL ?? '';
/** Sluice's message attribute (`MESSAGE_ID_ATTRIBUTE` of `sluice/subscriber`). */
const MESSAGE_ID_ATTRIBUTE = 'sluice-message-id';
/** SQS's limits for one SendMessageBatch: 10 entries, 1 MiB in all (an order's image is at most 400 KB). */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 1_048_576;

export const handler = async (event: DynamoDBStreamEvent): Promise<DynamoDBBatchResponse> => {
  const entries = event.Records.map((record) => ({ record, entry: entryOf(record) }));
  let i = 0;
  while (i < entries.length) {
    const batch = [];
    let bytes = 0;
    for (; i < entries.length && batch.length < MAX_ENTRIES; i++) {
      const size = Buffer.byteLength(entries[i]!.entry.MessageBody!) + 200;
      if (batch.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
      batch.push(entries[i]!);
      bytes += size;
    }
    let failedAt = -1;
    try {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: QUEUE_URL, Entries: batch.map((b, n) => ({ ...b.entry, Id: String(n) })) }));
      const failed = (out.Failed ?? []).map((f) => Number(f.Id)).sort((a, b) => a - b);
      if (failed.length > 0) {
        failedAt = failed[0]!;
        console.error(JSON.stringify({ level: 'ERROR', message: 'SQS refused changes; the stream retries from the first', failed: out.Failed }));
      }
    } catch (error) {
      failedAt = 0;
      console.error(JSON.stringify({ level: 'ERROR', message: 'sending changes failed; the stream retries them', error: String(error) }));
    }
    if (failedAt >= 0) return { batchItemFailures: [{ itemIdentifier: batch[failedAt]!.record.dynamodb!.SequenceNumber! }] };
  }
  return { batchItemFailures: [] };
};

function entryOf(record: DynamoDBRecord): SendMessageBatchRequestEntry {
  const stream = record.dynamodb!;
  const orderId = String(stream.Keys?.[ORDER_KEY]?.S);
  const version = stream.SequenceNumber!;
  const change: OrderChange =
    record.eventName === 'REMOVE'
      ? { orderId, version, op: 'delete' }
      : { orderId, version, op: 'put', image: stream.NewImage as Record<string, EventAttributeValue> };
  return {
    Id: '',
    MessageBody: JSON.stringify(change),
    MessageGroupId: orderId,
    MessageDeduplicationId: record.eventID!,
    MessageAttributes: { [MESSAGE_ID_ATTRIBUTE]: { DataType: 'String', StringValue: record.eventID! } },
  };
}
