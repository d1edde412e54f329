/**
 * Builds a Lambda handler for a set of HTTP routes: middy with access logging, JSON body parsing
 * and Sluice's error responses. API Gateway (and the local platform) sets `routeKey` to the
 * matched route, e.g. "GET /topics/{topic}", so dispatch is a lookup.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { RouteNotFoundError } from '../../api/errors';
import type { Logger } from '../core/logger';
import { accessLog } from './access-log';
import { httpErrors } from './http-errors';
import { jsonBody, type JsonEvent } from './json-body';

export type RouteHandler = (event: JsonEvent) => Promise<APIGatewayProxyStructuredResultV2>;
export type HttpLambdaHandler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

export function httpHandler(routes: Record<string, RouteHandler>, logger: Logger): HttpLambdaHandler {
  const dispatch = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const route = routes[event.routeKey];
    if (!route) throw new RouteNotFoundError(`No route ${event.routeKey}`);
    return route(event as unknown as JsonEvent);
  };
  // Order: accessLog sees the final response, httpErrors shapes errors, jsonBody runs first.
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(accessLog(logger))
    .use(httpErrors(logger))
    .use(jsonBody())
    .handler(dispatch) as unknown as HttpLambdaHandler;
}
