/**
 * Parses the JSON body of POST, PUT and PATCH requests (other methods take none, so theirs is
 * ignored). Malformed JSON is the caller's mistake, so it is a 400 InvalidRequest (middy's own
 * parser answers 415, which is not Sluice's contract). Runs on the normalized request.
 */
import type { MiddlewareObj } from '@middy/core';
import { InvalidRequestError } from '../../api/errors';
import type { SluiceRequest } from './request';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** A request whose body is parsed JSON (`undefined` when there was none or the method takes none). */
export type JsonRequest = SluiceRequest<unknown>;

export function jsonBody(): MiddlewareObj<SluiceRequest<unknown>> {
  const jsonBodyBefore: MiddlewareObj<SluiceRequest<unknown>>['before'] = (request) => {
    const event = request.event as { -readonly [K in keyof JsonRequest]: JsonRequest[K] };
    const body = event.body;
    if (!BODY_METHODS.has(event.method) || typeof body !== 'string' || body === '') {
      event.body = undefined;
      return;
    }
    const text = event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
    try {
      event.body = JSON.parse(text);
    } catch (err) {
      throw new InvalidRequestError(`Request body is not valid JSON: ${(err as Error).message}`);
    }
  };
  return { before: jsonBodyBefore };
}
