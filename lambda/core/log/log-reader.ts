/**
 * The read side of the log: heads, the log start (first live event), timestamp seeks and reading
 * events from an offset. Expiry is checked on every read, because DynamoDB's TTL deletes late.
 */
import { FETCH_LIMITS, type FetchedEvent } from '../../../api/events';
import { RETAIN_FOREVER, type TopicConfig } from '../../../api/topics';
import { batchesEnd, type LogReadStore, type PartitionHead, type StoredBatch } from './log-store';
import { decodeRecords, PageDecoder, type RawRecord } from './record-batch';
import { ResponseBudget, withJson } from './response-budget';

export class LogReader {
  /** First live offset per "<topicId>#<partition>", valid until that event expires. */
  private readonly logStarts = new Map<string, { offset: number; validUntil: number; retentionMs: number }>();

  constructor(
    private readonly log: LogReadStore,
    private readonly now: () => number,
  ) {}

  /** Heads of several partitions in batched reads (BatchGetItem), not one read each. */
  async readHeadsOf(config: TopicConfig, partitions: readonly number[], options: { readonly consistent?: boolean } = {}): Promise<Map<number, PartitionHead>> {
    const heads = await this.log.readHeads(config.topicId, partitions, options);
    return new Map(partitions.map((p) => [p, heads.get(p) ?? { nextOffset: 0, maxTimestamp: 0 }]));
  }

  async readHead(config: TopicConfig, partition: number): Promise<PartitionHead> {
    const heads = await this.log.readHeads(config.topicId, [partition]);
    return heads.get(partition) ?? { nextOffset: 0, maxTimestamp: 0 };
  }

  /**
   * First offset of a live event; the high watermark when none is live. Usually the first stored
   * batch holds it (one read). When expired batches wait for TTL deletion (up to ~48 h of them),
   * it jumps past them with the timestamp search instead of reading them one by one.
   */
  async logStartOffset(config: TopicConfig, partition: number, head: PartitionHead, now: number): Promise<number> {
    if (head.nextOffset === 0) return 0;
    const cacheKey = `${config.topicId}#${partition}`;
    const cached = this.logStarts.get(cacheKey);
    if (cached && cached.retentionMs === config.retentionMs && now < cached.validUntil) return cached.offset;

    const end = batchesEnd(head);
    let [batch] = end > 0 ? await this.log.readBatchesAfter(config.topicId, partition, -1, 1, end - 1) : [];
    if (batch && config.retentionMs !== RETAIN_FOREVER && this.firstLive(config, batch, now) === undefined) {
      const cutoff = now - config.retentionMs + 1;
      const jump = await this.offsetForTimestamp(config, partition, cutoff, batch.baseOffset, head);
      [batch] = jump >= end ? [] : [await this.log.readBatchAtOrBefore(config.topicId, partition, jump)];
    }
    // Past the jump, only batches TTL-expired under an older retention can still be dead: rare.
    // Then the head's tail, which holds the newest events.
    for (;;) {
      if (!batch || batch.baseOffset >= end) batch = head.tail;
      if (!batch) return head.nextOffset;
      const live = this.firstLive(config, batch, now);
      if (live) {
        // The first live event stays first until it expires itself: remember it until then.
        this.logStarts.set(cacheKey, { ...live, retentionMs: config.retentionMs });
        return live.offset;
      }
      if (batch === head.tail) return head.nextOffset;
      [batch] = await this.log.readBatchesAfter(config.topicId, partition, batch.baseOffset, 1, end - 1);
    }
  }

  /** The batch's first live event, and until when it stays live. */
  private firstLive(config: TopicConfig, batch: StoredBatch, now: number): { offset: number; validUntil: number } | undefined {
    if (isBatchExpired(config, batch, now)) return undefined;
    const records = decodeRecords(batch);
    const index = records.findIndex((r) => !isExpired(config, batch, r, now));
    if (index < 0) return undefined;
    const byRetention = config.retentionMs === RETAIN_FOREVER ? Infinity : records[index]!.t + config.retentionMs;
    const byTtl = batch.expiresAt === undefined ? Infinity : batch.expiresAt * 1000;
    return { offset: batch.baseOffset + index, validUntil: Math.min(byRetention, byTtl) };
  }

  /** Log start and high watermark of every partition of a topic (for describe). */
  async partitionOffsets(config: TopicConfig): Promise<{ partition: number; logStartOffset: number; highWatermark: number }[]> {
    const partitions = Array.from({ length: config.partitions }, (_, p) => p);
    const heads = await this.log.readHeads(config.topicId, partitions);
    const now = this.now();
    const result = [];
    // A few at a time: a describe of a wide topic must not burst hundreds of queries at once.
    for (let i = 0; i < partitions.length; i += 16) {
      result.push(
        ...(await Promise.all(
          partitions.slice(i, i + 16).map(async (partition) => {
            const head = heads.get(partition) ?? { nextOffset: 0, maxTimestamp: 0 };
            const logStartOffset = await this.logStartOffset(config, partition, head, now);
            return { partition, logStartOffset, highWatermark: head.nextOffset };
          }),
        )),
      );
    }
    return result;
  }

  /**
   * The first offset whose timestamp is at or after `timestamp` (Kafka's ListOffsets): a binary
   * search over batches by their running max timestamp, which only grows with the offset.
   */
  async offsetForTimestamp(
    config: TopicConfig,
    partition: number,
    timestamp: number,
    logStartOffset: number,
    head: PartitionHead,
  ): Promise<number> {
    if (head.maxTimestamp < timestamp) return head.nextOffset;
    const end = batchesEnd(head);
    let lo = logStartOffset;
    let hi = head.nextOffset;
    let found: StoredBatch | undefined;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      // At or past batchesEnd the events are in the head's tail (items there are not in the log yet).
      const batch = mid >= end ? head.tail : await this.log.readBatchAtOrBefore(config.topicId, partition, mid);
      if (!batch || batch.baseOffset + batch.count <= lo) {
        lo = mid + 1; // nothing stored between lo and mid any more (expired and deleted)
      } else if (batch.runningMaxTimestamp >= timestamp) {
        found = batch;
        hi = batch.baseOffset;
      } else {
        lo = batch.baseOffset + batch.count;
      }
    }
    if (!found) return head.nextOffset;
    const records = decodeRecords(found);
    const index = records.findIndex((r, i) => r.t >= timestamp && found!.baseOffset + i >= logStartOffset);
    return index < 0 ? found.baseOffset + found.count : found.baseOffset + index;
  }

  /**
   * Live events from `start`, at most `limit`, stopping before the first one `budget` refuses
   * (the answer's size; see response-budget.ts). `nextOffset` is where the next read continues.
   */
  async readFrom(
    config: TopicConfig,
    partition: number,
    start: number,
    head: PartitionHead,
    limit: number,
    budget: ResponseBudget = new ResponseBudget(),
  ): Promise<{ events: FetchedEvent[]; nextOffset: number }> {
    const events: FetchedEvent[] = [];
    const highWatermark = head.nextOffset;
    let nextOffset = start;
    if (start >= highWatermark || budget.full) return { events, nextOffset };
    const now = this.now();
    // Items at or past batchesEnd are not in the log yet: the events there are the head's tail.
    const end = batchesEnd(head);
    let batches: StoredBatch[] = [];
    let lastBase = start - 1;
    if (start < end) {
      // Reads usually start where the last one ended, on a batch's first offset: then one query
      // from there is all. Only a start inside a batch needs the batch before it too.
      batches = await this.log.readBatchesAfter(config.topicId, partition, start - 1, Math.min(limit, FETCH_LIMITS.maxLimit), Math.min(end, start + limit) - 1);
      if (batches[0]?.baseOffset !== start) {
        const before = await this.log.readBatchAtOrBefore(config.topicId, partition, start);
        if (before && before.baseOffset < start) batches = [before, ...batches];
      }
      if (batches.length > 0) lastBase = batches[batches.length - 1]!.baseOffset;
    }
    // No items from the start on (it is in the tail, or they expired): the same query again would
    // find none either.
    const itemsDone = batches.length === 0;
    let tailRead = false;
    const topicJson = JSON.stringify(config.name);
    for (;;) {
      // The page's items inflated together, not one by one (record-batch.ts).
      const page = new PageDecoder(batches);
      for (const [b, batch] of batches.entries()) {
        const records = page.records(b);
        for (let i = 0; i < records.length; i++) {
          const offset = batch.baseOffset + i;
          if (offset < nextOffset) continue;
          if (offset >= highWatermark || events.length >= limit) return { events, nextOffset };
          const record = records[i]!;
          if (!isExpired(config, batch, record, now)) {
            const event = toFetchedEvent(config.name, topicJson, partition, offset, record);
            // The answer is full: stop before this event, so the next fetch starts at it.
            if (!budget.take(event)) return { events, nextOffset };
            events.push(event);
          }
          nextOffset = offset + 1;
        }
      }
      if (nextOffset >= highWatermark || events.length >= limit || tailRead) return { events, nextOffset };
      batches = [];
      if (!itemsDone && nextOffset < end) {
        // Only the items holding offsets still wanted: a big batch past them would be billed in full.
        // Every item holds at least one event, so one query for as many items as events are wanted
        // (DynamoDB stops a page at 1 MB) rather than many small round trips.
        const wanted = limit - events.length;
        const lastWanted = Math.min(end, nextOffset + wanted) - 1;
        batches = await this.log.readBatchesAfter(config.topicId, partition, lastBase, Math.min(wanted, FETCH_LIMITS.maxLimit), lastWanted);
      }
      if (batches.length > 0) {
        lastBase = batches[batches.length - 1]!.baseOffset;
      } else {
        if (!head.tail) return { events, nextOffset };
        batches = [head.tail];
        tailRead = true;
      }
    }
  }

}

/** DynamoDB may not have deleted an expired item yet, so expiry is checked on every read. */
function isBatchExpired(config: TopicConfig, batch: StoredBatch, now: number): boolean {
  return batch.expiresAt !== undefined && now >= batch.expiresAt * 1000;
}

/**
 * An event is gone when the topic's current retention has passed since its timestamp, or its item
 * is past the TTL it was written with (a retention lengthened later does not bring it back).
 */
function isExpired(config: TopicConfig, batch: StoredBatch, record: { readonly t: number }, now: number): boolean {
  if (isBatchExpired(config, batch, now)) return true;
  return config.retentionMs !== RETAIN_FOREVER && now >= record.t + config.retentionMs;
}

/**
 * The event, with its JSON made from the stored value's text as it is (the answer splices it in:
 * see response-budget.ts); its `value` is parsed only if something reads it (a filter, a processor).
 * Same fields, order and text as JSON.stringify of the event.
 */
function toFetchedEvent(topic: string, topicJson: string, partition: number, offset: number, r: RawRecord): FetchedEvent {
  const key = r.k ?? null;
  const headers = r.h ?? {};
  const text = r.vj;
  const start = `{"topic":${topicJson},"partition":${partition},"offset":${offset},"key":${key === null ? 'null' : JSON.stringify(key)}`;
  const end = `,"headers":${r.h === undefined ? '{}' : JSON.stringify(headers)},"timestamp":${r.t},"messageId":${JSON.stringify(r.m)}}`;
  // An event holds a JSON value or bytes, never both (api/events.ts).
  if (text === undefined) {
    const valueBase64 = r.b === undefined ? '' : `,"valueBase64":${JSON.stringify(r.b)}`;
    const event = { topic, partition, offset, key, ...(r.b === undefined ? {} : { valueBase64: r.b }), headers, timestamp: r.t, messageId: r.m };
    return withJson(event, `${start}${valueBase64}${end}`);
  }
  let parsed: { value: unknown } | undefined;
  // The getter in the literal: defining it afterwards (defineProperty) took a page of 1,000
  // events about a millisecond more.
  const event = {
    topic,
    partition,
    offset,
    key,
    get value() {
      return (parsed ??= { value: JSON.parse(text) as unknown }).value;
    },
    headers,
    timestamp: r.t,
    messageId: r.m,
  };
  return withJson(event, `${start},"value":${text}${end}`);
}
