/**
 * The local DynamoDB Streams event source mapping, driven through a probe function in a
 * hand-written cloud assembly: it reads the table's stream as the template's mapping says (filter
 * patterns, batch size, ReportBatchItemFailures, bisect, retries, the on-failure destination) and
 * with the function's own role. Its filters are the dispatcher's, so what they let through is the
 * dispatcher's contract with the log table.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FUNCTIONS } from '../../definitions/functions';
import { startPlatform, type Platform } from '../../local/platform';
import { LOCAL_CREDENTIALS, LOCAL_REGION, waitFor } from '../../local/support';
import { emulatorClients, uniquePrefix } from '../support/emulators';

// Records every invocation; fails on a record whose value is "poison" (always) or "flaky" (the
// first time it sees it, as a batch item failure).
const PROBE = `
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
export const handler = async (event) => {
  const log = process.env.PROBE_LOG;
  const offsets = event.Records.map((r) => Number(r.dynamodb.Keys.offset.N));
  const pks = event.Records.map((r) => r.dynamodb.Keys.pk.S);
  appendFileSync(log, JSON.stringify({ offsets, pks, names: event.Records.map((r) => r.eventName) }) + '\\n');
  if (event.Records.some((r) => r.dynamodb.NewImage?.value?.S === 'poison')) throw new Error('poison');
  const seen = existsSync(log + '.flaky') ? readFileSync(log + '.flaky', 'utf8') : '';
  const flaky = event.Records.find((r) => r.dynamodb.NewImage?.value?.S === 'flaky' && !seen.includes(r.dynamodb.SequenceNumber));
  if (flaky) {
    appendFileSync(log + '.flaky', flaky.dynamodb.SequenceNumber + '\\n');
    return { batchItemFailures: [{ itemIdentifier: flaky.dynamodb.SequenceNumber }] };
  }
  return { batchItemFailures: [] };
};
`;


const template = (logFile: string) => ({
  Resources: {
    Log: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'offset', KeyType: 'RANGE' }],
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'offset', AttributeType: 'N' }],
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      },
    },
    Failures: { Type: 'AWS::SQS::Queue', Properties: {} },
    ProbeRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
    ProbePolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        Roles: [{ Ref: 'ProbeRole' }],
        PolicyDocument: {
          Statement: [
            { Effect: 'Allow', Action: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'], Resource: { 'Fn::GetAtt': ['Log', 'StreamArn'] } },
            { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['Failures', 'Arn'] } },
          ],
        },
      },
    },
    Probe: {
      Type: 'AWS::Lambda::Function',
      Metadata: { 'aws:asset:path': 'asset.probe' },
      Properties: {
        Handler: 'index.handler',
        Runtime: 'nodejs22.x',
        Timeout: 5,
        MemorySize: 128,
        Role: { 'Fn::GetAtt': ['ProbeRole', 'Arn'] },
        Environment: { Variables: { PROBE_LOG: logFile } },
      },
    },
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        EventSourceArn: { 'Fn::GetAtt': ['Log', 'StreamArn'] },
        FunctionName: { Ref: 'Probe' },
        StartingPosition: 'TRIM_HORIZON',
        BatchSize: 4,
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 1,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['Failures', 'Arn'] } } },
        FilterCriteria: { Filters: FUNCTIONS.dispatcher.trigger.filters.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) },
      },
    },
    Api: { Type: 'AWS::ApiGatewayV2::Api', Properties: {} },
    Integration: { Type: 'AWS::ApiGatewayV2::Integration', Properties: { IntegrationUri: { 'Fn::GetAtt': ['Probe', 'Arn'] } } },
    Route: {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: { RouteKey: '$default', AuthorizationType: 'AWS_IAM', Target: { 'Fn::Join': ['', ['integrations/', { Ref: 'Integration' }]] } },
    },
  },
});

const clients = emulatorClients();
let dir: string;
let logFile: string;
let platform: Platform;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-stream-assembly-'));
  logFile = join(dir, 'invocations.jsonl');
  await mkdir(join(dir, 'asset.probe'));
  await writeFile(join(dir, 'asset.probe', 'index.mjs'), PROBE);
  await writeFile(join(dir, 'Probe.template.json'), JSON.stringify(template(logFile)));
  await writeFile(
    join(dir, 'manifest.json'),
    JSON.stringify({ artifacts: { Probe: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Probe.template.json' } } } }),
  );
  platform = await startPlatform({ port: 0, prefix: uniquePrefix('stream'), emulators: inject('emulators'), assemblyDir: dir });
});

afterAll(async () => {
  await platform?.stop();
  clients.dynamodb.destroy();
  clients.sqs.destroy();
  await rm(dir, { recursive: true, force: true });
});

const invocations = () =>
  existsSync(logFile)
    ? readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { offsets: number[]; pks: string[]; names: string[] })
    : [];

describe('a DynamoDB Streams event source mapping on the local platform', () => {
  const table = () => platform.twin.tables.get('Log')!.tableName;
  const put = (offset: number, value: string) => clients.doc.send(new PutCommand({ TableName: table(), Item: { pk: 'p', offset, value } }));

  it('hands the function only what its filter matches, in order, in batches of its size, retrying a reported item', async () => {
    await put(-1, 'head'); // filtered out: a partition head without a tail
    for (let i = 0; i < 6; i++) await put(i, i === 2 ? 'flaky' : 'ok');
    await put(-1, 'head again'); // a MODIFY of the head, still without a tail: filtered out
    const delivered = await waitFor(
      async () => {
        const seen = invocations().flatMap((i) => i.offsets);
        // Done once the retried item and everything after it went through again.
        return seen.filter((o) => o === 2).length >= 2 && seen.lastIndexOf(5) > seen.lastIndexOf(2) ? seen : undefined;
      },
      { timeoutMs: 20_000, what: 'the stream records to reach the function' },
    );
    expect(invocations().every((i) => i.offsets.length <= 4 && i.names.every((n) => n === 'INSERT'))).toBe(true);
    expect(delivered.filter((o) => o < 0)).toEqual([]);
    // Offset 2 failed once as a batch item: the mapping retried from it, so 2 and what follows come twice.
    expect([...new Set(delivered)]).toEqual([0, 1, 2, 3, 4, 5]);
    expect(delivered.indexOf(2)).toBeLessThan(delivered.lastIndexOf(2));
    expect(delivered.slice(0, delivered.indexOf(2)).every((o) => o < 2)).toBe(true);
  });

  it('bisects a failing batch, and reports what still fails after its retries to the on-failure queue', async () => {
    for (let i = 10; i < 14; i++) await put(i, i === 12 ? 'poison' : 'ok');
    const queueUrl = platform.twin.queues.get('Failures')!.url;
    // Queue URLs name the local IAM (functions send to a queue's own URL); the account's own
    // credentials pass it.
    const sqs = new SQSClient({ endpoint: new URL(queueUrl).origin, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const report = await waitFor(
      async () => {
        const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1 }));
        return out.Messages?.[0]?.Body;
      },
      { timeoutMs: 30_000, what: 'the on-failure destination to get the poisoned batch' },
    ).finally(() => sqs.destroy());
    const body = JSON.parse(report) as { requestContext: { condition: string }; DDBStreamBatchInfo: { batchSize: number; streamArn: string } };
    expect(body.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(body.DDBStreamBatchInfo.streamArn).toBe(platform.twin.tables.get('Log')!.streamArn);
    // Bisected down to the poisoned record: the others were processed.
    expect(body.DDBStreamBatchInfo.batchSize).toBeLessThan(4);
    const seen = new Set(invocations().flatMap((i) => i.offsets));
    for (const ok of [10, 11, 13]) expect(seen.has(ok)).toBe(true);
  });

  it("lets through the dispatcher's records: batches inserted or overwritten, and heads holding a tail", async () => {
    const pk = 'tails';
    const item = (offset: number, fields: Record<string, unknown>) => clients.doc.send(new PutCommand({ TableName: table(), Item: { pk, offset, ...fields } }));
    await item(30, { value: 'ok' }); // INSERT of a batch
    await item(30, { value: 'ok again' }); // MODIFY: a flush overwriting an uncommitted item
    await item(-1, { nextOffset: 31 }); // INSERT of a head without a tail: filtered out
    await item(-1, { nextOffset: 32, tb: 31, tk: 'framed', td: new Uint8Array([1, 2, 3]) }); // MODIFY of a head with a tail
    await item(-1, { deleted: true }); // a tombstone, no tail: filtered out
    await clients.doc.send(new DeleteCommand({ TableName: table(), Key: { pk, offset: 30 } })); // REMOVE: filtered out
    await item(40, { value: 'last' }); // INSERT: the end of this test's records
    const seen = await waitFor(
      async () => {
        const records = invocations().flatMap((i) => i.offsets.map((offset, j) => ({ pk: i.pks[j], offset, name: i.names[j] })));
        const mine = records.filter((r) => r.pk === pk).map((r) => `${r.name} ${r.offset}`);
        return mine.includes('INSERT 40') ? mine : undefined;
      },
      { timeoutMs: 20_000, what: "this test's stream records to reach the function" },
    );
    expect(seen).toEqual(['INSERT 30', 'MODIFY 30', 'MODIFY -1', 'INSERT 40']);
  });
});
