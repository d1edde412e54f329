/**
 * The topic-administration API over real HTTP, against the local platform (real handlers, DynamoDB
 * Local and the SQS server).
 */
import { QueryCommand, BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPIC_DEFAULTS } from '../../api/topics';
import { HEAD_OFFSET, logPartitionKey } from '../../lambda/core/log/dynamodb-log-store';
import type { Platform } from '../../local/platform';
import { waitFor } from '../../local/support';
import { emulatorClients, startTestPlatform } from '../support/emulators';

let platform: Platform;
const clients = emulatorClients();

async function call(method: string, path: string, body?: unknown, raw?: string) {
  const res = await fetch(`${platform.endpoint}${path}`, {
    method,
    headers: body === undefined && raw === undefined ? {} : { 'content-type': 'application/json' },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const topicNames = async () => ((await call('GET', '/topics')).body.topics as { name: string }[]).map((t) => t.name);

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

// The same topic administration through both APIs the stack can be synthesized with.
describe.each(['http', 'rest'] as const)('over the %s API', (api) => {
beforeAll(async () => {
  platform = await startTestPlatform('api', { api });
});

afterAll(async () => {
  await platform?.stop();
});

describe('POST /topics', () => {
  it('creates a topic and answers 201 with its config', async () => {
    const res = await call('POST', '/topics', { name: 'orders', partitions: 3 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name: 'orders',
      partitions: 3,
      retentionMs: TOPIC_DEFAULTS.retentionMs,
      dedupeWindowMs: TOPIC_DEFAULTS.dedupeWindowMs,
    });
    expect(res.body.topicId).toMatch(/^[A-Za-z0-9_-]{22}$/); // 128 random bits, base64url
    expect(Date.parse(res.body.createdAt)).not.toBeNaN();
  });

  it('applies the documented defaults and accepts retentionMs -1 (forever)', async () => {
    const res = await call('POST', '/topics', { name: 'forever', retentionMs: -1, dedupeWindowMs: 0 });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ partitions: TOPIC_DEFAULTS.partitions, retentionMs: -1, dedupeWindowMs: 0 });
  });

  it('answers 409 TopicAlreadyExists for a duplicate and keeps the original', async () => {
    const first = await call('POST', '/topics', { name: 'dup', partitions: 2 });
    const second = await call('POST', '/topics', { name: 'dup', partitions: 5 });
    expect(second.status).toBe(409);
    expect(second.body.error).toMatchObject({ code: 'TopicAlreadyExists', topic: 'dup' });
    expect((await call('GET', '/topics/dup')).body).toMatchObject({ topicId: first.body.topicId, partitions: 2 });
  });

  it.each([
    ['an invalid name', { name: 'bad name!' }, 'body.name'],
    ['the name "."', { name: '.' }, 'body.name'],
    ['the name ".."', { name: '..' }, 'body.name'],
    ['a 250-character name', { name: 'a'.repeat(250) }, 'body.name'],
    ['an empty name', { name: '' }, 'body.name'],
    ['no name', { partitions: 1 }, 'body.name'],
    ['0 partitions', { name: 'p0', partitions: 0 }, 'body.partitions'],
    ['1001 partitions', { name: 'p1001', partitions: 1001 }, 'body.partitions'],
    ['fractional partitions', { name: 'pf', partitions: 1.5 }, 'body.partitions'],
    ['partitions as a string', { name: 'ps', partitions: '3' }, 'body.partitions'],
    ['retentionMs -2', { name: 'r', retentionMs: -2 }, 'body.retentionMs'],
    ['retentionMs 0', { name: 'r0', retentionMs: 0 }, 'body.retentionMs'],
    ['a negative dedupe window', { name: 'd', dedupeWindowMs: -1 }, 'body.dedupeWindowMs'],
    ['a dedupe window over 7 days', { name: 'd8', dedupeWindowMs: 8 * 86_400_000 }, 'body.dedupeWindowMs'],
    ['an unknown field', { name: 'u', replicas: 3 }, 'body'],
  ])('answers 400 InvalidRequest for %s and creates nothing', async (_label, body, path) => {
    const before = await topicNames();
    const res = await call('POST', '/topics', body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
    expect(res.body.error.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(await topicNames()).toEqual(before);
  });

  it.each([
    ['malformed JSON', '{"name":'],
    ['a JSON array', '[]'],
    ['no body at all', ''],
  ])('answers 400 InvalidRequest for %s', async (_label, raw) => {
    const res = await call('POST', '/topics', undefined, raw);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
  });

  it('accepts the longest legal name (249 characters of every allowed kind)', async () => {
    const name = `Aa0._-${'x'.repeat(243)}`;
    expect(name).toHaveLength(249);
    expect((await call('POST', '/topics', { name })).status).toBe(201);
    expect((await call('GET', `/topics/${name}`)).status).toBe(200);
  });
});

describe('GET /topics', () => {
  it('lists created topics with their partition counts', async () => {
    await call('POST', '/topics', { name: 'listed', partitions: 4 });
    const res = await call('GET', '/topics');
    expect(res.status).toBe(200);
    expect(res.body.topics).toContainEqual(expect.objectContaining({ name: 'listed', partitions: 4 }));
  });
});

describe('GET /topics/{topic}', () => {
  it('describes config and per-partition offsets', async () => {
    await call('POST', '/topics', { name: 'described', partitions: 3 });
    const res = await call('GET', '/topics/described');
    expect(res.status).toBe(200);
    expect(res.body.partitionOffsets).toEqual([0, 1, 2].map((partition) => ({ partition, logStartOffset: 0, highWatermark: 0 })));
  });

  it('reports the high watermark from the partition head', async () => {
    const { body: topic } = await call('POST', '/topics', { name: 'with-head', partitions: 2 });
    await clients.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [platform.resources.tables.log]: [
            { PutRequest: { Item: { pk: logPartitionKey(topic.topicId, 1), offset: HEAD_OFFSET, nextOffset: 12, maxTimestamp: 0 } } },
          ],
        },
      }),
    );
    const res = await call('GET', '/topics/with-head');
    // No batch is stored below it, so nothing is readable: the log starts at the high watermark.
    expect(res.body.partitionOffsets[1]).toEqual({ partition: 1, logStartOffset: 12, highWatermark: 12 });
  });

  it('answers 404 TopicNotFound for an unknown topic', async () => {
    const res = await call('GET', '/topics/nope');
    expect(res.status).toBe(404);
    expect(res.body.error).toMatchObject({ code: 'TopicNotFound', topic: 'nope' });
  });

  it('answers 400 for an illegal name in the path', async () => {
    const res = await call('GET', `/topics/${encodeURIComponent('bad name')}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('InvalidRequest');
  });
});

describe('DELETE /topics/{topic}', () => {
  it('deletes the topic (204), hides it at once, and purges its log items', async () => {
    const { body: topic } = await call('POST', '/topics', { name: 'doomed', partitions: 2 });
    const pk = logPartitionKey(topic.topicId, 1);
    await clients.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [platform.resources.tables.log]: [
            { PutRequest: { Item: { pk, offset: HEAD_OFFSET, nextOffset: 1 } } },
            { PutRequest: { Item: { pk, offset: 0, value: 'event' } } },
          ],
        },
      }),
    );

    const res = await call('DELETE', '/topics/doomed');
    expect(res.status).toBe(204);
    expect((await call('GET', '/topics/doomed')).status).toBe(404);
    expect(await topicNames()).not.toContain('doomed');

    // The purge job is delayed a few seconds, then the SQS poller runs the purge function.
    await waitFor(
      async () => {
        const left = await clients.doc.send(
          new QueryCommand({
            TableName: platform.resources.tables.log,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': pk },
          }),
        );
        // Only the head's tombstone stays (until its TTL), refusing appends planned from the old topic.
        return left.Count === 1 && left.Items?.[0]?.offset === HEAD_OFFSET && left.Items[0].deleted === true;
      },
      { timeoutMs: 20_000, what: 'the purge of the deleted topic' },
    );
  });

  it('gives a re-created topic a new topicId and none of the old offsets', async () => {
    const first = await call('POST', '/topics', { name: 'phoenix', partitions: 1 });
    await clients.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [platform.resources.tables.log]: [
            { PutRequest: { Item: { pk: logPartitionKey(first.body.topicId, 0), offset: HEAD_OFFSET, nextOffset: 9 } } },
          ],
        },
      }),
    );
    expect((await call('DELETE', '/topics/phoenix')).status).toBe(204);
    const second = await call('POST', '/topics', { name: 'phoenix', partitions: 1 });
    expect(second.body.topicId).not.toBe(first.body.topicId);
    expect((await call('GET', '/topics/phoenix')).body.partitionOffsets[0].highWatermark).toBe(0);
  });

  it('answers 404 TopicNotFound for an unknown topic', async () => {
    const res = await call('DELETE', '/topics/nope');
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('TopicNotFound');
  });
});

describe('routing', () => {
  it.each([
    ['GET', '/nothing-here'],
    ['GET', '/topics/a/b/c'],
    ['POST', '/'],
  ])('answers %s %s with 404 NotFound', async (method, path) => {
    const res = await call(method, path);
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('NotFound');
  });

  it.each([
    ['PUT', '/topics', 'POST, GET'],
    ['PUT', '/topics/orders', 'GET, PATCH, DELETE'],
    ['POST', '/topics/orders', 'GET, PATCH, DELETE'],
    ['DELETE', '/topics/orders/events', 'POST'],
  ])('answers %s %s with 405 and an Allow header', async (method, path, allow) => {
    const res = await call(method, path);
    expect(res.status).toBe(405);
    expect(res.body.error).toMatchObject({ code: 'MethodNotAllowed' });
    expect(res.headers.get('allow')).toBe(allow);
  });
});

describe('bodies on routes that take none', () => {
  it.each([
    ['PUT', '/topics', 405],
    ['PATCH', '/nothing', 404],
    ['PUT', '/topics/orders', 405],
  ])('answers %s %s with a malformed body by its route (%i), not 400', async (method, path, status) => {
    const res = await call(method, path, undefined, '{');
    expect(res.status).toBe(status);
  });
});
});
