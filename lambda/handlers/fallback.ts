/**
 * Lambda entry point behind API Gateway's `$default` route: answers 405 when the path exists with
 * other methods, else 404, in Sluice's error format (API Gateway's own 404 is not JSON we control).
 */
import { MethodNotAllowedError, RouteNotFoundError } from '../../api/errors';
import { matchRoute } from '../../definitions/functions';
import type { Logger } from '../core/logger';
import { rawHttpHandler } from '../middleware/http-handler';
import { loggerFor } from './runtime';

export function createFallbackHandler(logger: Logger) {
  return rawHttpHandler(async (event) => {
    const method = event.requestContext.http.method;
    const match = matchRoute(method, event.rawPath);
    if (match && 'allowed' in match) {
      throw new MethodNotAllowedError(`${method} is not allowed on ${event.rawPath}`, {
        details: { allowed: match.allowed },
      });
    }
    throw new RouteNotFoundError(`No route for ${method} ${event.rawPath}`);
  }, logger);
}

export const handler = createFallbackHandler(loggerFor('fallback'));
