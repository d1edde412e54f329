/**
 * Builds Lambda handlers for HTTP routes: middy with access logging and Sluice's error responses.
 * API Gateway (and the local platform) sets `routeKey` to the matched route, e.g.
 * "GET /topics/{topic}", so dispatch is a lookup.
 */
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { RouteNotFoundError } from '../../api/errors';
import type { Logger } from '../core/logger';
import { accessLog } from './access-log';
import { httpErrors } from './http-errors';
import { jsonBody, type JsonEvent } from './json-body';

type Event = APIGatewayProxyEventV2;
type Result = APIGatewayProxyStructuredResultV2;
export type RouteHandler = (event: JsonEvent) => Promise<Result>;
export type HttpLambdaHandler = (event: Event, context: Context) => Promise<Result>;

/** The routes' handlers, with the request body parsed as JSON once the route is known to exist. */
export function httpHandler(routes: Record<string, RouteHandler>, logger: Logger): HttpLambdaHandler {
  // A request no route serves is answered as such, whatever its body.
  const requireRoute: MiddlewareObj<Event>['before'] = (request) => {
    if (!routes[request.event.routeKey]) throw new RouteNotFoundError(`No route ${request.event.routeKey}`);
  };
  const dispatch = (event: Event) => routes[event.routeKey]!(event as unknown as JsonEvent);
  return rawHttpHandler(dispatch, logger, [{ before: requireRoute }, jsonBody()]);
}

/** One handler for every request, body untouched (the `$default` fallback). */
export function rawHttpHandler(
  handle: (event: Event) => Promise<Result>,
  logger: Logger,
  middlewares: MiddlewareObj<Event, Result>[] = [],
): HttpLambdaHandler {
  // accessLog sees the final response; httpErrors turns any error into Sluice's error body.
  let handler = middy<Event, Result>().use(accessLog(logger)).use(httpErrors(logger));
  for (const m of middlewares) handler = handler.use(m);
  return handler.handler(handle) as unknown as HttpLambdaHandler;
}
