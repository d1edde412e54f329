/**
 * The local stand-in for a DynamoDB Streams event source mapping: reads the table's stream from
 * DynamoDB Local (DescribeStream, GetShardIterator, GetRecords; new shards as they appear, a
 * child after its parent), applies the mapping's filter patterns, hands the function batches in
 * Lambda's event shape, and on failure does what the mapping's options say: report batch item
 * failures, bisect, retry up to MaximumRetryAttempts, skip records older than MaximumRecordAge, and
 * report what finally failed to the on-failure destination. The mapping reads with the function's
 * own role, so a missing stream grant fails here too.
 *
 * Differences, on purpose: shards are read one after another and each shard's batches one at a time
 * (ParallelizationFactor > 1 on AWS runs batches of different partition keys at once; order per key
 * holds either way), and the stream is polled every 250 ms.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type DynamoDBStreamsClient,
  type _Record as StreamRecord,
} from '@aws-sdk/client-dynamodb-streams';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBRecord, DynamoDBBatchResponse } from 'aws-lambda';
import type { Logger } from '../../lambda/core/logger';
import type { FunctionPool } from '../lambda/function-pool';
import type { TwinStreamEventSource } from '../template/twin';
import { matchesAny } from './filter-pattern';

export interface StreamPollerOptions {
  readonly source: TwinStreamEventSource;
  readonly function: FunctionPool;
  /** Reads DynamoDB Local's streams (the emulator itself: the role is checked with `authorize`). */
  readonly streams: DynamoDBStreamsClient;
  /** Sends to the on-failure destination with the function's role, through the local IAM. */
  readonly sqs: SQSClient;
  /** Whether the function's role allows an action on a resource. */
  readonly authorize: (action: string, resource: string) => boolean;
  readonly region: string;
  readonly logger: Logger;
  /** @default 250 */
  readonly pollIntervalMs?: number;
}

export interface StreamPoller {
  stop(): Promise<void>;
}

interface Shard {
  readonly id: string;
  readonly parent?: string;
  iterator?: string;
  /** The last record read, to ask for a fresh iterator after it. */
  lastSequenceNumber?: string;
  done: boolean;
}

/**
 * Starts reading. Resolves once the mapping's starting position is fixed, so that everything
 * written after it (LATEST) reaches the function.
 */
export async function startStreamPoller(options: StreamPollerOptions): Promise<StreamPoller> {
  const abort = new AbortController();
  const { source, logger } = options;
  const missing = ['dynamodb:DescribeStream', 'dynamodb:GetShardIterator', 'dynamodb:GetRecords'].filter(
    (action) => !options.authorize(action, source.streamArn),
  );
  if (missing.length > 0) {
    logger.error('the event source mapping cannot read the stream: its function role lacks permissions', { missing, stream: source.streamArn });
    return { stop: async () => {} };
  }
  const shards = new Map<string, Shard>();
  await discover(options, shards, true, abort.signal);
  const loop = run(options, shards, abort.signal).catch((error) => {
    if (!abort.signal.aborted) logger.error('stream poller stopped', { error });
  });
  return {
    async stop() {
      abort.abort();
      await loop;
    },
  };
}

/**
 * Tracks shards not seen before. At start, LATEST is "after every record there now": DynamoDB
 * Local refuses to read an empty shard from a LATEST iterator (TrimmedDataAccessException), so the
 * twin reads from the shard's start and skips what is there. Shards that appear later are read
 * from their start.
 */
async function discover(options: StreamPollerOptions, shards: Map<string, Shard>, initial: boolean, signal: AbortSignal): Promise<void> {
  const { source, streams } = options;
  for (const described of await describeShards(streams, source.streamArn, signal)) {
    if (shards.has(described.id)) continue;
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({ StreamArn: source.streamArn, ShardId: described.id, ShardIteratorType: 'TRIM_HORIZON' }),
      { abortSignal: signal },
    );
    const shard: Shard = { id: described.id, parent: described.parent, iterator: ShardIterator, done: !ShardIterator };
    if (initial && source.startingPosition === 'LATEST') {
      while (shard.iterator) {
        const out = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }), { abortSignal: signal });
        const records = out.Records ?? [];
        if (records.length > 0) shard.lastSequenceNumber = records.at(-1)?.dynamodb?.SequenceNumber;
        shard.iterator = out.NextShardIterator;
        if (records.length === 0) break;
      }
      if (!shard.iterator) shard.done = true;
    }
    shards.set(described.id, shard);
  }
}

async function run(options: StreamPollerOptions, shards: Map<string, Shard>, signal: AbortSignal): Promise<void> {
  const { source, streams } = options;
  while (!signal.aborted) {
    try {
      await discover(options, shards, false, signal);
      let got = 0;
      for (const shard of shards.values()) {
        if (shard.done || !shard.iterator) continue;
        const parent = shard.parent ? shards.get(shard.parent) : undefined;
        if (parent && !parent.done) continue; // a child after its parent, as Lambda reads them
        let out;
        try {
          out = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }), { abortSignal: signal });
        } catch (error) {
          const name = (error as Error).name;
          if (name !== 'ExpiredIteratorException' && name !== 'TrimmedDataAccessException') throw error;
          // A fresh iterator after the last record read (iterators expire after 15 minutes).
          const fresh = await streams.send(
            new GetShardIteratorCommand({
              StreamArn: source.streamArn,
              ShardId: shard.id,
              ...(shard.lastSequenceNumber
                ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.lastSequenceNumber }
                : { ShardIteratorType: 'TRIM_HORIZON' }),
            }),
            { abortSignal: signal },
          );
          shard.iterator = fresh.ShardIterator;
          continue;
        }
        const records = out.Records ?? [];
        got += records.length;
        if (records.length > 0) {
          await processRecords(options, shard.id, records, signal);
          shard.lastSequenceNumber = records.at(-1)?.dynamodb?.SequenceNumber;
        }
        shard.iterator = out.NextShardIterator;
        if (!shard.iterator) shard.done = true;
      }
      if (got === 0) await sleep(options.pollIntervalMs ?? 250, undefined, { signal });
    } catch (error) {
      if (signal.aborted) return;
      options.logger.warn('stream poll failed; retrying', { error });
      await sleep(1000, undefined, { signal }).catch(() => {});
    }
  }
}

async function describeShards(client: DynamoDBStreamsClient, streamArn: string, signal: AbortSignal) {
  const shards: { id: string; parent?: string; closed: boolean }[] = [];
  let start: string | undefined;
  do {
    const { StreamDescription } = await client.send(
      new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: start }),
      { abortSignal: signal },
    );
    for (const s of StreamDescription?.Shards ?? []) {
      if (!s.ShardId) continue;
      shards.push({ id: s.ShardId, parent: s.ParentShardId, closed: s.SequenceNumberRange?.EndingSequenceNumber !== undefined });
    }
    start = StreamDescription?.LastEvaluatedShardId;
  } while (start);
  return shards;
}

/** Attribute values as Lambda's JSON event has them: binary (`B`, `BS`) as base64 strings. */
function toEventJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toEventJson);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (v !== undefined) out[k] = toEventJson(v);
  return out;
}

/** A stream record as Lambda hands it to a function. */
function toLambdaRecord(record: StreamRecord, source: TwinStreamEventSource, region: string): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: region,
    dynamodb: {
      ApproximateCreationDateTime: created instanceof Date ? Math.floor(created.getTime() / 1000) : (created as number | undefined),
      Keys: toEventJson(d.Keys) as never,
      NewImage: toEventJson(d.NewImage) as never,
      OldImage: toEventJson(d.OldImage) as never,
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType as never,
    },
    eventSourceARN: source.streamArn,
  };
}

async function processRecords(options: StreamPollerOptions, shardId: string, raw: StreamRecord[], signal: AbortSignal): Promise<void> {
  const { source } = options;
  const now = Date.now() / 1000;
  const records = raw
    .map((r) => toLambdaRecord(r, source, options.region))
    .filter((r) => source.maximumRecordAgeSeconds < 0 || now - (r.dynamodb?.ApproximateCreationDateTime ?? now) <= source.maximumRecordAgeSeconds)
    // Filtered-out records never invoke the function, and count as processed.
    .filter((r) => matchesAny(source.filters, r));
  for (let i = 0; i < records.length; i += source.batchSize) {
    await deliver(options, shardId, records.slice(i, i + source.batchSize), signal);
  }
}

/** Invokes the function with a batch until it succeeds or the mapping's retries run out. */
async function deliver(options: StreamPollerOptions, shardId: string, batch: DynamoDBRecord[], signal: AbortSignal): Promise<void> {
  const { source, logger } = options;
  const pending: { records: DynamoDBRecord[]; attempts: number }[] = [{ records: batch, attempts: 0 }];
  while (pending.length > 0 && !signal.aborted) {
    const work = pending.shift()!;
    let failedFrom: number | undefined;
    let error: string | undefined;
    try {
      const { payload } = await options.function.invoke({ Records: work.records });
      if (source.reportBatchItemFailures) {
        const response = JSON.parse(payload) as DynamoDBBatchResponse | null;
        const failed = new Set((response?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
        // Lambda checkpoints before the lowest failed sequence number and retries from there.
        const index = work.records.findIndex((r) => failed.has(r.dynamodb?.SequenceNumber ?? ''));
        if (failed.size > 0) failedFrom = index < 0 ? 0 : index;
      }
    } catch (err) {
      failedFrom = 0;
      error = (err as Error).message;
    }
    if (failedFrom === undefined) continue;
    const rest = work.records.slice(failedFrom);
    const attempts = work.attempts + 1;
    if (source.maximumRetryAttempts >= 0 && attempts > source.maximumRetryAttempts) {
      logger.warn('stream batch failed after its retries; reporting it to the on-failure destination', { shardId, records: rest.length, error });
      await reportFailure(options, shardId, rest, attempts);
      continue;
    }
    if (source.bisectBatchOnFunctionError && rest.length > 1) {
      const half = Math.ceil(rest.length / 2);
      pending.unshift({ records: rest.slice(0, half), attempts }, { records: rest.slice(half), attempts });
    } else {
      pending.unshift({ records: rest, attempts });
    }
    await sleep(Math.min(100 * 2 ** attempts, 2000), undefined, { signal }).catch(() => {});
  }
}

/** What Lambda sends an on-failure destination for a stream batch (its documented shape). */
async function reportFailure(options: StreamPollerOptions, shardId: string, records: DynamoDBRecord[], attempts: number): Promise<void> {
  const { source } = options;
  if (!source.onFailureQueue) return;
  const first = records[0]?.dynamodb;
  const last = records.at(-1)?.dynamodb;
  const body = {
    requestContext: {
      requestId: crypto.randomUUID(),
      functionArn: source.function.functionArn,
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: attempts,
    },
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    version: '1.0',
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId,
      startSequenceNumber: first?.SequenceNumber,
      endSequenceNumber: last?.SequenceNumber,
      approximateArrivalOfFirstRecord: first?.ApproximateCreationDateTime ? new Date(first.ApproximateCreationDateTime * 1000).toISOString() : undefined,
      approximateArrivalOfLastRecord: last?.ApproximateCreationDateTime ? new Date(last.ApproximateCreationDateTime * 1000).toISOString() : undefined,
      batchSize: records.length,
      streamArn: source.streamArn,
    },
  };
  await options.sqs.send(new SendMessageCommand({ QueueUrl: source.onFailureQueue.url, MessageBody: JSON.stringify(body) }));
}
