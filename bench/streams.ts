/**
 * `npm run bench:streams`: stream processing (lambda/streams/runtime) on DynamoDB Local. Input
 * events per second through ProcessorRuntime.processDelivery, and the write and read capacity units
 * and dollars per million input events its commits and reads cost, for a stateless filter/map, a
 * windowed count by key, and a windowed count that re-keys first (through a repartition topic).
 * Prints a table and writes bench/results/streams.{json,md}. Not part of `npm test`.
 *
 *   SLUICE_BENCH_STREAMS_EVENTS  input events per scenario and round (default 8000)
 *   SLUICE_BENCH_STREAMS_ROUNDS  rounds, pooled (default 3)
 *   SLUICE_CACHE_DIR             where DynamoDB Local is cached (default <repo>/.cache)
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { FetchedEvent, ProduceEvent } from '../api/events';
import { SUBSCRIPTION_LIMITS, type DeliveryBody } from '../api/subscriptions';
import { TOPIC_DEFAULTS } from '../api/topics';
import { DynamoDbLogStore } from '../lambda/core/log/dynamodb-log-store';
import { LogService } from '../lambda/core/log/log-service';
import { silentLogger } from '../lambda/core/logger';
import { DynamoDbTopicStore } from '../lambda/core/topics/dynamodb-topic-store';
import { newTopicId } from '../lambda/core/topics/topic-id';
import { streams, TimeWindows, type StreamsBuilder } from '../lambda/streams';
import { ProcessorRuntime } from '../lambda/streams/runtime/runtime';
import { ProcessorStateStore } from '../lambda/streams/runtime/state-store';
import { CachingTopicStore } from '../lambda/streams/runtime/topics';
import { DYNAMODB_LOCAL_PACKAGE, startDynamoDbLocal } from '../local/dynamodb-local';
import { provision } from '../local/provision';
import { startSqsServer } from '../local/sqs-server';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../local/support';
import { CapacityMeter, type MeterTotals } from './capacity';
import { PRICES, percentile } from './report';

const repoRoot = resolve(import.meta.dirname, '..');

const num = (name: string, fallback: number) => {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer; got "${raw}"`);
  return value;
};

const EVENTS = num('SLUICE_BENCH_STREAMS_EVENTS', 8000);
const ROUNDS = num('SLUICE_BENCH_STREAMS_ROUNDS', 3);
/** Input (and output) partitions; one worker per partition, as Lambda runs one message group at a time. */
const PARTITIONS = 4;
/** Events per delivery: what a push subscription puts in one (SUBSCRIPTION_LIMITS). */
const DELIVERY_EVENTS = SUBSCRIPTION_LIMITS.maxEventsPerDelivery;
/** The JSON text of each input value is about this long (like the main bench's "100 B json"). */
const VALUE_BYTES = 100;
const PAGES = 100;
const USERS = 1000;

interface Scenario {
  readonly name: string;
  readonly description: string;
  /** The topology, reading `input` and writing `output`. */
  build(app: StreamsBuilder, input: string, output: string): void;
  /** The input's key (it decides the partition). */
  key(i: number): string;
  /** Whether the topology re-keys (its repartition topic is processed as a second stage). */
  readonly repartitions: boolean;
}

interface Click {
  readonly seq: number;
  readonly page: string;
  readonly user: string;
  readonly amount: number;
  readonly pad: string;
}

const SCENARIOS: readonly Scenario[] = [
  {
    name: 'filter + mapValues',
    description: 'stream(in).filter(amount >= 50).mapValues(…).to(out): about half the events pass',
    build: (app, input, output) =>
      app
        .stream<Click>(input)
        .filter((c) => c.amount >= 50)
        .mapValues((c) => ({ seq: c.seq, page: c.page, amount: c.amount, tax: Math.round(c.amount * 20) / 100 }))
        .to(output),
    key: (i) => `user-${i % USERS}`,
    repartitions: false,
  },
  {
    name: 'windowed count by key',
    description: 'events keyed by page: groupByKey().windowedBy(1 min, grace 5 min).count().toStream().to(out), an update per event',
    build: (app, input, output) =>
      app
        .stream<Click>(input)
        .groupByKey()
        .windowedBy(TimeWindows.ofSize(60_000).grace(5 * 60_000))
        .count()
        .toStream()
        .to(output),
    key: (i) => `page-${i % PAGES}`,
    repartitions: false,
  },
  {
    name: 'windowed count, re-keyed',
    description:
      'events keyed by user: groupBy(page) (a repartition topic) then the same windowed count; both stages counted. The four upstream partitions interleave in the repartition topic, so a few events may fall past the grace period',
    build: (app, input, output) =>
      app
        .stream<Click>(input)
        .groupBy((c) => c.page)
        .windowedBy(TimeWindows.ofSize(60_000).grace(5 * 60_000))
        .count()
        .toStream()
        .to(output),
    key: (i) => `user-${i % USERS}`,
    repartitions: true,
  },
];

function clickEvent(scenario: Scenario, i: number, start: number): ProduceEvent {
  const base = { seq: i, page: `page-${i % PAGES}`, user: `user-${i % USERS}`, amount: (i * 37) % 100, pad: '' };
  const value: Click = { ...base, pad: 'x'.repeat(Math.max(0, VALUE_BYTES - Buffer.byteLength(JSON.stringify(base)))) };
  // 20 events per second of event time: 1,200 per one-minute window over all pages.
  return { key: scenario.key(i), value, timestamp: start + i * 50 };
}

interface Fixture {
  readonly topics: DynamoDbTopicStore;
  /** Unmetered: produces the inputs and reads the deliveries, which are not the processor's cost. */
  readonly log: LogService;
  /** The processor's client, metered. */
  readonly meteredDoc: DynamoDBDocumentClient;
  readonly meter: CapacityMeter;
  readonly tables: { readonly topics: string; readonly log: string; readonly dedupe: string; readonly processors: string };
}

async function createTopic(f: Fixture, name: string): Promise<void> {
  await f.topics.createTopic({
    name,
    topicId: newTopicId(),
    partitions: PARTITIONS,
    retentionMs: TOPIC_DEFAULTS.retentionMs,
    dedupeWindowMs: TOPIC_DEFAULTS.dedupeWindowMs,
    createdAt: new Date().toISOString(),
  });
}

/** Every event of a topic partition as deliveries of DELIVERY_EVENTS, as a push subscription cuts them. */
async function deliveries(f: Fixture, topic: string, partition: number): Promise<DeliveryBody[]> {
  const out: DeliveryBody[] = [];
  for (let offset = 0; ; ) {
    const page = await f.log.fetch(topic, partition, { offset, limit: 1000 });
    for (let i = 0; i < page.events.length; i += DELIVERY_EVENTS) {
      const events = page.events.slice(i, i + DELIVERY_EVENTS).map((e: FetchedEvent) => ({ ...e, subscription: 'bench' }));
      out.push({ v: 1, subscription: 'bench', topic, partition, events });
    }
    if (page.nextOffset >= page.highWatermark) return out;
    offset = page.nextOffset;
  }
}

interface Measurement {
  readonly scenario: string;
  readonly events: number;
  readonly outputs: number;
  readonly deliveries: number;
  readonly commits: number;
  readonly retries: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly units: MeterTotals;
}

/** One round of a scenario: produce, cut deliveries, then time the processor over them (stage by stage). */
async function runRound(f: Fixture, scenario: Scenario, events: number, label: string): Promise<Measurement> {
  const id = `bench-${label}-${scenario.name.replace(/[^a-z]+/g, '-')}`.replace(/-+$/, '');
  const [input, output] = [`${id}-in`, `${id}-out`];
  await createTopic(f, input);
  await createTopic(f, output);
  const start = Math.floor(Date.now() / 60_000) * 60_000 - 2 * 60 * 60_000;
  const all = Array.from({ length: events }, (_, i) => clickEvent(scenario, i, start));
  for (let i = 0; i < all.length; i += 500) await f.log.produce(input, all.slice(i, i + 500));

  const app = streams(id);
  scenario.build(app, input, output);
  const store = new DynamoDbTopicStore({ client: f.meteredDoc, topicsTable: f.tables.topics, logTable: f.tables.log });
  const topics = new CachingTopicStore(store);
  const runtime = new ProcessorRuntime({
    topology: app.build(),
    topics,
    log: new LogService({ topics: store, log: new DynamoDbLogStore({ client: f.meteredDoc, logTable: f.tables.log, dedupeTable: f.tables.dedupe }) }),
    state: new ProcessorStateStore(f.meteredDoc, f.tables.processors),
    logger: silentLogger,
  });
  await runtime.start(); // creates the repartition and dead-letter topics: set-up, not per-event cost

  const stages = [input, ...(scenario.repartitions ? [`${id}-repartition-0`] : [])];
  let seconds = 0;
  let deliveryCount = 0;
  let commits = 0;
  let retries = 0;
  const latenciesMs: number[] = [];
  f.meter.take();
  let units: MeterTotals | undefined;
  for (const topic of stages) {
    const work = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => deliveries(f, topic, p)));
    const metered = f.meter.take(); // the stage's deliveries were read unmetered; keep what came before
    units = units ? add(units, metered) : metered;
    const t0 = performance.now();
    await Promise.all(
      work.map(async (list) => {
        for (const delivery of list) {
          const t = performance.now();
          const outcome = await runtime.processDelivery(delivery);
          latenciesMs.push(performance.now() - t);
          commits += outcome.commits;
          retries += outcome.retries;
          deliveryCount++;
        }
      }),
    );
    seconds += (performance.now() - t0) / 1000;
  }
  units = add(units!, f.meter.take());
  let outputs = 0;
  for (let p = 0; p < PARTITIONS; p++) outputs += (await f.log.bounds(output, p)).highWatermark;
  return { scenario: scenario.name, events, outputs, deliveries: deliveryCount, commits, retries, seconds, latenciesMs, units };
}

function add(a: MeterTotals, b: MeterTotals): MeterTotals {
  const calls = { ...a.calls };
  for (const [op, n] of Object.entries(b.calls)) calls[op] = (calls[op] ?? 0) + n;
  return {
    computedWrite: a.computedWrite + b.computedWrite,
    computedRead: a.computedRead + b.computedRead,
    reportedWrite: a.reportedWrite + b.reportedWrite,
    reportedRead: a.reportedRead + b.reportedRead,
    reported: a.reported || b.reported,
    calls,
    unsized: a.unsized + b.unsized,
  };
}

interface Row {
  readonly scenario: string;
  readonly description: string;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly eventsPerSecondByRound: readonly number[];
  readonly outputsPerEvent: number;
  readonly eventsPerDelivery: number;
  readonly commitsPerDelivery: number;
  readonly retries: number;
  readonly deliveryLatencyMs: { readonly p50: number; readonly p99: number };
  readonly wcuPerEvent: number;
  readonly rcuPerEvent: number;
  readonly wcuPerEventLocal: number | null;
  readonly rcuPerEventLocal: number | null;
  readonly dollarsPerMillionEvents: number;
  readonly callsPerDelivery: Record<string, number>;
  readonly unsized: number;
}

function toRow(scenario: Scenario, runs: readonly Measurement[]): Row {
  const sum = (f: (m: Measurement) => number) => runs.reduce((n, m) => n + f(m), 0);
  const events = sum((m) => m.events);
  const seconds = sum((m) => m.seconds);
  const deliveries = sum((m) => m.deliveries);
  const units = runs.map((m) => m.units).reduce(add);
  const wcu = units.computedWrite / events;
  const rcu = units.computedRead / events;
  return {
    scenario: scenario.name,
    description: scenario.description,
    events,
    seconds,
    eventsPerSecond: events / seconds,
    eventsPerSecondByRound: runs.map((m) => m.events / m.seconds),
    outputsPerEvent: sum((m) => m.outputs) / events,
    eventsPerDelivery: (events * (scenario.repartitions ? 2 : 1)) / deliveries,
    commitsPerDelivery: sum((m) => m.commits) / deliveries,
    retries: sum((m) => m.retries),
    deliveryLatencyMs: { p50: percentile(runs.flatMap((m) => m.latenciesMs), 0.5), p99: percentile(runs.flatMap((m) => m.latenciesMs), 0.99) },
    wcuPerEvent: wcu,
    rcuPerEvent: rcu,
    wcuPerEventLocal: units.reported ? units.reportedWrite / events : null,
    rcuPerEventLocal: units.reported ? units.reportedRead / events : null,
    dollarsPerMillionEvents: wcu * PRICES.writeRequestUnit + rcu * PRICES.readRequestUnit,
    callsPerDelivery: Object.fromEntries(Object.entries(units.calls).map(([op, n]) => [op, Number((n / deliveries).toFixed(2))])),
    unsized: units.unsized,
  };
}

const f2 = (n: number, digits = 2) => n.toFixed(digits);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const HEADER = ['scenario', 'events/s', '± rounds', 'outputs/event', 'commits/delivery', 'WCU/event', 'RCU/event', '$/M events', 'p50 ms/delivery'];

function cells(r: Row): string[] {
  const spread = (Math.max(...r.eventsPerSecondByRound) - Math.min(...r.eventsPerSecondByRound)) / 2 / r.eventsPerSecond;
  return [
    r.scenario,
    f2(r.eventsPerSecond, 0),
    `${(spread * 100).toFixed(0)}%`,
    f2(r.outputsPerEvent),
    f2(r.commitsPerDelivery),
    f2(r.wcuPerEvent, 3),
    f2(r.rcuPerEvent, 3),
    f2(r.dollarsPerMillionEvents, 3),
    f2(r.deliveryLatencyMs.p50, 0),
  ];
}

const METHOD = [
  `One process, one DynamoDB Local (in memory) on this machine. Per scenario and round: ${EVENTS} input events (JSON values of about ${VALUE_BYTES} bytes, event time 20 per second) are produced to a topic of ${PARTITIONS} partitions, then cut into deliveries of ${DELIVERY_EVENTS} events per partition as a push subscription cuts them, and ProcessorRuntime.processDelivery is timed over them: ${PARTITIONS} workers side by side, one per partition, each delivery after the one before (as Lambda runs one message group at a time). A re-keying scenario then does the same for its repartition topic; both stages' time and units count against its input events.`,
  'Not measured: producing the inputs and reading the deliveries from the log (that is the push subscription\'s cost: `npm run bench:push`), Lambda and SQS (one invocation and a few SQS requests per delivery of up to 100 events: about $0.002 and $0.015 per million events), and the one-time creation of internal topics.',
  'WCU/RCU: AWS\'s documented rules applied to the items on the wire (bench/capacity.ts): per item ceil(bytes / 1 KB) write units, twice that inside TransactWriteItems (every commit is one); strongly consistent reads 1 RCU per 4 KB (the meta and position BatchGetItem, state GetItems, the source topic\'s config per delivery). What a processor writes per commit: the meta and position items, a put per state entry changed, and per output partition a head and a record batch.',
  `$ per million input events = WCU/event × $${PRICES.writeRequestUnit} + RCU/event × $${PRICES.readRequestUnit} (DynamoDB on-demand list prices per million request units, us-east-1), × 1,000,000. Storage and Lambda compute are not included.`,
  `Rounds: ${ROUNDS}, each on fresh topics and a fresh processor; "± rounds" is half the range of the per-round rates as a share of the pooled rate. A warm-up round per scenario (${Math.min(EVENTS, 2000)} events) runs first and is not counted.`,
];

async function main(): Promise<void> {
  const startedAt = new Date();
  const cacheDir = process.env.SLUICE_CACHE_DIR ?? resolve(repoRoot, '.cache');
  const stops: (() => Promise<void> | void)[] = [];
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) await Promise.resolve(stop()).catch(() => {});
  };
  try {
    const log = (line: string) => process.stdout.write(`${line}\n`);
    log('Starting DynamoDB Local...');
    const ddb = await startDynamoDbLocal({ cacheDir, logger: silentLogger });
    stops.push(() => ddb.stop());
    const sqs = await startSqsServer();
    stops.push(() => sqs.stop());
    const config = { endpoint: ddb.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const admin = new DynamoDBClient(config);
    const sqsClient = new SQSClient({ endpoint: sqs.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const { tables } = await provision({ dynamodb: admin, sqs: sqsClient }, 'bench-streams');
    admin.destroy();
    sqsClient.destroy();
    const plain = DynamoDBDocumentClient.from(new DynamoDBClient(config), { marshallOptions: { removeUndefinedValues: true } });
    const meteredClient = new DynamoDBClient(config);
    const meter = new CapacityMeter();
    meter.attach(meteredClient, 'document');
    const meteredDoc = DynamoDBDocumentClient.from(meteredClient, { marshallOptions: { removeUndefinedValues: true } });
    stops.push(() => {
      plain.destroy();
      meteredDoc.destroy();
    });
    const topics = new DynamoDbTopicStore({ client: plain, topicsTable: tables.topics, logTable: tables.log });
    const f: Fixture = {
      topics,
      log: new LogService({ topics, log: new DynamoDbLogStore({ client: plain, logTable: tables.log, dedupeTable: tables.dedupe }) }),
      meteredDoc,
      meter,
      tables,
    };

    log('Warming up...');
    for (const scenario of SCENARIOS) await runRound(f, scenario, Math.min(EVENTS, 2000), 'warmup');
    const runs = new Map<Scenario, Measurement[]>(SCENARIOS.map((s) => [s, []]));
    for (let round = 1; round <= ROUNDS; round++) {
      log(`Round ${round} of ${ROUNDS}`);
      for (const scenario of SCENARIOS) {
        const m = await runRound(f, scenario, EVENTS, `r${round}`);
        runs.get(scenario)!.push(m);
        log(`  ${scenario.name}: ${(m.events / m.seconds).toFixed(0)} input events/s, ${(m.units.computedWrite / m.events).toFixed(3)} WCU/event`);
      }
    }
    const rows = SCENARIOS.map((s) => toRow(s, runs.get(s)!));
    const text = table(HEADER, rows.map(cells));
    log('');
    log(text);
    for (const r of rows) if (r.unsized > 0) log(`* ${r.scenario}: ${r.unsized} writes the documented rules could not size (computed units too low)`);

    const durationSeconds = (Date.now() - startedAt.getTime()) / 1000;
    const machine = {
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      loadAverage: loadavg()[0],
      dynamodb: `DynamoDB Local from ${DYNAMODB_LOCAL_PACKAGE} (in memory)`,
    };
    const settings = { eventsPerScenarioAndRound: EVENTS, rounds: ROUNDS, partitions: PARTITIONS, eventsPerDelivery: DELIVERY_EVENTS, valueBytes: VALUE_BYTES };
    const dir = resolve(repoRoot, 'bench/results');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'streams.json'), `${JSON.stringify({ timestamp: startedAt.toISOString(), durationSeconds, machine, settings, prices: PRICES, method: METHOD, rows }, null, 2)}\n`);
    const md = [
      '# Sluice benchmark: stream processing',
      '',
      `Run ${startedAt.toISOString()} (${durationSeconds.toFixed(0)} s) on ${machine.cpuModel} × ${machine.cpus}, Node ${machine.node}, ${machine.dynamodb}.`,
      '',
      `| ${HEADER.join(' | ')} |`,
      `| ${HEADER.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
      ...rows.map((r) => `| ${cells(r).join(' | ')} |`),
      '',
      ...rows.map((r) => `- **${r.scenario}**: ${r.description}. DynamoDB calls per delivery: ${Object.entries(r.callsPerDelivery).map(([op, n]) => `${op} ${n}`).join(', ')}; ${r.retries} retries after a lost race.`),
      '',
      '## How to read it',
      '',
      ...METHOD.map((m) => `- ${m}`),
      '',
    ].join('\n');
    await writeFile(join(dir, 'streams.md'), md);
    log(`\nWrote bench/results/streams.json and bench/results/streams.md (${durationSeconds.toFixed(0)} s).`);
  } finally {
    await stopAll();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
