/** Lambda entry point for GET /topics/{topic}/partitions/{partition}/events. */
import { fetchPathSchema, fetchQuerySchema } from '../../api/events';
import { topicNameSchema } from '../../api/topics';
import { Authorizer } from '../core/acls/authorizer';
import type { LogReadService } from '../core/log/log-read-service';
import type { Logger } from '../core/logger';
import { httpHandler } from '../middleware/http-handler';
import { eventsResponse } from '../middleware/responses';
import { validate } from '../middleware/validate';
import { authorizerFromEnv, logReadServiceFromEnv } from './environment';
import { lazy, loggerFor } from './runtime';

const pathSchema = fetchPathSchema.extend({ topic: topicNameSchema });

export function createFetchHandler(service: LogReadService, logger: Logger, authorizer = Authorizer.off()) {
  return httpHandler(
    'fetch',
    {
      'GET /topics/{topic}/partitions/{partition}/events': async (event) => {
        const { topic, partition } = validate(pathSchema, event.pathParameters, 'path');
        const query = validate(fetchQuerySchema, event.query, 'query');
        return eventsResponse(200, await service.fetch(topic, partition, query));
      },
    },
    logger,
    { authorizer },
  );
}

export const handler = lazy((env) => createFetchHandler(logReadServiceFromEnv(env), loggerFor('fetch'), authorizerFromEnv(env)));
