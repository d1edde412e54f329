/**
 * `npx tsx bench/capacity-model.ts`: the capacity model of docs/cost.md, computed from the units
 * per event `npm run bench` measured (bench/results/results.json) and the push bench
 * (bench/results/push.json), for 100,000 events/s of 1 KB JSON on 64 partitions, 3 consumer
 * groups and 2 push subscribers. Prints markdown and writes bench/results/capacity.md.
 *
 * Quotas and prices are AWS's published defaults and list prices (us-east-1) as written below;
 * check them for your region and account.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Row } from './report';

const LOAD = { eventsPerSecond: 100_000, eventBytes: 1024, partitions: 64, groups: 3, pushSubscribers: 2, retentionDays: 7 } as const;
const SECONDS_PER_MONTH = 730 * 3600;

/** Published defaults (soft quotas can be raised on request). */
const LIMITS = {
  dynamodbWcuPerKey: 1000,
  dynamodbRcuPerKey: 3000,
  lambdaConcurrency: 1000,
  httpApiRequestsPerSecond: 10_000,
  streamReadersPerShard: 2,
  /** SQS FIFO high-throughput mode, us-east-1: transactions per second per API action (batched: ×10 messages). */
  sqsFifoHighThroughputTps: 70_000,
  sqsFifoPerMessageGroup: 300,
} as const;

const LIST = {
  dynamodbStorageGbMonth: 0.25,
  kinesisOnDemandStreamHour: 0.04,
  kinesisOnDemandWriteGb: 0.08,
  kinesisOnDemandReadGb: 0.04,
  kinesisExtendedRetentionGbMonth: 0.1,
  mskServerlessClusterHour: 0.75,
  mskServerlessPartitionHour: 0.0015,
  mskServerlessInGb: 0.1,
  mskServerlessOutGb: 0.05,
  mskServerlessStorageGbMonth: 0.1,
  mskServerlessMaxInMiBs: 200,
  mskServerlessMaxOutMiBs: 400,
  eventBridgePerMillion: 1.0,
  eventBridgePutEventsTps: 10_000,
} as const;

interface Results {
  readonly timestamp: string;
  readonly rows: readonly Row[];
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const usd = (n: number) => `$${fmt(n, 0)}`;

export function capacityModel(results: Results, pushPerMillion: number): string {
  const json = results.rows.filter((r) => r.payload === '1 KB json');
  const produce = (pick: (r: Row) => boolean) => json.find((r) => r.kind === 'produce' && r.scenario === 'produce' && r.dedupe === 'off' && pick(r))!;
  const batched = produce((r) => typeof r.eventsPerRequest === 'number' && r.eventsPerRequest >= 100);
  const single = produce((r) => r.eventsPerRequest === 1);
  const fetch = json.filter((r) => r.kind === 'fetch').reduce((a, b) => (a.rcuPerEventComputed >= b.rcuPerEventComputed ? a : b));
  const E = LOAD.eventsPerSecond;
  const perKey = E / LOAD.partitions;
  const eventsPerMonth = E * SECONDS_PER_MONTH;
  const millions = eventsPerMonth / 1e6;
  const gbPerMonth = (eventsPerMonth * LOAD.eventBytes) / 2 ** 30;
  const mibPerSecond = (E * LOAD.eventBytes) / 2 ** 20;
  const fetchEventsPerRequest = Number.parseInt(String(fetch.eventsPerRequest), 10);

  const scenario = (row: Row) => {
    const wcuPerKey = perKey * row.wcuPerEventComputed;
    const rcuPerKey = perKey * (row.rcuPerEventComputed + LOAD.groups * fetch.rcuPerEventComputed);
    const requests = E / Number(row.eventsPerRequest) + (LOAD.groups * E) / fetchEventsPerRequest;
    const concurrency = (E / Number(row.eventsPerRequest)) * (row.latencyMs.p50 / 1000) + ((LOAD.groups * E) / fetchEventsPerRequest) * (fetch.latencyMs.p50 / 1000);
    const minPartitions = Math.ceil((E * row.wcuPerEventComputed) / LIMITS.dynamodbWcuPerKey);
    const shards = Math.ceil((E * row.wcuPerEventComputed) / LIMITS.dynamodbWcuPerKey);
    return { row, wcuPerKey, rcuPerKey, requests, concurrency, minPartitions, shards };
  };
  const a = scenario(batched);
  const b = scenario(single);

  const storageGb = (E * LOAD.eventBytes * LOAD.retentionDays * 86_400) / 1e9;
  const sluice = {
    produce: batched.costPerMillionEvents.total * millions,
    fetch: fetch.costPerMillionEvents.total * millions * LOAD.groups,
    push: pushPerMillion * millions * LOAD.pushSubscribers,
    storage: storageGb * LIST.dynamodbStorageGbMonth,
  };
  const sluiceTotal = sluice.produce + sluice.fetch + sluice.push + sluice.storage;
  const readers = LOAD.groups + LOAD.pushSubscribers;
  const kinesis =
    LIST.kinesisOnDemandStreamHour * 730 +
    gbPerMonth * LIST.kinesisOnDemandWriteGb +
    gbPerMonth * readers * LIST.kinesisOnDemandReadGb +
    storageGb * (LOAD.retentionDays > 1 ? LIST.kinesisExtendedRetentionGbMonth : 0);
  const msk =
    LIST.mskServerlessClusterHour * 730 +
    LIST.mskServerlessPartitionHour * LOAD.partitions * 730 +
    gbPerMonth * LIST.mskServerlessInGb +
    gbPerMonth * readers * LIST.mskServerlessOutGb +
    storageGb * LIST.mskServerlessStorageGbMonth;
  const eventBridge = millions * LIST.eventBridgePerMillion;

  const limitRows = [
    ['DynamoDB write units per partition key', `${fmt(a.wcuPerKey)} WCU/s (${fmt(batched.wcuPerEventComputed, 3)}/event × ${fmt(perKey, 1)} events/s)`, `${fmt(b.wcuPerKey)} WCU/s (${fmt(single.wcuPerEventComputed, 3)}/event)`, `${LIMITS.dynamodbWcuPerKey} WCU/s per key (adaptive capacity does not split one key's head item or its append point)`],
    ['partitions needed', `${a.minPartitions}`, `${b.minPartitions}`, `${LOAD.partitions} planned`],
    ['DynamoDB read units per partition key', `${fmt(a.rcuPerKey)} RCU/s (produce + ${LOAD.groups} groups × ${fmt(fetch.rcuPerEventComputed, 3)}/event)`, `${fmt(b.rcuPerKey)} RCU/s`, `${LIMITS.dynamodbRcuPerKey} RCU/s per key`],
    ['API Gateway requests', `${fmt(a.requests)}/s (produce ÷ ${String(batched.eventsPerRequest)}, fetch ÷ ${fetchEventsPerRequest})`, `${fmt(b.requests)}/s`, `${fmt(LIMITS.httpApiRequestsPerSecond)}/s per account and region (HTTP API)`],
    ['Lambda concurrency (rate × p50 duration)', `${fmt(a.concurrency)}`, `${fmt(b.concurrency)}`, `${fmt(LIMITS.lambdaConcurrency)} per account and region`],
    ['DynamoDB stream shards (≈ table partitions ≥ WCU/s ÷ 1,000)', `≥ ${a.shards}`, `≥ ${b.shards}`, `${LIMITS.streamReadersPerShard} readers per shard: Sluice uses 1 (the dispatcher) for every subscription`],
    ['SQS FIFO wake-ups', `≤ ${fmt((E / Number(batched.eventsPerRequest)) * LOAD.pushSubscribers)}/s (one per record batch and subscription)`, `${fmt(E * LOAD.pushSubscribers)}/s`, `${fmt(LIMITS.sqsFifoHighThroughputTps)} TPS per action in high-throughput mode; ${LIMITS.sqsFifoPerMessageGroup}/s per message group (subscription × partition)`],
  ];

  // Where single-event produce stops, each limit as the total events/s it allows; the lowest first.
  const first = [
    { at: (LIMITS.dynamodbWcuPerKey / single.wcuPerEventComputed) * LOAD.partitions, what: `DynamoDB's ${LIMITS.dynamodbWcuPerKey} WCU/s per partition key` },
    { at: LIMITS.httpApiRequestsPerSecond / (1 + LOAD.groups / fetchEventsPerRequest), what: `API Gateway's ${fmt(LIMITS.httpApiRequestsPerSecond)} requests/s` },
    { at: (E * LIMITS.lambdaConcurrency) / b.concurrency, what: `Lambda's ${fmt(LIMITS.lambdaConcurrency)} concurrent executions` },
  ]
    .sort((x, y) => x.at - y.at)
    .map((l) => `${l.what} at ${fmt(l.at)} events/s`);

  return [
    `Computed by \`npx tsx bench/capacity-model.ts\` from the bench run of ${results.timestamp} (1 KB JSON rows) and the push bench.`,
    '',
    `Load: ${fmt(E)} events/s of ${LOAD.eventBytes} B (${fmt(mibPerSecond, 1)} MiB/s in, ${fmt(mibPerSecond * readers, 0)} MiB/s out to ${readers} readers), ${LOAD.partitions} partitions (${fmt(perKey, 1)} events/s each), ${LOAD.groups} consumer groups, ${LOAD.pushSubscribers} push subscribers, ${LOAD.retentionDays}-day retention; ${fmt(millions)} M events a month.`,
    '',
    `| | batched produce (${String(batched.eventsPerRequest)} events/request) | single-event produce | limit |`,
    '| :--- | ---: | ---: | :--- |',
    ...limitRows.map((r) => `| ${r.join(' | ')} |`),
    '',
    `**First limit hit.** With batched producers, nothing on this list: the tightest is DynamoDB's per-key write rate at ${fmt((100 * a.wcuPerKey) / LIMITS.dynamodbWcuPerKey)}% of ${LIMITS.dynamodbWcuPerKey} WCU/s; ` +
      `the same load fits down to ${a.minPartitions} partitions. ` +
      `With one event per request, the first limit is ${first[0]}; then ${first.slice(1).join(', then ')}.`,
    '',
    '**$/month at list prices** (730 h):',
    '',
    '| | $/month | how |',
    '| :--- | ---: | :--- |',
    `| Sluice: produce (batched) | ${usd(sluice.produce)} | ${fmt(batched.costPerMillionEvents.total, 3)} $/M all-in × ${fmt(millions)} M |`,
    `| Sluice: ${LOAD.groups} consumer groups fetching | ${usd(sluice.fetch)} | ${fmt(fetch.costPerMillionEvents.total, 3)} $/M all-in per group |`,
    `| Sluice: ${LOAD.pushSubscribers} push subscribers | ${usd(sluice.push)} | ${fmt(pushPerMillion, 3)} $/M per subscriber (push bench, small batches: an upper bound) |`,
    `| Sluice: DynamoDB storage, ${LOAD.retentionDays} days | ${usd(sluice.storage)} | ${fmt(storageGb)} GB × $${LIST.dynamodbStorageGbMonth}/GB-month |`,
    `| **Sluice total** | **${usd(sluiceTotal)}** | |`,
    `| Kinesis Data Streams on-demand | ${usd(kinesis)} | $${LIST.kinesisOnDemandStreamHour}/stream-h, $${LIST.kinesisOnDemandWriteGb}/GB in, $${LIST.kinesisOnDemandReadGb}/GB out × ${readers} readers, $${LIST.kinesisExtendedRetentionGbMonth}/GB-month past 24 h |`,
    `| MSK Serverless | ${usd(msk)} | $${LIST.mskServerlessClusterHour}/cluster-h, $${LIST.mskServerlessPartitionHour}/partition-h, $${LIST.mskServerlessInGb}/GB in, $${LIST.mskServerlessOutGb}/GB out × ${readers}, $${LIST.mskServerlessStorageGbMonth}/GB-month; ${fmt(mibPerSecond * readers, 0)} MiB/s out exceeds one cluster's ${LIST.mskServerlessMaxOutMiBs} MiB/s: two clusters, or fewer readers |`,
    `| EventBridge | ${usd(eventBridge)} | $${LIST.eventBridgePerMillion}/M events put (rules' deliveries to AWS targets free); PutEvents ${fmt(LIST.eventBridgePutEventsTps)}/s default quota (10 entries per call); no consumer groups or replay by offset |`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const dir = resolve(import.meta.dirname, 'results');
  const results = JSON.parse(await readFile(resolve(dir, 'results.json'), 'utf8')) as Results;
  const push = JSON.parse(await readFile(resolve(dir, 'push.json'), 'utf8')) as { cost: { dollarsPerMillionEventsDelivered: number } };
  const text = capacityModel(results, push.cost.dollarsPerMillionEventsDelivered);
  await writeFile(resolve(dir, 'capacity.md'), `# Capacity model\n\n${text}`);
  process.stdout.write(text);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
