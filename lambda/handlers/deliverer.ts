/**
 * Lambda entry point of the `deliveries` FIFO queue (batches of up to 10, partial batch
 * responses). Messages are handled in order; once one of a message group fails, every later
 * message of that group in the batch is reported failed too, unprocessed, so the group's order
 * holds. A failed message is made visible again after the deliverer's backoff
 * (ChangeMessageVisibility, which the event source's consume grant allows).
 */
import middy from '@middy/core';
import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
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
      const failedGroups = new Set<string>();
      const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
      for (const record of event.Records) {
        const group = record.attributes?.MessageGroupId ?? '';
        if (failedGroups.has(group)) {
          batchItemFailures.push({ itemIdentifier: record.messageId });
          continue;
        }
        const fail = async (seconds: number) => {
          failedGroups.add(group);
          batchItemFailures.push({ itemIdentifier: record.messageId });
          await setVisibility(record.receiptHandle, seconds);
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
