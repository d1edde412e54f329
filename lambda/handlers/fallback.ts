/**
 * Lambda entry point for every request no route matches: the HTTP API's `$default` route (payload
 * 2.0) and the REST API's fallback `ANY` methods and `{proxy+}` resources (payload 1.0). Answers
 * 405 with `Allow` when the path exists with other methods, else 404, in Sluice's error format
 * (API Gateway's own answers, e.g. a REST API's 403 "Missing Authentication Token", are not ours).
 * Computed from method + path, so it does not matter which API resource caught the request.
 */
import { MethodNotAllowedError, RouteNotFoundError } from '../../api/errors';
import { matchRoute } from '../../definitions/functions';
import type { Logger } from '../core/logger';
import { rawHttpHandler } from '../middleware/http-handler';
import { lazy, loggerFor } from './runtime';

export function createFallbackHandler(logger: Logger) {
  return rawHttpHandler(async ({ method, path }) => {
    const match = matchRoute(method, path);
    if (match && 'allowed' in match) {
      throw new MethodNotAllowedError(`${method} is not allowed on ${path}`, { details: { allowed: match.allowed } });
    }
    // A match here means API Gateway sent a routed request to the fallback: still, no route of ours served it.
    throw new RouteNotFoundError(`No route for ${method} ${path}`);
  }, logger);
}

export const handler = lazy(() => createFallbackHandler(loggerFor('fallback')));
