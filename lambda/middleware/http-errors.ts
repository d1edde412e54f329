/**
 * Turns any error into Sluice's error response `{ "error": { "code", "message", ... } }`.
 * Sluice errors keep their status; anything else is logged and answered as a 500 without internals.
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { InternalError, MethodNotAllowedError, SluiceError } from '../../api/errors';
import type { Logger } from '../core/logger';
import { jsonResponse } from './responses';

export function httpErrors(
  logger: Logger,
): MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2> {
  const httpErrorsOnError: MiddlewareObj<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>['onError'] = (
    request,
  ) => {
    const err = request.error;
    let known: SluiceError;
    if (err instanceof SluiceError) {
      known = err;
      if (known.status >= 500) logger.error('request failed', { error: err, requestId: request.context.awsRequestId });
    } else {
      logger.error('unexpected error', { error: err, requestId: request.context.awsRequestId });
      known = new InternalError('Internal error; nothing was changed. Retry later.');
    }
    const response = jsonResponse(known.status, known.toBody());
    if (known instanceof MethodNotAllowedError && Array.isArray(known.details.allowed)) {
      response.headers = { ...response.headers, allow: known.details.allowed.join(', ') };
    }
    request.response = response;
  };
  return { onError: httpErrorsOnError };
}
