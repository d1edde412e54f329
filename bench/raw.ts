/**
 * The raw DynamoDB baseline on the same emulator: one item per event written with BatchWriteItem
 * and read back with Query; and a probe of how DynamoDB Local reports transactional writes.
 */
import { BatchWriteItemCommand, PutItemCommand, QueryCommand, TransactWriteItemsCommand, type AttributeValue, type WriteRequest } from '@aws-sdk/client-dynamodb';
import { itemSize, reportedUnits, writeUnits } from './capacity';
import { timeWorkers, type Bench } from './harness';
import type { Measurement } from './report';
import { CONCURRENCY, FETCH_LIMIT, RAW_BATCH, RAW_READ_EVENTS, RAW_WRITE_EVENTS, type Payload } from './scenarios';

/** BatchWriteItem of one item per event (25 per call), then Query reading them back (consistent). */
export async function runRaw(bench: Bench, payload: Payload, run: string): Promise<[Measurement, Measurement]> {
  const perWorker = Math.ceil(RAW_WRITE_EVENTS / (CONCURRENCY * RAW_BATCH)) * RAW_BATCH;
  const pk = (w: number) => `raw-${run}-${payload.kind}#${w}`;
  const calls = Array.from({ length: CONCURRENCY }, (_, w) => {
    const chunks: WriteRequest[][] = [];
    for (let i = 0; i < perWorker; i += RAW_BATCH) {
      chunks.push(
        Array.from({ length: RAW_BATCH }, (_, j) => ({
          PutRequest: { Item: { pk: { S: pk(w) }, offset: { N: String(i + j) }, v: payload.rawValue(i + j) } as Record<string, AttributeValue> },
        })),
      );
    }
    return chunks;
  });
  const base = { payload: payload.label, payloadBytes: payload.bytes, dedupe: '-' as const, events: CONCURRENCY * perWorker };

  bench.rawMeter.take();
  const next = calls.map(() => 0);
  let writeRequests = 0;
  const writes = await timeWorkers(CONCURRENCY, async (w) => {
    let pending: WriteRequest[] = calls[w]![next[w]!++]!;
    while (pending.length > 0) {
      writeRequests++;
      const out = await bench.raw.send(
        new BatchWriteItemCommand({ RequestItems: { [bench.logTable]: pending }, ReturnConsumedCapacity: 'TOTAL' }),
      );
      pending = out.UnprocessedItems?.[bench.logTable] ?? [];
    }
    return next[w]! < calls[w]!.length;
  });
  const write: Measurement = {
    kind: 'raw-write', scenario: 'raw BatchWriteItem', eventsPerRequest: RAW_BATCH, ...base,
    requests: writeRequests, ...writes, units: bench.rawMeter.take(),
  };

  // Read everything back, pass after pass, until about RAW_READ_EVENTS events were read.
  const passes = Math.ceil(RAW_READ_EVENTS / base.events);
  const passesLeft = calls.map(() => passes);
  const cursors: (Record<string, AttributeValue> | undefined)[] = calls.map(() => undefined);
  let readEvents = 0;
  let readRequests = 0;
  const reads = await timeWorkers(CONCURRENCY, async (w) => {
    readRequests++;
    const out = await bench.raw.send(
      new QueryCommand({
        TableName: bench.logTable,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: pk(w) } },
        ConsistentRead: true,
        Limit: FETCH_LIMIT,
        ExclusiveStartKey: cursors[w],
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    readEvents += out.Items?.length ?? 0;
    cursors[w] = out.LastEvaluatedKey;
    return cursors[w] !== undefined || --passesLeft[w]! > 0;
  });
  const read: Measurement = {
    kind: 'raw-read', scenario: 'raw Query', eventsPerRequest: FETCH_LIMIT, ...base, events: readEvents,
    requests: readRequests, ...reads, units: bench.rawMeter.take(),
    notes: readEvents === passes * base.events ? [] : [`read ${readEvents} of ${passes} × ${base.events} items`],
  };
  return [write, read];
}

/**
 * One PutItem per event at the same concurrency: the baseline single-event produce is compared
 * with (one event per request on both sides), not batched writes.
 */
export async function runRawPut(bench: Bench, payload: Payload, run: string, events: number): Promise<Measurement> {
  const perWorker = Math.ceil(events / CONCURRENCY);
  const pk = (w: number) => `rawput-${run}-${payload.kind}#${w}`;
  const next = Array.from({ length: CONCURRENCY }, () => 0);
  bench.rawMeter.take();
  const timed = await timeWorkers(CONCURRENCY, async (w) => {
    const i = next[w]!++;
    await bench.raw.send(
      new PutItemCommand({
        TableName: bench.logTable,
        Item: { pk: { S: pk(w) }, offset: { N: String(i) }, v: payload.rawValue(i) } as Record<string, AttributeValue>,
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    return next[w]! < perWorker;
  });
  return {
    kind: 'raw-write', scenario: 'raw PutItem', eventsPerRequest: 1, payload: payload.label, payloadBytes: payload.bytes, dedupe: '-',
    events: CONCURRENCY * perWorker, requests: CONCURRENCY * perWorker, ...timed, units: bench.rawMeter.take(),
  };
}

export interface TransactProbe {
  readonly items: string;
  readonly documentedWcu: number;
  readonly localWcu: number;
}

/**
 * A few TransactWriteItems on the log table, to show how DynamoDB Local's ConsumedCapacity for
 * transactions compares with the documented rule (2 × ceil(KB) per item) on known item sizes.
 */
export async function probeLocalTransactReporting(bench: Bench): Promise<TransactProbe[]> {
  let n = 0;
  const item = (bytes: number): Record<string, AttributeValue> => ({
    pk: { S: 'probe' },
    offset: { N: String(n++) },
    d: { S: 'x'.repeat(bytes) },
  });
  const cases: [string, number[]][] = [
    ['1 × 100 B', [100]],
    ['10 × 100 B', Array.from({ length: 10 }, () => 100)],
    ['2 × 1.5 KB', [1500, 1500]],
    ['1.5 KB + 100 B', [1500, 100]],
    ['3 KB + 5 × 100 B', [3000, 100, 100, 100, 100, 100]],
  ];
  const out: TransactProbe[] = [];
  for (const [label, sizes] of cases) {
    const items = sizes.map(item);
    const res = await bench.raw.send(
      new TransactWriteItemsCommand({
        TransactItems: items.map((Item) => ({ Put: { TableName: bench.logTable, Item } })),
        ReturnConsumedCapacity: 'TOTAL',
      }),
    );
    out.push({
      items: label,
      documentedWcu: items.reduce((sum, i) => sum + writeUnits(itemSize(i), { transactional: true }), 0),
      localWcu: reportedUnits(res.ConsumedCapacity) ?? Number.NaN,
    });
  }
  bench.rawMeter.take();
  return out;
}
