/**
 * Push subscriptions through the real local platform: a stack synthesized here (the Sluice
 * construct, a FIFO queue and a subscriber Lambda it lets subscriptions target), run from its cloud
 * assembly — produce → the log table's stream → the dispatcher (its DynamoDB Streams event source
 * mapping) → the deliveries FIFO queue → the deliverer (its SQS event source) → a webhook on
 * 127.0.0.1, the FIFO queue on the SQS server and the Lambda, each under the local IAM.
 *
 * The issue's main test: 1,200 events over 4 partitions to the three at once (one filtered), one
 * of them failing now and then, another always (its dead letters, then a redrive); then `earliest`
 * on a topic with history, the hand-over to live events, and a rewind to a timestamp.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseDelivery, type DeliveredEvent, type DeliveryBody, type SubscriptionFilter } from '../../api/subscriptions';
import { SluiceClient } from '../../client';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoDbLogReadStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogReadService } from '../../lambda/core/log/log-read-service';
import { SubscriptionCatalog } from '../../lambda/core/subscriptions/catalog';
import { DynamoDbSubscriptionStore } from '../../lambda/core/subscriptions/dynamodb-subscription-store';
import { verifySignature } from '../../lambda/core/subscriptions/signing';
import { SqsDeliveriesQueue } from '../../lambda/core/subscriptions/sqs-deliveries-queue';
import { SubscriptionService } from '../../lambda/core/subscriptions/subscription-service';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { Sluice } from '../../lib/sluice';
import { startPlatform, type Platform } from '../../local/platform';
import { LOCAL_CREDENTIALS, LOCAL_REGION, waitFor } from '../../local/support';
import { uniquePrefix } from '../support/emulators';
import { analyse, positions, startWebhooks, type Webhooks } from '../support/subscribers';

const STACK = 'PushDelivery';
const EVENTS = 1_200;
const PARTITIONS = 4;

/** The subscriber Lambda: records each delivery it gets as a line of the file named in its environment. */
const SUBSCRIBER_SOURCE = `
const { appendFileSync } = require('node:fs');
exports.handler = async (event) => {
  appendFileSync(process.env.RECORD_FILE, JSON.stringify(event) + '\\n');
  return { ok: true };
};
`;

let work: string;
let recordFile: string;
let platform: Platform;
let client: SluiceClient;
let hooks: Webhooks;
let queueUrl: string;
let functionArn: string;
let queueReader: SQSClient;
const report: string[] = [];

async function synthesize(): Promise<{ assemblyDir: string; queueId: string; functionId: string }> {
  const assemblyDir = join(work, 'cdk.out');
  const fnDir = join(work, 'subscriber');
  await mkdir(fnDir, { recursive: true });
  await writeFile(join(fnDir, 'index.js'), SUBSCRIBER_SOURCE);
  const app = new App({
    outdir: assemblyDir,
    context: { 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:enable-path-metadata': true, 'aws:cdk:disable-version-reporting': true },
  });
  const stack = new Stack(app, STACK);
  const queue = new sqs.Queue(stack, 'OrdersInbox', { fifo: true });
  // A role without managed policies: the local IAM evaluates inline grants only.
  const role = new iam.Role(stack, 'OrderHandlerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  const fn = new lambda.Function(stack, 'OrderHandler', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromAsset(fnDir),
    role,
    timeout: Duration.seconds(30),
    environment: { RECORD_FILE: recordFile },
  });
  new Sluice(stack, 'Default', { webhooks: { allowPrivateNetworks: true }, subscriptionTargets: { queues: [queue], functions: [fn] } });
  app.synth();
  return {
    assemblyDir,
    queueId: stack.getLogicalId(queue.node.defaultChild as sqs.CfnQueue),
    functionId: stack.getLogicalId(fn.node.defaultChild as lambda.CfnFunction),
  };
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'sluice-push-delivery-'));
  recordFile = join(work, 'lambda-deliveries.jsonl');
  const { assemblyDir, queueId, functionId } = await synthesize();
  platform = await startPlatform({ port: 0, prefix: uniquePrefix('push'), emulators: inject('emulators'), assemblyDir, stackName: STACK });
  queueUrl = platform.twin.queues.get(queueId)!.url;
  functionArn = platform.twin.functions.get(functionId)!.functionArn;
  client = new SluiceClient({ endpoint: platform.endpoint });
  hooks = await startWebhooks();
  // Through the local IAM, whose origin the twin's queue URLs name (as administrator).
  queueReader = new SQSClient({ endpoint: new URL(queueUrl).origin, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}, 180_000);

afterAll(async () => {
  // The figures, for the report.
  if (report.length > 0) console.log(report.join('\n'));
  queueReader?.destroy();
  await hooks?.close();
  await platform?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

// ---- what each subscriber got ------------------------------------------------------------------

const queueDeliveries: DeliveryBody[] = [];
/** Reads (and deletes) what is in the FIFO queue now. */
async function drainQueue(): Promise<void> {
  for (;;) {
    const got = await queueReader.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0, MessageSystemAttributeNames: ['All'] }),
    );
    const messages = got.Messages ?? [];
    if (messages.length === 0) return;
    for (const m of messages) {
      const body = parseDelivery(m.Body!);
      // The message group of a FIFO target is <topic>#<partition>.
      expect(m.Attributes?.MessageGroupId).toBe(`${body.topic}#${body.partition}`);
      queueDeliveries.push(body);
    }
    await queueReader.send(
      new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
    );
  }
}

async function lambdaDeliveries(): Promise<DeliveryBody[]> {
  if (!existsSync(recordFile)) return [];
  const text = await readFile(recordFile, 'utf8');
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => parseDelivery(l));
}

const subscriptionOf = (name: string) => (deliveries: readonly DeliveryBody[]) => deliveries.filter((d) => d.subscription === name);

interface Produced {
  readonly seq: number;
  readonly partition: number;
  readonly offset: number;
  readonly amount: number;
  readonly key: string;
}

/** Produces `count` events in requests of 50 (dedupe takes a write per event), four at a time; keys spread over the partitions. */
async function produce(topic: string, count: number, first = 0) {
  const requests = Array.from({ length: Math.ceil(count / 50) }, (_, r) =>
    Array.from({ length: Math.min(50, count - r * 50) }, (_, i) => {
      const seq = first + r * 50 + i;
      return {
        key: `customer-${seq % 41}`,
        value: { seq, amount: (seq * 37) % 100, kind: seq % 3 === 0 ? 'refund' : 'order' },
        headers: { type: seq % 3 === 0 ? 'order.refunded' : 'order.created' },
      };
    }),
  );
  const produced: Produced[] = [];
  for (let i = 0; i < requests.length; i += 4) {
    const results = await Promise.all(requests.slice(i, i + 4).map((events) => client.produce(topic, events).then((r) => ({ events, r }))));
    for (const { events, r } of results) {
      r.forEach((res, j) => produced.push({ seq: events[j]!.value.seq, partition: res.partition, offset: res.offset, amount: events[j]!.value.amount, key: events[j]!.key }));
    }
  }
  return produced;
}

function expectComplete(name: string, got: readonly DeliveryBody[], expected: readonly { partition: number; offset: number }[]) {
  const a = analyse(got);
  expect(a.malformed, `${name}: malformed deliveries`).toEqual([]);
  expect(a.outOfOrder, `${name}: out of partition order`).toEqual([]);
  expect(positions(a.unique), `${name}: every matching event exactly once`).toEqual(positions(expected));
  return a;
}

/** Each delivered event is the one produced at its partition and offset: same key, same value. */
function expectContent(name: string, events: readonly DeliveredEvent[], produced: readonly Produced[]) {
  const at = new Map(produced.map((p) => [`${p.partition}:${p.offset}`, p]));
  const wrong = events.filter((e) => {
    const p = at.get(`${e.partition}:${e.offset}`);
    return !p || p.key !== e.key || (e.value as { seq: number }).seq !== p.seq;
  });
  expect(wrong.map((e) => `${e.partition}:${e.offset}`), `${name}: delivered content`).toEqual([]);
}

describe('push subscriptions on the local platform', () => {
  it(
    `fans ${EVENTS} events over ${PARTITIONS} partitions out to a webhook, a queue and a Lambda at once; a flaky one gets everything, a failing one dead-letters everything and a redrive delivers it`,
    async () => {
      const topic = 'orders';
      await client.createTopic({ name: topic, partitions: PARTITIONS });
      // The webhook fails every 4th call with a 500 (never twice in a row for one delivery).
      hooks.respond('/flaky', (n) => (n % 4 === 2 ? 500 : 204));
      // This one is down until it is fixed below.
      let brokenFixed = false;
      hooks.respond('/broken', () => (brokenFixed ? 204 : 500));
      const filter: SubscriptionFilter = { value: { amount: [{ numeric: ['>=', 50] }] } };
      const flaky = await client.createSubscription(topic, { name: 'to-webhook', target: { type: 'webhook', url: `${hooks.baseUrl}/flaky` } });
      await client.createSubscription(topic, { name: 'to-queue', target: { type: 'queue', queueUrl }, filter });
      await client.createSubscription(topic, { name: 'to-lambda', target: { type: 'lambda', functionArn } });
      await client.createSubscription(topic, { name: 'always-failing', target: { type: 'webhook', url: `${hooks.baseUrl}/broken` }, maxAttempts: 2 });
      expect(flaky.secret).toMatch(/^whsec_/);

      const started = Date.now();
      const produced = await produce(topic, EVENTS);
      const producedAt = Date.now();
      const counts = new Map<number, number>();
      for (const p of produced) counts.set(p.partition, (counts.get(p.partition) ?? 0) + 1);
      expect([...counts.keys()].sort()).toEqual([0, 1, 2, 3]);
      for (const c of counts.values()) expect(c).toBeGreaterThan(EVENTS / PARTITIONS / 3);
      const matching = produced.filter((p) => p.amount >= 50);

      // The three healthy subscribers finish, whatever the failing one does.
      const done = { webhook: 0, queue: 0, lambda: 0 };
      await waitFor(
        async () => {
          await drainQueue();
          const webhook = analyse(hooks.accepted('/flaky')).unique.length;
          const queue = analyse(queueDeliveries).unique.length;
          const fn = analyse(subscriptionOf('to-lambda')(await lambdaDeliveries())).unique.length;
          const now = Date.now() - started;
          if (webhook === EVENTS && !done.webhook) done.webhook = now;
          if (queue === matching.length && !done.queue) done.queue = now;
          if (fn === EVENTS && !done.lambda) done.lambda = now;
          return done.webhook > 0 && done.queue > 0 && done.lambda > 0;
        },
        { timeoutMs: 90_000, intervalMs: 250, what: 'the webhook, queue and Lambda subscribers to get every matching event' },
      );

      const webhook = expectComplete('webhook', hooks.accepted('/flaky'), produced);
      const queue = expectComplete('queue', queueDeliveries, matching);
      expect(queue.unique.every((e) => (e.value as { amount: number }).amount >= 50)).toBe(true);
      const fn = expectComplete('lambda', subscriptionOf('to-lambda')(await lambdaDeliveries()), produced);
      for (const [name, a] of [['webhook', webhook], ['queue', queue], ['lambda', fn]] as const) expectContent(name, a.unique, produced);
      // Every event carries what the issue lists.
      const sample = webhook.unique[0]!;
      expect(sample).toMatchObject({ subscription: 'to-webhook', topic, key: expect.any(String), headers: { type: expect.any(String) } });
      expect(sample.messageId).toEqual(expect.any(String));
      expect(sample.timestamp).toEqual(expect.any(Number));
      // Signed with the secret answered at create.
      const flakyCalls = hooks.calls.filter((c) => c.path === '/flaky');
      for (const c of flakyCalls) expect(verifySignature(flaky.secret!, c.raw, c.headers['sluice-signature'] as string)).toBe(true);
      const refused = flakyCalls.filter((c) => c.status === 500).length;
      expect(refused).toBeGreaterThan(0);

      // The failing one: every event, after its 2 attempts, in its dead letters.
      const dead = await waitFor(
        async () => {
          const d = await client.deadLetters(topic, 'always-failing', { limit: 1 });
          return d.total === EVENTS ? d : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 250, what: 'every event of the always-failing subscriber in its dead letters' },
      );
      const deadAt = Date.now() - started;
      expect(dead.deadLetters[0]).toMatchObject({ attempts: 2, error: 'webhook answered HTTP 500' });
      const perPartition = await Promise.all([0, 1, 2, 3].map((p) => client.deadLetters(topic, 'always-failing', { partition: p, limit: 100 })));
      perPartition.forEach((d, p) => {
        expect(d.total).toBe(counts.get(p));
        const offsets = d.deadLetters.map((l) => l.offset);
        expect(offsets).toEqual([...offsets].sort((a, b) => a - b)); // oldest first
        expect(d.deadLetters.every((l) => l.partition === p && l.event.offset === l.offset)).toBe(true);
      });
      const failingStatus = await client.describeSubscription(topic, 'always-failing');
      expect(failingStatus).toMatchObject({ lag: 0, deadLetters: EVENTS });
      const brokenCalls = hooks.calls.filter((c) => c.path === '/broken').length;

      // Fixed: a redrive delivers the dead letters, and they are gone.
      brokenFixed = true;
      const redriveStarted = Date.now();
      const redriven = await client.redriveDeadLetters(topic, 'always-failing');
      expect(redriven).toEqual({ partitions: [0, 1, 2, 3], deadLetters: EVENTS });
      await waitFor(
        async () => analyse(hooks.accepted('/broken')).unique.length === EVENTS && (await client.deadLetters(topic, 'always-failing', { limit: 1 })).total === 0,
        { timeoutMs: 60_000, intervalMs: 250, what: 'the redrive to deliver every dead letter' },
      );
      const redriveMs = Date.now() - redriveStarted;
      const broken = analyse(hooks.accepted('/broken'));
      expect(broken.malformed).toEqual([]);
      expect(positions(broken.unique)).toEqual(positions(produced));
      expect(hooks.accepted('/broken').every((d) => d.redrive === true)).toBe(true);

      for (const name of ['to-webhook', 'to-queue', 'to-lambda', 'always-failing']) {
        const s = await client.describeSubscription(topic, name);
        expect(s, name).toMatchObject({ lag: 0, failing: 0, deadLetters: 0 });
      }
      // Nothing arrived late.
      await drainQueue();
      expect(analyse(queueDeliveries).unique.length).toBe(matching.length);
      expect(platform.deniedCalls).toEqual([]);

      report.push(
        `push-delivery: ${EVENTS} events over ${PARTITIONS} partitions (${[...counts.entries()].sort().map(([p, c]) => `p${p}=${c}`).join(' ')}), produced in ${producedAt - started} ms`,
        `  webhook (flaky, no filter):   ${webhook.unique.length} delivered, ${webhook.duplicates} raw duplicates, ${webhook.deliveries} deliveries accepted, ${refused} answered 500, done at ${done.webhook} ms`,
        `  queue (amount >= 50):         ${queue.unique.length}/${matching.length} delivered, ${queue.duplicates} raw duplicates, ${queue.deliveries} messages, done at ${done.queue} ms`,
        `  lambda (no filter):           ${fn.unique.length} delivered, ${fn.duplicates} raw duplicates, ${fn.deliveries} invocations, done at ${done.lambda} ms`,
        `  always-failing (maxAttempts 2): ${dead.total} dead letters after ${brokenCalls} failed calls, all in by ${deadAt} ms; redrive: ${broken.unique.length} delivered, ${broken.duplicates} raw duplicates, in ${redriveMs} ms`,
      );
    },
    240_000,
  );

  it('starts at earliest on a topic with history, hands over to live events with no gap and no duplicate, and replays from a timestamp', async () => {
    const topic = 'history';
    await client.createTopic({ name: topic, partitions: 2 });
    const history = await produce(topic, 300);
    const started = Date.now();
    await client.createSubscription(topic, { name: 'late', target: { type: 'webhook', url: `${hooks.baseUrl}/late` }, startAt: 'earliest' });
    // Live events while the history is still being delivered.
    const live = await produce(topic, 300, 300);
    const all = [...history, ...live];
    await waitFor(async () => analyse(hooks.accepted('/late')).unique.length === all.length, {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: 'the earliest subscription to get the history and the live events',
    });
    const caughtUp = Date.now() - started;
    const first = analyse(hooks.accepted('/late'));
    expect(first.duplicates).toBe(0);
    expect(first.outOfOrder).toEqual([]);
    // Per partition exactly 0..hw-1, in order: the hand-over from history to live left no gap.
    for (const p of [0, 1]) {
      const offsets = first.unique.filter((e) => e.partition === p).map((e) => e.offset);
      const count = all.filter((e) => e.partition === p).length;
      expect(offsets).toEqual(Array.from({ length: count }, (_, i) => i));
    }
    expectContent('earliest', first.unique, all);

    // Rewind to the timestamp of a live event: each partition replays from its first event at or
    // after it (offsetsForTimes; concurrent produce requests can interleave timestamps a little).
    const pivot = { timestamp: Math.min(...first.unique.filter((e) => (e.value as { seq: number }).seq >= 500).map((e) => e.timestamp)) };
    const from = new Map([0, 1].map((p) => [p, first.unique.find((e) => e.partition === p && e.timestamp >= pivot.timestamp)?.offset ?? Infinity]));
    const expectedReplay = first.unique.filter((e) => e.offset >= from.get(e.partition)!);
    const before = hooks.accepted('/late').length;
    const seek = await client.seekSubscription(topic, 'late', { timestamp: pivot.timestamp });
    expect(seek.positions).toEqual([0, 1].map((p) => ({ partition: p, position: from.get(p) })));
    const replay = await waitFor(
      async () => {
        const a = analyse(hooks.accepted('/late').slice(before));
        return a.unique.length >= expectedReplay.length ? a : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: 'the rewound subscription to replay from the timestamp' },
    );
    expect(replay.outOfOrder).toEqual([]);
    expect(positions(replay.unique)).toEqual(positions(expectedReplay));
    const s = await client.describeSubscription(topic, 'late');
    expect(s.lag).toBe(0);
    report.push(
      `earliest: ${history.length} history + ${live.length} live events, ${first.unique.length} delivered, ${first.duplicates} duplicates, caught up in ${caughtUp} ms; ` +
        `seek to the first timestamp of the last produce wave (seq 500-599): ${replay.unique.length} replayed (expected ${expectedReplay.length}), ${replay.duplicates} duplicates`,
    );
  }, 120_000);
  it('a subscription created while a batch is appended and dispatched still gets that batch', async () => {
    // The create of the subscriptions function, run in-process against the platform's tables and
    // deliveries queue, with a produce (dispatched in full) forced between its write of the start
    // positions and its write of the config: the dispatcher saw the batch before the subscription
    // existed, so only the create itself can wake the subscription for it.
    const topic = 'racing';
    await client.createTopic({ name: topic, partitions: 2 });
    await client.createSubscription(topic, { name: 'witness', target: { type: 'webhook', url: `${hooks.baseUrl}/witness` } });
    const dynamodb = new DynamoDBClient({ endpoint: platform.dynamodbEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const doc = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    const sqsAdmin = new SQSClient({ endpoint: new URL(platform.resources.queues.deliveries).origin, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    try {
      const { tables, queues } = platform.resources;
      const topics = new DynamoDbTopicStore({ client: doc, topicsTable: tables.topics, logTable: tables.log });
      const log = new LogReadService({ topics, log: new DynamoDbLogReadStore({ client: doc, logTable: tables.log }) });
      let produced: Produced[] = [];
      let raced = false;
      // The race, right after the create wrote the cursors (its start positions) and before it
      // writes the config.
      const store = new DynamoDbSubscriptionStore({ client: doc, table: tables.subscriptions });
      const racingStore = Object.create(store) as DynamoDbSubscriptionStore;
      racingStore.setCursors = async (topicId, name, at) => {
        const cursors = await store.setCursors(topicId, name, at);
        if (!raced) {
          raced = true;
          produced = await produce(topic, 6);
          await waitFor(async () => analyse(hooks.accepted('/witness')).unique.length === produced.length, {
            timeoutMs: 20_000,
            what: 'the dispatcher to handle the batch appended during the create',
          });
        }
        return cursors;
      };
      const service = new SubscriptionService({
        catalog: new SubscriptionCatalog(racingStore),
        topics,
        log,
        queue: new SqsDeliveriesQueue(sqsAdmin, queues.deliveries),
        allowPrivateNetworks: true,
      });
      await service.create(topic, { name: 'racer', target: { type: 'webhook', url: `${hooks.baseUrl}/racer` } });
      expect(raced).toBe(true);
      // `latest` starts at the high watermarks read at create: the raced batch is after them.
      const got = await waitFor(
        async () => {
          const a = analyse(hooks.accepted('/racer'));
          return a.unique.length >= produced.length ? a : undefined;
        },
        { timeoutMs: 15_000, what: 'the subscription created during the append to get the appended events' },
      );
      expect(positions(got.unique)).toEqual(positions(produced));
      expect((await client.describeSubscription(topic, 'racer')).lag).toBe(0);
    } finally {
      dynamodb.destroy();
      sqsAdmin.destroy();
    }
  }, 60_000);
});
