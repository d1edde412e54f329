/**
 * One retry layer on the server: the SDK retries transient faults and throttling (configured in
 * lambda/core/aws/clients.ts), nothing retries a permanent error, and LogService's own loop only
 * re-plans appends that lost a race. The SDK's behaviour is checked against a stub endpoint that
 * answers like DynamoDB, LogService's against DynamoDB Local with one fault injected.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBDocumentClient as DocClient, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DependencyFailedError, InternalError } from '../../api/errors';
import { createDocumentClient, SDK_RETRY_DEFAULTS } from '../../lambda/core/aws/clients';
import { toSluiceError } from '../../lambda/core/aws/errors';
import { DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogService } from '../../lambda/core/log/log-service';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/support';
import { emulatorClients, provisionIsolated } from '../support/emulators';

describe('the SDK retry strategy', () => {
  let server: Server;
  let endpoint: string;
  let requests = 0;
  let answer: { status: number; type: string } = { status: 500, type: 'InternalServerError' };

  beforeAll(async () => {
    // Answers every call with the configured DynamoDB error (JSON 1.0 protocol, as DynamoDB does).
    server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        requests++;
        res.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-errortype': answer.type });
        res.end(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${answer.type}`, message: 'stub' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const call = async (status: number, type: string) => {
    answer = { status, type };
    requests = 0;
    const client = createDocumentClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const err = await client.send(new GetCommand({ TableName: 't', Key: { k: 1 } })).catch((e: unknown) => e);
    client.destroy();
    return { err: toSluiceError(err, 'GetTopic'), requests };
  };

  it(`retries a transient 5xx up to maxAttempts (${SDK_RETRY_DEFAULTS.maxAttempts}), then answers a retriable InternalError`, async () => {
    const { err, requests } = await call(500, 'InternalServerError');
    expect(requests).toBe(SDK_RETRY_DEFAULTS.maxAttempts);
    expect(err).toBeInstanceOf(InternalError);
    expect(err.retriable).toBe(true);
  });

  it.each([
    [400, 'AccessDeniedException'],
    [400, 'ValidationException'],
    [400, 'ResourceNotFoundException'],
    [400, 'UnrecognizedClientException'],
  ])('sends a %s %s once and answers a non-retriable DependencyFailed', async (status, type) => {
    const { err, requests } = await call(status, type);
    expect(requests).toBe(1);
    expect(err).toBeInstanceOf(DependencyFailedError);
    expect(err.retriable).toBe(false);
  });
});

describe('LogService', () => {
  const clients = emulatorClients();
  let resources: Awaited<ReturnType<typeof provisionIsolated>>;

  beforeAll(async () => {
    resources = await provisionIsolated('retries');
  });

  afterAll(() => {
    clients.dynamodb.destroy();
    clients.sqs.destroy();
  });

  it('does not retry a permanent error of the append (AccessDenied): one call, DependencyFailed, nothing written', async () => {
    const topics = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
    await topics.createTopic({ name: 'denied', topicId: 'tid-denied', partitions: 1, retentionMs: -1, dedupeWindowMs: 60_000, createdAt: new Date().toISOString() });
    const failing = DocClient.from(clients.dynamodb);
    const mock = mockClient(failing);
    mock.on(TransactWriteCommand).rejects(Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $fault: 'client' }));
    const log = new DynamoDbLogStore({ client: clients.doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe });
    const denied = new DynamoDbLogStore({ client: failing, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe });
    log.append = (plans, alsoWrite) => denied.append(plans, alsoWrite);
    const service = new LogService({ topics, log, sleep: async () => {} });

    const err = await service.produce('denied', [{ value: 1, messageId: 'm-1' }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DependencyFailedError);
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect((await service.fetch('denied', 0, {})).highWatermark).toBe(0);
  });
});
