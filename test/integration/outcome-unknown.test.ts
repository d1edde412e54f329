/**
 * Answers that claim only what they know (issue 8). A write whose call ended without an answer (a
 * timeout, a reset connection, an aborted call: the SDK throws an error with no HTTP status) may
 * have been applied, or may yet be: the answer is `OutcomeUnknown`, retriable with the same message
 * IDs, never "nothing was changed". Reads, and calls known never to have been sent, keep
 * `InternalError`. The fault is injected with aws-sdk-client-mock on a client of its own; every
 * other call goes to DynamoDB Local.
 */
import {
  DynamoDBDocumentClient as DocClient,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorFromBody, InternalError, OutcomeUnknownError } from '../../api/errors';
import { withRetries } from '../../api/retry';
import type { TopicConfig } from '../../api/topics';
import { DynamoDbGroupStore } from '../../lambda/core/groups/dynamodb-group-store';
import { GroupService } from '../../lambda/core/groups/group-service';
import { DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogService } from '../../lambda/core/log/log-service';
import { silentLogger } from '../../lambda/core/logger';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { createProduceHandler } from '../../lambda/handlers/produce';
import { emulatorClients, provisionIsolated } from '../support/emulators';
import { httpEvent, lambdaContext } from '../support/events';

const clients = emulatorClients();
let resources: Awaited<ReturnType<typeof provisionIsolated>>;
let topics: DynamoDbTopicStore;
let n = 0;

/** What the SDK throws when a call gets no answer: no `$metadata.httpStatusCode`, no `$fault`. */
const noAnswer = {
  timeout: () => Object.assign(new Error('Connection timed out after 1000 ms'), { name: 'TimeoutError' }),
  abort: () => Object.assign(new Error('Request aborted'), { name: 'AbortError' }),
  reset: () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
};

async function newTopic(): Promise<TopicConfig> {
  const config: TopicConfig = {
    name: `ou-${++n}`,
    topicId: `ou-${n}-${Date.now()}`,
    partitions: 1,
    retentionMs: -1,
    dedupeWindowMs: 60_000,
    createdAt: new Date().toISOString(),
  };
  await topics.createTopic(config);
  return config;
}

const logStore = (client = clients.doc) => new DynamoDbLogStore({ client, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe });

/**
 * A log whose transactions go through `client` (a mocked one), while every read goes to DynamoDB
 * Local through the shared client.
 */
function logWithAppendsThrough(client: DocClient) {
  const store = logStore();
  const appends = logStore(client);
  store.append = (plans, alsoWrite) => appends.append(plans, alsoWrite);
  return new LogService({ topics, log: store, sleep: async () => {} });
}

beforeAll(async () => {
  resources = await provisionIsolated('outcome');
  topics = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
});

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('a produce whose transaction got no answer', () => {
  it.each(Object.entries(noAnswer))('answers OutcomeUnknown on a %s, never "nothing was changed"', async (_, fault) => {
    const config = await newTopic();
    const failing = DocClient.from(clients.dynamodb);
    mockClient(failing).on(TransactWriteCommand).rejects(fault());
    const err = await logWithAppendsThrough(failing).produce(config.name, [{ value: 1, messageId: 'm-1' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    expect(err).toMatchObject({ code: 'OutcomeUnknown', status: 500, retriable: true });
    expect((err as Error).message).toMatch(/outcome is unknown/);
    expect((err as Error).message).toMatch(/same message IDs/);
    expect((err as Error).message).not.toMatch(/nothing was (changed|written)/i);
  });

  it('is right to: the write landed after all, and the advised retry (same message IDs) appends nothing twice', async () => {
    const config = await newTopic();
    const failing = DocClient.from(clients.dynamodb);
    // DynamoDB applies the transaction; the answer is lost on the way back.
    mockClient(failing)
      .on(TransactWriteCommand)
      .callsFake(async (input: TransactWriteCommandInput) => {
        await clients.doc.send(new TransactWriteCommand(input));
        throw noAnswer.timeout();
      });
    const events = [{ value: 'a', messageId: 'landed-1' }, { value: 'b', messageId: 'landed-2' }];
    const err = await logWithAppendsThrough(failing).produce(config.name, events).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);

    const healthy = new LogService({ topics, log: logStore() });
    expect((await healthy.fetch(config.name, 0, {})).highWatermark).toBe(2);
    const { results } = await healthy.produce(config.name, events);
    expect(results.map((r) => [r.offset, r.duplicate])).toEqual([
      [0, true],
      [1, true],
    ]);
    expect((await healthy.fetch(config.name, 0, {})).highWatermark).toBe(2);
  });

  it('is answered over HTTP as 500 OutcomeUnknown, which the client rebuilds as a retriable OutcomeUnknownError', async () => {
    const config = await newTopic();
    const failing = DocClient.from(clients.dynamodb);
    mockClient(failing).on(TransactWriteCommand).rejects(noAnswer.timeout());
    const handler = createProduceHandler(logWithAppendsThrough(failing), silentLogger);
    const res = (await handler(
      httpEvent('POST /topics/{topic}/events', { pathParameters: { topic: config.name }, body: { events: [{ value: 1, messageId: 'h-1' }] } }),
      lambdaContext,
    )) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(500);
    const body = JSON.parse(res.body!);
    expect(body.error.code).toBe('OutcomeUnknown');
    expect(body.error.message).not.toMatch(/nothing was (changed|written)/i);
    const rebuilt = errorFromBody(res.statusCode!, body);
    expect(rebuilt).toBeInstanceOf(OutcomeUnknownError);
    expect(rebuilt.retriable).toBe(true);
    // The client's retry loop retries it (with the same request, hence the same message IDs).
    let attempts = 0;
    await withRetries(
      async () => {
        if (++attempts < 2) throw rebuilt;
      },
      { sleep: async () => {} },
    );
    expect(attempts).toBe(2);
  });
});

describe('other writes and reads', () => {
  it('a commit whose transaction got no answer is OutcomeUnknown', async () => {
    const config = await newTopic();
    const group = `ou-group-${n}`;
    const log = new LogService({ topics, log: logStore() });
    const healthyStore = new DynamoDbGroupStore(clients.doc, resources.tables.groups);
    const member = await new GroupService({ groups: healthyStore, topics, log }).join(group, { topics: [config.name] });
    const failing = DocClient.from(clients.dynamodb);
    mockClient(failing).on(TransactWriteCommand).rejects(noAnswer.reset());
    const store = new DynamoDbGroupStore(clients.doc, resources.tables.groups);
    const broken = new DynamoDbGroupStore(failing, resources.tables.groups);
    store.commitOffsets = (fence, offsets) => broken.commitOffsets(fence, offsets);
    const err = await new GroupService({ groups: store, topics, log })
      .commit(group, { memberId: member.memberId, generation: member.generation, offsets: [{ topic: config.name, partition: 0, offset: 0 }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
  });

  it('a read that got no answer changed nothing, and keeps saying InternalError', async () => {
    const failing = DocClient.from(clients.dynamodb);
    mockClient(failing).on(GetCommand).rejects(noAnswer.timeout());
    const reader = new DynamoDbTopicStore({ client: failing, topicsTable: resources.tables.topics, logTable: resources.tables.log });
    const err = await reader.getTopic('anything').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalError);
    expect(err).not.toBeInstanceOf(OutcomeUnknownError);
  });

  it('a write that was never sent (connection refused) is known to have changed nothing: InternalError', async () => {
    const config = await newTopic();
    const failing = DocClient.from(clients.dynamodb);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    // A transaction, or the first single-item write of a one-partition append without message IDs.
    mockClient(failing).on(TransactWriteCommand).rejects(refused).on(PutCommand).rejects(refused);
    const err = await logWithAppendsThrough(failing).produce(config.name, [{ value: 1 }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalError);
    expect(err).not.toBeInstanceOf(OutcomeUnknownError);
    expect((await new LogService({ topics, log: logStore() }).fetch(config.name, 0, {})).highWatermark).toBe(0);
  });
});
