/**
 * Sluice cells: produce through the produce handler (each round appends to the cell's own topic),
 * then fetch it back through the fetch handler.
 */
import { randomUUID } from 'node:crypto';
import { QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { logPartitionKey } from '../lambda/core/log/dynamodb-log-store';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { FetchResponse, ProduceEvent, ProduceResponse } from '../api/events';
import { createTopic, failed, metered, timeWorkers, type Bench } from './harness';
import type { Measurement } from './report';
import { CONCURRENCY, FETCH_LIMIT, fetchEvent, lambdaContext, produceEvent, type ProduceCell } from './scenarios';

/**
 * Request bodies for one worker: explicit partitions; client message IDs when the topic dedupes,
 * else (one partition per request) the stamp of an idempotent producer, as the client's Producer
 * sends by default, whose sequence continues from `sent` events of earlier rounds.
 */
export function buildRequests(
  topic: string,
  cell: ProduceCell,
  batch: number,
  worker: number,
  requests: number,
  seq: { n: number },
  sent?: number,
) {
  const out: APIGatewayProxyEventV2[] = [];
  const stamped = sent !== undefined && !cell.dedupe && cell.partitionsPerWorker === 1;
  for (let r = 0; r < requests; r++) {
    const events: ProduceEvent[] = Array.from({ length: batch }, (_, j) => ({
      ...cell.payload.event(seq.n++),
      partition: worker * cell.partitionsPerWorker + (j % cell.partitionsPerWorker),
      ...(cell.dedupe ? { messageId: randomUUID() } : {}),
    }));
    const producer = stamped ? { id: `bench-${topic}-${worker}`, epoch: 1, sequence: sent + r * batch } : undefined;
    out.push(produceEvent(topic, events, producer));
  }
  return out;
}

/** A produce cell's topic, its batch, and how many events each of its partitions holds so far. */
export interface CellTopic {
  readonly cell: ProduceCell;
  readonly topic: string;
  readonly batch: number;
  readonly note?: string;
  readonly requestsPerRound: number;
  /** Events in partition p (by index within a worker's partitions), after `rounds` rounds. */
  rounds: number;
}

export const eventsInPartition = (t: CellTopic, index: number, rounds = t.rounds) =>
  rounds * t.requestsPerRound * (Math.floor(t.batch / t.cell.partitionsPerWorker) + (index < t.batch % t.cell.partitionsPerWorker ? 1 : 0));

/** Creates the cell's topic; for the largest batches, first finds the largest that one request holds. */
export async function createCellTopic(bench: Bench, cell: ProduceCell, index: number): Promise<CellTopic> {
  let batch = cell.batch;
  let note: string | undefined;
  if (cell.batch >= 98) {
    const probe = `bench-probe-${index}`;
    await createTopic(bench, probe, CONCURRENCY * cell.partitionsPerWorker, cell.dedupe);
    for (; ; batch = Math.floor(batch * 0.9)) {
      if (batch < 1) throw new Error(`no batch of ${cell.payload.label} fits one request`);
      const [request] = buildRequests(probe, cell, batch, 0, 1, { n: 0 });
      const res = await bench.produce(request!, lambdaContext());
      if (res.statusCode === 200) break;
      note ??= `${cell.batch} events per request failed: ${String(res.body).slice(0, 200)}`;
    }
  }
  const topic = `bench-${index}-${cell.payload.kind}-${cell.layout}-${batch}-${cell.dedupe ? 'dedupe' : 'nodedupe'}`;
  await createTopic(bench, topic, CONCURRENCY * cell.partitionsPerWorker, cell.dedupe);
  return { cell, topic, batch, ...(note ? { note } : {}), requestsPerRound: Math.ceil(cell.events / (CONCURRENCY * batch)), rounds: 0 };
}

/** One round of a produce cell: every worker sends its requests to its own partition(s). */
export async function runProduceRound(bench: Bench, t: CellTopic, index: number): Promise<Measurement> {
  const { cell, batch, topic } = t;
  const seq = { n: (index * 100 + t.rounds) * 1_000_000 };
  // Built before the clock starts: making payloads is not what is measured.
  const queues = Array.from({ length: CONCURRENCY }, (_, w) => buildRequests(topic, cell, batch, w, t.requestsPerRound, seq, eventsInPartition(t, 0)));
  const meteredApi = queues.flat().reduce((n, e) => n + metered(Buffer.byteLength(e.body ?? '')), 0);

  bench.sluiceMeter.take();
  bench.service.reportedWrite = 0;
  const next = queues.map(() => 0);
  const last: string[] = [];
  const timed = await timeWorkers(CONCURRENCY, async (w) => {
    const res = await bench.produce(queues[w]![next[w]!++]!, lambdaContext());
    if (res.statusCode !== 200) throw failed(`produce to ${topic}`, res);
    last[w] = String(res.body);
    return next[w]! < queues[w]!.length;
  });
  t.rounds++;
  const problems = last.flatMap((body, w) => checkLastProduce(JSON.parse(body) as ProduceResponse, t, w));
  return {
    kind: 'produce',
    scenario: cell.layout === 'single' ? 'produce' : `produce over ${cell.partitionsPerWorker} partitions`,
    eventsPerRequest: batch,
    payload: cell.payload.label,
    payloadBytes: cell.payload.bytes,
    dedupe: cell.dedupe ? 'on' : 'off',
    events: CONCURRENCY * t.requestsPerRound * batch,
    requests: CONCURRENCY * t.requestsPerRound,
    ...timed,
    units: bench.sluiceMeter.take(),
    serviceReportedWrite: bench.service.reportedWrite,
    meteredApiRequests: meteredApi,
    notes: [...(t.note ? [t.note] : []), ...problems],
  };
}

/** The last response of a worker: every event appended (none a duplicate), each partition up to its expected offset. */
function checkLastProduce(response: ProduceResponse, t: CellTopic, worker: number): string[] {
  const problems: string[] = [];
  if (response.results.length !== t.batch) problems.push(`worker ${worker}: ${response.results.length} results for ${t.batch} events`);
  if (response.results.some((r) => r.duplicate)) problems.push(`worker ${worker}: events answered as duplicates`);
  const first = worker * t.cell.partitionsPerWorker;
  const maxOffset = new Map<number, number>();
  for (const r of response.results) maxOffset.set(r.partition, Math.max(maxOffset.get(r.partition) ?? -1, r.offset));
  for (const [partition, offset] of maxOffset) {
    const index = partition - first;
    const expected = eventsInPartition(t, index) - 1;
    if (index < 0 || index >= t.cell.partitionsPerWorker) problems.push(`worker ${worker}: events landed on partition ${partition}`);
    else if (offset !== expected) problems.push(`partition ${partition}: last offset ${offset}, expected ${expected}`);
  }
  return problems;
}

/**
 * Events per log item in partition 0, as stored: small requests share items (a partition head
 * keeps the newest events and flushes them together), so the request size does not say it.
 */
async function eventsPerItem(bench: Bench, t: CellTopic, stored: number): Promise<string> {
  const config = await bench.topics.getTopic(t.topic);
  let items = 0;
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await bench.raw.send(
      new QueryCommand({
        TableName: bench.logTable,
        KeyConditionExpression: 'pk = :pk AND #offset >= :zero',
        ExpressionAttributeNames: { '#offset': 'offset' },
        ExpressionAttributeValues: { ':pk': { S: logPartitionKey(config!.topicId, 0) }, ':zero': { N: '0' } },
        Select: 'COUNT',
        ExclusiveStartKey: start,
      }),
    );
    items += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  const perItem = stored / Math.max(items, 1);
  return perItem >= 10 ? perItem.toFixed(0) : perItem.toFixed(1);
}

/**
 * Reads a single-layout topic back like a consumer catching up: one worker per partition, full
 * pages of FETCH_LIMIT events from offset 0 (a partition's tail short of a full page is skipped),
 * pass after pass until about `events` events were read; checks offsets as it goes.
 */
export async function runFetchRound(bench: Bench, t: CellTopic, events: number): Promise<Measurement> {
  const stored = eventsInPartition(t, 0);
  const end = stored >= FETCH_LIMIT ? Math.floor(stored / FETCH_LIMIT) * FETCH_LIMIT : stored;
  const passes = Math.ceil(events / (CONCURRENCY * end));
  const passesLeft = Array.from({ length: CONCURRENCY }, () => passes);
  const offsets = Array.from({ length: CONCURRENCY }, () => 0);
  const problems: string[] = [];
  let read = 0;
  let requests = 0;
  let meteredApi = 0;
  bench.sluiceMeter.take();
  const timed = await timeWorkers(CONCURRENCY, async (w) => {
    const res = await bench.fetch(fetchEvent(t.topic, w, offsets[w]!), lambdaContext());
    if (res.statusCode !== 200) throw failed(`fetch from ${t.topic}/${w}`, res);
    const body = String(res.body);
    requests++;
    meteredApi += metered(Buffer.byteLength(body));
    const page = JSON.parse(body) as FetchResponse;
    read += page.events.length;
    const first = page.events[0]?.offset;
    const last = page.events[page.events.length - 1]?.offset;
    if (page.events.length === 0 || first !== offsets[w] || last !== page.nextOffset - 1) {
      problems.push(`partition ${w}: asked offset ${offsets[w]}, got ${page.events.length} events from ${first} to ${last}, next ${page.nextOffset}`);
      return false;
    }
    if (page.highWatermark !== stored) problems.push(`partition ${w}: high watermark ${page.highWatermark}, produced ${stored}`);
    offsets[w] = page.nextOffset;
    if (page.nextOffset < end) return true;
    offsets[w] = 0;
    return --passesLeft[w]! > 0;
  });
  if (read !== passes * CONCURRENCY * end) problems.push(`read ${read} events, expected ${passes} × ${CONCURRENCY * end}`);
  return {
    kind: 'fetch',
    scenario: 'fetch',
    eventsPerRequest: `${Math.min(FETCH_LIMIT, end)} (stored ${await eventsPerItem(bench, t, stored)}/item, from ${t.batch}-event requests)`,
    payload: t.cell.payload.label,
    payloadBytes: t.cell.payload.bytes,
    dedupe: '-',
    events: read,
    requests,
    ...timed,
    units: bench.sluiceMeter.take(),
    meteredApiRequests: meteredApi,
    notes: [...new Set(problems)].slice(0, 5),
  };
}
