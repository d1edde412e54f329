/** One structured log line per request: route, status, duration, request ID. */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Logger } from '../core/logger';

type Obj = MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>;

export function accessLog(logger: Logger): Obj {
  const started = new WeakMap<object, number>();
  const accessLogBefore: Obj['before'] = (request) => {
    started.set(request.context, Date.now());
  };
  const accessLogAfter: Obj['after'] = (request) => {
    const start = started.get(request.context) ?? Date.now();
    logger.info('request', {
      requestId: request.context.awsRequestId,
      route: request.event.routeKey,
      method: request.event.requestContext?.http?.method,
      path: request.event.rawPath,
      status: request.response?.statusCode,
      durationMs: Date.now() - start,
    });
  };
  // Runs after the error middleware has set the response, so failures are logged with their status.
  return { before: accessLogBefore, after: accessLogAfter, onError: accessLogAfter };
}
