/**
 * Builds Lambda handlers for HTTP routes: middy with access logging and Sluice's error responses.
 * Handlers accept API Gateway payload format 1.0 (REST APIs) and 2.0 (HTTP APIs): the first
 * middleware normalizes either into one `SluiceRequest`, whose `routeKey` is the matched route as
 * ROUTES spells it, e.g. "GET /topics/{topic}", so dispatch is a lookup.
 */
import middy, { type MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { RouteNotFoundError } from '../../api/errors';
import { routeAuthorization } from '../../definitions/authorization';
import type { RoutedFunctionName, RouteKeyOf } from '../../definitions/functions';
import { Authorizer } from '../core/acls/authorizer';
import type { Logger } from '../core/logger';
import { accessLog } from './access-log';
import { httpErrors } from './http-errors';
import { jsonBody, type JsonRequest } from './json-body';
import { lambdaContext } from './lambda-logger';
import { normalizeRequest, toHttpResult, type ApiGatewayEvent, type HttpResult, type SluiceRequest } from './request';

type Event = ApiGatewayEvent | SluiceRequest<unknown>;
export type { HttpResult, JsonRequest, SluiceRequest };
export type RouteHandler = (request: JsonRequest) => Promise<HttpResult>;
export type HttpLambdaHandler = (event: ApiGatewayEvent, context: Context) => Promise<HttpResult>;

export interface HttpHandlerOptions {
  /**
   * Checks every request against its route's rule in ROUTE_AUTHORIZATION (definitions/authorization.ts)
   * before the route's handler runs; a denied request is a 403 AuthorizationFailed and runs nothing.
   * @default Authorizer.off(): IAM on the API is the only check
   */
  readonly authorizer?: Authorizer;
}

/**
 * The handlers of every route function `fn` serves, keyed by route key: a missing or misspelt key
 * fails the type check. The request body is parsed as JSON once the route is known to exist, then
 * the caller is authorized for what the route's rule requires (when ACLs are on).
 */
export function httpHandler<F extends RoutedFunctionName>(
  fn: F,
  routes: Readonly<Record<RouteKeyOf<F>, RouteHandler>>,
  logger: Logger,
  options: HttpHandlerOptions = {},
): HttpLambdaHandler {
  const table: Readonly<Record<string, RouteHandler>> = routes;
  const authorizer = options.authorizer ?? Authorizer.off();
  // Every route has a rule; one without would be a 500 here rather than an unchecked request.
  const authorize: MiddlewareObj<Event>['before'] = async (request) => {
    const req = request.event as SluiceRequest<unknown>;
    const rule = routeAuthorization(req.routeKey);
    if (!rule) throw new Error(`No authorization rule for route ${req.routeKey} (definitions/authorization.ts)`);
    await authorizer.check(req.identity.principalArn, rule.requires(req));
  };
  // A request no route serves is answered as such, whatever its body.
  const requireRoute: MiddlewareObj<Event>['before'] = (request) => {
    const { routeKey } = request.event as SluiceRequest<unknown>;
    if (!Object.hasOwn(table, routeKey)) throw new RouteNotFoundError(`No route ${routeKey} in function ${fn}`);
  };
  const dispatch = (request: SluiceRequest<unknown>) => table[request.routeKey]!(request);
  return rawHttpHandler(dispatch, logger, [
    { before: requireRoute },
    jsonBody() as MiddlewareObj<Event, HttpResult>,
    { before: authorize },
  ]);
}

/** One handler for every request, body untouched (the fallback function). */
export function rawHttpHandler(
  handle: (request: SluiceRequest<unknown>) => Promise<HttpResult>,
  logger: Logger,
  middlewares: MiddlewareObj<Event, HttpResult>[] = [],
): HttpLambdaHandler {
  // Normalizes the event first, and makes every response valid for both payload formats last.
  const payload: MiddlewareObj<Event, HttpResult> = {
    before: (request) => {
      request.event = normalizeRequest(request.event as ApiGatewayEvent);
    },
    after: (request) => {
      request.response = toHttpResult(request.response);
    },
  };
  // accessLog sees the final response; httpErrors turns any error into Sluice's error body.
  // lambdaContext first: every line of the invocation, the access log's too, carries the Lambda context.
  let handler = middy<Event, HttpResult>()
    .use(lambdaContext<Event, HttpResult>(logger))
    .use(accessLog(logger))
    .use(httpErrors(logger))
    .use(payload);
  for (const m of middlewares) handler = handler.use(m);
  return handler.handler((event) => handle(event as SluiceRequest<unknown>)) as unknown as HttpLambdaHandler;
}
