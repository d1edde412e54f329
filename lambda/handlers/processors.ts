/** Lambda entry point for stream processors: list and describe (positions, lag, stream time, counters, state size). */
import { processorPathSchema } from '../../api/processors';
import { Authorizer } from '../core/acls/authorizer';
import type { Logger } from '../core/logger';
import type { ProcessorService } from '../core/processors/processor-service';
import { httpHandler } from '../middleware/http-handler';
import { jsonResponse } from '../middleware/responses';
import { validate } from '../middleware/validate';
import { visibleTo } from './authorization';
import { authorizerFromEnv, processorServiceFromEnv } from './environment';
import { lazy, loggerFor } from './runtime';

export function createProcessorsHandler(service: ProcessorService, logger: Logger, authorizer = Authorizer.off()) {
  return httpHandler(
    'processors',
    {
      // Filtered by name before anything is read: a processor the caller may not see costs nothing.
      'GET /processors': async (event) =>
        jsonResponse(200, { processors: await service.list((names) => visibleTo(authorizer, event, names, (n) => n)) }),
      'GET /processors/{name}': async (event) =>
        jsonResponse(200, await service.describe(validate(processorPathSchema, event.pathParameters, 'path').name)),
    },
    logger,
    { authorizer },
  );
}

export const handler = lazy((env) => createProcessorsHandler(processorServiceFromEnv(env), loggerFor('processors'), authorizerFromEnv(env)));
