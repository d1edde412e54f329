/**
 * The OpenAPI document: valid OpenAPI 3.1 (checked by a real validator), generated from api/'s
 * schemas, committed up to date, and covering every route with its request parts and answers.
 */
import { readFileSync } from 'node:fs';
import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { buildOpenApiDocument, errorCodesOf, errorStatus, OPERATIONS } from '../../../api/openapi';
import { ROUTES, routeKey } from '../../../definitions/functions';
import { OPENAPI_PATH, openApiText } from '../../../build/openapi';

type Doc = { openapi: string; paths: Record<string, Record<string, { parameters?: { name: string; in: string }[]; requestBody?: unknown; responses: Record<string, unknown> }>> };
const doc = buildOpenApiDocument() as Doc;
type Spec = Parameters<Validator['validate']>[0];

describe('docs/openapi.json', () => {
  it('is what `npm run openapi` generates from the schemas (run it after changing api/)', () => {
    expect(readFileSync(OPENAPI_PATH, 'utf8')).toBe(openApiText());
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as Spec);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
  });

  it('is refused by the validator when broken (the check can fail)', async () => {
    const broken = JSON.parse(openApiText()) as Doc;
    (broken.paths['/topics']!.get!.responses as Record<string, unknown>)['200'] = { content: {} }; // no description
    expect((await new Validator().validate(broken as unknown as Spec)).valid).toBe(false);
  });
});

describe('coverage', () => {
  it.each(ROUTES.map((r) => [routeKey(r), r] as const))('%s: path parameters, success and error answers', (key, route) => {
    const op = doc.paths[route.path]?.[route.method.toLowerCase()];
    expect(op, key).toBeDefined();
    const pathParams = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    expect((op!.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort()).toEqual(pathParams.sort());
    expect(Object.keys(op!.responses)).toContain(String(OPERATIONS[key].ok.status));
    for (const [status, codes] of errorCodesOf(key)) {
      const body = op!.responses[String(status)] as { content: { 'application/json': { schema: { properties: { error: { properties: { code: { enum: string[] } } } } } } } };
      expect(body.content['application/json'].schema.properties.error.properties.code.enum).toEqual(codes);
      for (const code of codes) expect(errorStatus(code)).toBe(status);
    }
  });

  it('states request bodies and query parameters from the request schemas', () => {
    const fetchOp = doc.paths['/topics/{topic}/partitions/{partition}/events']!.get!;
    expect(fetchOp.parameters!.filter((p) => p.in === 'query').map((p) => p.name)).toEqual(['offset', 'timestamp', 'limit', 'waitMs']);
    const produce = doc.paths['/topics/{topic}/events']!.post!.requestBody as { required: boolean; content: { 'application/json': { schema: { required: string[]; properties: { events: { type: string; maxItems?: number } } } } } };
    expect(produce.required).toBe(true);
    expect(produce.content['application/json'].schema.required).toEqual(['events']);
    expect(produce.content['application/json'].schema.properties.events.type).toBe('array');
    // boundedArray()'s list is described as the array it checks, limits included.
    const join = doc.paths['/groups/{group}/members']!.post!.requestBody as { content: { 'application/json': { schema: { properties: { topics: { type: string; maxItems: number } } } } } };
    expect(join.content['application/json'].schema.properties.topics).toMatchObject({ type: 'array', maxItems: 20 });
  });
});
