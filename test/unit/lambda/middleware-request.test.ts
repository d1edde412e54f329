/**
 * The request normalization behind every HTTP handler (payload formats 1.0 and 2.0 → one
 * `SluiceRequest`), the response shape valid for both, and the typed route tables.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { RouteKey, RouteKeyOf } from '../../../definitions/functions';
import { silentLogger } from '../../../lambda/core/logger';
import { httpHandler, type RouteHandler } from '../../../lambda/middleware/http-handler';
import { normalizeRequest, toHttpResult, type ApiGatewayEvent } from '../../../lambda/middleware/request';
import { jsonResponse, noContent } from '../../../lambda/middleware/responses';
import { TEST_PRINCIPAL, httpEvent, lambdaContext, restEvent } from '../../support/events';

const FETCH = 'GET /topics/{topic}/partitions/{partition}/events';
const init = {
  rawPath: '/topics/orders/partitions/1/events',
  pathParameters: { topic: 'orders', partition: '1' },
  query: { offset: '5', tag: ['a', 'b'] },
  headers: { 'X-Trace': 't-1' },
  principalArn: TEST_PRINCIPAL,
};

describe('normalizeRequest', () => {
  it.each([
    ['2.0', httpEvent(FETCH, init)],
    ['1.0', restEvent(FETCH, init)],
  ] as const)('gives one shape for payload format %s', (format, event) => {
    expect(normalizeRequest(event)).toEqual({
      format,
      routeKey: FETCH,
      method: 'GET',
      path: '/topics/orders/partitions/1/events',
      pathParameters: { topic: 'orders', partition: '1' },
      // A repeated parameter is joined with commas, as 2.0 does (1.0's single-value map keeps only the last).
      query: { offset: '5', tag: 'a,b' },
      headers: expect.objectContaining({ 'content-type': 'application/json', 'x-trace': 't-1' }),
      body: undefined,
      isBase64Encoded: false,
      requestId: 'req-1',
      identity: {
        principalArn: TEST_PRINCIPAL,
        accountId: '000000000000',
        caller: 'AROATEST:session',
        userId: 'AROATEST:session',
        accessKey: 'AKIATEST',
        sourceIp: '127.0.0.1',
        userAgent: 'test',
      },
    });
  });

  it.each([
    ['2.0', httpEvent('GET /topics')],
    ['1.0', restEvent('GET /topics')],
  ] as const)('leaves the principal out of an unsigned %s request (the local platform)', (_, event) => {
    const { identity, query, pathParameters } = normalizeRequest(event);
    expect(identity.principalArn).toBeUndefined();
    expect(query).toEqual({});
    expect(pathParameters).toEqual({});
  });

  it('spells a 1.0 route key from the method and the API resource that matched', () => {
    expect(normalizeRequest(restEvent('put /topics/{topic}', { rawPath: '/topics/x' })).routeKey).toBe('PUT /topics/{topic}');
    expect(normalizeRequest(restEvent('GET /{proxy+}', { rawPath: '/a/b' }))).toMatchObject({ routeKey: 'GET /{proxy+}', path: '/a/b' });
  });

  it('refuses an event of neither format', () => {
    expect(() => normalizeRequest({ Records: [] } as unknown as ApiGatewayEvent)).toThrow(/payload format/);
  });
});

describe('handlers, both payload formats', () => {
  const echo = httpHandler(
    'transactions',
    { 'POST /transactions': async (req) => jsonResponse(200, { body: req.body, principal: req.identity.principalArn ?? null }) },
    silentLogger,
  );

  it.each([
    ['2.0', { ...httpEvent('POST /transactions', { principalArn: TEST_PRINCIPAL }), body: Buffer.from('{"a":1}').toString('base64'), isBase64Encoded: true }],
    ['1.0', { ...restEvent('POST /transactions', { principalArn: TEST_PRINCIPAL }), body: Buffer.from('{"a":1}').toString('base64'), isBase64Encoded: true }],
  ] as const)('parse a base64-encoded JSON body and see the caller (%s)', async (_, event) => {
    const res = await echo(event, lambdaContext);
    expect(JSON.parse(res.body)).toEqual({ body: { a: 1 }, principal: TEST_PRINCIPAL });
  });

  it.each([
    ['2.0', httpEvent('POST /transactions', { body: '{' })],
    ['1.0', restEvent('POST /transactions', { body: '{' })],
  ] as const)('answer errors in the proxy response shape of both formats (%s)', async (_, event) => {
    const res = await echo(event, lambdaContext);
    expect(res).toEqual({ statusCode: 400, headers: { 'content-type': 'application/json' }, body: expect.any(String), isBase64Encoded: false });
  });
});

describe('toHttpResult', () => {
  it('keeps a proxy response, with string header values, a string body and isBase64Encoded', () => {
    expect(toHttpResult({ statusCode: 201, headers: { 'x-n': 3 as unknown as string }, body: 'x' })).toEqual({
      statusCode: 201,
      headers: { 'x-n': '3' },
      body: 'x',
      isBase64Encoded: false,
    });
  });

  it('gives a 204 an empty string body (1.0 wants a string)', () => {
    expect(toHttpResult(noContent())).toEqual({ statusCode: 204, headers: {}, body: '', isBase64Encoded: false });
  });

  it('sends a bare value as a 200 JSON body, as payload 2.0 does', () => {
    expect(toHttpResult({ a: 1 })).toEqual({ statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{"a":1}', isBase64Encoded: false });
  });
});

describe('typed route keys', () => {
  const ok: RouteHandler = async () => noContent();

  it('derives each function’s route keys from ROUTES', () => {
    expectTypeOf<RouteKeyOf<'produce'>>().toEqualTypeOf<'POST /topics/{topic}/events'>();
    expectTypeOf<RouteKeyOf<'topics'>>().toEqualTypeOf<
      'POST /topics' | 'GET /topics' | 'GET /topics/{topic}' | 'PATCH /topics/{topic}' | 'DELETE /topics/{topic}'
    >();
    expectTypeOf<RouteKeyOf<'fallback'>>().toBeNever();
    expectTypeOf<RouteKeyOf<'transactions'>>().toExtend<RouteKey>();
  });

  it('fails the type check for a misspelt, missing or foreign route key', () => {
    // @ts-expect-error: 'POST /topic/{topic}/events' is misspelt (and the real key is missing).
    httpHandler('produce', { 'POST /topic/{topic}/events': ok }, silentLogger);
    // @ts-expect-error: 'DELETE /topics/{topic}' is missing.
    httpHandler('topics', { 'POST /topics': ok, 'GET /topics': ok, 'GET /topics/{topic}': ok, 'PATCH /topics/{topic}': ok }, silentLogger);
    // @ts-expect-error: 'GET /groups' belongs to the groups function.
    httpHandler('transactions', { 'POST /transactions': ok, 'GET /groups': ok }, silentLogger);
    // @ts-expect-error: the fallback serves no route, so it has no route table.
    httpHandler('fallback', {}, silentLogger);
    // And the correct table type-checks.
    httpHandler('produce', { 'POST /topics/{topic}/events': ok }, silentLogger);
  });
});
