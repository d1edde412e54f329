import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidRequestError } from '../../../api/errors';
import { createJsonLogger, silentLogger } from '../../../lambda/core/logger';
import { httpHandler } from '../../../lambda/middleware/http-handler';
import { jsonResponse } from '../../../lambda/middleware/responses';
import { validate } from '../../../lambda/middleware/validate';
import { httpEvent, lambdaContext } from '../../support/events';

const echo = httpHandler('transactions', { 'POST /transactions': async (event) => jsonResponse(200, { got: event.body }) }, silentLogger);

describe('httpHandler', () => {
  it('parses a JSON body, also when API Gateway base64-encoded it', async () => {
    const event = { ...httpEvent('POST /transactions'), body: Buffer.from('{"a":1}').toString('base64'), isBase64Encoded: true };
    const res = await echo(event, lambdaContext);
    expect(JSON.parse(res.body!)).toEqual({ got: { a: 1 } });
  });

  it('answers malformed JSON with 400 InvalidRequest, not 415', async () => {
    const res = await echo(httpEvent('POST /transactions', { body: '{nope' }), lambdaContext);
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body!).error.code).toBe('InvalidRequest');
  });

  it('ignores the body of a GET, which takes none', async () => {
    const route = 'GET /topics/{topic}/partitions/{partition}/events';
    const get = httpHandler('fetch', { [route]: async (event) => jsonResponse(200, { body: event.body ?? null }) }, silentLogger);
    const res = await get(httpEvent(route, { body: '{not json' }), lambdaContext);
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body!)).toEqual({ body: null });
  });

  it('answers a route key it does not serve with 404 NotFound, before looking at the body', async () => {
    const res = await echo(httpEvent('POST /elsewhere', { body: '{' }), lambdaContext);
    expect(res.statusCode).toBe(404);
  });

  it('logs one structured line per request, failures included', async () => {
    const lines: string[] = [];
    const logged = httpHandler(
      'transactions',
      { 'POST /transactions': async () => jsonResponse(200, {}) },
      createJsonLogger({ component: 'test', level: 'info', write: (l) => lines.push(l) }),
    );
    await logged(httpEvent('POST /transactions', { body: '{}' }), lambdaContext);
    await logged(httpEvent('POST /transactions', { body: '{' }), lambdaContext);
    const records = lines.map((l) => JSON.parse(l));
    expect(records.map((r) => [r.component, r.message, r.route, r.status])).toEqual([
      ['test', 'request', 'POST /transactions', 200],
      ['test', 'request', 'POST /transactions', 400],
    ]);
  });
});

describe('validate', () => {
  const schema = z.strictObject({ n: z.number().int(), s: z.string() });

  it('returns the parsed value', () => {
    expect(validate(schema, { n: 1, s: 'x' }, 'body')).toEqual({ n: 1, s: 'x' });
  });

  it('lists every issue with its path in one InvalidRequest', () => {
    const err = (() => {
      try {
        validate(schema, { n: 1.5 }, 'body');
      } catch (e) {
        return e as InvalidRequestError;
      }
    })();
    expect(err).toBeInstanceOf(InvalidRequestError);
    expect((err!.details.issues as { path: string }[]).map((i) => i.path).sort()).toEqual(['body.n', 'body.s']);
  });
});

describe('createJsonLogger', () => {
  it('drops lines below its level and namespaces children', () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ component: 'a', level: 'warn', write: (l) => lines.push(l) });
    logger.info('hidden');
    logger.child('b').warn('shown', { error: new Error('boom') });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'warn', component: 'a.b', message: 'shown', error: { message: 'boom' } });
  });
});
