/**
 * Produce and fetch over HTTP against the local platform: every limit and every bad input answers
 * with its status and code, and writes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_LIMITS, FETCH_LIMITS } from '../../api/events';
import { SluiceClient } from '../../client';
import type { Platform } from '../../local/platform';
import { startTestPlatform } from '../support/emulators';

let platform: Platform;

async function call(method: string, path: string, body?: unknown) {
  const res = await fetch(`${platform.endpoint}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

const produce = (topic: string, events: unknown[]) => call('POST', `/topics/${topic}/events`, { events });
const highWatermarks = async (topic: string) =>
  ((await call('GET', `/topics/${topic}`)).body.partitionOffsets as { highWatermark: number }[]).map((p) => p.highWatermark);

beforeAll(async () => {
  platform = await startTestPlatform('events');
  await call('POST', '/topics', { name: 'orders', partitions: 3 });
  await call('POST', '/topics', { name: 'single', partitions: 1 });
  await call('POST', '/topics', { name: 'wide', partitions: 60 });
  await call('POST', '/topics', { name: 'nodedupe', partitions: 1, dedupeWindowMs: 0 });
});

afterAll(async () => {
  await platform?.stop();
});

describe('POST /topics/{topic}/events', () => {
  it('appends and answers one result per event, in request order', async () => {
    const res = await produce('orders', [{ key: 'a', value: 1 }, { value: 'keyless' }, { partition: 2, valueBase64: 'AQID' }]);
    expect(res.status).toBe(200);
    expect(res.body.results).toHaveLength(3);
    expect(res.body.results[2]).toMatchObject({ partition: 2, duplicate: false });
    for (const r of res.body.results) expect(r.messageId).toEqual(expect.any(String));
  });

  it('answers a retried request with duplicate: true and leaves the high watermark alone', async () => {
    const events = [{ key: 'x', value: 1, messageId: 'retry-1' }, { key: 'y', value: 2, messageId: 'retry-2' }];
    const first = await produce('orders', events);
    const before = await highWatermarks('orders');
    const again = await produce('orders', events);
    expect(again.body.results).toEqual(first.body.results.map((r: object) => ({ ...r, duplicate: true })));
    expect(await highWatermarks('orders')).toEqual(before);
  });

  it(`accepts ${EVENT_LIMITS.maxTransactionActions - 2} events with message IDs to one partition with dedupe on`, async () => {
    const n = EVENT_LIMITS.maxTransactionActions - 2;
    const res = await produce('single', Array.from({ length: n }, (_, i) => ({ value: i, messageId: `one-${i}` })));
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { offset: number }) => r.offset)).toEqual(Array.from({ length: n }, (_, i) => i));
  });

  it('accepts 40 events with message IDs over 30 partitions with dedupe on', async () => {
    const res = await produce('wide', Array.from({ length: 40 }, (_, i) => ({ partition: i % 30, value: i, messageId: `w30-${i}` })));
    expect(res.status).toBe(200);
  });

  it(`accepts ${EVENT_LIMITS.maxEventsPerRequest} events with dedupe off`, async () => {
    const res = await produce('nodedupe', Array.from({ length: EVENT_LIMITS.maxEventsPerRequest }, (_, i) => ({ value: { i } })));
    expect(res.status).toBe(200);
  });

  const big = 'x'.repeat(EVENT_LIMITS.maxEventBytes + 1);
  it.each([
    ['too many transactional writes', 'single', Array.from({ length: 99 }, (_, i) => ({ value: i, messageId: `tw-${i}` })), 413, 'RequestTooLarge'],
    ['40 events over 40 partitions', 'wide', Array.from({ length: 40 }, (_, i) => ({ partition: i, value: i, messageId: `wp-${i}` })), 413, 'RequestTooLarge'],
    ['too many events', 'nodedupe', Array.from({ length: EVENT_LIMITS.maxEventsPerRequest + 1 }, () => ({ value: 1 })), 413, 'RequestTooLarge'],
    ['too many bytes', 'nodedupe', Array.from({ length: 13 }, () => ({ value: 'y'.repeat(250_000) })), 413, 'RequestTooLarge'],
    ['an event too large', 'orders', [{ value: big }], 413, 'EventTooLarge'],
    ['too many headers', 'orders', [{ value: 1, headers: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, 'v'])) }], 400, 'TooManyHeaders'],
    ['a key too large', 'orders', [{ key: 'k'.repeat(EVENT_LIMITS.maxKeyBytes + 1), value: 1 }], 400, 'KeyTooLarge'],
    ['a partition that does not exist', 'orders', [{ partition: 3, value: 1 }], 404, 'PartitionNotFound'],
    ['both value and valueBase64', 'orders', [{ value: 1, valueBase64: 'AQ==' }], 400, 'InvalidRequest'],
    ['bad base64', 'orders', [{ valueBase64: 'not base64!' }], 400, 'InvalidRequest'],
    ['a message ID with a space', 'orders', [{ value: 1, messageId: 'has space' }], 400, 'InvalidRequest'],
    ['a negative partition', 'orders', [{ value: 1, partition: -1 }], 400, 'InvalidRequest'],
    ['a non-string header', 'orders', [{ value: 1, headers: { a: 1 } }], 400, 'InvalidRequest'],
    ['an unknown field', 'orders', [{ value: 1, offset: 3 }], 400, 'InvalidRequest'],
    ['no events', 'orders', [], 400, 'InvalidRequest'],
  ])('refuses %s (topic %s) and writes nothing', async (_label, topic, events, status, code) => {
    const before = await highWatermarks(topic);
    const res = await produce(topic, events);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(await highWatermarks(topic)).toEqual(before);
  });

  it('answers 404 TopicNotFound for an unknown topic', async () => {
    const res = await produce('nope', [{ value: 1 }]);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('TopicNotFound');
  });

  it('accepts 200 events without message IDs in one request: generated IDs need no dedupe record', async () => {
    const res = await produce('single', Array.from({ length: 200 }, (_, i) => ({ value: i })));
    expect(res.status).toBe(200);
    expect(new Set(res.body.results.map((r: { messageId: string }) => r.messageId)).size).toBe(200);
  });
});

describe('GET /topics/{topic}/partitions/{partition}/events', () => {
  it('returns events in offset order with the offsets and bounds', async () => {
    await produce('single', [{ value: 'a' }, { value: 'b' }]);
    const res = await call('GET', '/topics/single/partitions/0/events?offset=earliest&limit=2');
    expect(res.status).toBe(200);
    expect(res.body.events.map((e: { offset: number }) => e.offset)).toEqual([0, 1]);
    expect(res.body).toMatchObject({ nextOffset: 2, logStartOffset: 0 });
    expect(res.body.highWatermark).toBeGreaterThanOrEqual(2);
  });

  it.each([
    ['offset=-1', 400, 'InvalidRequest'],
    ['offset=abc', 400, 'InvalidRequest'],
    [`limit=${FETCH_LIMITS.maxLimit + 1}`, 400, 'InvalidRequest'],
    ['limit=0', 400, 'InvalidRequest'],
    [`waitMs=${FETCH_LIMITS.maxWaitMs + 1}`, 400, 'InvalidRequest'],
    ['offset=0&timestamp=5', 400, 'InvalidRequest'],
    ['bogus=1', 400, 'InvalidRequest'],
    ['offset=100000', 416, 'OffsetOutOfRange'],
  ])('answers ?%s with %i %s', async (query, status, code) => {
    const res = await call('GET', `/topics/single/partitions/0/events?${query}`);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
  });

  it('answers 416 with both bounds, like Kafka', async () => {
    const res = await call('GET', '/topics/single/partitions/0/events?offset=100000');
    expect(res.body.error).toMatchObject({ logStartOffset: 0, highWatermark: expect.any(Number) });
  });

  it('answers 404 PartitionNotFound and 400 for a non-numeric partition', async () => {
    expect((await call('GET', '/topics/orders/partitions/3/events')).body.error.code).toBe('PartitionNotFound');
    expect((await call('GET', '/topics/orders/partitions/x/events')).status).toBe(400);
  });
});

describe('PATCH /topics/{topic}', () => {
  it('changes retention and the dedupe window', async () => {
    const res = await call('PATCH', '/topics/orders', { retentionMs: -1, dedupeWindowMs: 0 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'orders', retentionMs: -1, dedupeWindowMs: 0, partitions: 3 });
  });

  it.each([
    [{}, 400],
    // Growing is allowed (test/integration/group-admin.test.ts); a count below 1 never is.
    [{ partitions: 0 }, 400],
    [{ retentionMs: 0 }, 400],
  ])('refuses %j with %i and leaves the topic as it was', async (body, status) => {
    const before = (await call('GET', '/topics/single')).body;
    expect((await call('PATCH', '/topics/single', body)).status).toBe(status);
    expect((await call('GET', '/topics/single')).body).toEqual(before);
  });

  it('answers 404 for an unknown topic and creates nothing', async () => {
    expect((await call('PATCH', '/topics/ghost', { retentionMs: -1 })).status).toBe(404);
    expect((await call('GET', '/topics/ghost')).status).toBe(404);
  });
});

/** A raw request: the body text and the content-type exactly as given (none when undefined). */
async function raw(method: string, path: string, body: string, contentType?: string) {
  const res = await fetch(`${platform.endpoint}${path}`, {
    method,
    // fetch labels a string body text/plain unless told otherwise; an empty type sends none at all.
    headers: contentType === undefined ? {} : { 'content-type': contentType },
    body: contentType === undefined ? new Blob([body]) : body,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe('request bodies (issue 8)', () => {
  it('round-trips __proto__ keys in values and header names as data, and changes no prototype', async () => {
    const text = '{"events":[{"value":{"__proto__":{"x":1},"a":2,"n":[{"__proto__":null}]},"headers":{"__proto__":"h","b":"c"}}]}';
    const sent = JSON.parse(text) as { events: [{ value: object; headers: object }] };
    const produced = await raw('POST', '/topics/single/events', text, 'application/json');
    expect(produced.status).toBe(200);
    const { offset } = produced.body.results[0] as { offset: number };
    const res = await fetch(`${platform.endpoint}/topics/single/partitions/0/events?offset=${offset}&limit=1`);
    const fetched = JSON.parse(await res.text()) as { events: { value: object; headers: object }[] };
    const [event] = fetched.events;
    expect(JSON.stringify(event!.value)).toBe(JSON.stringify(sent.events[0].value));
    expect(JSON.stringify(event!.headers)).toBe(JSON.stringify(sent.events[0].headers));
    expect(Object.getOwnPropertyNames(event!.headers)).toEqual(['__proto__', 'b']);
    expect(Object.getPrototypeOf(event!.value)).toBe(Object.prototype);
    expect(({} as { x?: unknown }).x).toBeUndefined();
  });

  it('round-trips __proto__ keys through the TypeScript client too', async () => {
    const client = new SluiceClient({ endpoint: platform.endpoint });
    const event = JSON.parse('{"value":{"__proto__":{"x":1},"a":2},"headers":{"__proto__":"h"}}') as { value: object; headers: Record<string, string> };
    const [result] = await client.produce('single', [event]);
    const { events } = await client.fetch('single', 0, { offset: result!.offset, limit: 1 });
    expect(JSON.stringify(events[0]!.value)).toBe('{"__proto__":{"x":1},"a":2}');
    expect(JSON.stringify(events[0]!.headers)).toBe('{"__proto__":"h"}');
    expect(Object.getPrototypeOf(events[0]!.headers)).toBe(Object.prototype);
  });

  it.each([
    ['at the top', '{"events":[{"value":1}],"events":[{"value":2}]}', 'body.events'],
    ['in an event', '{"events":[{"value":1,"value":2}]}', 'body.events.0.value'],
    ['deep in a value', '{"events":[{"value":[0,{"a":{"b":1,"b":2}}]}]}', 'body.events.0.value.1.a.b'],
    ['in headers', '{"events":[{"value":1,"headers":{"h":"1","h":"2"}}]}', 'body.events.0.headers.h'],
    ['spelt with escapes', '{"events":[{"value":{"__proto__":1,"\\u005f_proto__":2}}]}', 'body.events.0.value.__proto__'],
  ])('refuses a duplicate key %s with 400 InvalidRequest naming its path, and writes nothing', async (_label, text, path) => {
    const before = await highWatermarks('single');
    const res = await raw('POST', '/topics/single/events', text, 'application/json');
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
    expect(res.body.error.message).toContain(path);
    expect(res.body.error.issues).toEqual([expect.objectContaining({ path })]);
    expect(await highWatermarks('single')).toEqual(before);
  });

  it.each([
    ['no content-type', undefined],
    ['text/plain', 'text/plain'],
    ['text/plain with a charset', 'text/plain;charset=UTF-8'],
    ['form data', 'application/x-www-form-urlencoded'],
    ['application/jsonx', 'application/jsonx'],
    ['application/json in a list with another', 'application/json, text/plain'],
  ])('refuses a body with %s with 415 UnsupportedMediaType, and writes nothing', async (_label, type) => {
    const before = await highWatermarks('single');
    const res = await raw('POST', '/topics/single/events', '{"events":[{"value":1}]}', type);
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UnsupportedMediaType');
    expect(typeof res.body.error.message).toBe('string');
    expect(await highWatermarks('single')).toEqual(before);
  });

  it.each(['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"', 'application/vnd.sluice+json'])(
    'accepts a body sent as %s',
    async (type) => {
      expect((await raw('POST', '/topics/single/events', '{"events":[{"value":1}]}', type)).status).toBe(200);
    },
  );

  it('ignores the body of a route that takes none, whatever its type', async () => {
    const res = await raw('DELETE', '/topics/no-such-topic', 'not json', 'text/plain');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('TopicNotFound');
  });
});
