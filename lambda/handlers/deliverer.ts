/**
 * Lambda entry point of the `deliveries` FIFO queue (batches of up to 10, partial batch
 * responses). Messages are handled in order; once one of a message group fails, every later
 * message of that group in the batch is reported failed too, unprocessed, so the group's order
 * holds. A failed message, and those later ones with it, are made visible again after the
 * deliverer's backoff (ChangeMessageVisibility, which the event source's consume grant allows).
 */
import middy from '@middy/core';
import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { Logger } from '../core/logger';
import type { Deliverer } from '../core/subscriptions/deliverer';
import { deliveriesMessageSchema } from '../core/subscriptions/messages';
import { lambdaContext } from '../middleware/lambda-logger';
import { delivererFromEnv, sharedSqsClient } from './environment';
import { lazy, loggerFor } from './runtime';

/** Stop starting deliveries this long before the function's timeout. */
const SAFETY_MARGIN_MS = 15_000;
/** A message the deliverer cannot read is retried this much later (then the queue's DLQ takes it). */
const UNREADABLE_RETRY_SECONDS = 60;

export interface DelivererHandlerOptions {
  readonly deliverer: Deliverer;
  readonly sqs: () => SQSClient;
  readonly queueUrl: string;
  readonly logger: Logger;
  /** @default Date.now */
  readonly now?: () => number;
}

export function createDelivererHandler(options: DelivererHandlerOptions) {
  const { deliverer, logger } = options;
  const now = options.now ?? Date.now;
  const setVisibility = async (receiptHandle: string, seconds: number) => {
    try {
      await options.sqs().send(
        new ChangeMessageVisibilityCommand({ QueueUrl: options.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: seconds }),
      );
    } catch (error) {
      // The message comes back after the queue's visibility timeout instead: later, not lost.
      logger.warn('could not set the retry delay of a message', { error });
    }
  };
  return middy<SQSEvent, SQSBatchResponse>()
    .use(lambdaContext(logger))
    .handler(async (event, context: Context) => {
      const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : 60_000;
      const deadline = now() + remaining - SAFETY_MARGIN_MS;
      const groupOf = (record: SQSRecord) => record.attributes?.MessageGroupId ?? '';
      const failedGroups = new Set<string>();
      const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
      for (const [index, record] of event.Records.entries()) {
        const group = groupOf(record);
        if (failedGroups.has(group)) continue; // already reported failed, with its visibility, by `fail`
        const fail = async (seconds: number) => {
          failedGroups.add(group);
          // The group's later messages in the batch fail with it, unprocessed, and get the same delay:
          // left in flight they would block the FIFO group for the queue's whole visibility timeout
          // (6 minutes); with the same delay the group resumes, in order, when this one is retried.
          // Set now, in batch order, rather than when the loop reaches them after other groups' work.
          const held = [record, ...event.Records.slice(index + 1).filter((r) => groupOf(r) === group)];
          for (const r of held) {
            batchItemFailures.push({ itemIdentifier: r.messageId });
            await setVisibility(r.receiptHandle, seconds);
          }
        };
        let message;
        try {
          message = deliveriesMessageSchema.parse(JSON.parse(record.body));
        } catch (error) {
          logger.error('unreadable deliveries message', { messageId: record.messageId, error });
          await fail(UNREADABLE_RETRY_SECONDS);
          continue;
        }
        try {
          const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1);
          const outcome = await deliverer.handle(message, receiveCount, deadline);
          if (outcome.kind === 'retry') await fail(outcome.delaySeconds);
        } catch (error) {
          // A store or log read failed (throttling, an outage): retry soon, without counting an attempt.
          logger.warn('delivery interrupted; will retry', { messageId: record.messageId, error });
          await fail(deliverer.delaySeconds(Number(record.attributes?.ApproximateReceiveCount ?? 1)));
        }
      }
      return { batchItemFailures };
    });
}

export const handler = lazy((env) => {
  const logger = loggerFor('deliverer');
  const { deliverer, queueUrl } = delivererFromEnv(env, logger);
  return createDelivererHandler({ deliverer, sqs: sharedSqsClient, queueUrl, logger });
});
