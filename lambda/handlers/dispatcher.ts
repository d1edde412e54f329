/**
 * Lambda entry point of the log table's stream (event source mapping in definitions/functions.ts:
 * record batches, and partition heads holding a tail). Enqueues a wake-up per matching batch (or
 * tail) and subscription, and reports the first record it could not handle
 * (ReportBatchItemFailures): the event source retries from there, and the deduplication IDs keep
 * the wake-ups already sent from being enqueued twice.
 */
import middy from '@middy/core';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { Logger } from '../core/logger';
import type { Dispatcher, LogStreamRecord } from '../core/subscriptions/dispatcher';
import { lambdaContext } from '../middleware/lambda-logger';
import { dispatcherFromEnv } from './environment';
import { lazy, loggerFor } from './runtime';

/**
 * The stream records as the dispatcher's core takes them: NEW_IMAGE unmarshalled, of INSERTs and
 * MODIFYs (a head's tail grows by MODIFYs; a batch item overwrites an uncommitted one by a MODIFY).
 */
export function toLogStreamRecords(event: DynamoDBStreamEvent): LogStreamRecord[] {
  const records: LogStreamRecord[] = [];
  for (const record of event.Records) {
    const image = record.dynamodb?.NewImage;
    // REMOVEs (TTL) have no new image: the filter lets none through.
    if ((record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') || !image) continue;
    records.push({
      sequenceNumber: record.dynamodb?.SequenceNumber ?? '',
      image: unmarshall(fromLambdaJson(image) as Record<string, AttributeValue>),
    });
  }
  return records;
}

/**
 * Lambda's event carries binary attributes as base64 strings (its event is JSON), where the SDK's
 * unmarshall expects bytes: turn `B`/`BS` back into bytes, at any depth.
 */
function fromLambdaJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map(fromLambdaJson);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'B' && typeof v === 'string') out[k] = Buffer.from(v, 'base64');
    else if (k === 'BS' && Array.isArray(v)) out[k] = v.map((b) => (typeof b === 'string' ? Buffer.from(b, 'base64') : b));
    else out[k] = fromLambdaJson(v);
  }
  return out;
}

export function createDispatcherHandler(dispatcher: Dispatcher, logger: Logger) {
  return middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
    .use(lambdaContext(logger))
    .handler(async (event) => {
      const result = await dispatcher.dispatch(toLogStreamRecords(event));
      logger.debug('dispatched', { records: event.Records.length, enqueued: result.enqueued });
      return { batchItemFailures: result.failedSequenceNumber ? [{ itemIdentifier: result.failedSequenceNumber }] : [] };
    });
}

export const handler = lazy((env) => {
  const logger = loggerFor('dispatcher');
  return createDispatcherHandler(dispatcherFromEnv(env, logger), logger);
});
