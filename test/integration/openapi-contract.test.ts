/**
 * The contract test: every route of ROUTES driven over real HTTP against the local platform (the
 * template twin: real handlers, DynamoDB Local, the SQS server), with success and error answers,
 * and every answer (status and body) checked against docs/openapi.json with ajv: the status must
 * be one the document lists for the route, and the body must match that response's schema.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchRoute, ROUTES, routeKey, type RouteDefinition } from '../../definitions/functions';
import type { Platform } from '../../local/platform';
import { waitFor } from '../../local/support';
import { OPERATIONS } from '../../api/openapi';
import { OPENAPI_PATH } from '../../build/openapi';
import { emulatorClients, startTestPlatform } from '../support/emulators';

interface Doc {
  readonly components: Record<string, unknown>;
  readonly paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>>;
}
const doc = JSON.parse(readFileSync(OPENAPI_PATH, 'utf8')) as Doc;
// strict: false, as OpenAPI schemas may carry keywords JSON Schema does not know (none today).
const ajv = new Ajv2020({ strict: false, allErrors: true });
const validators = new Map<string, ValidateFunction>();

/** Route keys answered, with the statuses seen: every route must have been driven. */
const seen = new Map<string, Set<number>>();

let platform: Platform;
const clients = emulatorClients();

interface Answer {
  readonly status: number;
  readonly body: any;
}

/** Sends a request and checks its answer against the document; `contentType` overrides JSON. */
async function call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> {
  const res = await fetch(`${platform.endpoint}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': contentType },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  const match = matchRoute(method, new URL(path, 'http://x').pathname);
  if (!match || !('route' in match)) throw new Error(`${method} ${path} matches no route`);
  checkAnswer(match.route, res.status, parsed, text);
  return { status: res.status, body: parsed };
}

function checkAnswer(route: RouteDefinition, status: number, body: unknown, text: string): void {
  const key = routeKey(route);
  const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
  expect(operation, `${key} is in the document`).toBeDefined();
  const response = operation!.responses[String(status)];
  expect(response, `${key} answered ${status} (${text.slice(0, 300)}), which the document does not list`).toBeDefined();
  const schema = response!.content?.['application/json']?.schema;
  if (!schema) {
    expect(text, `${key} ${status} has no body in the document`).toBe('');
  } else {
    const id = `${key} ${status}`;
    let validate = validators.get(id);
    // The document's components go along, so `#/components/schemas/...` refs resolve.
    if (!validate) validators.set(id, (validate = ajv.compile({ ...schema, components: doc.components })));
    const valid = validate(body);
    expect(valid ? [] : validate.errors, `${id}: ${text.slice(0, 500)}`).toEqual([]);
  }
  seen.set(key, (seen.get(key) ?? new Set()).add(status));
}

const ok = async (method: string, path: string, body?: unknown, status = 200) => {
  const res = await call(method, path, body);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  return res.body;
};
const fails = async (method: string, path: string, body: unknown, status: number, code: string) => {
  const res = await call(method, path, body);
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.code).toBe(code);
  return res.body.error;
};

beforeAll(async () => {
  platform = await startTestPlatform('openapi');
});

afterAll(async () => {
  await platform?.stop();
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('every route answers as docs/openapi.json says', () => {
  it('GET /openapi.json serves the committed document', async () => {
    expect(await ok('GET', '/openapi.json')).toEqual(doc);
  });

  it('topics, produce and fetch', async () => {
    await ok('POST', '/topics', { name: 'orders', partitions: 2 }, 201);
    await fails('POST', '/topics', { name: 'orders' }, 409, 'TopicAlreadyExists');
    await fails('POST', '/topics', { name: 'bad name' }, 400, 'InvalidRequest');
    const media = await call('POST', '/topics', 'name=x', 'text/plain');
    expect([media.status, media.body.error.code]).toEqual([415, 'UnsupportedMediaType']);
    expect((await ok('GET', '/topics')).topics.map((t: { name: string }) => t.name)).toContain('orders');
    expect((await ok('GET', '/topics/orders')).partitionOffsets).toHaveLength(2);
    await fails('GET', '/topics/nope', undefined, 404, 'TopicNotFound');
    await ok('PATCH', '/topics/orders', { retentionMs: 3_600_000 });
    await fails('PATCH', '/topics/orders', {}, 400, 'InvalidRequest');
    await ok('POST', '/topics', { name: 'grown', partitions: 2 }, 201);
    expect((await ok('PATCH', '/topics/grown', { partitions: 3 })).partitions).toBe(3);
    expect((await ok('GET', '/topics/grown')).partitionOffsets).toHaveLength(3);
    const fewer = await fails('PATCH', '/topics/grown', { partitions: 1 }, 400, 'InvalidRequest');
    expect(fewer.issues).toEqual([{ path: 'body.partitions', message: expect.stringContaining('must be at least 3') }]);
    const produced = await ok('POST', '/topics/orders/events', {
      events: [{ key: 'k', value: { n: 1 }, headers: { h: 'v' } }, { valueBase64: 'AAE=', partition: 1 }],
    });
    expect(produced.results).toHaveLength(2);
    await fails('POST', '/topics/nope/events', { events: [{ value: 1 }] }, 404, 'TopicNotFound');
    await fails('POST', '/topics/orders/events', { events: Array.from({ length: 501 }, () => ({ value: 1 })) }, 413, 'RequestTooLarge');
    const headers = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`h${i}`, 'v']));
    await fails('POST', '/topics/orders/events', { events: [{ value: 1, headers }] }, 400, 'TooManyHeaders');
    const fetched = await ok('GET', `/topics/orders/partitions/${produced.results[0].partition}/events?offset=earliest`);
    expect(fetched.events.length).toBeGreaterThan(0);
    await fails('GET', '/topics/orders/partitions/0/events?offset=999', undefined, 416, 'OffsetOutOfRange');
    await fails('GET', '/topics/orders/partitions/7/events', undefined, 404, 'PartitionNotFound');
    const error = await fails('GET', '/topics/orders/partitions/0/events?offset=earliset', undefined, 400, 'InvalidRequest');
    // The answer says what is allowed, not just "Invalid input".
    expect(error.issues).toEqual([
      { path: 'query.offset', message: 'must be one of "earliest", "latest" or a non-negative integer of at most 16 digits' },
    ]);
  });

  it('consumer groups and transactions', async () => {
    await ok('POST', '/topics', { name: 'clicks' }, 201);
    const joined = await ok('POST', '/groups/g1/members', { topics: ['clicks'], offsetReset: 'earliest', clientId: 'contract-1' });
    const member = `/groups/g1/members/${joined.memberId}`;
    await fails('POST', '/groups/g1/members', { topics: ['clicks'], offsetReset: 'earlest' }, 400, 'InvalidRequest');
    await fails('POST', '/groups/g1/members', { topics: ['missing'] }, 404, 'TopicNotFound');
    const beat = await ok('POST', `${member}/heartbeat`, { generation: joined.generation });
    await fails('POST', '/groups/g1/members/ghost/heartbeat', {}, 409, 'FencedMember');
    await ok('POST', '/topics/clicks/events', { events: [{ key: 'a', value: 1 }] });
    const records = await waitFor(async () => {
      const r = await ok('GET', `${member}/records?waitMs=1000`);
      return r.records.length > 0 ? r : undefined;
    }, { timeoutMs: 15_000, what: 'the produced record' });
    expect(records.records[0].value).toBe(1);
    await fails('GET', `${member}/records?commit=yes`, undefined, 400, 'InvalidRequest');
    await ok('POST', '/groups/g1/offsets', { memberId: joined.memberId, generation: beat.generation, offsets: [{ topic: 'clicks', partition: 0, offset: 1 }] }, 204);
    await fails('POST', '/groups/g1/offsets', { memberId: 'ghost', generation: beat.generation, offsets: [{ topic: 'clicks', partition: 0, offset: 1 }] }, 409, 'FencedMember');
    const described = await ok('GET', '/groups/g1');
    expect(described.partitions[0]).toMatchObject({ topic: 'clicks', committedOffset: 1 });
    // The host is the caller's address as the gateway saw it (here, this process over loopback).
    expect(described.members[0]).toMatchObject({ clientId: 'contract-1', host: expect.stringMatching(/^(127\.0\.0\.1|::1)$/) });
    const notEmpty = await fails('DELETE', '/groups/g1', undefined, 409, 'GroupNotEmpty');
    expect(notEmpty.members).toEqual([joined.memberId]);
    await fails('GET', '/groups/nope', undefined, 404, 'GroupNotFound');
    expect((await ok('GET', '/groups')).groups).toContain('g1');
    const tx = await ok('POST', '/transactions', {
      produce: [{ topic: 'clicks', events: [{ value: 2 }] }],
      commit: { group: 'g1', memberId: joined.memberId, generation: beat.generation, offsets: [{ topic: 'clicks', partition: 0, offset: 2 }] },
    });
    expect(tx.committed).toBe(true);
    await fails('POST', '/transactions', {}, 400, 'InvalidRequest');
    await ok('DELETE', member, undefined, 204);
    expect((await ok('POST', '/groups/g1/seek', { topic: 'clicks', to: 'earliest' })).offsets).toHaveLength(1);
    const seekError = await fails('POST', '/groups/g1/seek', { topic: 'clicks', to: 'start' }, 400, 'InvalidRequest');
    expect(seekError.message).toContain('must be one of "earliest", "latest", an object { offset } or an object { timestamp }');
    await ok('DELETE', '/groups/g1', undefined, 204);
    expect((await ok('GET', '/groups')).groups).not.toContain('g1');
    await fails('DELETE', '/groups/g1', undefined, 404, 'GroupNotFound');
  });

  it('ACLs', async () => {
    const created = await ok('POST', '/acls', { acls: [{ principal: '*', resourceType: 'topic', resourceName: 'orders', operation: 'read' }] }, 201);
    expect(created.acls).toHaveLength(1);
    const error = await fails('POST', '/acls', { acls: [{ principal: '*', resourceType: 'topik', resourceName: 'x', operation: 'read' }] }, 400, 'InvalidRequest');
    expect(error.message).toContain('must be one of "topic", "group", "cluster" or "queue"');
    expect((await ok('GET', '/acls?resourceType=topic')).acls).toHaveLength(1);
    await fails('DELETE', '/acls', undefined, 400, 'InvalidRequest');
    expect((await ok('DELETE', `/acls?id=${created.acls[0].id}`)).deleted).toHaveLength(1);
  });

  it('message queues', async () => {
    await ok('POST', '/queues', { name: 'jobs' }, 201);
    await fails('POST', '/queues', { name: 'jobs' }, 409, 'QueueAlreadyExists');
    expect((await ok('GET', '/queues')).queues.map((q: { name: string }) => q.name)).toContain('jobs');
    await ok('GET', '/queues/jobs');
    await fails('GET', '/queues/nope', undefined, 404, 'QueueNotFound');
    await ok('POST', '/queues/jobs/messages', { messages: [{ body: { n: 1 } }, { body: 'two' }] });
    await fails('POST', '/queues/nope/messages', { messages: [{ body: 1 }] }, 404, 'QueueNotFound');
    const received = await waitFor(async () => {
      const r = await ok('POST', '/queues/jobs/receive', { maxMessages: 2, waitMs: 1000 });
      return r.messages.length > 0 ? r.messages : undefined;
    }, { timeoutMs: 15_000, what: 'the sent messages' });
    const handle: string = received[0].receiptHandle;
    await ok('POST', '/queues/jobs/extend', { receiptHandles: [handle], visibilityTimeoutMs: 60_000 });
    await ok('POST', '/queues/jobs/nack', { receiptHandles: [handle] });
    await ok('POST', '/queues/jobs/ack', { receiptHandles: ['not-a-handle'] });
    await fails('POST', '/queues/jobs/ack', { receiptHandles: [] }, 400, 'InvalidRequest');
    expect(await ok('POST', '/queues/jobs/redrive', {})).toMatchObject({ moved: 0 });
    expect(await ok('POST', '/queues/jobs/purge', { target: 'dead-letters' })).toEqual({ target: 'dead-letters' });
    await fails('POST', '/queues/jobs/purge', { target: 'dlq' }, 400, 'InvalidRequest');
  });

  it('push subscriptions', async () => {
    await ok('POST', '/topics', { name: 'audit' }, 201);
    await ok('POST', '/queues', { name: 'audit-sink' }, 201);
    await ok('POST', '/topics/audit/subscriptions', { name: 's1', target: { type: 'queue', queue: 'audit-sink' }, filter: { value: { kind: ['a'] } } }, 201);
    await fails('POST', '/topics/audit/subscriptions', { name: 's1', target: { type: 'queue', queue: 'audit-sink' } }, 409, 'SubscriptionAlreadyExists');
    await fails('POST', '/topics/nope/subscriptions', { name: 's1', target: { type: 'queue', queue: 'audit-sink' } }, 404, 'TopicNotFound');
    expect((await ok('GET', '/topics/audit/subscriptions')).subscriptions).toHaveLength(1);
    await ok('GET', '/topics/audit/subscriptions/s1');
    await fails('GET', '/topics/audit/subscriptions/nope', undefined, 404, 'SubscriptionNotFound');
    await ok('POST', '/topics/audit/subscriptions/s1/seek', { to: 'earliest' });
    await fails('POST', '/topics/audit/subscriptions/s1/seek', { to: 'begin' }, 400, 'InvalidRequest');
    expect(await ok('GET', '/topics/audit/subscriptions/s1/dead-letters?limit=10')).toEqual({ deadLetters: [], total: 0 });
    await ok('POST', '/topics/audit/subscriptions/s1/dead-letters/redrive', {});
    await ok('DELETE', '/topics/audit/subscriptions/s1', undefined, 204);
    await fails('DELETE', '/topics/audit/subscriptions/s1', undefined, 404, 'SubscriptionNotFound');
    await ok('DELETE', '/queues/audit-sink', undefined, 204);
    await ok('DELETE', '/queues/jobs', undefined, 204);
    await fails('DELETE', '/queues/jobs', undefined, 404, 'QueueNotFound');
  });

  it('stream processors', async () => {
    expect((await ok('GET', '/processors')).processors).toEqual([]);
    await fails('GET', '/processors/nope', undefined, 404, 'ProcessorNotFound');
  });

  it('deleting topics', async () => {
    await ok('DELETE', '/topics/audit', undefined, 204);
    await fails('DELETE', '/topics/audit', undefined, 404, 'TopicNotFound');
  });

  it('every route that takes input refuses bad input as documented', async () => {
    for (const route of ROUTES) {
      const key = routeKey(route);
      const op = OPERATIONS[key] as { body?: unknown; query?: unknown };
      const params = /\{\w+\}/.test(route.path);
      if (!op.body && !params && !op.query) continue; // takes no input: nothing to refuse
      // A body route refuses a body that is not JSON; otherwise a path segment no name allows
      // ("bad name", a partition "x"), or a query parameter the route does not take.
      const path = route.path.replace(/\{\w+\}/g, (p) => (p === '{partition}' ? 'x' : 'bad%20name'));
      const res = op.body
        ? await call(route.method, path, 'not json', 'text/plain')
        : await call(route.method, params ? path : `${path}?unknownParameter=1`);
      expect([key, res.status]).toEqual([key, op.body ? 415 : 400]);
    }
  });

  it('drove every route of ROUTES', () => {
    expect([...seen.keys()].sort()).toEqual(ROUTES.map(routeKey).sort());
    // And every route that takes input answered an error too.
    for (const route of ROUTES) {
      const key = routeKey(route);
      const op = OPERATIONS[key] as { body?: unknown; query?: unknown };
      if (op.body || op.query || route.path.includes('{')) expect([key, [...seen.get(key)!].some((s) => s >= 400)]).toEqual([key, true]);
    }
  });
});
