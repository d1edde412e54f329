/**
 * Lambda entry point for the topic-purge queue: removes the log items of deleted topics. Reports
 * partial batch failures so only failed jobs are retried (ReportBatchItemFailures).
 */
import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Logger } from '../core/logger';
import type { TopicService } from '../core/topics/topic-service';
import { lambdaContext } from '../middleware/lambda-logger';
import { topicServiceFromEnv } from './environment';
import { lazy, loggerFor } from './runtime';

export function createTopicPurgeHandler(service: TopicService, logger: Logger) {
  // Every line of this invocation carries the Lambda context (request ID, cold start, function).
  return middy<SQSEvent, SQSBatchResponse>().use(lambdaContext(logger)).handler(async (event) => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const removed = await service.purgeDeletedTopic(JSON.parse(record.body));
        logger.info('purged deleted topic', { messageId: record.messageId, removed });
      } catch (error) {
        logger.warn('purge failed; will retry', { messageId: record.messageId, error });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  });
}

export const handler = lazy((env) => createTopicPurgeHandler(topicServiceFromEnv(env), loggerFor('topic-purge')));
