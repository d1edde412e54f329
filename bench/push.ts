/**
 * `npm run bench:push`: push subscriptions on the local platform. Produce-to-delivery latency of a
 * webhook subscription (p50, p90, p99, max), deliveries and events per delivery, and what one
 * delivery per event costs at AWS list prices, from the calls the push path made (counted on the
 * wire) and the Lambda invocations it took (timed). Prints tables and writes
 * bench/results/push.{json,md}. Not part of `npm test`; all traffic stays on 127.0.0.1.
 *
 *   SLUICE_BENCH_PUSH_EVENTS          events measured (default 2000)
 *   SLUICE_BENCH_PUSH_RATE            events per second, produced steadily (default 100)
 *   SLUICE_BENCH_PUSH_BATCH           events per produce request (default 5)
 *   SLUICE_BENCH_PUSH_WARMUP_SECONDS  seconds of the same traffic before measuring (default 10)
 *   SLUICE_BENCH_PUSH_DRAIN_SECONDS   longest wait for deliveries after the last produce (default 30)
 *   SLUICE_BENCH_PUSH_MAX_SECONDS     the whole run stops (exit 2) after this long (default 240)
 *   SLUICE_CACHE_DIR                  where DynamoDB Local is cached (default <repo>/.cache)
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { ProduceEvent } from '../api/events';
import type { DeliveryBody } from '../api/subscriptions';
import { SluiceClient } from '../client/sluice-client';
import { silentLogger } from '../lambda/core/logger';
import { verifySignature } from '../lambda/core/subscriptions/signing';
import { DYNAMODB_LOCAL_PACKAGE, startDynamoDbLocal } from '../local/dynamodb-local';
import { startPlatform, type Platform } from '../local/platform';
import { startSqsServer } from '../local/sqs-server';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/support';
import { meterInvocations, startCallMeter, wireItemSize, type Invocation, type MeteredCall } from './call-meter';
import { PRICES, percentile } from './report';

const repoRoot = resolve(import.meta.dirname, '..');

const num = (name: string, fallback: number) => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number; got "${raw}"`);
  return value;
};

const EVENTS = Math.round(num('SLUICE_BENCH_PUSH_EVENTS', 2000));
const RATE = num('SLUICE_BENCH_PUSH_RATE', 100);
const BATCH = Math.round(num('SLUICE_BENCH_PUSH_BATCH', 5));
const WARMUP_SECONDS = num('SLUICE_BENCH_PUSH_WARMUP_SECONDS', 10);
const DRAIN_SECONDS = num('SLUICE_BENCH_PUSH_DRAIN_SECONDS', 30);
const MAX_SECONDS = num('SLUICE_BENCH_PUSH_MAX_SECONDS', 240);
const PARTITIONS = 4;
const TOPIC = 'push-bench';
const SUBSCRIPTION = 'bench-webhook';
const SECRET = 'whsec_bench-push-secret';
/** The JSON text of every event's value is this long (like the main bench's "100 B json"). */
const VALUE_BYTES = 100;
/** Quiet this long (no invocation running or finished) before the counters are read. */
const QUIET_MS = 1500;

/** List prices (us-east-1) of what the push path uses besides DynamoDB (PRICES in bench/report.ts). */
const PUSH_PRICES = {
  /** $ per million Lambda requests. */
  lambdaRequest: 0.2,
  /** $ per GB-second of Lambda duration on ARM (arm64), first 7.5 billion GB-s a month. */
  lambdaGbSecondArm: 0.0000133334,
  /** $ per million SQS FIFO requests (after the free tier); each 64 KB chunk of payload is a request. */
  sqsFifoRequest: 0.5,
  /** $ per GB of data transfer out to the internet (first 10 TB a month): a webhook's bodies. */
  dataTransferOutGb: 0.09,
} as const;

// ---- producing --------------------------------------------------------------------------------

interface Sent {
  readonly seq: number;
  readonly partition: number;
  /** performance.now() when the produce request was sent, and when its answer arrived. */
  readonly sendAt: number;
  readonly ackAt: number;
  readonly offset: number;
}

interface ProduceRun {
  readonly sent: Sent[];
  /** One per request that succeeded: one record batch of the log, `partition:offset` of its first event. */
  readonly batches: { readonly key: string; readonly ackAt: number; readonly seqs: readonly number[] }[];
  readonly requestMs: number[];
  readonly failedRequests: number;
  /** Requests sent more than one interval after their slot (the partition's previous one was slow). */
  readonly lateRequests: number;
  readonly seconds: number;
}

function eventValue(seq: number, phase: string): unknown {
  const base = { seq, phase, sentAt: Date.now(), pad: '' };
  const pad = Math.max(0, VALUE_BYTES - Buffer.byteLength(JSON.stringify(base)));
  return { ...base, pad: 'x'.repeat(pad) };
}

/**
 * Produces `count` events at RATE, BATCH per request, the requests turn by turn over the
 * partitions (explicit partition). A partition's requests go one after another (two at once would
 * race for its head); a request waits for its slot in the schedule.
 */
async function produceSteady(client: SluiceClient, firstSeq: number, count: number, phase: string): Promise<ProduceRun> {
  const sent: Sent[] = [];
  const batches: ProduceRun['batches'] = [];
  const requestMs: number[] = [];
  let failedRequests = 0;
  let lateRequests = 0;
  const intervalMs = (BATCH / RATE) * 1000;
  const requests = Math.ceil(count / BATCH);
  const chains: Promise<void>[] = Array.from({ length: PARTITIONS }, () => Promise.resolve());
  const start = performance.now();
  for (let k = 0; k < requests; k++) {
    const due = start + k * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const partition = k % PARTITIONS;
    const seqs = Array.from({ length: Math.min(BATCH, count - k * BATCH) }, (_, i) => firstSeq + k * BATCH + i);
    chains[partition] = chains[partition]!.then(async () => {
      const sendAt = performance.now();
      if (sendAt - due > intervalMs) lateRequests++;
      const events: ProduceEvent[] = seqs.map((seq) => ({ partition, value: eventValue(seq, phase) }));
      try {
        const results = await client.produce(TOPIC, events);
        const ackAt = performance.now();
        requestMs.push(ackAt - sendAt);
        results.forEach((r, i) => sent.push({ seq: seqs[i]!, partition: r.partition, offset: r.offset, sendAt, ackAt }));
        if (results[0]) batches.push({ key: `${results[0].partition}:${results[0].offset}`, ackAt, seqs });
      } catch {
        failedRequests++;
      }
    });
  }
  await Promise.all(chains);
  return { sent, batches, requestMs, failedRequests, lateRequests, seconds: (performance.now() - start) / 1000 };
}

// ---- the webhook --------------------------------------------------------------------------------

interface Received {
  readonly at: number;
  readonly partition: number;
  readonly offsets: number[];
  readonly seqs: number[];
  readonly bytes: number;
  readonly signed: boolean;
}

async function startWebhook(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const at = performance.now();
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        const body = JSON.parse(text) as DeliveryBody;
        received.push({
          at,
          partition: body.partition,
          offsets: body.events.map((e) => e.offset),
          seqs: body.events.map((e) => Number((e.value as { seq?: unknown } | undefined)?.seq)),
          bytes: Buffer.byteLength(text),
          signed: verifySignature(SECRET, text, req.headers['sluice-signature'] as string | undefined),
        });
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

async function waitFor(what: string, done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) {
      process.stdout.write(`  gave up waiting for ${what} after ${(timeoutMs / 1000).toFixed(0)} s\n`);
      return false;
    }
    await sleep(50);
  }
  return true;
}

// ---- figures --------------------------------------------------------------------------------

interface Percentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  readonly n: number;
}

function percentiles(values: readonly number[]): Percentiles {
  const n = values.length;
  return {
    p50: percentile(values, 0.5),
    p90: percentile(values, 0.9),
    p99: percentile(values, 0.99),
    max: n === 0 ? 0 : Math.max(...values),
    mean: n === 0 ? 0 : values.reduce((a, b) => a + b, 0) / n,
    n,
  };
}

interface FunctionUse {
  readonly function: string;
  readonly memoryMb: number;
  readonly invocations: number;
  readonly recordsPerInvocation: number;
  readonly newEnvironments: number;
  readonly failed: number;
  readonly durationMs: Percentiles;
  /** Σ ceil(duration ms) × memory: what Lambda bills (1 ms granularity). */
  readonly gbSeconds: number;
}

function functionUse(name: string, memoryMb: number, invocations: readonly Invocation[]): FunctionUse {
  const mine = invocations.filter((i) => i.functionName === name);
  const billedMs = mine.reduce((n, i) => n + Math.max(1, Math.ceil(i.durationMs)), 0);
  return {
    function: name,
    memoryMb,
    invocations: mine.length,
    recordsPerInvocation: mine.length === 0 ? 0 : mine.reduce((n, i) => n + i.records, 0) / mine.length,
    newEnvironments: mine.filter((i) => i.firstInEnvironment).length,
    failed: mine.filter((i) => i.failed).length,
    durationMs: percentiles(mine.map((i) => i.durationMs)),
    gbSeconds: (billedMs / 1000) * (memoryMb / 1024),
  };
}

interface CallSummary {
  readonly calls: number;
  readonly billedRequests: number;
  readonly messages: number;
  readonly readUnits: number;
  readonly writeUnits: number;
  readonly assumedWrites: number;
  readonly errors: Record<string, number>;
}

/** Calls by "<who> <service>.<operation>". */
function summarize(calls: readonly MeteredCall[], who: (accessKey: string) => string): Record<string, CallSummary> {
  const out: Record<string, { calls: number; billedRequests: number; messages: number; readUnits: number; writeUnits: number; assumedWrites: number; errors: Record<string, number> }> = {};
  for (const c of calls) {
    const key = `${who(c.accessKey)} ${c.service}.${c.operation}${c.service === 'sqs' && c.operation === 'ReceiveMessage' && c.messages === 0 ? ' (empty)' : ''}`;
    const s = (out[key] ??= { calls: 0, billedRequests: 0, messages: 0, readUnits: 0, writeUnits: 0, assumedWrites: 0, errors: {} });
    s.calls++;
    s.billedRequests += c.billedRequests;
    s.messages += c.messages;
    s.readUnits += c.readUnits;
    s.writeUnits += c.writeUnits;
    s.assumedWrites += c.assumedWrites;
    if (c.errorType) s.errors[c.errorType] = (s.errors[c.errorType] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

interface CostPart {
  readonly part: string;
  /** Units per event: requests, GB-s or capacity units. */
  readonly perEvent: number;
  readonly unit: string;
  readonly dollarsPerMillionEvents: number;
  readonly basis: string;
}

/**
 * What the meter says an invocation carries: the dispatcher's stream records and the deliverer's
 * wake-ups, each as `partition:offset` of a record batch (its first offset), so a batch can be
 * followed from its produce acknowledgement to its webhook.
 */
function recordBatchesOf(_functionName: string, event: unknown): string[] {
  const records = (event as { Records?: unknown[] } | null)?.Records;
  if (!Array.isArray(records)) return [];
  const keys: string[] = [];
  for (const r of records as { eventSource?: string; body?: string; dynamodb?: { Keys?: { pk?: { S?: string }; offset?: { N?: string } } } }[]) {
    if (r.eventSource === 'aws:dynamodb') {
      const pk = r.dynamodb?.Keys?.pk?.S ?? '';
      keys.push(`${pk.slice(pk.lastIndexOf('#') + 1)}:${r.dynamodb?.Keys?.offset?.N ?? ''}`);
    } else if (r.eventSource === 'aws:sqs' && r.body) {
      const wake = JSON.parse(r.body) as { kind?: string; partition?: number; from?: number };
      if (wake.kind === 'wake') keys.push(`${wake.partition}:${wake.from}`);
    }
  }
  return keys;
}

/** Where a record batch's time goes: medians (and p90) of each stage, over the measured batches. */
function followBatches(run: ProduceRun, invocations: readonly Invocation[], dispatcherName: string, delivererName: string, firstReceipt: ReadonlyMap<number, number>) {
  const firstWith = (name: string) => {
    const byKey = new Map<string, Invocation>();
    for (const i of invocations) if (i.functionName === name) for (const k of i.keys) if (!byKey.has(k) || byKey.get(k)!.start > i.start) byKey.set(k, i);
    return byKey;
  };
  const dispatched = firstWith(dispatcherName);
  const woken = firstWith(delivererName);
  const toDispatcher: number[] = [];
  const inDispatcher: number[] = [];
  const toDeliverer: number[] = [];
  const toWebhook: number[] = [];
  let byEarlierWake = 0;
  let followed = 0;
  for (const b of run.batches) {
    const d = dispatched.get(b.key);
    const w = woken.get(b.key);
    const at = Math.min(...b.seqs.map((seq) => firstReceipt.get(seq) ?? Infinity));
    if (!d || !w || !Number.isFinite(at)) continue;
    followed++;
    toDispatcher.push(d.start - b.ackAt);
    inDispatcher.push(d.durationMs);
    toDeliverer.push(w.start - d.end);
    if (at < w.start) byEarlierWake++;
    else toWebhook.push(at - w.start);
  }
  const p = (v: number[]) => ({ p50: percentile(v, 0.5), p90: percentile(v, 0.9) });
  return {
    batches: run.batches.length,
    followed,
    ackToDispatcherStart: p(toDispatcher),
    dispatcherDuration: p(inDispatcher),
    dispatcherEndToDelivererStart: p(toDeliverer),
    delivererStartToWebhook: p(toWebhook),
    deliveredByAnEarlierWakeUp: byEarlierWake,
  };
}

// ---- the run --------------------------------------------------------------------------------

async function main(): Promise<void> {
  const startedAt = new Date();
  const t0 = performance.now();
  const loadAtStart = loadavg()[0]!;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const cacheDir = process.env.SLUICE_CACHE_DIR ?? resolve(repoRoot, '.cache');
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await Promise.resolve().then(stop).catch(() => {});
  };
  const onSignal = (signal: NodeJS.Signals) => void stopAll().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => {
    process.stderr.write(`bench:push: stopped after ${MAX_SECONDS} s (SLUICE_BENCH_PUSH_MAX_SECONDS)\n`);
    void stopAll().finally(() => process.exit(2));
  }, MAX_SECONDS * 1000);
  watchdog.unref();

  try {
    log('Starting DynamoDB Local, the SQS server, the meters and the local platform...');
    const [ddb, sqs] = await Promise.all([startDynamoDbLocal({ cacheDir, logger: silentLogger }), startSqsServer()]);
    stops.push(() => ddb.stop(), () => sqs.stop());
    const ddbMeter = await startCallMeter({ upstream: ddb.endpoint });
    const sqsMeter = await startCallMeter({ upstream: sqs.endpoint });
    stops.push(() => ddbMeter.close(), () => sqsMeter.close());
    const invocations = meterInvocations(recordBatchesOf);
    stops.push(() => invocations.restore());
    const platform: Platform = await startPlatform({
      port: 0,
      prefix: 'bench',
      emulators: { dynamodbEndpoint: ddbMeter.endpoint, sqsEndpoint: sqsMeter.endpoint },
    });
    stops.push(() => platform.stop());

    const { twin } = platform;
    const dispatcher = twin.streamEventSources[0]?.function;
    const deliveriesQueueName = platform.resources.queues.deliveries?.split('/').pop();
    const deliverer = twin.sqsEventSources.find((s) => s.queue.url.split('/').pop() === deliveriesQueueName)?.function;
    const produce = [...twin.functions.values()].find((f) => /^FunctionsProduce/.test(f.logicalId));
    if (!dispatcher || !deliverer || !produce) throw new Error('the synthesized stack has no dispatcher, deliverer or produce function');
    const roleKey = (roleLogicalId: string) => `LOCALROLE${roleLogicalId.replace(/[^A-Za-z0-9]/g, '')}`;
    const roles = new Map<string, string>([
      [roleKey(dispatcher.roleLogicalId), 'dispatcher'],
      [roleKey(deliverer.roleLogicalId), 'deliverer'],
      [roleKey(produce.roleLogicalId), 'produce'],
      [LOCAL_CREDENTIALS.accessKeyId, 'platform'],
    ]);
    for (const fn of twin.functions.values()) if (!roles.has(roleKey(fn.roleLogicalId))) roles.set(roleKey(fn.roleLogicalId), fn.logicalId.replace(/^Functions/, '').replace(/[0-9A-F]{8}$/, ''));
    const who = (accessKey: string) => roles.get(accessKey) ?? accessKey;

    const hook = await startWebhook();
    stops.push(() => new Promise<void>((ok) => hook.server.close(() => ok())));
    const client = new SluiceClient({ endpoint: platform.endpoint, signing: 'never' });
    await client.createTopic({ name: TOPIC, partitions: PARTITIONS });
    await client.createSubscription(TOPIC, { name: SUBSCRIPTION, target: { type: 'webhook', url: hook.url, secret: SECRET } });
    log(`Platform up in ${((performance.now() - t0) / 1000).toFixed(0)} s; topic "${TOPIC}" (${PARTITIONS} partitions), webhook subscription "${SUBSCRIPTION}".`);

    const firstReceipt = new Map<number, number>();
    const receivedUpTo = { index: 0 };
    const absorb = () => {
      for (; receivedUpTo.index < hook.received.length; receivedUpTo.index++) {
        const r = hook.received[receivedUpTo.index]!;
        for (const seq of r.seqs) if (!firstReceipt.has(seq)) firstReceipt.set(seq, r.at);
      }
    };
    const allReceived = (run: ProduceRun) => () => {
      absorb();
      return run.sent.every((s) => firstReceipt.has(s.seq));
    };
    /** Waits until no invocation is running and none has ended for QUIET_MS (bounded). */
    const quiet = async () => {
      let seen = -1;
      let since = performance.now();
      const deadline = performance.now() + 15_000;
      const ended: Invocation[] = [];
      while (performance.now() < deadline) {
        ended.push(...invocations.take());
        if (ended.length !== seen || invocations.inFlight() > 0) {
          seen = ended.length;
          since = performance.now();
        } else if (performance.now() - since >= QUIET_MS) break;
        await sleep(100);
      }
      return ended;
    };

    const warmupEvents = Math.max(BATCH * PARTITIONS, Math.round(WARMUP_SECONDS * RATE));
    log(`Warming up: ${warmupEvents} events at ${RATE}/s...`);
    const warm = await produceSteady(client, 0, warmupEvents, 'warmup');
    await waitFor('the warm-up deliveries', allReceived(warm), DRAIN_SECONDS * 1000);
    await quiet();
    ddbMeter.take();
    sqsMeter.take();
    const receivedBefore = hook.received.length;

    log(`Measuring: ${EVENTS} events at ${RATE}/s, ${BATCH} per request over ${PARTITIONS} partitions...`);
    const firstSeq = 1_000_000;
    const run = await produceSteady(client, firstSeq, EVENTS, 'measure');
    log(`  produced ${run.sent.length} events in ${run.seconds.toFixed(1)} s (${run.failedRequests} requests failed, ${run.lateRequests} late); waiting for deliveries...`);
    const complete = await waitFor('the deliveries', allReceived(run), DRAIN_SECONDS * 1000);
    const ended = await quiet();
    const calls = [...ddbMeter.take(), ...sqsMeter.take()];
    absorb();
    const deliveries = hook.received.slice(receivedBefore);

    // Cursor items: the UpdateItem assumption (≤ 1 KB, so 1 WCU) checked on the items themselves.
    const admin = new DynamoDBClient({ endpoint: ddb.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const scanned = await admin.send(new ScanCommand({ TableName: platform.resources.tables.subscriptions }));
    admin.destroy();
    const largestSubscriptionItem = Math.max(0, ...(scanned.Items ?? []).map((i) => wireItemSize(JSON.parse(JSON.stringify(i, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v))) as Record<string, unknown>)));

    // ---- latency, deliveries, order
    const measured = new Set(run.sent.map((s) => s.seq));
    const fromAck: number[] = [];
    const fromSend: number[] = [];
    for (const s of run.sent) {
      const at = firstReceipt.get(s.seq);
      if (at === undefined) continue;
      fromAck.push(at - s.ackAt);
      fromSend.push(at - s.sendAt);
    }
    const measuredDeliveries = deliveries.filter((d) => d.seqs.some((seq) => measured.has(seq)));
    const deliveredEvents = measuredDeliveries.reduce((n, d) => n + d.seqs.filter((seq) => measured.has(seq)).length, 0);
    const uniqueDelivered = fromAck.length;
    const eventsPerDelivery = measuredDeliveries.map((d) => d.seqs.length);
    let outOfOrder = 0;
    const lastOffset = new Map<number, number>();
    for (const d of deliveries) {
      for (const offset of d.offsets) {
        if (offset <= (lastOffset.get(d.partition) ?? -1)) outOfOrder++;
        lastOffset.set(d.partition, offset);
      }
    }
    const unsigned = deliveries.filter((d) => !d.signed).length;
    const stages = followBatches(run, ended, dispatcher.functionName, deliverer.functionName, firstReceipt);

    // ---- what the path did
    const dispatcherUse = functionUse(dispatcher.functionName, dispatcher.memorySize, ended);
    const delivererUse = functionUse(deliverer.functionName, deliverer.memorySize, ended);
    const produceUse = functionUse(produce.functionName, produce.memorySize, ended);
    const byCall = summarize(calls, who);
    const sum = (filter: (c: MeteredCall) => boolean, f: (c: MeteredCall) => number) => calls.filter(filter).reduce((n, c) => n + f(c), 0);
    const is = (role: string, service: string, ...operations: string[]) => (c: MeteredCall) =>
      who(c.accessKey) === role && c.service === service && (operations.length === 0 || operations.includes(c.operation));
    const n = Math.max(1, uniqueDelivered);
    const perMillion = (units: number, pricePerMillionUnits: number) => (units / n) * pricePerMillionUnits;

    const sendBatch = sum(is('dispatcher', 'sqs', 'SendMessageBatch', 'SendMessage'), (c) => c.billedRequests);
    const wakeUps = sum(is('dispatcher', 'sqs', 'SendMessageBatch', 'SendMessage'), (c) => c.messages);
    const receives = calls.filter((c) => is('deliverer', 'sqs', 'ReceiveMessage')(c) && c.messages > 0);
    const emptyReceives = calls.filter((c) => is('deliverer', 'sqs', 'ReceiveMessage')(c) && c.messages === 0).length;
    const receiveRequests = receives.reduce((m, c) => m + c.billedRequests, 0);
    const deletes = sum(is('deliverer', 'sqs', 'DeleteMessageBatch', 'DeleteMessage'), (c) => c.billedRequests);
    const visibility = sum(is('deliverer', 'sqs', 'ChangeMessageVisibility', 'ChangeMessageVisibilityBatch'), (c) => c.billedRequests);
    const dispatcherRcu = sum(is('dispatcher', 'dynamodb'), (c) => c.readUnits);
    const dispatcherWcu = sum(is('dispatcher', 'dynamodb'), (c) => c.writeUnits);
    const delivererRcu = sum(is('deliverer', 'dynamodb'), (c) => c.readUnits);
    const delivererWcu = sum(is('deliverer', 'dynamodb'), (c) => c.writeUnits);
    const streamReads = calls.filter((c) => c.service === 'streams' && c.operation === 'GetRecords').length;
    const webhookBytes = measuredDeliveries.reduce((m, d) => m + d.bytes, 0);

    const lambdaParts = (label: string, use: FunctionUse): CostPart[] => [
      {
        part: `Lambda requests: ${label}`,
        perEvent: use.invocations / n,
        unit: 'invocations',
        dollarsPerMillionEvents: perMillion(use.invocations, PUSH_PRICES.lambdaRequest),
        basis: `${use.invocations} invocations, ${use.recordsPerInvocation.toFixed(1)} records each`,
      },
      {
        part: `Lambda duration: ${label}`,
        perEvent: use.gbSeconds / n,
        unit: 'GB-s',
        dollarsPerMillionEvents: (use.gbSeconds / n) * PUSH_PRICES.lambdaGbSecondArm * 1e6,
        basis: `${use.memoryMb} MB × measured durations (p50 ${use.durationMs.p50.toFixed(1)} ms, mean ${use.durationMs.mean.toFixed(1)} ms), billed per 1 ms`,
      },
    ];
    const parts: CostPart[] = [
      ...lambdaParts('dispatcher (per stream batch)', dispatcherUse),
      ...lambdaParts('deliverer (per wake-up batch)', delivererUse),
      {
        part: 'SQS FIFO: SendMessageBatch (dispatcher)',
        perEvent: sendBatch / n,
        unit: 'requests',
        dollarsPerMillionEvents: perMillion(sendBatch, PUSH_PRICES.sqsFifoRequest),
        basis: `${wakeUps} wake-ups in ${sendBatch} billed requests (64 KB chunks)`,
      },
      {
        part: 'SQS FIFO: ReceiveMessage (event source, with messages)',
        perEvent: receiveRequests / n,
        unit: 'requests',
        dollarsPerMillionEvents: perMillion(receiveRequests, PUSH_PRICES.sqsFifoRequest),
        basis: `${receives.length} receives, ${(receives.reduce((m, c) => m + c.messages, 0) / Math.max(1, receives.length)).toFixed(1)} messages each; empty long polls are a fixed cost, not per event`,
      },
      {
        part: 'SQS FIFO: DeleteMessageBatch (event source)',
        perEvent: deletes / n,
        unit: 'requests',
        dollarsPerMillionEvents: perMillion(deletes, PUSH_PRICES.sqsFifoRequest),
        basis: `${deletes} calls`,
      },
      ...(visibility > 0
        ? [{
            part: 'SQS FIFO: ChangeMessageVisibility (deliverer retries)',
            perEvent: visibility / n,
            unit: 'requests',
            dollarsPerMillionEvents: perMillion(visibility, PUSH_PRICES.sqsFifoRequest),
            basis: `${visibility} calls`,
          }]
        : []),
      {
        part: 'DynamoDB reads: dispatcher',
        perEvent: dispatcherRcu / n,
        unit: 'RCU',
        dollarsPerMillionEvents: perMillion(dispatcherRcu, PRICES.readRequestUnit),
        basis: callList(byCall, 'dispatcher dynamodb.'),
      },
      {
        part: 'DynamoDB reads: deliverer',
        perEvent: delivererRcu / n,
        unit: 'RCU',
        dollarsPerMillionEvents: perMillion(delivererRcu, PRICES.readRequestUnit),
        basis: callList(byCall, 'deliverer dynamodb.', (s) => s.readUnits > 0),
      },
      {
        part: 'DynamoDB writes: deliverer (cursor)',
        perEvent: delivererWcu / n,
        unit: 'WCU',
        dollarsPerMillionEvents: perMillion(delivererWcu, PRICES.writeRequestUnit),
        basis: `${callList(byCall, 'deliverer dynamodb.', (s) => s.writeUnits > 0)}; largest subscriptions-table item ${largestSubscriptionItem} B, so 1 WCU per write`,
      },
      ...(dispatcherWcu > 0
        ? [{ part: 'DynamoDB writes: dispatcher', perEvent: dispatcherWcu / n, unit: 'WCU', dollarsPerMillionEvents: perMillion(dispatcherWcu, PRICES.writeRequestUnit), basis: '' }]
        : []),
      {
        part: 'DynamoDB Streams reads (GetRecords by Lambda)',
        perEvent: streamReads / n,
        unit: 'calls',
        dollarsPerMillionEvents: 0,
        basis: 'free when Lambda reads the stream',
      },
    ];
    const pushTotal = parts.reduce((m, p) => m + p.dollarsPerMillionEvents, 0);

    // ---- the produce side, measured in the same run (as bench/main.ts prices it, plus Lambda)
    const producedEvents = Math.max(1, run.sent.length);
    const produceRequests = run.requestMs.length;
    const produceWcu = sum(is('produce', 'dynamodb'), (c) => c.writeUnits);
    const produceRcu = sum(is('produce', 'dynamodb'), (c) => c.readUnits);
    const produceAssumed = sum(is('produce', 'dynamodb'), (c) => c.assumedWrites);
    const produceDynamo = ((produceWcu * PRICES.writeRequestUnit + produceRcu * PRICES.readRequestUnit) / producedEvents);
    const produceApi = (produceRequests / producedEvents) * PRICES.httpApiRequest;
    const produceLambda = (produceUse.invocations / producedEvents) * PUSH_PRICES.lambdaRequest + (produceUse.gbSeconds / producedEvents) * PUSH_PRICES.lambdaGbSecondArm * 1e6;
    const produceSide = {
      eventsPerRequest: BATCH,
      wcuPerEvent: produceWcu / producedEvents,
      rcuPerEvent: produceRcu / producedEvents,
      assumedWrites: produceAssumed,
      dollarsPerMillionEvents: { dynamodb: produceDynamo, apiGateway: produceApi, total: produceDynamo + produceApi, lambda: produceLambda },
      calls: Object.fromEntries(Object.entries(byCall).filter(([k]) => k.startsWith('produce '))),
    };
    const mainBench = await mainBenchProduceRows();

    // ---- report
    const latency = { fromAck: percentiles(fromAck), fromSend: percentiles(fromSend) };
    const produceLatency = percentiles(run.requestMs);
    const report: Report = {
      timestamp: startedAt.toISOString(),
      durationSeconds: (performance.now() - t0) / 1000,
      machine: {
        node: process.version,
        platform: `${process.platform} ${process.arch}`,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        /** 1-minute load average when the run started and when it ended: other work on the machine skews latency. */
        loadAverage: { start: Number(loadAtStart.toFixed(2)), end: Number(loadavg()[0]!.toFixed(2)) },
        dynamodb: `DynamoDB Local from ${DYNAMODB_LOCAL_PACKAGE} (in memory)`,
      },
      settings: {
        events: EVENTS,
        ratePerSecond: RATE,
        eventsPerProduceRequest: BATCH,
        partitions: PARTITIONS,
        valueBytes: VALUE_BYTES,
        warmupEvents,
        drainSeconds: DRAIN_SECONDS,
        dispatcher: { batchSize: twin.streamEventSources[0]!.batchSize, parallelizationFactor: twin.streamEventSources[0]!.parallelizationFactor, memoryMb: dispatcher.memorySize },
        deliverer: { batchSize: twin.sqsEventSources.find((s) => s.function === deliverer)?.batchSize, memoryMb: deliverer.memorySize },
      },
      prices: { ...PRICES, ...PUSH_PRICES },
      produced: {
        events: run.sent.length,
        requests: produceRequests,
        failedRequests: run.failedRequests,
        lateRequests: run.lateRequests,
        seconds: run.seconds,
        eventsPerSecond: run.sent.length / run.seconds,
        requestLatencyMs: produceLatency,
      },
      delivered: {
        complete,
        uniqueEvents: uniqueDelivered,
        missing: run.sent.length - uniqueDelivered,
        duplicates: deliveredEvents - uniqueDelivered,
        deliveries: measuredDeliveries.length,
        eventsPerDelivery: percentiles(eventsPerDelivery),
        outOfOrder,
        unsigned,
        webhookBytesPerEvent: webhookBytes / n,
      },
      latencyMs: latency,
      stagesMs: stages,
      functions: { dispatcher: dispatcherUse, deliverer: delivererUse, produce: produceUse },
      wakeUps: { enqueued: wakeUps, perDelivery: wakeUps / Math.max(1, measuredDeliveries.length), emptyReceives },
      streamReads,
      calls: byCall,
      cost: {
        parts,
        dollarsPerMillionEventsDelivered: pushTotal,
        notIncluded: {
          dataTransferOutPerMillionEvents: (webhookBytes / n) * 1e6 / 1e9 * PUSH_PRICES.dataTransferOutGb,
        },
      },
      produceSide,
      mainBenchProduce: mainBench,
      method: METHOD,
    };

    log('');
    log(renderText(report));
    await mkdir(resolve(repoRoot, 'bench/results'), { recursive: true });
    const json = join(repoRoot, 'bench/results/push.json');
    const md = join(repoRoot, 'bench/results/push.md');
    await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(md, renderMarkdown(report));
    log(`\nWrote ${json} and ${md} (${report.durationSeconds.toFixed(0)} s).`);
    if (!complete) process.exitCode = 1;
  } finally {
    clearTimeout(watchdog);
    await stopAll();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

function callList(byCall: Record<string, CallSummary>, prefix: string, keep: (s: CallSummary) => boolean = () => true): string {
  return Object.entries(byCall)
    .filter(([k, s]) => k.startsWith(prefix) && keep(s))
    .map(([k, s]) => `${s.calls} ${k.slice(prefix.length)}${Object.keys(s.errors).length > 0 ? ` (${Object.entries(s.errors).map(([e, c]) => `${c} ${e}`).join(', ')})` : ''}`)
    .join(', ');
}

/** The produce rows of the last `npm run bench` (bench/results/results.json), if there is one. */
async function mainBenchProduceRows(): Promise<{ timestamp: string; rows: { scenario: string; eventsPerRequest: number | string; payload: string; dedupe: string; dollarsPerMillionEvents: number }[] } | null> {
  try {
    const report = JSON.parse(await readFile(resolve(repoRoot, 'bench/results/results.json'), 'utf8')) as {
      timestamp: string;
      rows: { kind: string; scenario: string; eventsPerRequest: number | string; payload: string; dedupe: string; costPerMillionEvents: { total: number } }[];
    };
    return {
      timestamp: report.timestamp,
      rows: report.rows
        .filter((r) => r.kind === 'produce' && r.payload === '100 B json')
        .map((r) => ({ scenario: r.scenario, eventsPerRequest: r.eventsPerRequest, payload: r.payload, dedupe: r.dedupe, dollarsPerMillionEvents: r.costPerMillionEvents.total })),
    };
  } catch {
    return null;
  }
}

// ---- rendering --------------------------------------------------------------------------------

/** What bench/results/push.json holds. */
interface Report {
  timestamp: string;
  durationSeconds: number;
  machine: Record<string, unknown>;
  settings: Record<string, unknown>;
  produced: { events: number; requests: number; failedRequests: number; lateRequests: number; seconds: number; eventsPerSecond: number; requestLatencyMs: Percentiles };
  delivered: { complete: boolean; uniqueEvents: number; missing: number; duplicates: number; deliveries: number; eventsPerDelivery: Percentiles; outOfOrder: number; unsigned: number; webhookBytesPerEvent: number };
  latencyMs: { fromAck: Percentiles; fromSend: Percentiles };
  stagesMs: ReturnType<typeof followBatches>;
  functions: Record<'dispatcher' | 'deliverer' | 'produce', FunctionUse>;
  wakeUps: { enqueued: number; perDelivery: number; emptyReceives: number };
  streamReads: number;
  calls: Record<string, CallSummary>;
  cost: { parts: CostPart[]; dollarsPerMillionEventsDelivered: number; notIncluded: { dataTransferOutPerMillionEvents: number } };
  produceSide: {
    eventsPerRequest: number;
    wcuPerEvent: number;
    rcuPerEvent: number;
    assumedWrites: number;
    dollarsPerMillionEvents: { dynamodb: number; apiGateway: number; total: number; lambda: number };
    calls: Record<string, CallSummary>;
  };
  mainBenchProduce: Awaited<ReturnType<typeof mainBenchProduceRows>>;
  prices: Record<string, number>;
  method: readonly string[];
}

const f = (v: number, digits: number) => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

function table(header: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function mdTable(header: string[], rows: string[][], align: ('l' | 'r')[]): string {
  return [`| ${header.join(' | ')} |`, `| ${align.map((a) => (a === 'r' ? '---:' : ':---')).join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function sections(r: Report) {
  const lat = (p: Percentiles) => [f(p.p50, 0), f(p.p90, 0), f(p.p99, 0), f(p.max, 0), f(p.mean, 0)];
  const latency = {
    header: ['produce → webhook (ms)', 'p50', 'p90', 'p99', 'max', 'mean'],
    align: ['l', 'r', 'r', 'r', 'r', 'r'] as ('l' | 'r')[],
    rows: [
      ['from the produce acknowledgement', ...lat(r.latencyMs.fromAck)],
      ['from sending the produce request', ...lat(r.latencyMs.fromSend)],
      ['(the produce request itself)', ...lat(r.produced.requestLatencyMs)],
    ],
  };
  const st = r.stagesMs;
  const stage = (label: string, v: { p50: number; p90: number }) => [label, f(v.p50, 0), f(v.p90, 0)];
  const stages = {
    header: [`a record batch's way (${st.followed} of ${st.batches} followed), ms`, 'p50', 'p90'],
    align: ['l', 'r', 'r'] as ('l' | 'r')[],
    rows: [
      stage('produce ack → dispatcher invoked with it (stream)', st.ackToDispatcherStart),
      stage('dispatcher invocation', st.dispatcherDuration),
      stage('dispatcher done → deliverer invoked with its wake-up (queue)', st.dispatcherEndToDelivererStart),
      stage(`deliverer invoked → webhook has it (${st.deliveredByAnEarlierWakeUp} batches came earlier, with an earlier wake-up)`, st.delivererStartToWebhook),
    ],
  };
  const fn = (label: string, u: FunctionUse) => [label, String(u.invocations), f(u.recordsPerInvocation, 1), f(u.durationMs.p50, 1), f(u.durationMs.p90, 1), f(u.durationMs.mean, 1), String(u.memoryMb), f(u.gbSeconds, 3), String(u.newEnvironments)];
  const functions = {
    header: ['function', 'invocations', 'records/inv', 'ms p50', 'ms p90', 'ms mean', 'MB', 'GB-s', 'new envs'],
    align: ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'] as ('l' | 'r')[],
    rows: [fn('dispatcher', r.functions.dispatcher), fn('deliverer', r.functions.deliverer), fn('produce', r.functions.produce)],
  };
  const cost = {
    header: ['part', 'per event', 'unit', '$/M events', 'from'],
    align: ['l', 'r', 'l', 'r', 'l'] as ('l' | 'r')[],
    rows: [
      ...r.cost.parts.map((p) => [p.part, f(p.perEvent, 4), p.unit, f(p.dollarsPerMillionEvents, 4), p.basis]),
      ['push: one delivery per event, total', '', '', f(r.cost.dollarsPerMillionEventsDelivered, 4), ''],
    ],
  };
  const ps = r.produceSide;
  const produce = {
    header: ['produce side (same run)', '$/M events', 'from'],
    align: ['l', 'r', 'l'] as ('l' | 'r')[],
    rows: [
      [`DynamoDB (${f(ps.wcuPerEvent, 3)} WCU + ${f(ps.rcuPerEvent, 3)} RCU per event)`, f(ps.dollarsPerMillionEvents.dynamodb, 4), `${ps.eventsPerRequest} events per request, dedupe on (client message IDs)`],
      ['HTTP API requests', f(ps.dollarsPerMillionEvents.apiGateway, 4), `1 request per ${ps.eventsPerRequest} events`],
      ['produce total, as `npm run bench` prices it', f(ps.dollarsPerMillionEvents.total, 4), 'DynamoDB + API Gateway'],
      ['(produce Lambda, not in that total)', f(ps.dollarsPerMillionEvents.lambda, 4), `requests + GB-s, ${r.functions.produce.memoryMb} MB`],
      ['push total ÷ produce total', `${f(r.cost.dollarsPerMillionEventsDelivered / ps.dollarsPerMillionEvents.total, 2)}×`, ''],
      ...(r.mainBenchProduce
        ? r.mainBenchProduce.rows.map((row) => [`npm run bench: ${row.scenario} ${row.eventsPerRequest} × ${row.payload}, dedupe ${row.dedupe}`, f(row.dollarsPerMillionEvents, 4), `bench/results/results.json, ${r.mainBenchProduce!.timestamp}`])
        : []),
    ],
  };
  const d = r.delivered;
  const summary = [
    `Machine: ${String(r.machine.cpus)} cores, 1-minute load average ${(r.machine.loadAverage as { start: number }).start} at the start and ${(r.machine.loadAverage as { end: number }).end} at the end of the run.`,
    `Produced ${r.produced.events} events in ${r.produced.requests} requests over ${f(r.produced.seconds, 1)} s (${f(r.produced.eventsPerSecond, 0)} events/s; ${r.produced.failedRequests} failed, ${r.produced.lateRequests} sent late).`,
    `Delivered ${d.uniqueEvents} of them (${d.missing} missing, ${d.duplicates} duplicates, ${d.outOfOrder} out of partition order, ${d.unsigned} deliveries with a bad signature) in ${d.deliveries} webhook calls: ${f(d.uniqueEvents / Math.max(1, d.deliveries), 2)} events per delivery (p50 ${d.eventsPerDelivery.p50}, max ${d.eventsPerDelivery.max}).`,
    `Wake-ups enqueued: ${r.wakeUps.enqueued} (${f(r.wakeUps.perDelivery, 2)} per delivery; a wake-up that finds its cursor already past delivers nothing). Stream GetRecords calls: ${r.streamReads}. Empty ReceiveMessage long polls during the run: ${r.wakeUps.emptyReceives}.`,
    `Push, one delivery per event: $${f(r.cost.dollarsPerMillionEventsDelivered, 4)} per million events; not included: data transfer out to a webhook on the internet, ${f(d.webhookBytesPerEvent, 0)} B per event ≈ $${f(r.cost.notIncluded.dataTransferOutPerMillionEvents, 4)} per million events.`,
  ];
  return { latency, stages, functions, cost, produce, summary };
}

function renderText(r: Report): string {
  const s = sections(r);
  return [
    table(s.latency.header, s.latency.rows, s.latency.align),
    '',
    table(s.stages.header, s.stages.rows, s.stages.align),
    '',
    table(s.functions.header, s.functions.rows, s.functions.align),
    '',
    table(s.cost.header, s.cost.rows, s.cost.align),
    '',
    table(s.produce.header, s.produce.rows, s.produce.align),
    '',
    ...s.summary.map((line) => `* ${line}`),
  ].join('\n');
}

function renderMarkdown(r: Report): string {
  const s = sections(r);
  return [
    '# Sluice benchmark: push subscriptions',
    '',
    `Run ${r.timestamp} (${f(r.durationSeconds, 0)} s) on ${String(r.machine.cpuModel)} × ${String(r.machine.cpus)}, Node ${String(r.machine.node)}, ${String(r.machine.dynamodb)}.`,
    '',
    ...s.summary.map((line) => `- ${line}`),
    '',
    '## Latency',
    '',
    mdTable(s.latency.header, s.latency.rows, s.latency.align),
    '',
    mdTable(s.stages.header, s.stages.rows, s.stages.align),
    '',
    '## Lambda invocations',
    '',
    mdTable(s.functions.header, s.functions.rows, s.functions.align),
    '',
    '## Cost of one delivery per event (list prices)',
    '',
    mdTable(s.cost.header, s.cost.rows, s.cost.align),
    '',
    mdTable(s.produce.header, s.produce.rows, s.produce.align),
    '',
    '## How to read it',
    '',
    ...r.method.map((m) => `- ${m}`),
    '',
    '## Calls during the measured phase',
    '',
    mdTable(
      ['who · call', 'calls', 'billed requests', 'messages', 'RCU', 'WCU', 'errors'],
      Object.entries(r.calls).map(([k, c]) => [k, String(c.calls), String(c.billedRequests), String(c.messages), f(c.readUnits, 1), f(c.writeUnits, 1), Object.entries(c.errors).map(([e, m]) => `${m} ${e}`).join(', ')]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
    '',
    '## Settings',
    '',
    '```json',
    JSON.stringify(r.settings, null, 2),
    '```',
    '',
  ].join('\n');
}

const METHOD = [
  'One process runs the local platform as `npm start` does: the stack synthesized for AWS, each function from its bundle in its own execution environments (worker threads), DynamoDB Local and the SQS server (its own, in memory), the dispatcher reading the log table\'s stream (polled every 250 ms when idle) and the deliverer fed by one SQS poller. A webhook on 127.0.0.1 (answering 204 at once, checking each signature) receives the deliveries; the producer is the Sluice client over the local HTTP API. All of it shares this machine\'s cores.',
  `Traffic: a topic of ${PARTITIONS} partitions and one webhook subscription (no filter, start latest). Events are produced at a steady rate, ${BATCH} per request, the requests turn by turn over the partitions (explicit partition; one request in flight per partition), each value a ${VALUE_BYTES}-byte JSON object stamped with its sequence number and send time. A warm-up of the same traffic runs first (functions started, JIT warm) and is not counted.`,
  'Latency per event: webhook receive time − produce acknowledgement time (the client has its answer), and − the time the produce request was sent; the first receipt of each event counts. Percentiles are nearest-rank over all measured events.',
  'Calls are counted on the wire: DynamoDB Local and the SQS server sit behind a pass-through meter (one more loopback hop per call), and each call is attributed by the role whose credentials signed it (the local IAM names each function\'s role). Capacity units follow AWS\'s documented rules as bench/capacity.ts applies them (strongly consistent reads: 1 RCU per 4 KB, a Query rounds its total, a miss costs 1; writes 1 WCU per 1 KB, a conditional write that fails is still charged). An UpdateItem is charged by its stored item, which the call does not show: it is counted as 1 WCU, and the largest item of the subscriptions table is checked to be under 1 KB.',
  `Lambda: $${PUSH_PRICES.lambdaRequest} per million requests and $${PUSH_PRICES.lambdaGbSecondArm} per GB-s (arm64), at each function\'s memory size from the template, times its invocations\' durations as measured here (wall time of the invocation in its local execution environment, rounded up to 1 ms as Lambda bills). Local durations include DynamoDB Local\'s and the SQS server\'s latency on a busy 2-core machine, not AWS\'s; free tiers are ignored.`,
  `SQS FIFO: $${PUSH_PRICES.sqsFifoRequest} per million requests, each 64 KB chunk of a request\'s payload a request: the dispatcher\'s SendMessageBatch (≤ 10 wake-ups per call), and the event source\'s ReceiveMessage (that returned messages) and DeleteMessageBatch. Empty long polls are a fixed cost of the event source (on AWS its pollers long-poll 20 s each, whatever the traffic), not a per-event cost; the run reports how many there were. DynamoDB Streams reads by a Lambda event source mapping are free.`,
  'Where the local platform differs from AWS in ways that move these figures: the stream is read shard by shard and batch by batch (ParallelizationFactor 10 on AWS runs more, smaller dispatcher batches at once), and one SQS poller with one deliverer invocation at a time feeds the deliverer (AWS scales pollers with the backlog and runs message groups in parallel). Both make batches here larger than AWS would at this rate, so AWS would take more invocations and requests per event; the costs are those of this run\'s batching.',
  'Produce side: the same run\'s produce calls priced as `npm run bench` prices them (DynamoDB units by the documented rules + HTTP API requests at $1.00 per million), so the two costs sit side by side; the produce Lambda is shown apart, as that bench leaves Lambda compute out.',
];

main().then(
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
