/**
 * ACLs through the local platform over HTTP: a stack synthesized with `authorization: 'acl'` and
 * three principals, named by the `x-sluice-local-principal` header as a signature would name them:
 * - ADMIN, a role given `grantAdmin`;
 * - APP, a role given `grantProduce(app, 'payments')` and `grantConsume(app, { topic: 'payments',
 *   group: 'payments-app' })`, calling as an assumed-role session (normalized to the role);
 * - NOBODY, a user with no grants.
 * Every route of ROUTES is driven as an allowed principal and as NOBODY (a route without a case
 * here fails the table test); then APP through every route naming a topic or group other than its
 * own; then ACLs made with POST /acls (deny wins, changes take effect, listings); then the default
 * stack (ACLs off), which answers NOBODY as it always did.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROUTES, routeKey, type RouteKey } from '../../definitions/functions';
import { startPlatform, type Platform } from '../../local/platform';
import { LOCAL_PRINCIPAL_HEADER } from '../../local/gateway/server';
import { localName } from '../../local/provision';
import { SluiceStack } from '../../lib/sluice-stack';
import { uniquePrefix, startTestPlatform } from '../support/emulators';

const ACCOUNT = '000000000000';
const NOBODY = `arn:aws:iam::${ACCOUNT}:user/nobody`;

interface Res {
  readonly status: number;
  readonly body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let platform: Platform;
let workDir: string;
let ADMIN: string;
let APP: string;

async function call(principal: string, method: string, path: string, body?: unknown): Promise<Res> {
  const res = await fetch(`${platform.endpoint.replace(/\/$/, '')}${path}`, {
    method,
    headers: { [LOCAL_PRINCIPAL_HEADER]: principal, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

async function ok(principal: string, method: string, path: string, body?: unknown): Promise<Res> {
  const res = await call(principal, method, path, body);
  if (res.status >= 300) throw new Error(`${method} ${path} as ${principal}: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

function expectDenied(res: Res, resourceType: string, resourceName: string, operation: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(403);
  expect(res.body.error).toMatchObject({ code: 'AuthorizationFailed', resourceType, resourceName, operation });
}

const member = { payments: '', secret: '', generation: 0 };
// Message queues share one namespace among the test files' platforms (the stacks' prefix): unique names.
const QUEUE_RUN = Math.random().toString(16).slice(2, 10);
/** The app's queue: it may send to it and consume it (stack grants), not manage it. */
const APP_QUEUE = `app-jobs-${QUEUE_RUN}`;
const OTHER_QUEUE = `other-jobs-${QUEUE_RUN}`;
const ADMIN_QUEUE = `admin-made-${QUEUE_RUN}`;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'sluice-acl-assembly-'));
  const app = new App({
    outdir: workDir,
    context: { 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:enable-path-metadata': true, 'aws:cdk:disable-version-reporting': true },
  });
  // The cache is off so each test sees the ACLs it just wrote.
  const stack = new SluiceStack(app, 'Sluice', { api: 'http', authorization: 'acl', aclCacheTtl: Duration.seconds(0) });
  const admin = new iam.Role(stack, 'Admin', { assumedBy: new iam.AccountRootPrincipal() });
  const payments = new iam.Role(stack, 'PaymentsApp', { assumedBy: new iam.AccountRootPrincipal(), path: '/apps/' });
  stack.grantAdmin(admin);
  stack.grantProduce(payments, 'payments');
  stack.grantConsume(payments, { topic: 'payments', group: 'payments-app' });
  stack.queue(APP_QUEUE).grantSend(payments);
  stack.queue(APP_QUEUE).grantConsume(payments);
  const roleId = (role: iam.Role) => stack.getLogicalId(role.node.defaultChild as iam.CfnRole);
  app.synth();

  const prefix = uniquePrefix('acl');
  platform = await startPlatform({ port: 0, prefix, emulators: inject('emulators'), assemblyDir: workDir });
  // What IAM would name these callers: the role itself, and a session of the role.
  ADMIN = `arn:aws:iam::${ACCOUNT}:role/${localName(prefix, roleId(admin))}`;
  APP = `arn:aws:sts::${ACCOUNT}:assumed-role/${localName(prefix, roleId(payments))}/session-1`;

  for (const name of ['payments', 'secret', 'doomed']) await ok(ADMIN, 'POST', '/topics', { name, partitions: 1 });
  for (const topic of ['payments', 'secret']) {
    await ok(ADMIN, 'POST', `/topics/${topic}/events`, { events: [{ key: 'k', value: { topic }, messageId: `${topic}-1` }] });
  }
  const secret = await ok(ADMIN, 'POST', '/groups/secret-app/members', { topics: ['secret'], offsetReset: 'earliest' });
  member.secret = secret.body.memberId;
  const mine = await ok(APP, 'POST', '/groups/payments-app/members', { topics: ['payments'], offsetReset: 'earliest' });
  member.payments = mine.body.memberId;
  member.generation = mine.body.generation;
  // A group with offsets only, for the admin to delete.
  await ok(ADMIN, 'POST', '/groups/doomed-app/seek', { topic: 'payments', to: 'earliest' });
  for (const name of [APP_QUEUE, OTHER_QUEUE]) await ok(ADMIN, 'POST', '/queues', { name });
}, 180_000);

afterAll(async () => {
  await platform?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

interface Call {
  readonly as: () => string;
  readonly method: string;
  readonly path: () => string;
  readonly body?: () => unknown;
}

interface RouteCase {
  /** An allowed call and the status it gets. */
  readonly allowed: Call & { readonly status: number };
  /** The same route as NOBODY: 403 naming this resource and operation, or an empty listing. */
  readonly nobody: { readonly path: () => string; readonly body?: () => unknown; readonly denied: [string, string, string] | 'empty listing' | 'served to any authenticated caller' };
}

const asAdmin = () => ADMIN;
const asApp = () => APP;
const commitBody = () => ({ memberId: member.payments, generation: member.generation, offsets: [{ topic: 'payments', partition: 0, offset: 1 }] });

/** One case per route; the table test below fails for a route of ROUTES without one. */
const CASES: Partial<Record<RouteKey, RouteCase>> = {
  'POST /topics': {
    allowed: { as: asAdmin, method: 'POST', path: () => '/topics', body: () => ({ name: 'created-by-admin' }), status: 201 },
    nobody: { path: () => '/topics', body: () => ({ name: 'created-by-nobody' }), denied: ['cluster', 'sluice-cluster', 'create'] },
  },
  'GET /topics': {
    allowed: { as: asApp, method: 'GET', path: () => '/topics', status: 200 },
    nobody: { path: () => '/topics', denied: 'empty listing' },
  },
  'GET /topics/{topic}': {
    allowed: { as: asApp, method: 'GET', path: () => '/topics/payments', status: 200 },
    nobody: { path: () => '/topics/payments', denied: ['topic', 'payments', 'describe'] },
  },
  'PATCH /topics/{topic}': {
    allowed: { as: asAdmin, method: 'PATCH', path: () => '/topics/payments', body: () => ({ retentionMs: 3_600_000 }), status: 200 },
    nobody: { path: () => '/topics/payments', body: () => ({ retentionMs: 1000 }), denied: ['topic', 'payments', 'alter'] },
  },
  'DELETE /topics/{topic}': {
    allowed: { as: asAdmin, method: 'DELETE', path: () => '/topics/doomed', status: 204 },
    nobody: { path: () => '/topics/payments', denied: ['topic', 'payments', 'delete'] },
  },
  'POST /topics/{topic}/events': {
    allowed: { as: asApp, method: 'POST', path: () => '/topics/payments/events', body: () => ({ events: [{ value: 1, messageId: 'app-1' }] }), status: 200 },
    nobody: { path: () => '/topics/payments/events', body: () => ({ events: [{ value: 1 }] }), denied: ['topic', 'payments', 'write'] },
  },
  'GET /topics/{topic}/partitions/{partition}/events': {
    allowed: { as: asApp, method: 'GET', path: () => '/topics/payments/partitions/0/events?offset=0', status: 200 },
    nobody: { path: () => '/topics/payments/partitions/0/events?offset=0', denied: ['topic', 'payments', 'read'] },
  },
  'GET /groups': {
    allowed: { as: asApp, method: 'GET', path: () => '/groups', status: 200 },
    nobody: { path: () => '/groups', denied: 'empty listing' },
  },
  'GET /groups/{group}': {
    allowed: { as: asApp, method: 'GET', path: () => '/groups/payments-app', status: 200 },
    nobody: { path: () => '/groups/payments-app', denied: ['group', 'payments-app', 'describe'] },
  },
  'DELETE /groups/{group}': {
    allowed: { as: asAdmin, method: 'DELETE', path: () => '/groups/doomed-app', status: 204 },
    nobody: { path: () => '/groups/doomed-app', denied: ['group', 'doomed-app', 'delete'] },
  },
  'POST /groups/{group}/members': {
    allowed: { as: asApp, method: 'POST', path: () => '/groups/payments-app/members', body: () => ({ memberId: member.payments, topics: ['payments'] }), status: 200 },
    nobody: { path: () => '/groups/payments-app/members', body: () => ({ topics: ['payments'] }), denied: ['group', 'payments-app', 'read'] },
  },
  'POST /groups/{group}/members/{memberId}/heartbeat': {
    allowed: { as: asApp, method: 'POST', path: () => `/groups/payments-app/members/${member.payments}/heartbeat`, body: () => ({}), status: 200 },
    nobody: { path: () => `/groups/payments-app/members/${member.payments}/heartbeat`, body: () => ({}), denied: ['group', 'payments-app', 'read'] },
  },
  'GET /groups/{group}/members/{memberId}/records': {
    allowed: { as: asApp, method: 'GET', path: () => `/groups/payments-app/members/${member.payments}/records`, status: 200 },
    nobody: { path: () => `/groups/payments-app/members/${member.payments}/records`, denied: ['group', 'payments-app', 'read'] },
  },
  'POST /groups/{group}/offsets': {
    allowed: { as: asApp, method: 'POST', path: () => '/groups/payments-app/offsets', body: commitBody, status: 204 },
    nobody: { path: () => '/groups/payments-app/offsets', body: commitBody, denied: ['group', 'payments-app', 'read'] },
  },
  'POST /groups/{group}/seek': {
    allowed: { as: asApp, method: 'POST', path: () => '/groups/payments-app/seek', body: () => ({ topic: 'payments', to: 'earliest' }), status: 200 },
    nobody: { path: () => '/groups/payments-app/seek', body: () => ({ topic: 'payments', to: 'latest' }), denied: ['group', 'payments-app', 'read'] },
  },
  'POST /transactions': {
    allowed: {
      as: asApp,
      method: 'POST',
      path: () => '/transactions',
      body: () => ({ produce: [{ topic: 'payments', events: [{ value: 2, messageId: 'tx-1' }] }], commit: { group: 'payments-app', ...commitBody() } }),
      status: 200,
    },
    nobody: { path: () => '/transactions', body: () => ({ produce: [{ topic: 'payments', events: [{ value: 2 }] }] }), denied: ['topic', 'payments', 'write'] },
  },
  'POST /acls': {
    allowed: {
      as: asAdmin,
      method: 'POST',
      path: () => '/acls',
      body: () => ({ acls: [{ principal: `arn:aws:iam::${ACCOUNT}:user/auditor`, resourceType: 'topic', resourceName: 'payments', operation: 'describe' }] }),
      status: 201,
    },
    nobody: {
      path: () => '/acls',
      body: () => ({ acls: [{ principal: NOBODY, resourceType: 'topic', resourceName: '*', operation: 'all' }] }),
      denied: ['cluster', 'sluice-cluster', 'alter'],
    },
  },
  'GET /acls': {
    allowed: { as: asAdmin, method: 'GET', path: () => '/acls', status: 200 },
    nobody: { path: () => '/acls', denied: ['cluster', 'sluice-cluster', 'describe'] },
  },
  'POST /topics/{topic}/subscriptions': {
    allowed: {
      as: asApp,
      method: 'POST',
      path: () => '/topics/payments/subscriptions',
      body: () => ({ name: 'app-audit', target: { type: 'webhook', url: 'https://hooks.example.com/in' } }),
      status: 201,
    },
    nobody: {
      path: () => '/topics/payments/subscriptions',
      body: () => ({ name: 'nobody-audit', target: { type: 'webhook', url: 'https://hooks.example.com/in' } }),
      denied: ['topic', 'payments', 'read'],
    },
  },
  'GET /topics/{topic}/subscriptions': {
    allowed: { as: asApp, method: 'GET', path: () => '/topics/payments/subscriptions', status: 200 },
    nobody: { path: () => '/topics/payments/subscriptions', denied: ['topic', 'payments', 'describe'] },
  },
  'GET /topics/{topic}/subscriptions/{name}': {
    allowed: { as: asApp, method: 'GET', path: () => '/topics/payments/subscriptions/app-audit', status: 200 },
    nobody: { path: () => '/topics/payments/subscriptions/app-audit', denied: ['topic', 'payments', 'describe'] },
  },
  'POST /topics/{topic}/subscriptions/{name}/seek': {
    allowed: { as: asApp, method: 'POST', path: () => '/topics/payments/subscriptions/app-audit/seek', body: () => ({ to: 'latest' }), status: 200 },
    nobody: { path: () => '/topics/payments/subscriptions/app-audit/seek', body: () => ({ to: 'earliest' }), denied: ['topic', 'payments', 'read'] },
  },
  'GET /topics/{topic}/subscriptions/{name}/dead-letters': {
    allowed: { as: asApp, method: 'GET', path: () => '/topics/payments/subscriptions/app-audit/dead-letters', status: 200 },
    nobody: { path: () => '/topics/payments/subscriptions/app-audit/dead-letters', denied: ['topic', 'payments', 'read'] },
  },
  'POST /topics/{topic}/subscriptions/{name}/dead-letters/redrive': {
    allowed: { as: asApp, method: 'POST', path: () => '/topics/payments/subscriptions/app-audit/dead-letters/redrive', body: () => ({}), status: 200 },
    nobody: { path: () => '/topics/payments/subscriptions/app-audit/dead-letters/redrive', body: () => ({}), denied: ['topic', 'payments', 'read'] },
  },
  'DELETE /topics/{topic}/subscriptions/{name}': {
    allowed: { as: asApp, method: 'DELETE', path: () => '/topics/payments/subscriptions/app-audit', status: 204 },
    nobody: { path: () => '/topics/payments/subscriptions/app-audit', denied: ['topic', 'payments', 'read'] },
  },
  'POST /queues': {
    allowed: { as: asAdmin, method: 'POST', path: () => '/queues', body: () => ({ name: ADMIN_QUEUE }), status: 201 },
    nobody: { path: () => '/queues', body: () => ({ name: `nobody-made-${QUEUE_RUN}` }), denied: ['cluster', 'sluice-cluster', 'create'] },
  },
  'GET /queues': {
    allowed: { as: asApp, method: 'GET', path: () => '/queues', status: 200 },
    nobody: { path: () => '/queues', denied: 'empty listing' },
  },
  'GET /queues/{queue}': {
    allowed: { as: asApp, method: 'GET', path: () => `/queues/${APP_QUEUE}`, status: 200 },
    nobody: { path: () => `/queues/${APP_QUEUE}`, denied: ['queue', APP_QUEUE, 'describe'] },
  },
  'POST /queues/{queue}/messages': {
    allowed: { as: asApp, method: 'POST', path: () => `/queues/${APP_QUEUE}/messages`, body: () => ({ messages: [{ body: 'from-app', messageId: 'app-q-1' }] }), status: 200 },
    nobody: { path: () => `/queues/${APP_QUEUE}/messages`, body: () => ({ messages: [{ body: 'from-nobody' }] }), denied: ['queue', APP_QUEUE, 'write'] },
  },
  'POST /queues/{queue}/receive': {
    allowed: { as: asApp, method: 'POST', path: () => `/queues/${APP_QUEUE}/receive`, body: () => ({ maxMessages: 1 }), status: 200 },
    nobody: { path: () => `/queues/${APP_QUEUE}/receive`, body: () => ({}), denied: ['queue', APP_QUEUE, 'read'] },
  },
  'POST /queues/{queue}/ack': {
    allowed: { as: asApp, method: 'POST', path: () => `/queues/${APP_QUEUE}/ack`, body: () => ({ receiptHandles: ['h'] }), status: 200 },
    nobody: { path: () => `/queues/${APP_QUEUE}/ack`, body: () => ({ receiptHandles: ['h'] }), denied: ['queue', APP_QUEUE, 'read'] },
  },
  'POST /queues/{queue}/nack': {
    allowed: { as: asApp, method: 'POST', path: () => `/queues/${APP_QUEUE}/nack`, body: () => ({ receiptHandles: ['h'] }), status: 200 },
    nobody: { path: () => `/queues/${APP_QUEUE}/nack`, body: () => ({ receiptHandles: ['h'] }), denied: ['queue', APP_QUEUE, 'read'] },
  },
  'POST /queues/{queue}/extend': {
    allowed: { as: asApp, method: 'POST', path: () => `/queues/${APP_QUEUE}/extend`, body: () => ({ receiptHandles: ['h'], visibilityTimeoutMs: 1000 }), status: 200 },
    nobody: { path: () => `/queues/${APP_QUEUE}/extend`, body: () => ({ receiptHandles: ['h'], visibilityTimeoutMs: 1000 }), denied: ['queue', APP_QUEUE, 'read'] },
  },
  'POST /queues/{queue}/redrive': {
    allowed: { as: asAdmin, method: 'POST', path: () => `/queues/${APP_QUEUE}/redrive`, body: () => ({}), status: 200 },
    nobody: { path: () => `/queues/${APP_QUEUE}/redrive`, body: () => ({}), denied: ['queue', APP_QUEUE, 'alter'] },
  },
  'POST /queues/{queue}/purge': {
    allowed: { as: asAdmin, method: 'POST', path: () => `/queues/${ADMIN_QUEUE}/purge`, body: () => ({}), status: 200 },
    nobody: { path: () => `/queues/${APP_QUEUE}/purge`, body: () => ({}), denied: ['queue', APP_QUEUE, 'delete'] },
  },
  'DELETE /queues/{queue}': {
    allowed: { as: asAdmin, method: 'DELETE', path: () => `/queues/${ADMIN_QUEUE}`, status: 204 },
    nobody: { path: () => `/queues/${APP_QUEUE}`, denied: ['queue', APP_QUEUE, 'delete'] },
  },
  'DELETE /acls': {
    allowed: { as: asAdmin, method: 'DELETE', path: () => `/acls?principal=${encodeURIComponent(`arn:aws:iam::${ACCOUNT}:user/auditor`)}`, status: 200 },
    nobody: { path: () => '/acls?principal=*', denied: ['cluster', 'sluice-cluster', 'alter'] },
  },
  // This stack deploys no stream processor: describe is checked (group describe) before the 404.
  'GET /processors': {
    allowed: { as: asAdmin, method: 'GET', path: () => '/processors', status: 200 },
    nobody: { path: () => '/processors', denied: 'empty listing' },
  },
  'GET /processors/{name}': {
    allowed: { as: asAdmin, method: 'GET', path: () => '/processors/payments-app', status: 404 },
    nobody: { path: () => '/processors/payments-app', denied: ['group', 'payments-app', 'describe'] },
  },
  // The contract names no topic, group or queue: IAM authentication is the only check.
  'GET /openapi.json': {
    allowed: { as: asApp, method: 'GET', path: () => '/openapi.json', status: 200 },
    nobody: { path: () => '/openapi.json', denied: 'served to any authenticated caller' },
  },
  // Last: leaving ends the membership the other group cases use.
  'DELETE /groups/{group}/members/{memberId}': {
    allowed: { as: asApp, method: 'DELETE', path: () => `/groups/payments-app/members/${member.payments}`, status: 204 },
    nobody: { path: () => `/groups/payments-app/members/${member.payments}`, denied: ['group', 'payments-app', 'read'] },
  },
};

describe("with authorization: 'acl', every route", () => {
  it('has a case here (a new route without an authorization case fails)', () => {
    const missing = ROUTES.map(routeKey).filter((key) => !(key in CASES));
    expect(missing).toEqual([]);
  });

  // NOBODY first for each route, so its attempt can be checked to have changed nothing.
  it.each(Object.keys(CASES) as RouteKey[])('%s: NOBODY is refused (or sees nothing), the allowed principal is served', async (key) => {
    const c = CASES[key]!;
    const method = c.allowed.method;
    const denied = await call(NOBODY, method, c.nobody.path(), c.nobody.body?.());
    if (c.nobody.denied === 'empty listing') {
      expect(denied.status).toBe(200);
      expect(Object.values(denied.body as object)[0]).toEqual([]);
    } else if (c.nobody.denied === 'served to any authenticated caller') {
      expect(denied.status).toBe(200);
      expect((denied.body as { openapi?: string }).openapi).toBe('3.1.0');
    } else {
      expectDenied(denied, ...c.nobody.denied);
    }
    const allowed = await call(c.allowed.as(), method, c.allowed.path(), c.allowed.body?.());
    expect(allowed.status, JSON.stringify(allowed.body)).toBe(c.allowed.status);
  });

  it('a denied call changed nothing', async () => {
    // NOBODY's topic create, produce, commit and transaction above wrote nothing.
    expect((await call(ADMIN, 'GET', '/topics/created-by-nobody')).status).toBe(404);
    const payments = await ok(ADMIN, 'GET', '/topics/payments/partitions/0/events?offset=0');
    expect(payments.body.events.map((e: { value: unknown }) => e.value)).toEqual([{ topic: 'payments' }, 1, 2]);
    expect((await ok(ADMIN, 'GET', '/topics/payments')).body.retentionMs).toBe(3_600_000);
    // NOBODY's queue create and send made nothing: the app's queue holds the app's one message.
    expect((await call(ADMIN, 'GET', `/queues/nobody-made-${QUEUE_RUN}`)).status).toBe(404);
    const { messages } = (await ok(ADMIN, 'GET', `/queues/${APP_QUEUE}`)).body;
    expect(messages.visible + messages.inFlight).toBe(1);
  });
});

describe("a principal granted only 'payments' (and group 'payments-app')", () => {
  let mine: { memberId: string; generation: number };
  beforeAll(async () => {
    const joined = await ok(APP, 'POST', '/groups/payments-app/members', { topics: ['payments'], offsetReset: 'earliest' });
    mine = { memberId: joined.body.memberId, generation: joined.body.generation };
  });

  it('sees only its own topic, group and queue in listings', async () => {
    expect((await ok(APP, 'GET', '/queues')).body.queues).toEqual([{ name: APP_QUEUE, origin: 'api' }]);
    expect((await ok(APP, 'GET', '/topics')).body.topics.map((t: { name: string }) => t.name)).toEqual(['payments']);
    expect((await ok(APP, 'GET', '/groups')).body.groups).toEqual(['payments-app']);
    expect((await ok(ADMIN, 'GET', '/groups')).body.groups).toEqual(expect.arrayContaining(['payments-app', 'secret-app']));
  });

  it('cannot read, join, commit, seek, produce or transact on any other topic or group, through any route', async () => {
    const attempts: [string, string, unknown, [string, string, string]][] = [
      ['GET', '/topics/secret', undefined, ['topic', 'secret', 'describe']],
      ['GET', '/topics/s%65cret', undefined, ['topic', 'secret', 'describe']], // names are checked URL-decoded
      ['PATCH', '/topics/secret', { retentionMs: 1000 }, ['topic', 'secret', 'alter']],
      ['DELETE', '/topics/secret', undefined, ['topic', 'secret', 'delete']],
      ['PATCH', '/topics/payments', { retentionMs: 1000 }, ['topic', 'payments', 'alter']],
      ['DELETE', '/topics/payments', undefined, ['topic', 'payments', 'delete']],
      ['POST', '/topics', { name: 'mine-now' }, ['cluster', 'sluice-cluster', 'create']],
      ['POST', '/topics/secret/events', { events: [{ value: 1 }] }, ['topic', 'secret', 'write']],
      ['GET', '/topics/secret/partitions/0/events?offset=0', undefined, ['topic', 'secret', 'read']],
      ['GET', '/topics/s%65cret/partitions/0/events?offset=0', undefined, ['topic', 'secret', 'read']],
      ['GET', '/groups/secret-app', undefined, ['group', 'secret-app', 'describe']],
      // Consuming through a group (group read) is not deleting it (group delete), its own included.
      ['DELETE', '/groups/payments-app', undefined, ['group', 'payments-app', 'delete']],
      ['DELETE', '/groups/secret-app', undefined, ['group', 'secret-app', 'delete']],
      ['POST', '/groups/payments-app/members', { topics: ['payments', 'secret'] }, ['topic', 'secret', 'read']],
      ['POST', '/groups/secret-app/members', { topics: ['payments'] }, ['group', 'secret-app', 'read']],
      ['POST', `/groups/secret-app/members/${member.secret}/heartbeat`, {}, ['group', 'secret-app', 'read']],
      ['GET', `/groups/secret-app/members/${member.secret}/records`, undefined, ['group', 'secret-app', 'read']],
      ['DELETE', `/groups/secret-app/members/${member.secret}`, undefined, ['group', 'secret-app', 'read']],
      ['POST', '/groups/secret-app/offsets', { memberId: member.secret, generation: 1, offsets: [{ topic: 'secret', partition: 0, offset: 1 }] }, ['group', 'secret-app', 'read']],
      ['POST', '/groups/payments-app/offsets', { memberId: mine.memberId, generation: mine.generation, offsets: [{ topic: 'secret', partition: 0, offset: 1 }] }, ['topic', 'secret', 'read']],
      ['POST', '/groups/payments-app/seek', { topic: 'secret', to: 'earliest' }, ['topic', 'secret', 'read']],
      ['POST', '/groups/secret-app/seek', { topic: 'payments', to: 'earliest' }, ['group', 'secret-app', 'read']],
      ['POST', '/transactions', { produce: [{ topic: 'secret', events: [{ value: 1 }] }] }, ['topic', 'secret', 'write']],
      ['POST', '/transactions', { produce: [{ topic: 'payments', events: [{ value: 1 }] }, { topic: 'secret', events: [{ value: 1 }] }] }, ['topic', 'secret', 'write']],
      ['POST', '/transactions', { produce: [], commit: { group: 'secret-app', memberId: member.secret, generation: 1, offsets: [{ topic: 'secret', partition: 0, offset: 1 }] } }, ['group', 'secret-app', 'read']],
      ['POST', '/transactions', { produce: [{ topic: 'payments', events: [{ value: 1 }] }], commit: { group: 'payments-app', memberId: mine.memberId, generation: mine.generation, offsets: [{ topic: 'secret', partition: 0, offset: 0 }] } }, ['topic', 'secret', 'read']],
      ['POST', '/acls', { acls: [{ principal: '*', resourceType: 'topic', resourceName: 'secret', operation: 'read' }] }, ['cluster', 'sluice-cluster', 'alter']],
      ['GET', '/acls', undefined, ['cluster', 'sluice-cluster', 'describe']],
      ['DELETE', '/acls?resourceName=secret', undefined, ['cluster', 'sluice-cluster', 'alter']],
      // Its own queue: it sends and consumes, but does not manage it; other queues not at all.
      ['POST', `/queues/${APP_QUEUE}/redrive`, {}, ['queue', APP_QUEUE, 'alter']],
      ['POST', `/queues/${APP_QUEUE}/purge`, {}, ['queue', APP_QUEUE, 'delete']],
      ['DELETE', `/queues/${APP_QUEUE}`, undefined, ['queue', APP_QUEUE, 'delete']],
      ['POST', '/queues', { name: `app-made-${QUEUE_RUN}` }, ['cluster', 'sluice-cluster', 'create']],
      ['GET', `/queues/${OTHER_QUEUE}`, undefined, ['queue', OTHER_QUEUE, 'describe']],
      ['POST', `/queues/${OTHER_QUEUE}/messages`, { messages: [{ body: 1 }] }, ['queue', OTHER_QUEUE, 'write']],
      ['POST', `/queues/${OTHER_QUEUE}/receive`, {}, ['queue', OTHER_QUEUE, 'read']],
      ['POST', `/queues/${OTHER_QUEUE}/ack`, { receiptHandles: ['h'] }, ['queue', OTHER_QUEUE, 'read']],
      // A subscription that sends a topic it may read into a queue it may not write to.
      ['POST', '/topics/payments/subscriptions', { name: 'to-other', target: { type: 'queue', queue: OTHER_QUEUE } }, ['queue', OTHER_QUEUE, 'write']],
    ];
    for (const [method, path, body, [type, name, op]] of attempts) {
      const res = await call(APP, method, path, body);
      expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBe(403);
      expect(res.body.error, `${method} ${path}`).toMatchObject({ code: 'AuthorizationFailed', resourceType: type, resourceName: name, operation: op });
    }
    // Nothing of it landed: both groups are still there, secret still holds its one event, payments
    // is unchanged by the refused transaction.
    expect((await ok(ADMIN, 'GET', '/groups/secret-app')).body.members).toHaveLength(1);
    expect((await ok(ADMIN, 'GET', '/groups/payments-app')).body.members).toHaveLength(1);
    expect((await ok(ADMIN, 'GET', '/topics/secret/partitions/0/events?offset=0')).body.events).toHaveLength(1);
    expect((await ok(ADMIN, 'GET', '/topics/payments/partitions/0/events?offset=0')).body.events).toHaveLength(3);
  });

  it("cannot read another topic assigned to a member of its own group (records checks the member's topics)", async () => {
    // ADMIN joins the app's group with a member subscribed to secret; the app asks for that member's records.
    const intruder = await ok(ADMIN, 'POST', '/groups/payments-app/members', { topics: ['secret'], offsetReset: 'earliest' });
    const res = await call(APP, 'GET', `/groups/payments-app/members/${intruder.body.memberId}/records`);
    expectDenied(res, 'topic', 'secret', 'read');
    // The group's description shows the app only its own topic.
    const described = await ok(APP, 'GET', '/groups/payments-app');
    expect(described.body.partitions.map((p: { topic: string }) => p.topic)).toEqual(['payments']);
    expect(described.body.members.flatMap((m: { topics: string[] }) => m.topics)).not.toContain('secret');
    await ok(ADMIN, 'DELETE', `/groups/payments-app/members/${intruder.body.memberId}`);
  });
});

describe('ACLs made with POST /acls', () => {
  const reader = `arn:aws:iam::${ACCOUNT}:user/reader`;

  it('take effect, and deny wins over allow', async () => {
    expectDenied(await call(reader, 'GET', '/topics/payments/partitions/0/events?offset=0'), 'topic', 'payments', 'read');
    const created = await ok(ADMIN, 'POST', '/acls', {
      acls: [{ principal: reader, resourceType: 'topic', patternType: 'prefixed', resourceName: 'pay', operation: 'read' }],
    });
    expect(created.status).toBe(201);
    expect(created.body.acls[0]).toMatchObject({ principal: reader, patternType: 'prefixed', permission: 'allow', source: 'api' });
    expect((await call(reader, 'GET', '/topics/payments/partitions/0/events?offset=0')).status).toBe(200);
    expect((await ok(reader, 'GET', '/topics')).body.topics.map((t: { name: string }) => t.name)).toEqual(['payments']);

    // A deny for every principal on payments writes stops even the app's grant from the stack.
    await ok(ADMIN, 'POST', '/acls', { acls: [{ principal: '*', resourceType: 'topic', resourceName: 'payments', operation: 'write', permission: 'deny' }] });
    expectDenied(await call(APP, 'POST', '/topics/payments/events', { events: [{ value: 9 }] }), 'topic', 'payments', 'write');
    const removed = await ok(ADMIN, 'DELETE', '/acls?permission=deny');
    expect(removed.body.deleted).toHaveLength(1);
    expect((await call(APP, 'POST', '/topics/payments/events', { events: [{ value: 9 }] })).status).toBe(200);

    await ok(ADMIN, 'DELETE', `/acls?principal=${encodeURIComponent(reader)}`);
    expectDenied(await call(reader, 'GET', '/topics/payments/partitions/0/events?offset=0'), 'topic', 'payments', 'read');
  });

  it('lists the stack-declared ACLs next to the table ones, and cannot delete the former', async () => {
    const listed = await ok(ADMIN, 'GET', '/acls?resourceType=cluster');
    expect(listed.body.acls).toEqual([expect.objectContaining({ principal: ADMIN.replace(/role\//, 'role/'), operation: 'all', source: 'stack' })]);
    const res = await ok(ADMIN, 'DELETE', '/acls?resourceType=cluster');
    expect(res.body.deleted).toEqual([]);
    expect((await call(ADMIN, 'GET', '/acls')).status).toBe(200);
  });

  it('refuse DELETE without a filter and malformed ACLs with 400', async () => {
    expect((await call(ADMIN, 'DELETE', '/acls')).status).toBe(400);
    expect((await call(ADMIN, 'POST', '/acls', { acls: [{ principal: 'bob', resourceType: 'topic', resourceName: 'x', operation: 'read' }] })).status).toBe(400);
    expect((await call(ADMIN, 'POST', '/acls', { acls: [{ principal: '*', resourceType: 'topic', operation: 'read' }] })).status).toBe(400);
  });
});

describe("with authorization 'iam-only' (the default stack)", () => {
  let off: Platform;
  beforeAll(async () => {
    off = await startTestPlatform('acl-off');
  });
  afterAll(async () => {
    await off?.stop();
  });

  it('serves a principal without any ACL exactly as before', async () => {
    const send = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${off.endpoint.replace(/\/$/, '')}${path}`, {
        method,
        headers: { [LOCAL_PRINCIPAL_HEADER]: NOBODY, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    };
    expect((await send('POST', '/topics', { name: 'open' })).status).toBe(201);
    expect((await send('GET', '/topics')).body.topics.map((t: { name: string }) => t.name)).toEqual(['open']);
    expect((await send('POST', '/topics/open/events', { events: [{ value: 1 }] })).status).toBe(200);
    const joined = await send('POST', '/groups/g/members', { topics: ['open'], offsetReset: 'earliest' });
    expect(joined.status).toBe(200);
    expect((await send('GET', `/groups/g/members/${joined.body.memberId}/records`)).body.records).toHaveLength(1);
    expect((await send('GET', '/groups')).body.groups).toEqual(['g']);
    // ACLs can be prepared before they are switched on.
    expect((await send('POST', '/acls', { acls: [{ principal: NOBODY, resourceType: 'topic', resourceName: 'open', operation: 'read' }] })).status).toBe(201);
    expect((await send('GET', '/acls')).body.acls).toHaveLength(1);
  });
});
