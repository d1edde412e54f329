import { toJson } from '../core/log/response-budget';
import type { HttpResult } from './request';

/** A JSON answer, valid for API Gateway payload formats 1.0 and 2.0. */
export function jsonResponse(statusCode: number, body: unknown): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), isBase64Encoded: false };
}

/**
 * A JSON answer holding events a ResponseBudget counted (fetch, group records, queue receive):
 * their JSON is reused from the count rather than made again.
 */
export function eventsResponse(statusCode: number, body: object): HttpResult {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: toJson(body), isBase64Encoded: false };
}

/** 204 with an empty body (payload 1.0 wants a string body even when there is none). */
export function noContent(): HttpResult {
  return { statusCode: 204, headers: {}, body: '', isBase64Encoded: false };
}
