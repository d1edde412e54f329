/**
 * `npm run bench`: produce and fetch throughput through the Lambda handlers, against raw DynamoDB
 * calls on the same DynamoDB Local, with capacity units and dollars per event. Prints a table and
 * writes bench/results/results.{json,md}. Not part of `npm test`.
 *
 *   SLUICE_BENCH_EVENTS          events per produce cell over all rounds (default 4000)
 *   SLUICE_BENCH_WARMUP_SECONDS  seconds of warm-up traffic before measuring (default 30)
 *   SLUICE_BENCH_IDLE_SECONDS    the measured idle minute of a group member (default 60)
 *   SLUICE_CACHE_DIR             where DynamoDB Local is cached (default <repo>/.cache)
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { execFile } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { TOPIC_DEFAULTS } from '../api/topics';
import { silentLogger } from '../lambda/core/logger';
import { DYNAMODB_LOCAL_PACKAGE, startDynamoDbLocal } from '../local/dynamodb-local';
import { startSqsServer } from '../local/sqs-server';
import { setUp, type Bench } from './harness';
import { runIdleMember, type IdleMemberResult } from './idle-member';
import { probeLocalTransactReporting, runRaw, runRawPut, type TransactProbe } from './raw';
import { LAMBDA, PRICES, pool, target, targetsTable, textTable, toRow, writeReport, type Measurement, type Row, type Target } from './report';
import {
  CONCURRENCY,
  EVENTS_PER_CELL,
  FETCH_LIMIT,
  MIN_REQUESTS_PER_WORKER,
  PAYLOADS,
  RAW_BATCH,
  RAW_READ_EVENTS,
  RAW_WRITE_EVENTS,
  READ_EVENTS_PER_CELL,
  ROUNDS,
  produceCells,
} from './scenarios';
import { createCellTopic, runFetchRound, runProduceRound, type CellTopic } from './sluice';

const repoRoot = resolve(import.meta.dirname, '..');

// ---- the run ---------------------------------------------------------------------------------

/** Seconds of warm-up traffic before anything is measured (SLUICE_BENCH_WARMUP_SECONDS). */
const WARMUP_SECONDS = Number(process.env.SLUICE_BENCH_WARMUP_SECONDS ?? 30);

async function warmUp(bench: Bench): Promise<void> {
  // Every path, over and over, until both the JVM (DynamoDB Local) and V8 have compiled their hot
  // code: without this, the first round ran about half as fast as the last.
  const deadline = Date.now() + WARMUP_SECONDS * 1000;
  for (let lap = 0; lap === 0 || Date.now() < deadline; lap++) {
    const cells = produceCells().filter((c) => c.layout === 'single' && c.payload === PAYLOADS[0] && c.batch <= 10);
    for (const [i, cell] of cells.entries()) {
      const t = await createCellTopic(bench, { ...cell, events: 40 * cell.batch * CONCURRENCY }, 1000 + cells.length * lap + i);
      await runProduceRound(bench, t, 0);
      await runFetchRound(bench, t, 4000);
    }
    for (const payload of PAYLOADS) await runRaw(bench, payload, `warmup-${lap}`);
  }
}

async function machine(): Promise<Record<string, unknown>> {
  const java = await promisify(execFile)('java', ['-version']).then((r) => (r.stderr || r.stdout).split('\n')[0], () => 'unknown');
  return {
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    java,
    dynamodb: `DynamoDB Local from ${DYNAMODB_LOCAL_PACKAGE} (in memory)`,
  };
}

function observe(rows: readonly Row[], probe: readonly TransactProbe[]): string[] {
  const out: string[] = [];
  const ratios = rows
    .filter((r) => r.kind === 'produce' && r.wcuPerEventReported !== null && r.wcuPerEventComputed > 0)
    .map((r) => r.wcuPerEventReported! / r.wcuPerEventComputed);
  if (ratios.length > 0) {
    out.push(
      `For Sluice's TransactWriteItems, DynamoDB Local reported ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}× the ` +
        'write units of AWS\'s documented rule; the cost column uses the documented rule. Probe of known items (documented → Local): ' +
        probe.map((p) => `${p.items}: ${p.documentedWcu} → ${p.localWcu}`).join('; ') +
        ' (consistent with Local charging 4 × the sum of the distinct per-item ceil(KB) values per table, so equal-sized items count once).',
    );
  }
  const rawRatios = rows.filter((r) => r.kind === 'raw-write' && r.wcuPerEventReported !== null).map((r) => r.wcuPerEventReported! / r.wcuPerEventComputed);
  if (rawRatios.length > 0) out.push(`For BatchWriteItem, Local's report is ${rawRatios.map((r) => r.toFixed(2)).join(', ')}× the documented rule.`);
  const noisy = rows.filter((r) => r.spread > 0.15);
  if (noisy.length > 0) out.push(`${noisy.length} of ${rows.length} rows vary by more than ±15% between rounds: compare rates only where the difference exceeds their spread.`);
  for (const r of rows.filter((r) => r.notes.length > 0)) out.push(`${r.scenario} ${r.eventsPerRequest} × ${r.payload} (dedupe ${r.dedupe}): ${r.notes.join('; ')}`);
  return out;
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const cacheDir = process.env.SLUICE_CACHE_DIR ?? resolve(repoRoot, '.cache');
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await Promise.resolve(stop()).catch(() => {});
  };
  const onSignal = (signal: NodeJS.Signals) => void stopAll().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const log = (line: string) => process.stdout.write(`${line}\n`);
    log('Starting DynamoDB Local and the SQS server...');
    const ddb = await startDynamoDbLocal({ cacheDir, logger: silentLogger });
    stops.push(() => ddb.stop());
    const sqs = await startSqsServer();
    stops.push(() => sqs.stop());
    const bench = await setUp(ddb.endpoint, sqs.endpoint);
    stops.push(() => bench.destroy());

    const probe = await probeLocalTransactReporting(bench);
    log('Warming up...');
    await warmUp(bench);
    // The raw baseline runs before the produce rounds, between produce and fetch, and at the end.
    const rawRuns: [Measurement, Measurement][][] = [];
    const rawPutRuns: Measurement[] = [];
    const rawRun = async (label: string) => {
      log(`Raw DynamoDB baseline (${label})...`);
      const run: [Measurement, Measurement][] = [];
      for (const payload of PAYLOADS) run.push(await runRaw(bench, payload, `${rawRuns.length}`));
      rawPutRuns.push(await runRawPut(bench, JSON_1K, `${rawRuns.length}`, EVENTS_PER_CELL / 2));
      rawRuns.push(run);
    };
    await rawRun('before');

    const cells = produceCells();
    const topics = [];
    for (const [i, cell] of cells.entries()) topics.push(await createCellTopic(bench, cell, i));
    const produceRuns = cells.map((): Measurement[] => []);
    for (let round = 1; round <= ROUNDS; round++) {
      log(`Produce, round ${round} of ${ROUNDS}`);
      for (const [i, t] of topics.entries()) {
        const m = await runProduceRound(bench, t, i);
        produceRuns[i]!.push(m);
        log(`  ${m.scenario} ${m.eventsPerRequest} × ${m.payload}, dedupe ${m.dedupe}: ${(m.events / m.seconds).toFixed(0)} events/s`);
      }
    }
    await rawRun('between');

    // One fetch cell per stored layout: 1- and 10-event requests (from the dedupe-on topics) and each largest batch.
    const layouts = new Map<string, CellTopic>();
    for (const t of topics) if (t.cell.layout === 'single' && !layouts.has(`${t.cell.payload.kind}/${t.batch}`)) layouts.set(`${t.cell.payload.kind}/${t.batch}`, t);
    const fetchTopics = [...layouts.values()];
    const fetchRuns = fetchTopics.map((): Measurement[] => []);
    for (let round = 1; round <= ROUNDS; round++) {
      log(`Fetch, round ${round} of ${ROUNDS}`);
      for (const [i, t] of fetchTopics.entries()) {
        const m = await runFetchRound(bench, t, READ_EVENTS_PER_CELL / ROUNDS);
        fetchRuns[i]!.push(m);
        log(`  ${m.payload} ${String(m.eventsPerRequest)}: ${(m.events / m.seconds).toFixed(0)} events/s`);
      }
    }
    await rawRun('after');

    const rawWrite = new Map<string, Row>();
    const rawRead = new Map<string, Row>();
    PAYLOADS.forEach((p, i) => {
      rawWrite.set(p.label, { ...toRow(pool(rawRuns.map((run) => run[i]![0])), undefined), ratioToRaw: 1 });
      rawRead.set(p.label, { ...toRow(pool(rawRuns.map((run) => run[i]![1])), undefined), ratioToRaw: 1 });
    });
    const rawPut: Row = { ...toRow(pool(rawPutRuns), undefined), ratioToRaw: 1 };
    // One event per request is compared with PutItem (one item per call), batches with BatchWriteItem.
    const withRatio = (m: Measurement, base: Map<string, Row>) =>
      toRow(m, m.kind === 'produce' && m.eventsPerRequest === 1 && m.payload === JSON_1K.label ? rawPut.eventsPerSecond : base.get(m.payload)!.eventsPerSecond);
    const rows: Row[] = [
      ...rawWrite.values(),
      rawPut,
      ...produceRuns.map((runs) => withRatio(pool(runs), rawWrite)),
      ...rawRead.values(),
      ...fetchRuns.map((runs) => withRatio(pool(runs), rawRead)),
    ];

    log('');
    log(textTable(rows));

    const idleSeconds = Number(process.env.SLUICE_BENCH_IDLE_SECONDS ?? 60);
    log(`\nIdle group member, Consumer defaults (adaptive polling): settling, then ${idleSeconds} s measured...`);
    const idleNow = await runIdleMember(bench, 'Consumer defaults (adaptive polling)', { settleSeconds: 30, measureSeconds: idleSeconds });
    log(`Idle group member, idlePollMs 0 (long polls back to back, as before): ${idleSeconds} s measured...`);
    const idleLongPolls = await runIdleMember(bench, 'idlePollMs: 0 (long polls back to back, as before)', { idlePollMs: 0, settleSeconds: 10, measureSeconds: idleSeconds });
    const idle = [idleNow, idleLongPolls];
    for (const m of idle) log(idleLine(m));

    const targets = issueTargets(rows, rawPut, idleNow);
    log('');
    log(targetsTable(targets));
    const durationSeconds = (Date.now() - startedAt.getTime()) / 1000;
    const paths = await writeReport(resolve(repoRoot, 'bench/results'), {
      timestamp: startedAt.toISOString(),
      durationSeconds,
      machine: await machine(),
      settings: {
        concurrency: CONCURRENCY,
        eventsPerCell: EVENTS_PER_CELL,
        readEventsPerCell: READ_EVENTS_PER_CELL,
        rawWriteEventsPerRun: RAW_WRITE_EVENTS,
        rawReadEventsPerRun: RAW_READ_EVENTS,
        rounds: ROUNDS,
        warmupSeconds: WARMUP_SECONDS,
        minRequestsPerWorkerForLargestBatches: MIN_REQUESTS_PER_WORKER,
        rawBatch: RAW_BATCH,
        fetchLimit: FETCH_LIMIT,
        topicRetentionMs: TOPIC_DEFAULTS.retentionMs,
        dedupeWindowMs: { on: TOPIC_DEFAULTS.dedupeWindowMs, off: 0 },
      },
      prices: PRICES,
      method: METHOD,
      rows,
      rawBaselineRuns: rawRuns.flat(2).map((m) => toRow(m, undefined)),
      localTransactProbe: probe,
      observations: observe(rows, probe),
      targets,
      idleMember: idle,
    });
    log('');
    for (const o of observe(rows, probe)) log(`* ${o}`);
    log(`\nWrote ${paths.json} and ${paths.md} (${durationSeconds.toFixed(0)} s).`);
  } finally {
    await stopAll();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

const JSON_1K = PAYLOADS.find((p) => p.kind === 'json-1k')!;

function idleLine(m: IdleMemberResult): string {
  const calls = Object.entries(m.calls).map(([k, n]) => `${n} × ${k}`).join(', ');
  return (
    `  ${m.label}: ${calls} in ${m.measuredSeconds.toFixed(0)} s; ${m.writeUnits} WCU, ${m.readUnits} RCU, ${m.lambdaSeconds.toFixed(2)} Lambda s → ` +
    `$${m.perMonth.total.toFixed(3)}/month (API $${m.perMonth.apiGateway.toFixed(3)}, Lambda $${(m.perMonth.lambdaRequests + m.perMonth.lambdaCompute).toFixed(3)}, ` +
    `DynamoDB $${m.perMonth.dynamodb.toFixed(3)}); a record produced after the idle minute reached the handler in ${m.fetchLatencyMs.toFixed(0)} ms`
  );
}

/** The issue's targets, from this run's rows (1 KB JSON), with today's figures from the issue. */
function issueTargets(rows: readonly Row[], rawPut: Row, idle: IdleMemberResult): Target[] {
  const json = rows.filter((r) => r.payload === JSON_1K.label);
  const produce = (batch: (n: number) => boolean, dedupe: 'on' | 'off') =>
    json.find((r) => r.kind === 'produce' && r.scenario === 'produce' && r.dedupe === dedupe && typeof r.eventsPerRequest === 'number' && batch(r.eventsPerRequest));
  const single = produce((n) => n === 1, 'off')!;
  const batch = produce((n) => n >= 100, 'off')!;
  const dedupe = produce((n) => n >= 90, 'on')!;
  const fetches = json.filter((r) => r.kind === 'fetch');
  const slowestFetch = fetches.reduce((a, b) => ((a.ratioToRaw ?? 0) <= (b.ratioToRaw ?? 0) ? a : b));
  return [
    target('single-event produce: write units per event', 'WCU/event', 'max', 1.5, single.wcuPerEventComputed, 4.0),
    target('single-event produce: read units per event', 'RCU/event', 'max', 1, single.rcuPerEventComputed, 2.0),
    target('single-event produce vs raw PutItem (same concurrency)', 'ratio of events/s', 'min', 0.5, single.eventsPerSecond / rawPut.eventsPerSecond, null),
    target(`batch produce (${String(batch.eventsPerRequest)}/request): write units per event`, 'WCU/event', 'max', 0.4, batch.wcuPerEventComputed, 0.36),
    target(`batch produce (${String(batch.eventsPerRequest)}/request): all-in`, '$/M events', 'max', 0.3, batch.costPerMillionEvents.total, 0.23),
    target(`message-ID dedupe (${String(dedupe.eventsPerRequest)}/request): write units per event`, 'WCU/event', 'max', 2.4, dedupe.wcuPerEventComputed, 2.39),
    target('idle consumer-group member, all-in', '$/month', 'max', 0.5, idle.perMonth.total, 8.6),
    target(`fetch ${String(slowestFetch.eventsPerRequest)} vs raw Query, slowest 1 KB JSON layout`, 'ratio of events/s', 'min', 0.5, slowestFetch.ratioToRaw ?? 0, 0.3),
  ];
}

const METHOD = [
  `Everything runs in one process against one DynamoDB Local (in memory) on this machine; Sluice rows invoke the Lambda handlers (createProduceHandler / createFetchHandler) in-process with API Gateway HTTP API v2 events, so they include validation, JSON and middleware but no network hop to API Gateway or Lambda.`,
  `${CONCURRENCY} requests in flight; each in-flight worker owns one partition (explicit "partition" on every event), so producers never race for a head. "produce over 30 partitions" rows spread each 40-event request over the worker's own 30 partitions (30 heads + 30 batches + 40 dedupe records = 100 transaction actions with dedupe on).`,
  `The Sluice matrix runs ${ROUNDS} times over, so that a slow spell of this shared 2-core machine (or a JIT still warming up, after ${WARMUP_SECONDS} s of warm-up traffic) hits one round of a cell rather than all of it. About ${EVENTS_PER_CELL} events per produce cell over all rounds (each round's share rounded up to whole requests; the largest batches send at least ${MIN_REQUESTS_PER_WORKER} requests per worker and round). Rounds append to the cell's own topic. Fetch cells then read those topics back like a consumer catching up (full pages of ${FETCH_LIMIT} from offset 0, one worker per partition, pass after pass), ${ROUNDS} rounds again, about ${READ_EVENTS_PER_CELL} events in all; one fetch cell per stored layout (1- and 10-event requests from the dedupe-on topics, and each largest batch; a row says how many events its items hold, counted in the table: small requests share items through the partition head's tail). Each row pools its rounds (total events ÷ total time); "± rounds" is half the range of the per-round rates as a share of that: read it as the error bar. Largest atomic request: 98 events with dedupe on (98 dedupe records + head + batch = 100 actions), 500 with dedupe off (EVENT_LIMITS.maxEventsPerRequest); a note says when a smaller one had to be used.`,
  'Payloads: "json" values are order-like objects (repeated field names, everyday words) whose JSON text is exactly 100 or 1024 bytes; "random" is 1024 random bytes sent as valueBase64 (incompressible). Dedupe-on cells send a client message ID (a UUID) per event, as an exactly-once producer would; dedupe-off cells send none, and their one-partition requests carry an idempotent producer stamp (one producer per worker, sequences continuing over rounds), as the client Producer does by default, so they are retry-safe. Each in-flight worker is one warm instance: after its first request it appends from the topic configuration and partition head it remembers (TOPIC_CONFIG_CACHE_MS, HEAD_CACHE_MS). Topics keep the default 7-day retention, so batches carry a TTL attribute.',
  `Raw baseline: BatchWriteItem of one item per event (pk, offset, the value as one S or B attribute), ${RAW_BATCH} per call (${RAW_WRITE_EVENTS} events a run), and Query (consistent, Limit ${FETCH_LIMIT}) reading them back (pass after pass, ${RAW_READ_EVENTS} events a run), with the same ${CONCURRENCY} workers on one partition key each. It runs before the produce rounds, between produce and fetch, and at the end; its rows pool those runs (results.json keeps each). "× raw" = Sluice events/s ÷ raw events/s for the same payload (produce vs BatchWriteItem, fetch vs Query).`,
  'WCU/RCU (computed): AWS\'s documented rules applied to the items on the wire (an SDK middleware sees every call): per item ceil(bytes / 1 KB) write units, ×2 inside TransactWriteItems; ceil(bytes / 4 KB) read units per strongly consistent read (Query rounds its total, BatchGetItem each item, a miss costs 1). Item size = attribute-name bytes + value bytes. Produce rows include every read a produce makes (the topic config GetItem and head reads of a cold instance or a lost race).',
  'WCU/RCU (Local): what DynamoDB Local reported in ConsumedCapacity. For produce, WCU (Local) is the consumedWriteUnits LogService.produce returns; for reads Sluice does not ask, so the bench\'s middleware adds ReturnConsumedCapacity: TOTAL to every call (which changes nothing else). DynamoDB Local\'s numbers are not what AWS bills: it does not charge missed BatchGetItem keys or empty Queries, and its TransactWriteItems numbers follow no documented rule (see the probe under Observations): too high for one small item, far too low for many.',
  `$/M events = computed WCU × $${PRICES.writeRequestUnit} + computed RCU × $${PRICES.readRequestUnit} per million request units (DynamoDB on-demand list prices in us-east-1, assumed the same in every region; several regions charge more) + for Sluice rows HTTP API requests × $${PRICES.httpApiRequest.toFixed(2)} per million, metered in 512 KB increments of the request (produce) or response (fetch) body, divided by events per request. Lambda (Sluice rows): one invocation per request at $${LAMBDA.perMillionRequests}/M plus each request's wall time (rounded up to the ms) × ${LAMBDA.memoryGb} GB × $${LAMBDA.perGbSecond}/GB-s (the stack's 256 MB arm64 functions); in-process wall time stands in for Lambda's billed duration (no cold starts, no network hop to DynamoDB). Not included: storage, data transfer (TTL deletes and Lambda's stream reads are free).`,
  'Raw PutItem: one PutItem per event with the same workers (1 KB JSON), the baseline single-event produce is compared with ("× raw" on that row); batched produce rows compare with BatchWriteItem.',
  'Idle member: a Consumer with its default options (45 s session, 15 s heartbeats, adaptive polling) subscribed to a 4-partition topic with no traffic, its HTTP calls going straight into the groups handler. After it settles, every call it makes in the measured window is counted (API requests, handler wall time as Lambda duration, DynamoDB units) and scaled to 730 hours. Then one event is produced and the time until its eachMessage runs is the fetch latency of an idle member. The same member with idlePollMs 0 (a long poll held 5 s, back to back, as before) is measured for comparison.',
];

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
