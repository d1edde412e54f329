/**
 * A user's stack with `sluice.addQueue` and `queue.addConsumer`, synthesized as `cdk synth` would
 * and run on the local platform as `npm start -- --assembly` runs it: the declared queue and its
 * DLQ exist on the SQS server with the template's tags and FIFO high-throughput attributes, under
 * the platform's own message-queue prefix (queue names, the functions' variable and their
 * policies alike); the consumer gets the queue's messages with partial batch responses read as
 * Lambda reads them, one batch per message group at a time, each group in order, and a poison
 * message reaches the DLQ after maxReceiveCount receives.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueueTagsCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MESSAGE_QUEUES } from '../../definitions/queues';
import { batchItemFailures } from '../../local/event-sources/sqs-queue';
import { describeCall } from '../../local/iam/aws-proxy';
import { startPlatform, type Platform } from '../../local/platform';
import { LOCAL_REGION, waitFor } from '../../local/support';
import { LOCAL_ACCOUNT_ID } from '../../local/template/twin';
import { readStack } from '../../local/template/stack-template';
import { emulatorClients, uniqueMessageQueuePrefix, uniquePrefix } from '../support/emulators';

// Records every invocation; fails "poison" always and "flaky" on its first receive (batch item
// failures), answers an invalid partial batch response for "bogus" on its first receive.
const PROBE = `
import { appendFileSync } from 'node:fs';
export const handler = async (event) => {
  const start = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 150));
  const records = event.Records.map((r) => ({ messageId: r.messageId, group: r.attributes.MessageGroupId, count: Number(r.attributes.ApproximateReceiveCount), ...JSON.parse(r.body) }));
  const failed = records.filter((r) => r.mode === 'poison' || (r.mode === 'flaky' && r.count === 1)).map((r) => r.messageId);
  const bogus = records.some((r) => r.mode === 'bogus' && r.count === 1);
  appendFileSync(process.env.PROBE_LOG, JSON.stringify({ start, end: Date.now(), records, failed, bogus }) + '\\n');
  return { batchItemFailures: bogus ? [{ itemIdentifier: 'not-a-message-of-this-batch' }] : failed.map((itemIdentifier) => ({ itemIdentifier })) };
};
`;

interface Invocation {
  readonly start: number;
  readonly end: number;
  readonly records: { messageId: string; group: string; count: number; id: string; mode?: string }[];
  readonly failed: string[];
  readonly bogus: boolean;
}

const clients = emulatorClients();
let work: string;
let logFile: string;
let platform: Platform;
let stackPrefix: string;
const mqPrefix = uniqueMessageQueuePrefix();

/** Synthesizes the user's app into a cloud assembly, as `cdk synth` does. */
async function synthesizeUserApp(outdir: string, probeDir: string): Promise<string> {
  const [{ App, Duration, Stack }, lambda, { Sluice }] = await Promise.all([
    import('aws-cdk-lib'),
    import('aws-cdk-lib/aws-lambda'),
    import('../../lib/sluice'),
  ]);
  const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:disable-version-reporting': true } });
  const stack = new Stack(app, 'Orders');
  const sluice = new Sluice(stack, 'Events');
  const worker = new lambda.Function(stack, 'Worker', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(probeDir),
    timeout: Duration.seconds(3),
    environment: { PROBE_LOG: logFile },
  });
  const changes = sluice.addQueue('order-changes', { visibilityTimeout: Duration.seconds(4), maxReceiveCount: 2 });
  changes.addConsumer(worker, { batchSize: 10 });
  app.synth();
  return sluice.queues.messageQueuePrefix;
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sluice-message-queues-'));
  logFile = join(work, 'invocations.jsonl');
  const probeDir = join(work, 'probe');
  await mkdir(probeDir);
  await writeFile(join(probeDir, 'index.mjs'), PROBE);
  stackPrefix = await synthesizeUserApp(join(work, 'cdk.out'), probeDir);
  platform = await startPlatform({
    port: 0,
    prefix: uniquePrefix('mq'),
    messageQueuePrefix: mqPrefix,
    emulators: inject('emulators'),
    assemblyDir: join(work, 'cdk.out'),
  });
});

afterAll(async () => {
  await platform?.stop();
  clients.dynamodb.destroy();
  clients.sqs.destroy();
  if (work) await rm(work, { recursive: true, force: true });
});

const invocations = (): Invocation[] =>
  existsSync(logFile)
    ? readFileSync(logFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Invocation)
    : [];

/** Messages the consumer resolved (received, not failed, in a batch whose response was valid), in the order it finished them. */
const resolved = () =>
  invocations()
    .filter((i) => !i.bogus)
    .sort((a, b) => a.end - b.end)
    .flatMap((i) => i.records.filter((r) => !i.failed.includes(r.messageId)));

const queueUrl = async (name: string) => (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl!;

async function send(queue: string, messages: { id: string; group: string; mode?: string }[]) {
  const url = await queueUrl(queue);
  const out = await clients.sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: url,
      Entries: messages.map((m, i) => ({
        Id: String(i),
        MessageBody: JSON.stringify({ id: m.id, mode: m.mode }),
        MessageGroupId: m.group,
        MessageDeduplicationId: m.id,
      })),
    }),
  );
  expect(out.Failed ?? []).toEqual([]);
}

describe('a stack with addQueue and addConsumer on the local platform', () => {
  const queueName = () => `${mqPrefix}q-order-changes.fifo`;
  const dlqName = () => `${mqPrefix}d-order-changes.fifo`;

  it('creates the queue and its DLQ under the platform\'s prefix, with the template\'s tags and FIFO high-throughput attributes', async () => {
    expect(stackPrefix).toMatch(/^sluice-[0-9a-f]{6}-$/);
    expect(platform.twin.messageQueuePrefix).toBe(mqPrefix);
    const names = [...platform.twin.queues.values()].map((q) => q.queueName);
    expect(names).toEqual(expect.arrayContaining([queueName(), dlqName()]));
    expect(names.filter((n) => n.startsWith(stackPrefix))).toEqual([]);

    const dlqUrl = await queueUrl(dlqName());
    const dlqArn = (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }))).Attributes!.QueueArn;
    const { Attributes } = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: await queueUrl(queueName()), AttributeNames: ['All'] }));
    expect(Attributes).toMatchObject({
      FifoQueue: 'true',
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      VisibilityTimeout: '4',
      MessageRetentionPeriod: String(4 * 86_400),
      DelaySeconds: '0',
    });
    expect(JSON.parse(Attributes!.RedrivePolicy!)).toEqual({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 });
    for (const name of [queueName(), dlqName()]) {
      const { Tags } = await clients.sqs.send(new ListQueueTagsCommand({ QueueUrl: await queueUrl(name) }));
      expect(Tags, name).toEqual({ [MESSAGE_QUEUES.originTag]: 'stack' });
    }
  });

  it('gives the functions the platform\'s prefix, in their variable and their grants', () => {
    const withPrefix = [...platform.twin.functions.values()].filter((f) => f.environment[MESSAGE_QUEUES.prefixEnvVar] !== undefined);
    expect(withPrefix.map((f) => f.logicalId)).toEqual(expect.arrayContaining([expect.stringMatching(/^EventsFunctionsQueues/)]));
    for (const fn of withPrefix) {
      expect(fn.environment[MESSAGE_QUEUES.prefixEnvVar]).toBe(mqPrefix);
      const resources = (platform.twin.policies.get(fn.roleLogicalId) ?? []).flatMap((s) => s.resources).filter((r) => r.startsWith('arn:aws:sqs:'));
      expect(resources, fn.logicalId).toContain(`arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:${mqPrefix}*`);
      expect(resources.filter((r) => r.includes(stackPrefix)), fn.logicalId).toEqual([]);
    }
  });

  it('runs the consumer: partial batch failures come back alone, each group in order and one batch at a time, poison to the DLQ', async () => {
    await send(queueName(), [
      { id: 'a1', group: 'A' },
      { id: 'a2', group: 'A', mode: 'flaky' },
      { id: 'a3', group: 'A' },
      { id: 'b1', group: 'B' },
      { id: 'b2', group: 'B' },
      { id: 'b3', group: 'B' },
      { id: 'c1', group: 'C', mode: 'poison' },
      { id: 'c2', group: 'C' },
    ]);
    const expected = ['a1', 'a2', 'a3', 'b1', 'b2', 'b3', 'c2'];
    const done = await waitFor(
      async () => {
        const ids = resolved().map((r) => r.id);
        return expected.every((id) => ids.includes(id)) ? ids : undefined;
      },
      { timeoutMs: 40_000, intervalMs: 250, what: 'the consumer to resolve every message but the poison one' },
    );
    // Each message resolved once, each group in order.
    expect([...done].sort()).toEqual(expected);
    const byGroup = (group: string) => resolved().filter((r) => r.group === group).map((r) => r.id);
    expect(byGroup('A')).toEqual(['a1', 'a2', 'a3']);
    expect(byGroup('B')).toEqual(['b1', 'b2', 'b3']);
    expect(byGroup('C')).toEqual(['c2']);

    const all = invocations();
    const receives = (id: string) => all.flatMap((i) => i.records).filter((r) => r.id === id).map((r) => r.count);
    // The flaky message failed as a batch item and came back once; the others of its batch were
    // resolved with it (a reported failure does not fail the batch), so none of them came back.
    expect(receives('a2')).toEqual([1, 2]);
    const flakyBatch = all.find((i) => i.records.some((r) => r.id === 'a2' && r.count === 1))!;
    for (const other of flakyBatch.records.filter((r) => r.id !== 'a2' && r.mode === undefined)) expect(receives(other.id), other.id).toEqual([1]);
    for (const id of ['a1', 'a3', 'b1', 'b2', 'b3', 'c2']) expect(receives(id), id).toEqual([1]);
    // The poison message was received maxReceiveCount (2) times, then moved to the DLQ.
    expect(receives('c1')).toEqual([1, 2]);
    const dead = await waitFor(
      async () => (await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: await queueUrl(dlqName()), WaitTimeSeconds: 1 }))).Messages?.[0],
      { timeoutMs: 10_000, what: 'the poison message in the DLQ' },
    );
    expect(JSON.parse(dead.Body!)).toEqual({ id: 'c1', mode: 'poison' });

    // One batch per group at a time: no two invocations holding one group overlap.
    for (const group of ['A', 'B', 'C']) {
      const spans = all.filter((i) => i.records.some((r) => r.group === group)).sort((x, y) => x.start - y.start);
      for (let k = 1; k < spans.length; k++) expect(spans[k]!.start, `group ${group}`).toBeGreaterThanOrEqual(spans[k - 1]!.end);
    }
    expect(platform.deniedCalls).toEqual([]);
  }, 60_000);

  it('fails the whole batch when the consumer answers an invalid partial batch response, as Lambda does', async () => {
    await send(queueName(), [{ id: 'd1', group: 'D', mode: 'bogus' }]);
    await waitFor(async () => resolved().some((r) => r.id === 'd1'), { timeoutMs: 20_000, intervalMs: 250, what: 'the bogus message to be resolved' });
    // It did not fail (its batch's response named a message not in it), yet it came back.
    const receives = invocations().flatMap((i) => i.records).filter((r) => r.id === 'd1');
    expect(receives.map((r) => r.count)).toEqual([1, 2]);
  }, 30_000);
});

describe('partial batch responses, read as Lambda reads them', () => {
  const batch = ['m1', 'm2', 'm3'];

  it.each([
    ['no response (null)', 'null'],
    ['an empty payload', ''],
    ['an empty object', '{}'],
    ['a null list', '{"batchItemFailures":null}'],
    ['an empty list', '{"batchItemFailures":[]}'],
  ])('%s: every message succeeded', (_, payload) => {
    expect(batchItemFailures(payload, batch)).toEqual(new Set());
  });

  it('reports exactly the listed messages', () => {
    expect(batchItemFailures('{"batchItemFailures":[{"itemIdentifier":"m2"},{"itemIdentifier":"m3"}]}', batch)).toEqual(new Set(['m2', 'm3']));
  });

  it.each([
    ['a payload that is not JSON', 'oops'],
    ['an empty identifier', '{"batchItemFailures":[{"itemIdentifier":""}]}'],
    ['a null identifier', '{"batchItemFailures":[{"itemIdentifier":null}]}'],
    ['a misspelt key', '{"batchItemFailures":[{"itemId":"m1"}]}'],
    ['a message not of the batch', '{"batchItemFailures":[{"itemIdentifier":"m9"}]}'],
    ['a list that is not one', '{"batchItemFailures":"m1"}'],
  ])('%s: the whole batch failed', (_, payload) => {
    expect(batchItemFailures(payload, batch)).toBe('all');
  });
});

describe('the local IAM and message queues', () => {
  const where = { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID };
  const call = (operation: string, input: object) => describeCall(`AmazonSQS.${operation}`, Buffer.from(JSON.stringify(input)), where);

  it('asks for sqs:TagQueue as well when a queue is tagged as it is created, as SQS does', () => {
    const arn = `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:p-q-jobs.fifo`;
    expect(call('CreateQueue', { QueueName: 'p-q-jobs.fifo', tags: { 'sluice:origin': 'api' } })).toEqual([
      { action: 'sqs:CreateQueue', resources: [arn] },
      { action: 'sqs:TagQueue', resources: [arn] },
    ]);
    expect(call('CreateQueue', { QueueName: 'p-q-jobs.fifo' })).toEqual([{ action: 'sqs:CreateQueue', resources: [arn] }]);
    expect(call('ListQueues', { QueueNamePrefix: 'p-q-' })).toEqual([{ action: 'sqs:ListQueues', resources: ['*'] }]);
  });

  it('refuses a message-queue prefix outside SQS\'s name rules', async () => {
    const { buildTwin } = await import('../../local/template/twin');
    const stack = await readStack(join(work, 'cdk.out'));
    await expect(
      buildTwin({ stack, clients: { dynamodb: clients.dynamodb, sqs: clients.sqs }, prefix: uniquePrefix('bad'), region: LOCAL_REGION, messageQueuePrefix: 'no.dots-' }),
    ).rejects.toThrow(/messageQueuePrefix must be 1 to 24 of \[a-zA-Z0-9_-\]/);
  });
});
