/**
 * Parses the JSON body of POST, PUT and PATCH requests (other methods take none, so theirs is
 * ignored, whatever its type). Runs on the normalized request. A non-empty body must be:
 * - sent as JSON: `content-type` `application/json` or `application/<something>+json`, parameters
 *   allowed, a charset only UTF-8; anything else (none, `text/plain`, a form) is a 415
 *   UnsupportedMediaType, so a browser's "simple" cross-site POST never reaches a route;
 * - valid JSON: else a 400 InvalidRequest (middy's own parser answers 415, not Sluice's contract);
 * - free of duplicate keys at any depth: `JSON.parse` keeps the last of two and says nothing, so
 *   one is a 400 InvalidRequest naming the key's path.
 * An empty body is no body (`undefined`): a route whose body is all optional takes it as `{}`.
 */
import type { MiddlewareObj } from '@middy/core';
import { InvalidRequestError, UnsupportedMediaTypeError } from '../../api/errors';
import { findDuplicateKey } from './duplicate-keys';
import type { SluiceRequest } from './request';

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** A request whose body is parsed JSON (`undefined` when there was none or the method takes none). */
export type JsonRequest = SluiceRequest<unknown>;

/** `application/json` or `application/<tchar>+json` (RFC 9110 tokens), compared case-insensitively. */
const JSON_MEDIA_TYPE = /^application\/(?:[!#$%&'*+.^_`|~0-9a-z-]+\+)?json$/i;

/**
 * Whether a `content-type` header names JSON: the media type, then optional `; name=value`
 * parameters, of which a `charset` must be UTF-8 (RFC 8259: JSON between systems is UTF-8, and
 * the body is decoded as such).
 */
export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type = '', ...params] = header.split(';');
  if (!JSON_MEDIA_TYPE.test(type.trim())) return false;
  for (const param of params) {
    const eq = param.indexOf('=');
    const name = (eq < 0 ? param : param.slice(0, eq)).trim().toLowerCase();
    if (name === '' && eq < 0) continue; // a trailing ';'
    if (eq < 0 || name === '') return false;
    if (name === 'charset' && !/^"?utf-?8"?$/i.test(param.slice(eq + 1).trim())) return false;
  }
  return true;
}

export function jsonBody(): MiddlewareObj<SluiceRequest<unknown>> {
  const jsonBodyBefore: MiddlewareObj<SluiceRequest<unknown>>['before'] = (request) => {
    const event = request.event as { -readonly [K in keyof JsonRequest]: JsonRequest[K] };
    const body = event.body;
    if (!BODY_METHODS.has(event.method) || typeof body !== 'string' || body === '') {
      event.body = undefined;
      return;
    }
    const contentType = event.headers['content-type'];
    if (!isJsonContentType(contentType)) {
      throw new UnsupportedMediaTypeError(
        contentType === undefined
          ? 'A request body must be JSON, sent with content-type: application/json; this one has no content-type'
          : `A request body must be JSON, sent with content-type: application/json; this one is ${JSON.stringify(contentType.slice(0, 200))}`,
        { details: { contentType: contentType?.slice(0, 200) ?? null } },
      );
    }
    const text = event.isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body;
    try {
      event.body = JSON.parse(text);
    } catch (err) {
      throw new InvalidRequestError(`Request body is not valid JSON: ${(err as Error).message}`);
    }
    const duplicate = findDuplicateKey(text);
    if (duplicate) {
      const path = ['body', ...duplicate.path.map(String)].join('.');
      const message = `has the key ${JSON.stringify(duplicate.key)} twice in one object`;
      throw new InvalidRequestError(`Invalid request: ${path}: ${message}`, { details: { issues: [{ path, message }] } });
    }
  };
  return { before: jsonBodyBefore };
}
