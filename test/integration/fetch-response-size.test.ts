/**
 * Lambda's 6 MB response limit counts the serialized invocation result, in which the response
 * body (JSON) is a JSON string: every `"` and `\` of the body is escaped again. Values full of
 * quotes, backslashes and control characters nearly double there. Fetch and group records must
 * stop adding events before that limit, and the next call must continue where the last stopped.
 * Against DynamoDB Local, through the real fetch handler.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENT_LIMITS, FETCH_LIMITS, type FetchedEvent, type FetchResponse } from '../../api/events';
import { DynamoDbGroupStore } from '../../lambda/core/groups/dynamodb-group-store';
import { GroupService } from '../../lambda/core/groups/group-service';
import { DynamoDbLogReadStore, DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogReadService } from '../../lambda/core/log/log-read-service';
import { LogService } from '../../lambda/core/log/log-service';
import { silentLogger } from '../../lambda/core/logger';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { createFetchHandler } from '../../lambda/handlers/fetch';
import { jsonResponse } from '../../lambda/middleware/responses';
import { emulatorClients, provisionIsolated } from '../support/emulators';
import { httpEvent, lambdaContext } from '../support/events';

/** Lambda's limit on a synchronous invocation's response, as serialized. */
const LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024;

const clients = emulatorClients();
let topics: DynamoDbTopicStore;
let writer: LogService;
let reader: LogReadService;
let groups: GroupService;

/** A value whose JSON is just under the per-event limit and made of what escaping doubles. */
const nasty = (i: number) => `${i}:` + '"'.repeat(100_000) + '\\'.repeat(10_000) + '\u0001\n\t'.repeat(1_600);
const EVENTS = 30;

async function fill(name: string, partitions: number) {
  await topics.createTopic({ name, topicId: `tid-${name}-${Date.now()}`, partitions, retentionMs: -1, dedupeWindowMs: 0, createdAt: new Date().toISOString() });
  expect(Buffer.byteLength(JSON.stringify(nasty(99)))).toBeLessThanOrEqual(EVENT_LIMITS.maxEventBytes);
  // Within the request limits: 10 such events are 2.5 MB of JSON.
  for (let from = 0; from < EVENTS; from += 10) {
    await writer.produce(
      name,
      Array.from({ length: 10 }, (_, k) => ({ partition: (from + k) % partitions, value: nasty(from + k) })),
    );
  }
}

/** What Lambda measures: the handler's result, serialized. */
const lambdaBytes = (result: unknown) => Buffer.byteLength(JSON.stringify(result), 'utf8');

beforeAll(async () => {
  const resources = await provisionIsolated('size');
  topics = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
  writer = new LogService({
    topics,
    log: new DynamoDbLogStore({ client: clients.doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe }),
  });
  reader = new LogReadService({ topics, log: new DynamoDbLogReadStore({ client: clients.doc, logTable: resources.tables.log }) });
  groups = new GroupService({ groups: new DynamoDbGroupStore(clients.doc, resources.tables.groups), topics, log: reader, sleep: async () => {} });
});

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('GET /topics/{topic}/partitions/{partition}/events with quote-heavy values', () => {
  it('keeps every Lambda response under 6 MB and continues from the right offset', async () => {
    await fill('quotes', 1);
    const handler = createFetchHandler(reader, silentLogger);
    const seen: FetchedEvent[] = [];
    let offset = 0;
    let calls = 0;
    while (offset < EVENTS) {
      const event = {
        ...httpEvent('GET /topics/{topic}/partitions/{partition}/events', { pathParameters: { topic: 'quotes', partition: '0' } }),
        queryStringParameters: { offset: String(offset), limit: String(FETCH_LIMITS.maxLimit) },
        rawQueryString: `offset=${offset}&limit=${FETCH_LIMITS.maxLimit}`,
      } as APIGatewayProxyEventV2;
      const result = await handler(event, lambdaContext);
      calls++;
      expect(result.statusCode).toBe(200);
      expect(lambdaBytes(result)).toBeLessThan(LAMBDA_RESPONSE_LIMIT);
      const page = JSON.parse(result.body!) as FetchResponse;
      expect(page.events.length).toBeGreaterThan(0);
      expect(page.events[0]!.offset).toBe(offset);
      expect(page.nextOffset).toBe(offset + page.events.length);
      seen.push(...page.events);
      offset = page.nextOffset;
    }
    // The body alone (under 4 MiB) would have let more in: the escaped size is what stopped it.
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(seen.map((e) => e.offset)).toEqual(Array.from({ length: EVENTS }, (_, i) => i));
    expect(seen.map((e) => e.value)).toEqual(Array.from({ length: EVENTS }, (_, i) => nasty(i)));
  });
});

describe('GET /groups/{group}/members/{memberId}/records with quote-heavy values', () => {
  it('keeps the answer under 6 MB across partitions and the next call continues where it stopped', async () => {
    await fill('quotes-group', 3);
    const { memberId } = await groups.join('g-size', { topics: ['quotes-group'], offsetReset: 'earliest', sessionTimeoutMs: 60_000 });
    const seen: FetchedEvent[] = [];
    for (let calls = 0; seen.length < EVENTS; calls++) {
      expect(calls).toBeLessThan(10);
      const answer = await groups.records('g-size', memberId, { maxRecords: 1000 });
      expect(lambdaBytes(jsonResponse(200, answer))).toBeLessThan(LAMBDA_RESPONSE_LIMIT);
      expect(answer.records.length).toBeGreaterThan(0);
      seen.push(...answer.records);
    }
    expect(seen).toHaveLength(EVENTS);
    const byPartition = (p: number) => seen.filter((e) => e.partition === p).map((e) => e.offset);
    for (const p of [0, 1, 2]) expect(byPartition(p)).toEqual(Array.from({ length: EVENTS / 3 }, (_, i) => i));
  });
});
