/** Lambda entry point for GET /topics/{topic}/partitions/{partition}/events. */
import { fetchPathSchema, fetchQuerySchema } from '../../api/events';
import { topicNameSchema } from '../../api/topics';
import type { LogService } from '../core/log/log-service';
import type { Logger } from '../core/logger';
import { httpHandler } from '../middleware/http-handler';
import { jsonResponse } from '../middleware/responses';
import { validate } from '../middleware/validate';
import { logServiceFromEnv } from './environment';
import { lazy, loggerFor } from './runtime';

const pathSchema = fetchPathSchema.extend({ topic: topicNameSchema });

export function createFetchHandler(service: LogService, logger: Logger) {
  return httpHandler(
    {
      'GET /topics/{topic}/partitions/{partition}/events': async (event) => {
        const { topic, partition } = validate(pathSchema, event.pathParameters, 'path');
        const query = validate(fetchQuerySchema, event.queryStringParameters, 'query');
        return jsonResponse(200, await service.fetch(topic, partition, query));
      },
    },
    logger,
  );
}

export const handler = lazy(() => createFetchHandler(logServiceFromEnv(), loggerFor('fetch')));
