/**
 * Faults real services will not produce on demand, injected with aws-sdk-client-mock: throttling,
 * an SQS outage in the middle of a delete, an unexpected exception. Everything else is real.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2, SQSBatchResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJsonLogger, silentLogger } from '../../lambda/core/logger';
import { DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogService } from '../../lambda/core/log/log-service';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { SqsPurgeQueue } from '../../lambda/core/topics/purge-queue';
import { TopicService } from '../../lambda/core/topics/topic-service';
import { createTopicPurgeHandler } from '../../lambda/handlers/topic-purge';
import { createTopicsHandler } from '../../lambda/handlers/topics';
import { emulatorClients, provisionIsolated } from '../support/emulators';
import { httpEvent, lambdaContext, sqsEvent } from '../support/events';

const clients = emulatorClients();
let resources: Awaited<ReturnType<typeof provisionIsolated>>;

const realService = (sqs: SQSClient = clients.sqs, doc: DynamoDBDocumentClient = clients.doc) => {
  const store = new DynamoDbTopicStore({ client: doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
  return new TopicService({
    store,
    offsets: new LogService({
      topics: store,
      log: new DynamoDbLogStore({ client: doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe }),
    }),
    purgeQueue: new SqsPurgeQueue(sqs, resources.queues.topicPurge),
  });
};

const invoke = async (handler: ReturnType<typeof createTopicsHandler>, event: ReturnType<typeof httpEvent>) => {
  const res = (await handler(event, lambdaContext)) as APIGatewayProxyStructuredResultV2;
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
};

beforeAll(async () => {
  resources = await provisionIsolated('faults');
});

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('when SQS fails during DELETE /topics/{topic}', () => {
  it('answers a retriable 500 and the topic is still there, unchanged', async () => {
    const healthy = createTopicsHandler(realService(), silentLogger);
    const created = await invoke(healthy, httpEvent('POST /topics', { body: { name: 'kept', partitions: 2 } }));
    expect(created.status).toBe(201);

    // Only this client instance is mocked; the rest of the suite talks to the real SQS server.
    const failingSqs = new SQSClient({ region: 'us-east-1' });
    const sqsMock = mockClient(failingSqs);
    sqsMock.on(SendMessageCommand).rejects(Object.assign(new Error('SQS is down'), { name: 'ServiceUnavailable' }));
    const broken = createTopicsHandler(realService(failingSqs), silentLogger);
    const res = await invoke(broken, httpEvent('DELETE /topics/{topic}', { pathParameters: { topic: 'kept' } }));
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('InternalError');
    expect(sqsMock.commandCalls(SendMessageCommand)).toHaveLength(1);

    const after = await invoke(healthy, httpEvent('GET /topics/{topic}', { pathParameters: { topic: 'kept' } }));
    expect(after.status).toBe(200);
    expect(after.body.topicId).toBe(created.body.topicId);
  });
});

describe('when DynamoDB throttles', () => {
  it.each([
    ['ProvisionedThroughputExceededException'],
    ['ThrottlingException'],
    ['RequestLimitExceeded'],
  ])('answers 429 Throttled for %s', async (name) => {
    const doc = DynamoDBDocumentClient.from(clients.dynamodb);
    mockClient(doc).on(PutCommand).rejects(Object.assign(new Error('slow down'), { name }));
    const handler = createTopicsHandler(realService(clients.sqs, doc), silentLogger);
    const res = await invoke(handler, httpEvent('POST /topics', { body: { name: 'throttled' } }));
    expect(res.status).toBe(429);
    expect(res.body.error.code).toBe('Throttled');
  });
});

describe('when something unexpected throws', () => {
  it('answers 500 InternalError without internals and logs the cause', async () => {
    const lines: string[] = [];
    const logger = createJsonLogger({ write: (l) => lines.push(l) });
    const service = realService();
    service.listTopics = async () => {
      throw new TypeError('secret internal detail');
    };
    const res = await invoke(createTopicsHandler(service, logger), httpEvent('GET /topics'));
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('InternalError');
    expect(JSON.stringify(res.body)).not.toContain('secret internal detail');
    expect(lines.some((l) => l.includes('secret internal detail'))).toBe(true);
  });
});

describe('the purge function', () => {
  it('refuses to purge a topic that still exists and reports the message as failed', async () => {
    const service = realService();
    const topic = await service.createTopic({ name: 'alive', partitions: 1 });
    const handler = createTopicPurgeHandler(service, silentLogger);
    const res = (await handler(
      sqsEvent([{ name: 'alive', topicId: topic.topicId, partitions: 1 }, { name: 'gone', topicId: 'old', partitions: 1 }]),
      lambdaContext,
    )) as SQSBatchResponse;
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }]);
    expect(await service.describeTopic('alive')).toMatchObject({ topicId: topic.topicId });
  });

  it('reports a malformed job as failed so it ends in the dead-letter queue', async () => {
    const handler = createTopicPurgeHandler(realService(), silentLogger);
    const res = (await handler(sqsEvent([{ bogus: true }]), lambdaContext)) as SQSBatchResponse;
    expect(res.batchItemFailures).toEqual([{ itemIdentifier: 'm-0' }]);
  });
});
