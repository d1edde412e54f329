/**
 * Parses the JSON body of POST, PUT and PATCH requests (other methods take none, so theirs is
 * ignored). Malformed JSON is the caller's mistake, so it is a 400 InvalidRequest (middy's own
 * parser answers 415, which is not Sluice's contract).
 */
import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { InvalidRequestError } from '../../api/errors';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

export type JsonEvent = Omit<APIGatewayProxyEventV2, 'body'> & { body: unknown };

export function jsonBody(): MiddlewareObj<APIGatewayProxyEventV2> {
  const jsonBodyBefore: MiddlewareObj<APIGatewayProxyEventV2>['before'] = (request) => {
    const { body, isBase64Encoded } = request.event;
    const method = request.event.requestContext?.http?.method ?? '';
    if (!BODY_METHODS.has(method) || body === undefined || body === null || body === '') {
      (request.event as unknown as JsonEvent).body = undefined;
      return;
    }
    const text = isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
    try {
      (request.event as unknown as JsonEvent).body = JSON.parse(text);
    } catch (err) {
      throw new InvalidRequestError(`Request body is not valid JSON: ${(err as Error).message}`);
    }
  };
  return { before: jsonBodyBefore };
}
