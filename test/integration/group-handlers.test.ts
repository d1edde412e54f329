/**
 * The groups and transactions handler modules (lambda/handlers/groups.ts, transactions.ts), each
 * through its own routes, built with their `create…Handler` factories over the real services on
 * DynamoDB Local, in both API Gateway payload formats; and what they do not serve: a route of
 * another function is a 404 from the module, a method its paths lack a 405 from the fallback.
 */
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lambda/core/logger';
import { createFallbackHandler } from '../../lambda/handlers/fallback';
import { createGroupsHandler } from '../../lambda/handlers/groups';
import { createTransactionsHandler } from '../../lambda/handlers/transactions';
import type { HttpLambdaHandler } from '../../lambda/middleware/http-handler';
import { httpEvent, lambdaContext, restEvent, type ApiEventInit } from '../support/events';
import { startInProcessSluice, type InProcessSluice } from '../support/in-process-sluice';

let sluice: InProcessSluice;
let groups: HttpLambdaHandler;
let transactions: HttpLambdaHandler;
const fallback = createFallbackHandler(silentLogger);
let n = 0;

beforeAll(async () => {
  sluice = await startInProcessSluice('group-handlers');
  groups = createGroupsHandler(sluice.groups, silentLogger);
  transactions = createTransactionsHandler(sluice.transactions, silentLogger);
});

afterAll(async () => {
  await sluice?.close();
});

type Format = 'http' | 'rest';
const FORMATS: Format[] = ['http', 'rest'];

async function invoke(handler: HttpLambdaHandler, format: Format, routeKey: string, init: ApiEventInit = {}) {
  const event = format === 'http' ? httpEvent(routeKey, init) : restEvent(routeKey, init);
  const res = (await handler(event as never, lambdaContext as Context)) as { statusCode: number; body?: string; headers?: Record<string, string> };
  return { status: res.statusCode, body: res.body ? (JSON.parse(res.body) as Record<string, any>) : undefined, headers: res.headers ?? {} };
}

/** A fresh topic with 2 partitions and events a, b, c on partition 0, and a fresh group name. */
async function fresh() {
  n++;
  const topic = `orders-${n}`;
  await sluice.createTopic(topic, 2);
  await sluice.append(topic, 0, 'a', 'b', 'c');
  return { topic, group: `billing-${n}` };
}

const committed = async (group: string, topic: string) =>
  (await sluice.groups.describe(group)).partitions.filter((p) => p.topic === topic).map((p) => p.committedOffset);

describe.each(FORMATS)('groups handler, payload %s', (format) => {
  it('serves every route of the groups function', async () => {
    const { topic, group } = await fresh();
    const g = { group };
    const m = { group, memberId: 'm-1' };
    const base = `/groups/${group}`;

    const joined = await invoke(groups, format, 'POST /groups/{group}/members', {
      rawPath: `${base}/members`,
      pathParameters: g,
      body: { topics: [topic], memberId: 'm-1', offsetReset: 'earliest', sessionTimeoutMs: 10_000 },
    });
    expect(joined).toMatchObject({ status: 200 });
    expect(joined.body).toEqual({
      memberId: 'm-1',
      generation: 1,
      assignments: [
        { topic, partition: 0, committedOffset: null },
        { topic, partition: 1, committedOffset: null },
      ],
    });

    const beat = await invoke(groups, format, 'POST /groups/{group}/members/{memberId}/heartbeat', {
      rawPath: `${base}/members/m-1/heartbeat`,
      pathParameters: m,
      body: { generation: 0 },
    });
    expect(beat.status).toBe(200);
    expect(beat.body).toMatchObject({ memberId: 'm-1', generation: 1, rebalanced: true });

    const read = await invoke(groups, format, 'GET /groups/{group}/members/{memberId}/records', {
      rawPath: `${base}/members/m-1/records`,
      pathParameters: m,
      query: { maxRecords: '2', waitMs: '0' },
    });
    expect(read.status).toBe(200);
    expect(read.body!.records.map((r: { partition: number; offset: number; value: unknown }) => [r.partition, r.offset, r.value])).toEqual([
      [0, 0, 'a'],
      [0, 1, 'b'],
    ]);
    expect(await committed(group, topic)).toEqual([null, null]); // reading commits nothing without commit=true

    const commit = await invoke(groups, format, 'POST /groups/{group}/offsets', {
      rawPath: `${base}/offsets`,
      pathParameters: g,
      body: { memberId: 'm-1', generation: 1, offsets: [{ topic, partition: 0, offset: 2 }] },
    });
    expect(commit).toMatchObject({ status: 204, body: undefined });
    expect(await committed(group, topic)).toEqual([2, null]);

    const stale = await invoke(groups, format, 'POST /groups/{group}/offsets', {
      rawPath: `${base}/offsets`,
      pathParameters: g,
      body: { memberId: 'm-1', generation: 7, offsets: [{ topic, partition: 0, offset: 3 }] },
    });
    expect(stale).toMatchObject({ status: 409, body: { error: { code: 'RebalanceInProgress' } } });
    expect(await committed(group, topic)).toEqual([2, null]);

    const seek = await invoke(groups, format, 'POST /groups/{group}/seek', {
      rawPath: `${base}/seek`,
      pathParameters: g,
      body: { topic, partitions: [0], to: { offset: 1 } },
    });
    expect(seek).toMatchObject({ status: 200, body: { offsets: [{ topic, partition: 0, offset: 1 }] } });
    expect(await committed(group, topic)).toEqual([1, null]);

    const described = await invoke(groups, format, 'GET /groups/{group}', { rawPath: base, pathParameters: g });
    expect(described.status).toBe(200);
    expect(described.body).toMatchObject({
      group,
      generation: 1,
      // The host is the caller's source IP: 2.0 requestContext.http.sourceIp, 1.0 requestContext.identity.sourceIp.
      members: [{ memberId: 'm-1', clientId: null, host: '127.0.0.1', topics: [topic], assignments: [{ topic, partition: 0 }, { topic, partition: 1 }] }],
      partitions: [
        { topic, partition: 0, owner: 'm-1', committedOffset: 1, highWatermark: 3, lag: 2 },
        { topic, partition: 1, owner: 'm-1', committedOffset: null, highWatermark: 0, lag: 0 },
      ],
    });

    const listed = await invoke(groups, format, 'GET /groups', { rawPath: '/groups' });
    expect(listed.status).toBe(200);
    expect(listed.body!.groups).toContain(group);

    const left = await invoke(groups, format, 'DELETE /groups/{group}/members/{memberId}', { rawPath: `${base}/members/m-1`, pathParameters: m });
    expect(left).toMatchObject({ status: 204, body: undefined });
    expect((await sluice.groups.describe(group)).members).toEqual([]);
    const again = await invoke(groups, format, 'DELETE /groups/{group}/members/{memberId}', { rawPath: `${base}/members/m-1`, pathParameters: m });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'FencedMember' } } });

    const deleted = await invoke(groups, format, 'DELETE /groups/{group}', { rawPath: base, pathParameters: g });
    expect(deleted).toMatchObject({ status: 204, body: undefined });
    expect(await sluice.groups.listGroups()).not.toContain(group);
    const gone = await invoke(groups, format, 'DELETE /groups/{group}', { rawPath: base, pathParameters: g });
    expect(gone).toMatchObject({ status: 404, body: { error: { code: 'GroupNotFound' } } });
  });

  it('answers an unknown group with 404 GroupNotFound, and a bad body with 400 InvalidRequest, changing nothing', async () => {
    const missing = await invoke(groups, format, 'GET /groups/{group}', { rawPath: '/groups/nobody', pathParameters: { group: 'nobody' } });
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'GroupNotFound' } } });
    const { group } = await fresh();
    const bad = await invoke(groups, format, 'POST /groups/{group}/members', {
      rawPath: `/groups/${group}/members`,
      pathParameters: { group },
      body: { topics: 'orders' },
    });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'InvalidRequest' } } });
    expect(await sluice.groups.listGroups()).not.toContain(group);
  });

  it.each([
    ['POST /transactions', { rawPath: '/transactions', body: { produce: [] } }],
    ['GET /topics', { rawPath: '/topics' }],
    ['POST /topics/{topic}/events', { rawPath: '/topics/orders/events', pathParameters: { topic: 'orders' }, body: { events: [] } }],
  ] as [string, ApiEventInit][])('answers %s, a route of another function, with 404 NotFound', async (route, init) => {
    const res = await invoke(groups, format, route, init);
    expect(res).toMatchObject({ status: 404, body: { error: { code: 'NotFound' } } });
  });
});

describe.each(FORMATS)('transactions handler, payload %s', (format) => {
  it('POST /transactions appends the outputs and commits the offsets together', async () => {
    const { topic, group } = await fresh();
    await sluice.createTopic(`${topic}-out`, 1);
    const member = await sluice.groups.join(group, { topics: [topic], memberId: 'm-1', offsetReset: 'earliest' });
    const res = await invoke(transactions, format, 'POST /transactions', {
      rawPath: '/transactions',
      body: {
        produce: [{ topic: `${topic}-out`, events: [{ value: 'A', messageId: 'tx-1' }] }],
        commit: { group, memberId: 'm-1', generation: member.generation, offsets: [{ topic, partition: 0, offset: 1 }] },
      },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      produced: [{ topic: `${topic}-out`, results: [{ partition: 0, offset: 0, messageId: 'tx-1', duplicate: false }] }],
      committed: true,
    });
    expect((await sluice.log.fetch(`${topic}-out`, 0, { offset: 0 })).events.map((e) => e.value)).toEqual(['A']);
    expect(await committed(group, topic)).toEqual([1, null]);

    const produceOnly = await invoke(transactions, format, 'POST /transactions', {
      rawPath: '/transactions',
      body: { produce: [{ topic: `${topic}-out`, events: [{ value: 'B', messageId: 'tx-2' }] }] },
    });
    expect(produceOnly).toMatchObject({ status: 200, body: { committed: false, produced: [{ results: [{ offset: 1 }] }] } });
  });

  it('a fenced member’s transaction is a 409 and appends nothing; an empty one is a 400', async () => {
    const { topic, group } = await fresh();
    await sluice.createTopic(`${topic}-out`, 1);
    await sluice.groups.join(group, { topics: [topic], memberId: 'm-1', offsetReset: 'earliest' });
    const fenced = await invoke(transactions, format, 'POST /transactions', {
      rawPath: '/transactions',
      body: {
        produce: [{ topic: `${topic}-out`, events: [{ value: 'zombie' }] }],
        commit: { group, memberId: 'not-a-member', generation: 1, offsets: [{ topic, partition: 0, offset: 1 }] },
      },
    });
    expect(fenced).toMatchObject({ status: 409, body: { error: { code: 'FencedMember' } } });
    expect((await sluice.log.fetch(`${topic}-out`, 0, { offset: 0 })).events).toEqual([]);
    expect(await committed(group, topic)).toEqual([null, null]);

    const empty = await invoke(transactions, format, 'POST /transactions', { rawPath: '/transactions', body: { produce: [] } });
    expect(empty).toMatchObject({ status: 400, body: { error: { code: 'InvalidRequest' } } });
  });

  it.each([
    ['GET /groups', { rawPath: '/groups' }],
    ['POST /groups/{group}/offsets', { rawPath: '/groups/g/offsets', pathParameters: { group: 'g' }, body: {} }],
  ] as [string, ApiEventInit][])('answers %s, a route of another function, with 404 NotFound', async (route, init) => {
    const res = await invoke(transactions, format, route, init);
    expect(res).toMatchObject({ status: 404, body: { error: { code: 'NotFound' } } });
  });
});

describe('methods the groups and transactions paths do not have: the fallback answers 405 with Allow', () => {
  it.each([
    ['PUT', '/groups', 'GET'],
    ['PUT', '/groups/billing', 'GET, DELETE'],
    ['GET', '/groups/billing/members', 'POST'],
    ['GET', '/groups/billing/members/m-1', 'DELETE'],
    ['GET', '/groups/billing/members/m-1/heartbeat', 'POST'],
    ['POST', '/groups/billing/members/m-1/records', 'GET'],
    ['GET', '/groups/billing/offsets', 'POST'],
    ['GET', '/groups/billing/seek', 'POST'],
    ['GET', '/transactions', 'POST'],
  ])('%s %s: 405, Allow %s', async (method, path, allow) => {
    const res = await invoke(fallback, 'http', '$default', { rawPath: path, ...({ method } as object) });
    expect(res).toMatchObject({ status: 405, body: { error: { code: 'MethodNotAllowed' } }, headers: { allow } });
  });

  it('a path no route has: 404', async () => {
    const res = await invoke(fallback, 'http', '$default', { rawPath: '/groups/billing/lag' });
    expect(res).toMatchObject({ status: 404, body: { error: { code: 'NotFound' } } });
  });
});
