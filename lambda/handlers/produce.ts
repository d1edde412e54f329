/** Lambda entry point for POST /topics/{topic}/events. */
import { produceRequestSchema } from '../../api/events';
import { topicPathSchema } from '../../api/topics';
import type { LogService } from '../core/log/log-service';
import { Authorizer } from '../core/acls/authorizer';
import type { Logger } from '../core/logger';
import { httpHandler } from '../middleware/http-handler';
import { jsonResponse } from '../middleware/responses';
import { validate } from '../middleware/validate';
import { authorizerFromEnv, logServiceFromEnv } from './environment';
import { lazy, loggerFor } from './runtime';

export function createProduceHandler(service: LogService, logger: Logger, authorizer = Authorizer.off()) {
  return httpHandler(
    'produce',
    {
      'POST /topics/{topic}/events': async (event) => {
        const { topic } = validate(topicPathSchema, event.pathParameters, 'path');
        const { events, producer } = validate(produceRequestSchema, event.body, 'body');
        const { results } = await service.produce(topic, events, producer);
        return jsonResponse(200, { results });
      },
    },
    logger,
    { authorizer },
  );
}

export const handler = lazy((env) => createProduceHandler(logServiceFromEnv(env), loggerFor('produce'), authorizerFromEnv(env)));
