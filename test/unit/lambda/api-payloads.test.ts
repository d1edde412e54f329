/**
 * Every route of every handler module, and the fallback's 404/405, driven with both API Gateway
 * payload formats: 2.0 (HTTP API, `httpEvent`) and 1.0 (REST API proxy integration, `restEvent`).
 * The services are stubs that record calls: this is about the HTTP edge, not the core.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyEventV2 } from 'aws-lambda';
import { beforeEach, describe, expect, it } from 'vitest';
import { ROUTES, routeKey, type FunctionName, type RouteKey } from '../../../definitions/functions';
import { silentLogger } from '../../../lambda/core/logger';
import { createAclsHandler } from '../../../lambda/handlers/acls';
import { createFallbackHandler } from '../../../lambda/handlers/fallback';
import { createFetchHandler } from '../../../lambda/handlers/fetch';
import { createGroupsHandler } from '../../../lambda/handlers/groups';
import { createProduceHandler } from '../../../lambda/handlers/produce';
import { createTopicsHandler } from '../../../lambda/handlers/topics';
import { createTransactionsHandler } from '../../../lambda/handlers/transactions';
import { createSubscriptionsHandler } from '../../../lambda/handlers/subscriptions';
import { createQueuesHandler } from '../../../lambda/handlers/queues';
import { createProcessorsHandler } from '../../../lambda/handlers/processors';
import { createOpenApiHandler } from '../../../lambda/handlers/openapi';
import type { HttpLambdaHandler } from '../../../lambda/middleware/http-handler';
import { httpEvent, lambdaContext, restEvent, type ApiEventInit } from '../../support/events';

/** A service whose every method records its call and answers `{}` (or what `answers` says). */
function stubService(calls: [string, unknown[]][], answers: Record<string, unknown> = {}) {
  return new Proxy(
    {},
    {
      get: (_, name) =>
        typeof name === 'string' && name !== 'then'
          ? async (...args: unknown[]) => {
              calls.push([name, args]);
              return answers[name] ?? {};
            }
          : undefined,
    },
  );
}

/** Every service call of the current test, in order. */
const recorded: [string, unknown[]][] = [];
beforeEach(() => {
  recorded.length = 0;
});

const handlers: Record<Exclude<FunctionName, 'topicPurge' | 'dispatcher' | 'deliverer'>, HttpLambdaHandler> = {
  topics: createTopicsHandler(stubService(recorded) as Parameters<typeof createTopicsHandler>[0], silentLogger),
  produce: createProduceHandler(stubService(recorded, { produce: { results: [] } }) as Parameters<typeof createProduceHandler>[0], silentLogger),
  fetch: createFetchHandler(stubService(recorded) as Parameters<typeof createFetchHandler>[0], silentLogger),
  groups: createGroupsHandler(stubService(recorded) as Parameters<typeof createGroupsHandler>[0], silentLogger),
  transactions: createTransactionsHandler(stubService(recorded) as Parameters<typeof createTransactionsHandler>[0], silentLogger),
  acls: createAclsHandler(stubService(recorded, { create: [], list: [], delete: [] }) as Parameters<typeof createAclsHandler>[0], silentLogger),
  subscriptions: createSubscriptionsHandler(
    stubService(recorded, { list: [], create: {}, describe: {}, seek: {}, deadLetters: {}, redrive: {} }) as Parameters<typeof createSubscriptionsHandler>[0],
    silentLogger,
  ),
  queues: createQueuesHandler(stubService(recorded, { list: [] }) as Parameters<typeof createQueuesHandler>[0], silentLogger),
  processors: createProcessorsHandler(stubService(recorded, { list: [] }) as Parameters<typeof createProcessorsHandler>[0], silentLogger),
  openapi: createOpenApiHandler(silentLogger),
  fallback: createFallbackHandler(silentLogger),
};
interface RouteCase {
  readonly key: RouteKey;
  readonly init: ApiEventInit;
  readonly status: number;
  /** The service method called and its arguments (null: the route has no service). */
  readonly call: [string, unknown[]] | null;
}

const EVENT = { key: 'k', value: { n: 1 } };
const OFFSETS = { memberId: 'm-1', generation: 3, offsets: [{ topic: 'orders', partition: 0, offset: 7 }] };

const CASES: RouteCase[] = [
  { key: 'POST /topics', init: { rawPath: '/topics', body: { name: 'orders', partitions: 2 } }, status: 201, call: ['createTopic', [{ name: 'orders', partitions: 2 }]] },
  { key: 'GET /topics', init: { rawPath: '/topics' }, status: 200, call: ['listTopics', []] },
  { key: 'GET /topics/{topic}', init: { rawPath: '/topics/orders', pathParameters: { topic: 'orders' } }, status: 200, call: ['describeTopic', ['orders']] },
  {
    key: 'PATCH /topics/{topic}',
    init: { rawPath: '/topics/orders', pathParameters: { topic: 'orders' }, body: { retentionMs: 3_600_000, partitions: 8 } },
    status: 200,
    call: ['updateTopic', ['orders', { retentionMs: 3_600_000, partitions: 8 }]],
  },
  { key: 'DELETE /topics/{topic}', init: { rawPath: '/topics/orders', pathParameters: { topic: 'orders' } }, status: 204, call: ['deleteTopic', ['orders']] },
  {
    key: 'POST /topics/{topic}/events',
    init: { rawPath: '/topics/orders/events', pathParameters: { topic: 'orders' }, body: { events: [EVENT] } },
    status: 200,
    // No `producer` in the body: the idempotent-producer argument is absent.
    call: ['produce', ['orders', [EVENT], undefined]],
  },
  {
    key: 'POST /topics/{topic}/events',
    init: {
      rawPath: '/topics/orders/events',
      pathParameters: { topic: 'orders' },
      body: { events: [EVENT], producer: { id: 'p-1', epoch: 1, sequence: 0 } },
    },
    status: 200,
    call: ['produce', ['orders', [EVENT], { id: 'p-1', epoch: 1, sequence: 0 }]],
  },
  {
    key: 'GET /topics/{topic}/partitions/{partition}/events',
    init: {
      rawPath: '/topics/orders/partitions/1/events',
      pathParameters: { topic: 'orders', partition: '1' },
      query: { offset: '5', limit: '10' },
    },
    status: 200,
    call: ['fetch', ['orders', 1, { offset: 5, limit: 10 }]],
  },
  { key: 'GET /groups', init: { rawPath: '/groups' }, status: 200, call: ['listGroups', []] },
  { key: 'GET /groups/{group}', init: { rawPath: '/groups/g', pathParameters: { group: 'g' } }, status: 200, call: ['describe', ['g']] },
  { key: 'DELETE /groups/{group}', init: { rawPath: '/groups/g', pathParameters: { group: 'g' } }, status: 204, call: ['deleteGroup', ['g']] },
  {
    key: 'POST /groups/{group}/members',
    init: { rawPath: '/groups/g/members', pathParameters: { group: 'g' }, body: { topics: ['orders'], clientId: 'worker-1' } },
    status: 200,
    // The member's host is the caller's source IP (2.0 requestContext.http.sourceIp, 1.0 identity.sourceIp).
    call: ['join', ['g', { topics: ['orders'], clientId: 'worker-1' }, { host: '127.0.0.1' }]],
  },
  {
    key: 'POST /groups/{group}/members/{memberId}/heartbeat',
    init: { rawPath: '/groups/g/members/m-1/heartbeat', pathParameters: { group: 'g', memberId: 'm-1' }, body: { generation: 3 } },
    status: 200,
    call: ['heartbeat', ['g', 'm-1', 3]],
  },
  {
    key: 'DELETE /groups/{group}/members/{memberId}',
    init: { rawPath: '/groups/g/members/m-1', pathParameters: { group: 'g', memberId: 'm-1' } },
    status: 204,
    call: ['leave', ['g', 'm-1']],
  },
  {
    key: 'GET /groups/{group}/members/{memberId}/records',
    init: {
      rawPath: '/groups/g/members/m-1/records',
      pathParameters: { group: 'g', memberId: 'm-1' },
      query: { maxRecords: '10', commit: 'true' },
    },
    status: 200,
    call: ['records', ['g', 'm-1', { maxRecords: 10, commit: true }]],
  },
  {
    key: 'POST /groups/{group}/offsets',
    init: { rawPath: '/groups/g/offsets', pathParameters: { group: 'g' }, body: OFFSETS },
    status: 204,
    call: ['commit', ['g', OFFSETS]],
  },
  {
    key: 'POST /groups/{group}/seek',
    init: { rawPath: '/groups/g/seek', pathParameters: { group: 'g' }, body: { topic: 'orders', to: 'earliest' } },
    status: 200,
    call: ['seek', ['g', { topic: 'orders', to: 'earliest' }]],
  },
  {
    key: 'POST /transactions',
    init: { rawPath: '/transactions', body: { produce: [{ topic: 'out', events: [EVENT] }] } },
    status: 200,
    call: ['run', [{ produce: [{ topic: 'out', events: [EVENT] }] }]],
  },
  {
    key: 'POST /acls',
    init: { rawPath: '/acls', body: { acls: [{ principal: '*', resourceType: 'topic', resourceName: 'orders', operation: 'read' }] } },
    status: 201,
    call: ['create', [[{ principal: '*', resourceType: 'topic', patternType: 'literal', resourceName: 'orders', operation: 'read', permission: 'allow' }]]],
  },
  { key: 'GET /acls', init: { rawPath: '/acls', query: { resourceType: 'topic' } }, status: 200, call: ['list', [{ resourceType: 'topic' }]] },
  { key: 'DELETE /acls', init: { rawPath: '/acls', query: { principal: '*' } }, status: 200, call: ['delete', [{ principal: '*' }]] },
  {
    key: 'POST /topics/{topic}/subscriptions',
    init: { rawPath: '/topics/orders/subscriptions', pathParameters: { topic: 'orders' }, body: { name: 'audit', target: { type: 'webhook', url: 'https://hooks.example.com/in' } } },
    status: 201,
    call: ['create', ['orders', expect.objectContaining({ name: 'audit', target: { type: 'webhook', url: 'https://hooks.example.com/in' } })]],
  },
  { key: 'GET /topics/{topic}/subscriptions', init: { rawPath: '/topics/orders/subscriptions', pathParameters: { topic: 'orders' } }, status: 200, call: ['list', ['orders']] },
  {
    key: 'GET /topics/{topic}/subscriptions/{name}',
    init: { rawPath: '/topics/orders/subscriptions/audit', pathParameters: { topic: 'orders', name: 'audit' } },
    status: 200,
    call: ['describe', ['orders', 'audit']],
  },
  {
    key: 'DELETE /topics/{topic}/subscriptions/{name}',
    init: { rawPath: '/topics/orders/subscriptions/audit', pathParameters: { topic: 'orders', name: 'audit' } },
    status: 204,
    call: ['delete', ['orders', 'audit']],
  },
  {
    key: 'POST /topics/{topic}/subscriptions/{name}/seek',
    init: { rawPath: '/topics/orders/subscriptions/audit/seek', pathParameters: { topic: 'orders', name: 'audit' }, body: { to: 'earliest' } },
    status: 200,
    call: ['seek', ['orders', 'audit', { to: 'earliest' }]],
  },
  {
    key: 'GET /topics/{topic}/subscriptions/{name}/dead-letters',
    init: { rawPath: '/topics/orders/subscriptions/audit/dead-letters', pathParameters: { topic: 'orders', name: 'audit' } },
    status: 200,
    call: ['deadLetters', ['orders', 'audit', expect.any(Object)]],
  },
  {
    key: 'POST /topics/{topic}/subscriptions/{name}/dead-letters/redrive',
    init: { rawPath: '/topics/orders/subscriptions/audit/dead-letters/redrive', pathParameters: { topic: 'orders', name: 'audit' } },
    status: 200,
    call: ['redrive', ['orders', 'audit', expect.anything()]],
  },
  { key: 'POST /queues', init: { rawPath: '/queues', body: { name: 'jobs', maxReceiveCount: 3 } }, status: 201, call: ['create', [{ name: 'jobs', maxReceiveCount: 3 }]] },
  { key: 'GET /queues', init: { rawPath: '/queues' }, status: 200, call: ['list', []] },
  { key: 'GET /queues/{queue}', init: { rawPath: '/queues/jobs', pathParameters: { queue: 'jobs' } }, status: 200, call: ['describe', ['jobs']] },
  { key: 'DELETE /queues/{queue}', init: { rawPath: '/queues/jobs', pathParameters: { queue: 'jobs' } }, status: 204, call: ['delete', ['jobs']] },
  {
    key: 'POST /queues/{queue}/messages',
    init: { rawPath: '/queues/jobs/messages', pathParameters: { queue: 'jobs' }, body: { messages: [{ body: { n: 1 }, groupId: 'g', messageId: 'm-1' }] } },
    status: 200,
    call: ['send', ['jobs', { messages: [{ body: { n: 1 }, groupId: 'g', messageId: 'm-1' }] }]],
  },
  {
    key: 'POST /queues/{queue}/receive',
    init: { rawPath: '/queues/jobs/receive', pathParameters: { queue: 'jobs' }, body: { maxMessages: 2, waitMs: 1000 } },
    status: 200,
    call: ['receive', ['jobs', { maxMessages: 2, waitMs: 1000 }]],
  },
  {
    key: 'POST /queues/{queue}/ack',
    init: { rawPath: '/queues/jobs/ack', pathParameters: { queue: 'jobs' }, body: { receiptHandles: ['h1'] } },
    status: 200,
    call: ['ack', ['jobs', { receiptHandles: ['h1'] }]],
  },
  {
    key: 'POST /queues/{queue}/nack',
    init: { rawPath: '/queues/jobs/nack', pathParameters: { queue: 'jobs' }, body: { receiptHandles: ['h1'], delayMs: 500 } },
    status: 200,
    call: ['nack', ['jobs', { receiptHandles: ['h1'], delayMs: 500 }]],
  },
  {
    key: 'POST /queues/{queue}/extend',
    init: { rawPath: '/queues/jobs/extend', pathParameters: { queue: 'jobs' }, body: { receiptHandles: ['h1'], visibilityTimeoutMs: 60_000 } },
    status: 200,
    call: ['extend', ['jobs', { receiptHandles: ['h1'], visibilityTimeoutMs: 60_000 }]],
  },
  { key: 'POST /queues/{queue}/redrive', init: { rawPath: '/queues/jobs/redrive', pathParameters: { queue: 'jobs' } }, status: 200, call: ['redrive', ['jobs', {}]] },
  {
    key: 'POST /queues/{queue}/purge',
    init: { rawPath: '/queues/jobs/purge', pathParameters: { queue: 'jobs' }, body: { target: 'dead-letters' } },
    status: 200,
    call: ['purge', ['jobs', { target: 'dead-letters' }]],
  },
  { key: 'GET /processors', init: { rawPath: '/processors' }, status: 200, call: ['list', [expect.any(Function)]] },
  {
    key: 'GET /processors/{name}',
    init: { rawPath: '/processors/clicks-per-minute', pathParameters: { name: 'clicks-per-minute' } },
    status: 200,
    call: ['describe', ['clicks-per-minute']],
  },
  { key: 'GET /openapi.json', init: { rawPath: '/openapi.json' }, status: 200, call: null },
];

const FORMATS = [
  ['2.0 (HTTP API)', (key: string, init: ApiEventInit) => httpEvent(key, init)],
  ['1.0 (REST API)', (key: string, init: ApiEventInit) => restEvent(key, init)],
] as const satisfies readonly (readonly [string, (key: string, init: ApiEventInit) => APIGatewayProxyEvent | APIGatewayProxyEventV2])[];

const functionOf = (key: RouteKey) => ROUTES.find((r) => routeKey(r) === key)!.function;

/** Both payload formats accept exactly this response shape. */
function expectProxyResponse(res: unknown): asserts res is { statusCode: number; headers: Record<string, string>; body: string } {
  expect(res).toEqual({ statusCode: expect.any(Number), headers: expect.any(Object), body: expect.any(String), isBase64Encoded: false });
  for (const value of Object.values((res as { headers: object }).headers)) expect(typeof value).toBe('string');
}

it('covers every route of ROUTES', () => {
  expect([...new Set(CASES.map((c) => c.key))].sort()).toEqual(ROUTES.map(routeKey).sort());
});

describe.each(FORMATS)('payload format %s', (_, makeEvent) => {
  it.each(CASES)('$key reaches its service with parsed path, query and body', async ({ key, init, status, call }) => {
    const res = await handlers[functionOf(key)](makeEvent(key, init), lambdaContext);
    expectProxyResponse(res);
    expect(res.statusCode, res.body).toBe(status);
    expect(recorded).toEqual(call ? [call] : []);
  });

  it('answers invalid input with 400 InvalidRequest naming the field, before calling the service', async () => {
    const key = 'GET /topics/{topic}/partitions/{partition}/events';
    const init = { rawPath: '/topics/orders/partitions/x/events', pathParameters: { topic: 'orders', partition: 'x' } };
    const res = await handlers.fetch(makeEvent(key, init), lambdaContext);
    expectProxyResponse(res);
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error).toMatchObject({ code: 'InvalidRequest', issues: [{ path: 'path.partition' }] });
    expect(recorded).toEqual([]);
  });

  it('answers malformed JSON with 400 InvalidRequest', async () => {
    const res = await handlers.topics(makeEvent('POST /topics', { rawPath: '/topics', body: '{nope' }), lambdaContext);
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe('InvalidRequest');
  });

  it('answers a route the function does not serve with 404', async () => {
    const res = await handlers.produce(makeEvent('POST /topics', { rawPath: '/topics', body: {} }), lambdaContext);
    expectProxyResponse(res);
    expect(res.statusCode).toBe(404);
  });
});

describe('fallback', () => {
  // What reaches the fallback: 2.0 `$default` with the real method; 1.0 the ANY method of the
  // resource that caught the request (the resource itself, or a `{proxy+}` below it).
  const unmatched = [
    ['2.0 (HTTP API)', (method: string, path: string, _resource: string) => httpEvent('$default', { method, rawPath: path })],
    ['1.0 (REST API)', (method: string, path: string, resource: string) => restEvent(`${method} ${resource}`, { rawPath: path })],
  ] as const;

  describe.each(unmatched)('payload format %s', (_, makeEvent) => {
    it.each([
      ['PUT', '/topics/orders', '/topics/{topic}', ['GET', 'PATCH', 'DELETE']],
      ['DELETE', '/topics', '/topics', ['POST', 'GET']],
      ['GET', '/transactions', '/transactions', ['POST']],
      ['PATCH', '/groups/g/members/m-1', '/groups/{group}/members/{memberId}', ['DELETE']],
    ])('%s %s is 405 with Allow', async (method, path, resource, allowed) => {
      const res = await handlers.fallback(makeEvent(method, path, resource), lambdaContext);
      expectProxyResponse(res);
      expect(res.statusCode).toBe(405);
      expect(res.headers.allow).toBe(allowed.join(', '));
      expect(JSON.parse(res.body).error).toMatchObject({ code: 'MethodNotAllowed', allowed });
    });

    it.each([
      ['GET', '/', '/'],
      ['GET', '/nope', '/{proxy+}'],
      ['POST', '/topics/orders/events/extra', '/topics/{topic}/events/{proxy+}'],
      ['GET', '/topics/orders/partitions', '/topics/{topic}/partitions'],
      ['OPTIONS', '/groups/g/members/m-1/records/x/y', '/groups/{group}/members/{memberId}/records/{proxy+}'],
    ])('%s %s is 404 NotFound', async (method, path, resource) => {
      const res = await handlers.fallback(makeEvent(method, path, resource), lambdaContext);
      expectProxyResponse(res);
      expect(res.statusCode).toBe(404);
      expect(JSON.parse(res.body).error.code).toBe('NotFound');
    });
  });
});
