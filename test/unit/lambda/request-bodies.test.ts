/**
 * Request bodies (issue 8): duplicate keys, JSON content types, `null` bodies, and `__proto__`
 * keys kept as data by the produce schema and by the stored record batches.
 */
import { describe, expect, it } from 'vitest';
import { produceEventSchema, produceRequestSchema } from '../../../api/events';
import { errorFromBody, InvalidRequestError, UnsupportedMediaTypeError } from '../../../api/errors';
import { decodeRecords, encodeRecords, type StoredRecord } from '../../../lambda/core/log/record-batch';
import { findDuplicateKey } from '../../../lambda/middleware/duplicate-keys';
import { httpHandler } from '../../../lambda/middleware/http-handler';
import { isJsonContentType } from '../../../lambda/middleware/json-body';
import { jsonResponse } from '../../../lambda/middleware/responses';
import { validate } from '../../../lambda/middleware/validate';
import { heartbeatRequestSchema } from '../../../api/groups';
import { httpEvent, lambdaContext } from '../../support/events';
import { silentLogger } from '../../../lambda/core/logger';

describe('findDuplicateKey', () => {
  it.each([
    ['{}', undefined],
    ['[]', undefined],
    ['"x"', undefined],
    ['{"a":1,"b":{"a":2},"c":[{"a":3},{"a":4}]}', undefined],
    ['{"a":"\\"a\\":1,","b":"{\\"a\\":2}","c":"\\\\"}', undefined],
    ['{"a":1,"a":2}', { key: 'a', path: ['a'] }],
    ['{"a":{"b":[1,{"c":1," c":2,"c":3}]}}', { key: 'c', path: ['a', 'b', 1, 'c'] }],
    ['[0,1,{"x":{}},{"x":1,"y":"}","x":2}]', { key: 'x', path: [3, 'x'] }],
    ['{"a\\\\":1,"a\\\\":2}', { key: 'a\\', path: ['a\\'] }],
    ['{"\\u0061":1,"a":2}', { key: 'a', path: ['a'] }],
    ['{"__proto__":1,"__proto__":2}', { key: '__proto__', path: ['__proto__'] }],
    ['{"k":"\\\\\\"","k":"v"}', { key: 'k', path: ['k'] }],
    [' { "a" : 1 , "b" : [ ] , "a" : 2 } ', { key: 'a', path: ['a'] }],
  ])('%s → %j', (text, expected) => {
    JSON.parse(text); // the scanner runs on text JSON.parse accepted
    expect(findDuplicateKey(text)).toEqual(expected);
  });

  it('handles nesting far deeper than any stack, without recursion', () => {
    const levels = 1_000_000;
    const text = `${'{"a":['.repeat(levels)}{"d":1,"d":2}${']}'.repeat(levels)}`;
    const found = findDuplicateKey(text);
    expect(found?.key).toBe('d');
    expect(found?.path).toHaveLength(2 * levels + 1);
    expect(findDuplicateKey(`${'['.repeat(levels)}${']'.repeat(levels)}`)).toBeUndefined();
  });

  it('scans a 1 MB body in linear time', () => {
    const event = (i: number) => ({ key: `k${i}`, value: { id: i, name: `name "${i}" \\ x`, tags: ['a', 'b'], nested: { a: 1, b: [1, 2, 3] } }, headers: { h: 'v' } });
    const bodies = [500, 1000, 2000].map((n) => JSON.stringify({ events: Array.from({ length: n }, (_, i) => event(i)), pad: 'x'.repeat(8 * n) }));
    const time = (text: string) => {
      let best = Infinity;
      for (let r = 0; r < 15; r++) {
        const start = performance.now();
        expect(findDuplicateKey(text)).toBeUndefined();
        best = Math.min(best, performance.now() - start);
      }
      return best;
    };
    const [small, , big] = bodies.map(time) as [number, number, number];
    let count = 8_000;
    let oneMb = '';
    while (oneMb.length < 1024 * 1024) oneMb = JSON.stringify({ events: Array.from({ length: (count += 100) }, (_, i) => event(i)) });
    const parse = (() => {
      let best = Infinity;
      for (let r = 0; r < 15; r++) {
        const start = performance.now();
        JSON.parse(oneMb);
        best = Math.min(best, performance.now() - start);
      }
      return best;
    })();
    const scan = time(oneMb);
    console.info(`duplicate-key scan of ${(oneMb.length / 1024 / 1024).toFixed(2)} MiB (${count} events): ${scan.toFixed(2)} ms (JSON.parse: ${parse.toFixed(2)} ms); 4× the text: ${(big / small).toFixed(1)}× the time`);
    expect(big / small).toBeLessThan(8); // linear: 4× the text, about 4× the time
    expect(scan).toBeLessThan(200);
  });
});

describe('isJsonContentType', () => {
  it.each([
    'application/json',
    'application/json; charset=utf-8',
    'Application/JSON;charset="UTF-8"',
    'application/json;charset=utf8',
    'application/vnd.sluice.v1+json',
    'application/problem+json ; q=1',
    'application/json;',
  ])('accepts %s', (type) => expect(isJsonContentType(type)).toBe(true));

  it.each([
    undefined,
    '',
    'text/plain',
    'text/plain;charset=UTF-8',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=x',
    'application/jsonx',
    'application/+json',
    'text/json',
    'application/json, text/plain',
    'application/json; charset=latin1',
    'application/json; bogus',
  ])('refuses %s', (type) => expect(isJsonContentType(type)).toBe(false));
});

describe('the JSON body middleware', () => {
  const echo = httpHandler('transactions', { 'POST /transactions': async (event) => jsonResponse(200, { got: event.body }) }, silentLogger);
  const call = (body: string, headers?: Record<string, string>) => echo(httpEvent('POST /transactions', { body, headers }), lambdaContext);

  it('answers a body that is not JSON-typed with 415 UnsupportedMediaType', async () => {
    const res = await call('{"a":1}', { 'content-type': 'text/plain' });
    expect(res.statusCode).toBe(415);
    expect(JSON.parse(res.body!).error).toMatchObject({ code: 'UnsupportedMediaType', message: expect.stringContaining('text/plain') });
    expect(new UnsupportedMediaTypeError('x').retriable).toBe(false);
    // The client rebuilds the typed error from the body.
    const rebuilt = errorFromBody(415, JSON.parse(res.body!));
    expect(rebuilt).toBeInstanceOf(UnsupportedMediaTypeError);
    expect(rebuilt).toMatchObject({ status: 415, code: 'UnsupportedMediaType', retriable: false, details: { contentType: 'text/plain' } });
  });

  it('takes an empty body of any type as no body', async () => {
    const res = await call('', { 'content-type': 'text/plain' });
    expect(res.statusCode).toBe(200);
  });

  it('answers a duplicate key with 400 InvalidRequest naming its path', async () => {
    const res = await call('{"produce":[{"topic":"a","events":[{"value":{"x":1,"x":2}}]}]}');
    expect(res.statusCode).toBe(400);
    const { error } = JSON.parse(res.body!);
    expect(error.code).toBe('InvalidRequest');
    expect(error.message).toContain('body.produce.0.events.0.value.x');
    expect(error.issues).toEqual([{ path: 'body.produce.0.events.0.value.x', message: expect.stringContaining('"x"') }]);
  });

  it('keeps __proto__ keys as data', async () => {
    const res = await call('{"__proto__":{"polluted":1},"a":1}');
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('{"got":{"__proto__":{"polluted":1},"a":1}}');
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

describe('validate', () => {
  it('takes an absent body as {} where every field is optional, and refuses null or a non-object', () => {
    expect(validate(heartbeatRequestSchema, undefined, 'body')).toEqual({});
    for (const body of [null, [], 'x', 42, true]) {
      expect(() => validate(heartbeatRequestSchema, body, 'body')).toThrow(InvalidRequestError);
    }
  });
});

describe('__proto__ keys as data', () => {
  const text = '{"value":{"__proto__":{"x":1},"a":2,"list":[{"__proto__":null}]},"headers":{"__proto__":"h","b":"c"}}';

  it('pass the produce schema as they came, in values and header names', () => {
    const event = JSON.parse(text) as object;
    const parsed = produceEventSchema.parse(event);
    expect(JSON.stringify(parsed)).toBe(text);
    expect(JSON.stringify(produceRequestSchema.parse({ events: [JSON.parse(text)] }))).toBe(`{"events":[${text}]}`);
    expect(Object.getPrototypeOf(parsed.headers)).toBe(Object.prototype);
  });

  it('are checked like any header: a non-string value or an empty name is refused', () => {
    expect(produceEventSchema.safeParse(JSON.parse('{"headers":{"__proto__":1}}')).success).toBe(false);
    expect(produceEventSchema.safeParse(JSON.parse('{"headers":{"":"v"}}')).success).toBe(false);
    expect(produceEventSchema.safeParse({ headers: [] }).success).toBe(false);
    expect(produceEventSchema.safeParse({ headers: null }).success).toBe(false);
  });

  it.each([1, 200])('round-trip through a stored record batch (%i records)', (n) => {
    const one = JSON.parse(text) as { value: unknown; headers: Record<string, string> };
    const records: StoredRecord[] = Array.from({ length: n }, (_, i) => ({ v: one.value, h: one.headers, t: i, m: `m${i}` }));
    const encoded = encodeRecords(records);
    if (n > 1) expect(encoded.codec).toBe('framed+deflate-sync');
    const decoded = decodeRecords(encoded);
    expect(JSON.stringify(decoded)).toBe(JSON.stringify(records));
    expect(Object.getOwnPropertyNames(decoded[0]!.h)).toEqual(['__proto__', 'b']);
    expect(Object.getPrototypeOf(decoded[0]!.v)).toBe(Object.prototype);
    expect(({} as { x?: unknown }).x).toBeUndefined();
  });
});
