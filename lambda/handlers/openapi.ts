/**
 * Lambda entry point for GET /openapi.json: the API's OpenAPI 3.1 document, built from the zod
 * schemas of api/ once per instance (the same builder writes docs/openapi.json, and a test keeps
 * that file equal to it). Touches no table or queue; its route's rule needs nothing beyond IAM, so
 * no ACL is read (definitions/authorization.ts).
 */
import { buildOpenApiDocument } from '../../api/openapi';
import type { Logger } from '../core/logger';
import { httpHandler } from '../middleware/http-handler';
import { jsonResponse } from '../middleware/responses';
import { lazy, loggerFor } from './runtime';

export function createOpenApiHandler(logger: Logger) {
  let document: Record<string, unknown> | undefined;
  return httpHandler(
    'openapi',
    { 'GET /openapi.json': async () => jsonResponse(200, (document ??= buildOpenApiDocument())) },
    logger,
  );
}

export const handler = lazy(() => createOpenApiHandler(loggerFor('openapi')));
