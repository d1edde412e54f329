/**
 * Turns measurements into rows (rates, ratios, units and dollars per event) and writes them out:
 * an aligned text table on stdout, results.json and results.md under bench/results/.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { MeterTotals } from './capacity';

/** On-demand list prices (us-east-1; most regions are within a few percent). */
export const PRICES = {
  /** $ per million write request units (a transactional 1 KB write takes 2). */
  writeRequestUnit: 0.625,
  /** $ per million read request units (a strongly consistent 4 KB read takes 1). */
  readRequestUnit: 0.125,
  /** $ per million HTTP API requests (first 300 M a month), metered in 512 KB increments. */
  httpApiRequest: 1.0,
  httpApiMeteringBytes: 512 * 1024,
} as const;

/** Lambda as the stack deploys it (lib/sluice-functions.ts: 256 MB, arm64), list prices. */
export const LAMBDA = {
  memoryGb: 0.25,
  /** $ per GB-second, arm64 (first pricing tier). */
  perGbSecond: 0.0000133334,
  /** $ per million requests. */
  perMillionRequests: 0.2,
} as const;

export type RowKind = 'produce' | 'fetch' | 'raw-write' | 'raw-read';

/** What a run of one cell measured. */
export interface Measurement {
  readonly kind: RowKind;
  readonly scenario: string;
  readonly eventsPerRequest: number | string;
  readonly payload: string;
  readonly payloadBytes: number;
  readonly dedupe: 'on' | 'off' | '-';
  readonly events: number;
  readonly requests: number;
  readonly seconds: number;
  readonly latenciesMs: readonly number[];
  readonly units: MeterTotals;
  /** Write units LogService.produce returned (DynamoDB Local's report), for produce rows. */
  readonly serviceReportedWrite?: number;
  /** HTTP API requests as metered (512 KB increments), for rows that go through the API. */
  readonly meteredApiRequests?: number;
  /** Node's own CPU time during the cell, as a share of one core. */
  readonly nodeCpuShare: number;
  readonly notes?: readonly string[];
  /** events/s of each repetition pooled into this one (see pool()). */
  readonly roundRates?: readonly number[];
}

/** Pools repetitions of one cell: totals add up, the rate is total events over total time. */
export function pool(runs: readonly Measurement[]): Measurement {
  const [first] = runs;
  if (!first) throw new Error('nothing to pool');
  const sum = (f: (m: Measurement) => number) => runs.reduce((n, m) => n + f(m), 0);
  const optionalSum = (f: (m: Measurement) => number | undefined) => (runs.every((m) => f(m) === undefined) ? undefined : sum((m) => f(m) ?? 0));
  const calls: Record<string, number> = {};
  for (const m of runs) for (const [op, n] of Object.entries(m.units.calls)) calls[op] = (calls[op] ?? 0) + n;
  const seconds = sum((m) => m.seconds);
  const serviceReportedWrite = optionalSum((m) => m.serviceReportedWrite);
  const meteredApiRequests = optionalSum((m) => m.meteredApiRequests);
  return {
    ...first,
    events: sum((m) => m.events),
    requests: sum((m) => m.requests),
    seconds,
    latenciesMs: runs.flatMap((m) => m.latenciesMs),
    nodeCpuShare: sum((m) => m.nodeCpuShare * m.seconds) / seconds,
    units: {
      computedWrite: sum((m) => m.units.computedWrite),
      computedRead: sum((m) => m.units.computedRead),
      reportedWrite: sum((m) => m.units.reportedWrite),
      reportedRead: sum((m) => m.units.reportedRead),
      reported: runs.some((m) => m.units.reported),
      calls,
      unsized: sum((m) => m.units.unsized),
    },
    ...(serviceReportedWrite === undefined ? {} : { serviceReportedWrite }),
    ...(meteredApiRequests === undefined ? {} : { meteredApiRequests }),
    notes: [...new Set(runs.flatMap((m) => m.notes ?? []))],
    roundRates: runs.map((m) => m.events / m.seconds),
  };
}

export interface Row
  extends Pick<
    Measurement,
    'kind' | 'scenario' | 'eventsPerRequest' | 'payload' | 'payloadBytes' | 'dedupe' | 'events' | 'requests' | 'seconds'
  > {
  readonly eventsPerSecond: number;
  /** events/s of each repetition, and half their range as a share of eventsPerSecond. */
  readonly eventsPerSecondByRound: readonly number[];
  readonly spread: number;
  /** events/s ÷ the raw baseline's events/s for the same payload (writes vs writes, reads vs reads). */
  readonly ratioToRaw: number | null;
  readonly latencyMs: { readonly p50: number; readonly p99: number };
  readonly wcuPerEventComputed: number;
  readonly wcuPerEventReported: number | null;
  readonly rcuPerEventComputed: number;
  readonly rcuPerEventReported: number | null;
  readonly apiRequestsPerEvent: number;
  /** All-in for Sluice rows: DynamoDB, API Gateway, and Lambda (requests + GB-seconds of each request's wall time). */
  readonly costPerMillionEvents: { readonly dynamodb: number; readonly apiGateway: number; readonly lambda: number; readonly total: number };
  readonly dynamodbCallsPerRequest: Record<string, number>;
  readonly nodeCpuShare: number;
  readonly notes: readonly string[];
}

export function toRow(m: Measurement, rawEventsPerSecond: number | undefined): Row {
  const perEvent = (n: number) => n / m.events;
  const eventsPerSecond = m.events / m.seconds;
  const wcu = perEvent(m.units.computedWrite);
  const rcu = perEvent(m.units.computedRead);
  const reportedWrite = m.serviceReportedWrite ?? (m.units.reported ? m.units.reportedWrite : undefined);
  const api = perEvent(m.meteredApiRequests ?? 0);
  const dynamodb = wcu * PRICES.writeRequestUnit + rcu * PRICES.readRequestUnit;
  const apiGateway = api * PRICES.httpApiRequest;
  // Lambda: one invocation per API request, billed for its duration (the handler's wall time here).
  const sluiceRow = m.kind === 'produce' || m.kind === 'fetch';
  const lambdaSeconds = m.latenciesMs.reduce((n, ms) => n + Math.ceil(ms), 0) / 1000;
  const lambda = sluiceRow
    ? perEvent(m.requests) * LAMBDA.perMillionRequests + (perEvent(lambdaSeconds) * LAMBDA.memoryGb * LAMBDA.perGbSecond) * 1e6
    : 0;
  const notes = [...(m.notes ?? [])];
  if (m.units.unsized > 0) notes.push(`${m.units.unsized} writes the documented rules cannot size from the call (update/delete): computed units are too low`);
  if (m.serviceReportedWrite !== undefined && m.units.reported && m.serviceReportedWrite !== m.units.reportedWrite) {
    notes.push(`LogService reported ${m.serviceReportedWrite} WCU, the wire ${m.units.reportedWrite}`);
  }
  return {
    kind: m.kind,
    scenario: m.scenario,
    eventsPerRequest: m.eventsPerRequest,
    payload: m.payload,
    payloadBytes: m.payloadBytes,
    dedupe: m.dedupe,
    events: m.events,
    requests: m.requests,
    seconds: m.seconds,
    eventsPerSecond,
    eventsPerSecondByRound: m.roundRates ?? [eventsPerSecond],
    spread: m.roundRates ? (Math.max(...m.roundRates) - Math.min(...m.roundRates)) / 2 / eventsPerSecond : 0,
    ratioToRaw: rawEventsPerSecond ? eventsPerSecond / rawEventsPerSecond : null,
    latencyMs: { p50: percentile(m.latenciesMs, 0.5), p99: percentile(m.latenciesMs, 0.99) },
    wcuPerEventComputed: wcu,
    wcuPerEventReported: reportedWrite === undefined ? null : perEvent(reportedWrite),
    rcuPerEventComputed: rcu,
    rcuPerEventReported: m.units.reported ? perEvent(m.units.reportedRead) : null,
    apiRequestsPerEvent: api,
    costPerMillionEvents: { dynamodb, apiGateway, lambda, total: dynamodb + apiGateway + lambda },
    dynamodbCallsPerRequest: Object.fromEntries(
      Object.entries(m.units.calls).map(([op, n]) => [op, round(n / m.requests, 2)]),
    ),
    nodeCpuShare: m.nodeCpuShare,
    notes,
  };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));

// ---- rendering -------------------------------------------------------------------------------

const COLUMNS: { header: string; align: 'l' | 'r'; cell: (r: Row) => string }[] = [
  { header: 'scenario', align: 'l', cell: (r) => r.scenario },
  { header: 'events/req', align: 'r', cell: (r) => String(r.eventsPerRequest) },
  { header: 'event size', align: 'l', cell: (r) => r.payload },
  { header: 'dedupe', align: 'l', cell: (r) => r.dedupe },
  { header: 'events/s', align: 'r', cell: (r) => fmt(r.eventsPerSecond, 0) },
  { header: '± rounds', align: 'r', cell: (r) => `±${fmt(100 * r.spread, 0)}%` },
  { header: '× raw', align: 'r', cell: (r) => (r.ratioToRaw === null ? '-' : fmt(r.ratioToRaw, 2)) },
  { header: 'WCU/ev (computed)', align: 'r', cell: (r) => fmt(r.wcuPerEventComputed, 3) },
  { header: 'WCU/ev (Local)', align: 'r', cell: (r) => (r.wcuPerEventReported === null ? '-' : fmt(r.wcuPerEventReported, 3)) },
  { header: 'RCU/ev (computed)', align: 'r', cell: (r) => fmt(r.rcuPerEventComputed, 3) },
  { header: 'RCU/ev (Local)', align: 'r', cell: (r) => (r.rcuPerEventReported === null ? '-' : fmt(r.rcuPerEventReported, 3)) },
  { header: 'p50 ms', align: 'r', cell: (r) => fmt(r.latencyMs.p50, 1) },
  { header: 'p99 ms', align: 'r', cell: (r) => fmt(r.latencyMs.p99, 1) },
  { header: '$/M DynamoDB', align: 'r', cell: (r) => fmt(r.costPerMillionEvents.dynamodb, 3) },
  { header: '$/M API+Lambda', align: 'r', cell: (r) => fmt(r.costPerMillionEvents.apiGateway + r.costPerMillionEvents.lambda, 3) },
  { header: '$/M all-in', align: 'r', cell: (r) => fmt(r.costPerMillionEvents.total, 3) },
];

function fmt(n: number, digits: number): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function textTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => COLUMNS.map((c) => c.cell(r)));
  const widths = COLUMNS.map((c, i) => Math.max(c.header.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    values.map((v, i) => (COLUMNS[i]!.align === 'r' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!))).join('  ');
  const out = [line(COLUMNS.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  ')];
  let lastKind: RowKind | undefined;
  rows.forEach((r, i) => {
    if (lastKind !== undefined && r.kind !== lastKind) out.push('');
    lastKind = r.kind;
    out.push(line(cells[i]!));
  });
  return out.join('\n');
}

export function markdownTable(rows: readonly Row[]): string {
  const header = `| ${COLUMNS.map((c) => c.header).join(' | ')} |`;
  const rule = `| ${COLUMNS.map((c) => (c.align === 'r' ? '---:' : ':---')).join(' | ')} |`;
  return [header, rule, ...rows.map((r) => `| ${COLUMNS.map((c) => c.cell(r)).join(' | ')} |`)].join('\n');
}

export interface Report {
  readonly timestamp: string;
  readonly durationSeconds: number;
  readonly machine: Record<string, unknown>;
  readonly settings: Record<string, unknown>;
  readonly prices: typeof PRICES;
  readonly method: readonly string[];
  readonly rows: readonly Row[];
  readonly rawBaselineRuns: readonly Row[];
  /** TransactWriteItems of known items: units by the documented rule and as DynamoDB Local reported them. */
  readonly localTransactProbe: readonly { items: string; documentedWcu: number; localWcu: number }[];
  readonly observations: readonly string[];
  /** The targets, measured in this run. */
  readonly targets: readonly Target[];
  /** What an idle consumer-group member costs (bench/idle-member.ts). */
  readonly idleMember: readonly unknown[];
}

export interface Target {
  readonly name: string;
  readonly unit: string;
  /** The bound, and whether it is a ceiling ('max') or a floor ('min'). */
  readonly target: number;
  readonly bound: 'max' | 'min';
  readonly measured: number;
  /** Today's figure (before issue 12), for comparison, where the issue states it. */
  readonly before: number | null;
  readonly met: boolean;
}

export function target(name: string, unit: string, bound: 'max' | 'min', targetValue: number, measured: number, before: number | null): Target {
  return { name, unit, target: targetValue, bound, measured: round(measured, 4), before, met: bound === 'max' ? measured <= targetValue : measured >= targetValue };
}

export function targetsTable(targets: readonly Target[]): string {
  return [
    '| target | unit | before | target | measured | met |',
    '| :--- | :--- | ---: | ---: | ---: | :--- |',
    ...targets.map((t) => `| ${t.name} | ${t.unit} | ${t.before ?? '-'} | ${t.bound === 'max' ? '≤' : '≥'} ${t.target} | ${t.measured} | ${t.met ? 'yes' : 'no'} |`),
  ].join('\n');
}

export function markdownReport(report: Report): string {
  const notes = report.rows.filter((r) => r.notes.length > 0).map((r) => `- ${r.scenario} ${r.eventsPerRequest} ${r.payload} dedupe ${r.dedupe}: ${r.notes.join('; ')}`);
  return [
    '# Sluice benchmark',
    '',
    `Run ${report.timestamp} (${report.durationSeconds.toFixed(0)} s) on ${String(report.machine.cpuModel)} ` +
      `× ${String(report.machine.cpus)}, Node ${String(report.machine.node)}, ${String(report.machine.dynamodb)}.`,
    '',
    '## Targets (issue 12)',
    '',
    targetsTable(report.targets),
    '',
    markdownTable(report.rows),
    '',
    '## How to read it',
    '',
    ...report.method.map((m) => `- ${m}`),
    '',
    ...(report.observations.length > 0 ? ['## Observations', '', ...report.observations.map((o) => `- ${o}`), ''] : []),
    ...(notes.length > 0 ? ['## Row notes', '', ...notes, ''] : []),
    '## Settings',
    '',
    '```json',
    JSON.stringify(report.settings, null, 2),
    '```',
    '',
  ].join('\n');
}

export async function writeReport(dir: string, report: Report): Promise<{ json: string; md: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'results.json');
  const md = join(dir, 'results.md');
  await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(md, markdownReport(report));
  return { json, md };
}
