/**
 * Turns any error into Sluice's error response `{ "error": { "code", "message", ... } }`.
 * Sluice errors keep their status; anything else is logged and answered as a 500 without internals.
 */
import type { MiddlewareObj } from '@middy/core';
import { InternalError, MethodNotAllowedError, SluiceError } from '../../api/errors';
import type { Logger } from '../core/logger';
import type { ApiGatewayEvent, HttpResult, SluiceRequest } from './request';
import { jsonResponse } from './responses';

type Obj = MiddlewareObj<ApiGatewayEvent | SluiceRequest<unknown>, HttpResult>;

export function httpErrors(logger: Logger): Obj {
  const httpErrorsOnError: Obj['onError'] = (request) => {
    const err = request.error;
    let known: SluiceError;
    if (err instanceof SluiceError) {
      known = err;
      if (known.status >= 500) logger.error('request failed', { error: err, requestId: request.context.awsRequestId });
    } else {
      logger.error('unexpected error', { error: err, requestId: request.context.awsRequestId });
      known = new InternalError('Internal error: the request may or may not have changed something. Retry later; retry a produce or transaction only with the same message IDs.');
    }
    const response = jsonResponse(known.status, known.toBody());
    const allowed = known instanceof MethodNotAllowedError ? known.details.allowed : undefined;
    request.response = Array.isArray(allowed) ? { ...response, headers: { ...response.headers, allow: allowed.join(', ') } } : response;
  };
  return { onError: httpErrorsOnError };
}
