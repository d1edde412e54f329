/**
 * The template twin: the stack exactly as `cdk synth` writes it, run on the local platform. Every
 * function runs from its bundle in the cloud assembly with only its template environment, under
 * a local IAM that holds it to its role's grants, against tables and queues created from the
 * template's own properties. Every route and trigger is driven through those bundles, in both API
 * types; then the template is broken in the ways that once hid a blocker, and the twin must fail.
 */
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FUNCTIONS, ROUTES, matchRoute, routeKey } from '../../definitions/functions';
import { SluiceClient } from '../../client';
import type { Platform } from '../../local/platform';
import { waitFor } from '../../local/support';
import type { CfnTemplate } from '../../local/template/stack-template';
import { emulatorClients, startTestPlatform } from '../support/emulators';

const clients = emulatorClients();
afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

/** A client whose every request is recorded with the route it matched and the answer's status. */
function recordingClient(platform: Platform) {
  const calls: { route: string; status: number; body: string }[] = [];
  const base = new URL(platform.endpoint).pathname.replace(/\/$/, '');
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const res = await globalThis.fetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? 'GET';
    const match = matchRoute(method, url.pathname.slice(base.length));
    const body = await res.clone().text();
    calls.push({ route: match && 'route' in match ? routeKey(match.route) : `${method} ${url.pathname} (no route)`, status: res.status, body });
    return res;
  };
  return { client: new SluiceClient({ endpoint: platform.endpoint, fetch, retry: { retries: 0 } }), calls };
}

describe.each(['http', 'rest'] as const)('the %s stack, run from its cloud assembly', (api) => {
  let platform: Platform;

  beforeAll(async () => {
    platform = await startTestPlatform(`twin-${api}`, { api });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('runs every function of the template from its bundle, with only its template environment', async () => {
    const template = JSON.parse(
      await readFile(join(platform.twin.stack.assemblyDir, `${platform.twin.stack.stackName}.template.json`), 'utf8'),
    ) as CfnTemplate;
    const declared = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(declared.length).toBe(Object.keys(FUNCTIONS).length);
    expect([...platform.twin.functions.keys()].sort()).toEqual(declared.map(([id]) => id).sort());
    for (const [id, resource] of declared) {
      const fn = platform.twin.functions.get(id)!;
      // The bundle that deploys: an asset of the cloud assembly, not the TypeScript sources.
      expect(relative(platform.twin.stack.assemblyDir, fn.file)).toMatch(/^asset\.[0-9a-f]{64}\/index\.m?js$/);
      const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
      expect(Object.keys(fn.environment).sort()).toEqual(Object.keys(variables).sort());
      expect(fn.timeoutSeconds).toBe(resource.Properties?.Timeout);
      expect(fn.memorySize).toBe(resource.Properties?.MemorySize);
    }
  });

  it('serves every route and runs the purge trigger through the bundles, within their grants', async () => {
    const { client, calls } = recordingClient(platform);
    const topic = `twin-orders-${api}`;
    const group = `twin-group-${api}`;

    // A webhook on loopback: the push path runs through the log's stream, the dispatcher, the
    // deliveries queue and the deliverer, all from the template.
    const received: { partition: number; events: { offset: number; value: unknown }[] }[] = [];
    const hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d));
      req.on('end', () => {
        received.push(JSON.parse(body) as (typeof received)[number]);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;

    await client.createTopic({ name: topic, partitions: 2 });
    await client.listTopics();
    await client.createSubscription(topic, { name: 'audit', target: { type: 'webhook', url: hookUrl } });
    await client.listSubscriptions(topic);
    await client.updateTopic(topic, { retentionMs: 3_600_000 });
    const produced = await client.produce(topic, [
      { key: 'k1', value: { n: 1 }, messageId: 'm-1' },
      { key: 'k2', value: { n: 2 }, messageId: 'm-2' },
    ]);
    const partition = produced[0]!.partition;
    const fetched = await client.fetch(topic, partition, { offset: 0 });
    expect(fetched.events.map((e) => e.value)).toContainEqual({ n: 1 });
    const described = await client.describeTopic(topic);
    expect(described.partitionOffsets.reduce((sum, p) => sum + p.highWatermark, 0)).toBe(2);
    const pushed = await waitFor(
      async () => {
        const values = received.flatMap((d) => d.events.map((e) => e.value));
        return values.length >= 2 ? values : undefined;
      },
      { timeoutMs: 20_000, what: 'the webhook subscription to receive the produced events' },
    );
    expect(pushed).toEqual(expect.arrayContaining([{ n: 1 }, { n: 2 }]));
    expect(pushed).toHaveLength(2);
    await client.describeSubscription(topic, 'audit');
    await client.seekSubscription(topic, 'audit', 'earliest');
    await client.deadLetters(topic, 'audit');
    await client.redriveDeadLetters(topic, 'audit');
    await client.deleteSubscription(topic, 'audit');
    await new Promise<void>((resolve) => hook.close(() => resolve()));

    const member = await client.joinGroup(group, { topics: [topic], offsetReset: 'earliest' });
    const beat = await client.heartbeat(group, member.memberId, member.generation);
    const records = await client.records(group, member.memberId, { maxRecords: 10 });
    expect(records.records.length).toBe(2);
    await client.commitOffsets(group, {
      memberId: member.memberId,
      generation: beat.generation,
      offsets: [{ topic, partition, offset: 1 }],
    });
    await client.transaction({
      produce: [{ topic, events: [{ key: 'k3', value: { n: 3 }, messageId: 'm-3' }] }],
      commit: { group, memberId: member.memberId, generation: beat.generation, offsets: [{ topic, partition, offset: 1 }] },
    });
    await client.listGroups();
    await client.describeGroup(group);
    await client.createAcls([{ principal: '*', resourceType: 'topic', resourceName: topic, operation: 'describe' }]);
    await client.listAcls();
    await client.deleteAcls({ resourceName: topic });
    await client.leaveGroup(group, member.memberId);
    await client.seek(group, { topic, to: 'earliest' });
    // The groups function's grants cover deleting a group (DeleteItem, then batched deletes).
    await client.deleteGroup(group);
    await expect(client.describeGroup(group)).rejects.toMatchObject({ code: 'GroupNotFound' });

    // Message queues: the queues function's bundle, within its grants on the prefix's queues.
    const queue = `twin-jobs-${api}`;
    await client.createQueue({ name: queue, maxReceiveCount: 2 });
    await client.listQueues();
    const jobs = client.queue(queue);
    await jobs.send([
      { body: { n: 1 }, messageId: 'j-1', groupId: 'g' },
      { body: { n: 2 }, messageId: 'j-2', groupId: 'g' },
    ]);
    const [first] = await jobs.receive({ maxMessages: 10 });
    expect(first?.body).toEqual({ n: 1 });
    await jobs.extend([first!], 30_000);
    await jobs.nack([first!]);
    const [again] = await jobs.receive({ waitMs: 1000 });
    expect(again?.body).toEqual({ n: 1 });
    await jobs.ack([again!]);
    await client.describeQueue(queue);
    await client.redriveQueue(queue);
    await client.purgeQueue(queue);
    await client.deleteQueue(queue);

    // Stream processors: the processors function's bundle (this stack deploys none).
    expect(await client.listProcessors()).toEqual({ processors: [] });
    await expect(client.describeProcessor('none')).rejects.toMatchObject({ code: 'ProcessorNotFound' });

    // The API's OpenAPI document: the openapi function's bundle.
    const openapi = await globalThis.fetch(`${platform.endpoint}/openapi.json`);
    const openapiBody = await openapi.text();
    calls.push({ route: 'GET /openapi.json', status: openapi.status, body: openapiBody });
    expect(openapi.status).toBe(200);
    expect((JSON.parse(openapiBody) as { openapi: string }).openapi).toBe('3.1.0');

    const { topicId } = described;
    await client.deleteTopic(topic);
    // The purge function, triggered by its queue, removes the deleted topic's batches; the head
    // stays a tombstone (written by the delete, through the topics function's grants) until its TTL.
    await waitFor(
      async () => {
        const out = await clients.doc.send(
          new QueryCommand({ TableName: platform.resources.tables.log, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `${topicId}#${partition}` } }),
        );
        return out.Items?.length === 1 && out.Items[0]!.offset === -1 && out.Items[0]!.deleted === true;
      },
      { timeoutMs: 20_000, what: 'the purge trigger to remove the deleted topic’s log items' },
    );

    // Unknown routes and methods reach the fallback function.
    await globalThis.fetch(`${platform.endpoint}/no-such-route`);
    const notFound = await globalThis.fetch(`${platform.endpoint}/no-such-route`);
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: { code: 'NotFound' } });
    const notAllowed = await globalThis.fetch(`${platform.endpoint}/topics`, { method: 'PUT' });
    expect(notAllowed.status).toBe(405);
    expect(notAllowed.headers.get('allow')).toBe('POST, GET');

    const failures = calls.filter((c) => c.status >= 500);
    expect(failures).toEqual([]);
    expect(new Set(calls.map((c) => c.route))).toEqual(new Set(ROUTES.map(routeKey)));
    expect(platform.deniedCalls).toEqual([]);
  });
});

describe('differences between the stack and what its functions need fail the twin', () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'sluice-broken-assembly-'));
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  /** A copy of the synthesized assembly with its template changed by `edit`. */
  async function brokenAssembly(name: string, edit: (template: CfnTemplate) => void): Promise<string> {
    const dir = join(work, name);
    await cp(inject('assemblies').http, dir, { recursive: true });
    const file = join(dir, 'Sluice.template.json');
    const template = JSON.parse(await readFile(file, 'utf8')) as CfnTemplate;
    edit(template);
    await writeFile(file, JSON.stringify(template));
    return dir;
  }

  const functionWithVariable = (template: CfnTemplate, variable: string) =>
    Object.values(template.Resources).find(
      (r) => r.Type === 'AWS::Lambda::Function' && (r.Properties?.Environment as { Variables: Record<string, unknown> }).Variables[variable] !== undefined,
    )!;

  async function withPlatform(assemblyDir: string, run: (platform: Platform) => Promise<void>) {
    const { startPlatform } = await import('../../local/platform');
    const { uniquePrefix } = await import('../support/emulators');
    const platform = await startPlatform({ port: 0, prefix: uniquePrefix('broken'), emulators: inject('emulators'), assemblyDir });
    try {
      await run(platform);
    } finally {
      await platform.stop();
    }
  }

  it('a variable the stack does not give a function: its requests fail as on AWS', async () => {
    const dir = await brokenAssembly('missing-variable', (t) => {
      const fn = functionWithVariable(t, 'SLUICE_TOPICS_TABLE');
      delete (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.SLUICE_TOPICS_TABLE;
    });
    await withPlatform(dir, async (platform) => {
      const statuses = await Promise.all(['/topics', '/groups'].map(async (p) => (await globalThis.fetch(`${platform.endpoint}${p}`)).status));
      expect(statuses).toContain(500);
    });
  });

  it('a grant the stack does not give: the local IAM denies the call and the request fails', async () => {
    const dir = await brokenAssembly('missing-grant', (t) => {
      for (const r of Object.values(t.Resources)) {
        if (r.Type !== 'AWS::IAM::Policy') continue;
        const doc = r.Properties!.PolicyDocument as { Statement: { Action: string | string[] }[] };
        doc.Statement = doc.Statement.filter((s) => ![s.Action].flat().some((a) => a === 'dynamodb:Scan'));
      }
    });
    await withPlatform(dir, async (platform) => {
      const res = await globalThis.fetch(`${platform.endpoint}/topics`);
      expect(res.status).toBe(500);
      expect(platform.deniedCalls).toContainEqual(expect.objectContaining({ action: 'dynamodb:Scan' }));
    });
  });

  it('a key schema that differs from what the code writes: produce fails', async () => {
    const dir = await brokenAssembly('key-schema', (t) => {
      const log = Object.values(t.Resources).find(
        (r) => r.Type === 'AWS::DynamoDB::Table' && JSON.stringify(r.Properties?.KeySchema).includes('"offset"'),
      )!;
      log.Properties!.KeySchema = [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'seq', KeyType: 'RANGE' }];
      log.Properties!.AttributeDefinitions = [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'seq', AttributeType: 'N' }];
    });
    await withPlatform(dir, async (platform) => {
      const headers = { 'content-type': 'application/json' };
      const created = await globalThis.fetch(`${platform.endpoint}/topics`, { method: 'POST', headers, body: JSON.stringify({ name: 'k' }) });
      expect(created.status).toBe(201);
      const produced = await globalThis.fetch(`${platform.endpoint}/topics/k/events`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ events: [{ value: 1 }] }),
      });
      expect(produced.status).toBe(500);
    });
  });

  it('a bundle that cannot load (an ESM or bundling problem): its routes fail', async () => {
    const dir = await brokenAssembly('bad-bundle', () => {});
    const template = JSON.parse(await readFile(join(dir, 'Sluice.template.json'), 'utf8')) as CfnTemplate;
    const fn = functionWithVariable(template, 'SLUICE_TOPICS_TABLE');
    const asset = String(fn.Metadata?.['aws:asset:path']);
    // What a CommonJS-only dependency bundled as ESM does at import time.
    await writeFile(join(dir, asset, 'index.mjs'), 'const x = require("node:fs"); export const handler = async () => x;');
    await withPlatform(dir, async (platform) => {
      const statuses = await Promise.all(['/topics', '/groups'].map(async (p) => (await globalThis.fetch(`${platform.endpoint}${p}`)).status));
      expect(statuses).toContain(500);
    });
  });
});
