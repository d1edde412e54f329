/** One structured log line per request: route, status, duration, request ID, caller. */
import type { MiddlewareObj } from '@middy/core';
import type { Logger } from '../core/logger';
import { isSluiceRequest, normalizeRequest, type ApiGatewayEvent, type HttpResult, type SluiceRequest } from './request';

type Obj = MiddlewareObj<ApiGatewayEvent | SluiceRequest<unknown>, HttpResult>;

export function accessLog(logger: Logger): Obj {
  const started = new WeakMap<object, number>();
  const accessLogBefore: Obj['before'] = (request) => {
    started.set(request.context, Date.now());
  };
  const accessLogAfter: Obj['after'] = (request) => {
    const start = started.get(request.context) ?? Date.now();
    const req = describe(request.event);
    logger.info('request', {
      requestId: request.context.awsRequestId,
      apiRequestId: req?.requestId,
      route: req?.routeKey,
      method: req?.method,
      path: req?.path,
      format: req?.format,
      principal: req?.identity.principalArn,
      status: request.response?.statusCode,
      durationMs: Date.now() - start,
    });
  };
  // Runs after the error middleware has set the response, so failures are logged with their status.
  return { before: accessLogBefore, after: accessLogAfter, onError: accessLogAfter };
}

/** The normalized request, also when normalizing is what failed (then whatever can be said). */
function describe(event: unknown): SluiceRequest<unknown> | undefined {
  if (isSluiceRequest(event)) return event;
  try {
    return normalizeRequest(event as ApiGatewayEvent);
  } catch {
    return undefined;
  }
}
