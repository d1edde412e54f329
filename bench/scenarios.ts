/**
 * What the benchmark measures: the event payloads, the matrix of produce cells, and the API
 * Gateway (HTTP API, payload 2.0) events the handlers are invoked with.
 */
import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { EVENT_LIMITS, type ProduceEvent, type ProducerStamp } from '../api/events';

/** Requests in flight at once; each in-flight worker owns its own partition(s). */
export const CONCURRENCY = 4;

/**
 * The Sluice matrix runs this many times over (on fresh topics), so a slow spell of this shared
 * machine hits one round of a cell, not all of it; rows pool the rounds.
 */
export const ROUNDS = 3;

/** Events per produce cell, over all rounds (each round's share rounded up to whole requests). */
export const EVENTS_PER_CELL = Number(process.env.SLUICE_BENCH_EVENTS ?? 4000);

/** Largest-batch cells send at least this many requests per worker and round. */
export const MIN_REQUESTS_PER_WORKER = 4;

/** Fetch cells read their data again, pass after pass, until this many events were read (over all rounds). */
export const READ_EVENTS_PER_CELL = 10 * EVENTS_PER_CELL;

/**
 * The raw baseline is several times faster per event, so each of its runs (one before, between and
 * after the rounds) moves more events, to be timed over a second or so like the Sluice cells.
 */
export const RAW_WRITE_EVENTS = 3 * EVENTS_PER_CELL;
export const RAW_READ_EVENTS = 30 * EVENTS_PER_CELL;

/** Events per BatchWriteItem call in the raw baseline (DynamoDB's maximum). */
export const RAW_BATCH = 25;

/** Events per fetch call (the API's maximum) and per raw Query page. */
export const FETCH_LIMIT = 1000;

/**
 * Largest atomic request. With dedupe on, every event takes a transaction action of its own next to
 * the partition's head and batch: 98 + 2 = 100 on one partition. Without dedupe the request limit
 * (500 events) binds; its batch is split over items when it encodes to more than one item holds.
 */
export const MAX_BATCH_DEDUPE_ON = EVENT_LIMITS.maxTransactionActions - 2;
export const MAX_BATCH_DEDUPE_OFF = EVENT_LIMITS.maxEventsPerRequest;

/** Spread cells: 40 events over 30 partitions (30 heads + 30 batches + 40 dedupe records = 100 actions). */
export const SPREAD_EVENTS = 40;
export const SPREAD_PARTITIONS = 30;

export type PayloadKind = 'json-100' | 'json-1k' | 'random-1k';

export interface Payload {
  readonly kind: PayloadKind;
  /** Shown in the table. */
  readonly label: string;
  /** Bytes of the value as the API counts them: JSON text, or decoded bytes for valueBase64. */
  readonly bytes: number;
  /** One event's body as sent to Sluice (no key: the partition is explicit). */
  event(seq: number): Pick<ProduceEvent, 'value' | 'valueBase64'>;
  /** The same value as one raw DynamoDB attribute: the JSON text, or the bytes. */
  rawValue(seq: number): { S: string } | { B: Uint8Array };
}

export const PAYLOADS: readonly Payload[] = [
  jsonPayload('json-100', '100 B json', 100),
  jsonPayload('json-1k', '1 KB json', 1024),
  randomPayload('random-1k', '1 KB random', 1024),
];

export interface ProduceCell {
  /** 'single' → every request to one partition; 'spread' → 40 events over 30 partitions. */
  readonly layout: 'single' | 'spread';
  readonly payload: Payload;
  readonly batch: number;
  readonly dedupe: boolean;
  /** Events per round. */
  readonly events: number;
  readonly partitionsPerWorker: number;
}

/** Every produce cell, in the order they run. */
export function produceCells(): ProduceCell[] {
  const cells: ProduceCell[] = [];
  for (const payload of PAYLOADS) {
    for (const dedupe of [true, false]) {
      for (const batch of [1, 10, dedupe ? MAX_BATCH_DEDUPE_ON : MAX_BATCH_DEDUPE_OFF]) {
        cells.push({ layout: 'single', payload, batch, dedupe, events: eventsFor(batch), partitionsPerWorker: 1 });
      }
    }
  }
  for (const payload of PAYLOADS.filter((p) => p.kind !== 'random-1k')) {
    for (const dedupe of [true, false]) {
      cells.push({
        layout: 'spread',
        payload,
        batch: SPREAD_EVENTS,
        dedupe,
        events: eventsFor(SPREAD_EVENTS),
        partitionsPerWorker: SPREAD_PARTITIONS,
      });
    }
  }
  return cells;
}

/** Events one round of a cell sends: its share of EVENTS_PER_CELL, in whole requests per worker. */
export function eventsFor(batch: number): number {
  const perRequestRound = CONCURRENCY * batch;
  const requests = Math.max(Math.ceil(EVENTS_PER_CELL / ROUNDS / perRequestRound), batch >= 98 ? MIN_REQUESTS_PER_WORKER : 1);
  return requests * perRequestRound;
}

// ---- payloads --------------------------------------------------------------------------------

/** A small deterministic PRNG (mulberry32), so every run sends the same values. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ['created', 'paid', 'packed', 'shipped', 'delivered'];
const CITIES = ['Lisbon', 'Berlin', 'Austin', 'Osaka', 'Nairobi', 'Lima', 'Oslo', 'Perth'];
const PRODUCTS = ['coffee beans', 'kettle', 'grinder', 'filter papers', 'mug', 'scale', 'tea tin', 'dripper'];
const WORDS = ['please', 'leave', 'at', 'the', 'door', 'ring', 'bell', 'gift', 'wrap', 'fragile', 'thanks', 'back'];

/** An order-like JSON object whose JSON text is exactly `bytes` long. */
export function orderValue(seq: number, bytes: number): Record<string, unknown> {
  const rnd = prng(seq + 1);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rnd() * list.length)]!;
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('');
  const order: Record<string, unknown> = {
    orderId: `ord-${hex(8)}`,
    customerId: `cus-${Math.floor(rnd() * 100000)}`,
    status: pick(STATUSES),
    total: Math.floor(rnd() * 50000) / 100,
  };
  if (bytes >= 400) {
    order.currency = 'EUR';
    order.createdAt = new Date(1_700_000_000_000 + seq * 1000).toISOString();
    order.shipTo = { city: pick(CITIES), zip: String(10000 + Math.floor(rnd() * 89999)), country: 'PT' };
    const lines: Record<string, unknown>[] = [];
    order.lines = lines;
    for (;;) {
      const line = { sku: `SKU-${1000 + Math.floor(rnd() * 9000)}`, name: pick(PRODUCTS), qty: 1 + Math.floor(rnd() * 4), price: Math.floor(rnd() * 5000) / 100 };
      if (JSON.stringify({ ...order, lines: [...lines, line] }).length > bytes - 24) break;
      lines.push(line);
    }
  }
  // Pad with a free-text note of everyday words to hit the size exactly.
  const base = JSON.stringify({ ...order, note: '' }).length;
  if (base > bytes) throw new Error(`an order needs at least ${base} bytes, asked for ${bytes}`);
  let note = '';
  while (note.length < bytes - base) note += (note ? ' ' : '') + pick(WORDS);
  order.note = note.slice(0, bytes - base);
  return order;
}

function jsonPayload(kind: PayloadKind, label: string, bytes: number): Payload {
  return {
    kind,
    label,
    bytes,
    event: (seq) => ({ value: orderValue(seq, bytes) as ProduceEvent['value'] }),
    rawValue: (seq) => ({ S: JSON.stringify(orderValue(seq, bytes)) }),
  };
}

function randomPayload(kind: PayloadKind, label: string, bytes: number): Payload {
  // Fresh random bytes per event: nothing for deflate to find.
  return {
    kind,
    label,
    bytes,
    event: () => ({ valueBase64: randomBytes(bytes).toString('base64') }),
    rawValue: () => ({ B: new Uint8Array(randomBytes(bytes)) }),
  };
}

// ---- handler events --------------------------------------------------------------------------

export const PRODUCE_ROUTE = 'POST /topics/{topic}/events';
export const FETCH_ROUTE = 'GET /topics/{topic}/partitions/{partition}/events';

let requestSeq = 0;

/** An API Gateway HTTP API (payload 2.0) event, as the integration hands it to Lambda. */
export function httpEvent(
  routeKey: string,
  init: { rawPath: string; pathParameters: Record<string, string>; query?: Record<string, string>; body?: string },
): APIGatewayProxyEventV2 {
  const [method = 'GET'] = routeKey.split(' ');
  const requestId = `bench-${++requestSeq}`;
  return {
    version: '2.0',
    routeKey,
    rawPath: init.rawPath,
    rawQueryString: new URLSearchParams(init.query ?? {}).toString(),
    headers: { 'content-type': 'application/json' },
    pathParameters: init.pathParameters,
    ...(init.query ? { queryStringParameters: init.query } : {}),
    requestContext: {
      accountId: '000000000000',
      apiId: 'bench',
      domainName: 'bench.local',
      domainPrefix: 'bench',
      http: { method, path: init.rawPath, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'sluice-bench' },
      requestId,
      routeKey,
      stage: '$default',
      time: new Date().toISOString(),
      timeEpoch: Date.now(),
    },
    ...(init.body === undefined ? {} : { body: init.body }),
    isBase64Encoded: false,
  };
}

export function produceEvent(topic: string, events: readonly ProduceEvent[], producer?: ProducerStamp): APIGatewayProxyEventV2 {
  return httpEvent(PRODUCE_ROUTE, {
    rawPath: `/topics/${topic}/events`,
    pathParameters: { topic },
    body: JSON.stringify({ events, ...(producer ? { producer } : {}) }),
  });
}

export function fetchEvent(topic: string, partition: number, offset: number): APIGatewayProxyEventV2 {
  return httpEvent(FETCH_ROUTE, {
    rawPath: `/topics/${topic}/partitions/${partition}/events`,
    pathParameters: { topic, partition: String(partition) },
    query: { offset: String(offset), limit: String(FETCH_LIMIT) },
  });
}

export function lambdaContext(): Context {
  return {
    awsRequestId: `bench-ctx-${requestSeq}`,
    functionName: 'sluice-bench',
    getRemainingTimeInMillis: () => 30_000,
  } as unknown as Context;
}
