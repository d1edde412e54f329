/**
 * Produce (and, through LogReadService, fetch): the rules of the partitioned log. Knows nothing
 * about Lambda or HTTP.
 *
 * - Offsets start at 0 per partition and have no gaps: an append is planned against the
 *   partition heads it read and commits only if they have not moved (else it re-plans).
 * - A request is all-or-nothing: one DynamoDB transaction holds every head, batch and dedupe record;
 *   or, for one partition with no message IDs to remember, one conditional write of the head
 *   (small events go into its tail) or two (a batch, then the head) that become visible together
 *   (dynamodb-log-store.ts explains why that is enough).
 * - Each partition head keeps its newest events (its tail) while they fit one write unit with it;
 *   plan() decides, per append, between the tail and a flush into batch items.
 * - Exactly-once by message ID: a dedupe record per message ID in the same transaction; a
 *   message ID seen within the topic's window appends nothing and answers with the original.
 * - Idempotent producer: a request stamped with a producer ID, epoch and sequence goes to one
 *   partition, whose head remembers the producer's last batches (producer-state.ts): a retry is
 *   answered with the original offsets and writes nothing; an older epoch is fenced.
 * - Retention: every read hides events older than the topic's retention (log-reader.ts).
 * - Each instance keeps what the last append taught it: a topic's configuration for
 *   TOPIC_CONFIG_CACHE_MS (log-read-service.ts) and a partition's head for HEAD_CACHE_MS, so a warm producer appends
 *   without reading. Both are safe stale: an append planned from a moved head fails its write
 *   conditions and is planned again from a consistent read, and one planned from a deleted topic
 *   finds its heads tombstoned (StaleTopicConfig) and is planned again from the topic as it is.
 *   A change of retention, dedupe window or partitions reaches produce within TOPIC_CONFIG_CACHE_MS.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EventTooLargeError, InvalidRequestError, RequestTooLargeError, ThrottledError, TopicNotFoundError } from '../../../api/errors';
import { EVENT_LIMITS, checkEventLimits, tooManyEvents, type ProduceEvent, type ProduceResult, type ProducerStamp } from '../../../api/events';
import { KeylessPartitioner, partitionForKey } from '../../../api/partitioner';
import { backoffDelay } from '../../../api/retry';
import { RETAIN_FOREVER, type TopicConfig } from '../../../api/topics';
import { WriteTransaction } from '../aws/write-transaction';
import { LogReadService, type LogReadServiceOptions } from './log-read-service';
import { AppendConflict, batchesEnd, StaleTopicConfig, type AppendPlan, type DedupeRecord, type LogStore, type PartitionHead, type StoredBatch } from './log-store';
import { checkSequence, producerMessageId, recordBatch } from './producer-state';
import { decodeRecords, encodeRecords, type StoredRecord } from './record-batch';

/** Largest encoded batch stored in one item, leaving room under DynamoDB's 400 KB for attributes. */
export const MAX_BATCH_DATA_BYTES = 380_000;

/**
 * How long an append may be planned from the head the last one left, instead of reading it; at
 * most a tenth of the topic's retention, as TTL must not have deleted the batch after that head.
 */
export const HEAD_CACHE_MS = 10_000;

/** Heads cached before the cache starts again empty (a bound on an instance's memory). */
const MAX_CACHED = 10_000;

export interface LogServiceOptions extends LogReadServiceOptions {
  /** The whole log, dedupe table included (the read side needs only the log table). */
  readonly log: LogStore;
  /** @default crypto.randomUUID */
  readonly newMessageId?: () => string;
  /** Appends re-planned after losing a race before giving up with a retriable 429. @default 10 */
  readonly maxAppendAttempts?: number;
}

/**
 * Parts of other stores written in the same transaction as an append (a fenced offset commit, for
 * read-process-write): they must hold, or nothing is written.
 */
export interface JoinedWrite {
  /** Adds the parts to the transaction of one attempt (a new transaction per attempt). */
  addTo(tx: WriteTransaction): void;
  /** The error to throw when the parts' conditions failed (given as their stores' domain errors). */
  onFailed(failures: readonly Error[]): Promise<Error>;
}

export interface ProduceOutcome {
  readonly results: ProduceResult[];
  /** Write units DynamoDB reported, summed over attempts that wrote. */
  readonly consumedWriteUnits?: number;
}

interface Prepared {
  readonly index: number;
  readonly partition: number;
  readonly record: StoredRecord;
  /**
   * Whether the caller chose the message ID. Only those are remembered for dedupe: an ID the
   * service generated is new by construction, and no retry can carry it, so recording it would
   * cost a transactional write per event for nothing.
   */
  readonly callerId: boolean;
}

export class LogService extends LogReadService {
  private readonly log: LogStore;
  private readonly newMessageId: () => string;
  private readonly maxAppendAttempts: number;
  /** Where this instance puts keyless requests, per topic ID. */
  private readonly keyless = new Map<string, KeylessPartitioner>();
  /** Heads by "<topicId>#<partition>", as this instance last read or wrote them. */
  private readonly heads = new Map<string, { head: PartitionHead; at: number }>();

  constructor(options: LogServiceOptions) {
    super(options);
    this.log = options.log;
    this.newMessageId = options.newMessageId ?? randomUUID;
    this.maxAppendAttempts = options.maxAppendAttempts ?? 10;
  }

  /**
   * With `producer` (an idempotent producer's stamp), the events must go to one partition, and a
   * batch that partition's head remembers is answered with its original offsets, writing nothing.
   */
  async produce(topicName: string, events: readonly ProduceEvent[], producer?: ProducerStamp): Promise<ProduceOutcome> {
    const { outcomes, consumedWriteUnits } = await this.produceAll([{ topic: topicName, events, producer }]);
    return { results: outcomes[0]!, consumedWriteUnits };
  }

  /**
   * Appends to several topics in one atomic step, optionally with `joined`: parts of another store
   * (a fenced offset commit, for read-process-write) that must hold and be written in the same
   * transaction. When they do not hold, nothing is written and `onFailed`'s error is thrown.
   */
  async produceAll(
    requests: readonly { readonly topic: string; readonly events: readonly ProduceEvent[]; readonly producer?: ProducerStamp }[],
    joined?: JoinedWrite,
  ): Promise<{ outcomes: ProduceResult[][]; consumedWriteUnits?: number }> {
    try {
      return await this.produceAllOnce(requests, joined);
    } catch (err) {
      if (!(err instanceof StaleTopicConfig)) throw err;
      // Nothing visible was written: plan again from the topics as they are now.
      for (const r of requests) this.configs.forget(r.topic);
      try {
        return await this.produceAllOnce(requests, joined);
      } catch (again) {
        if (!(again instanceof StaleTopicConfig)) throw again;
        throw new TopicNotFoundError('The topic was deleted while this request was appending to it');
      }
    }
  }

  private async produceAllOnce(
    requests: readonly { readonly topic: string; readonly events: readonly ProduceEvent[]; readonly producer?: ProducerStamp }[],
    joined?: JoinedWrite,
  ): Promise<{ outcomes: ProduceResult[][]; consumedWriteUnits?: number }> {
    const now = this.now();
    const producer = requests[0]?.producer;
    if (requests.some((r) => r.producer) && (requests.length !== 1 || joined)) {
      throw new InvalidRequestError('An idempotent producer stamp is for one produce request to one topic');
    }
    // Requests naming the same topic are one append to it: their events in request order, as if
    // sent in one produce request. Planned separately they would write one head or one message
    // ID's dedupe record twice in one transaction (which DynamoDB refuses), or answer a message ID
    // as a duplicate of a write that never happened.
    const byTopic = new Map<string, { events: ProduceEvent[]; slots: [request: number, index: number][] }>();
    let eventCount = 0;
    requests.forEach((request, r) => {
      let merged = byTopic.get(request.topic);
      if (!merged) byTopic.set(request.topic, (merged = { events: [], slots: [] }));
      request.events.forEach((event, i) => {
        merged.events.push(event);
        merged.slots.push([r, i]);
      });
      eventCount += request.events.length;
    });
    // The limits hold for the whole atomic append, whatever topics its events go to.
    if (eventCount > EVENT_LIMITS.maxEventsPerRequest) throw tooManyEvents(eventCount);
    const budget = { bytes: 0 };
    const work = [];
    for (const [topic, merged] of byTopic) {
      // An event naming a partition the cached configuration lacks: the topic may have grown.
      const wanted = Math.max(-1, ...merged.events.map((e) => e.partition ?? -1));
      let config = await this.cachedTopic(topic);
      if (wanted >= config.partitions) config = await this.cachedTopic(topic, 0);
      const prepared = this.prepare(config, merged.events, now, budget, producer);
      if (producer && prepared.some((p) => p.partition !== prepared[0]!.partition)) {
        throw new InvalidRequestError(
          'The events of an idempotent producer\'s request must go to one partition (its sequence numbers are per partition)',
          { details: { producerId: producer.id } },
        );
      }
      const dedupe = config.dedupeWindowMs > 0;
      // A message ID repeated within the request is a duplicate of its first occurrence.
      const firstById = new Map<string, number>();
      const pending: Prepared[] = [];
      for (const p of prepared) {
        if (dedupe && p.callerId && firstById.has(p.record.m)) continue;
        firstById.set(p.record.m, p.index);
        pending.push(p);
      }
      work.push({ config, prepared, slots: merged.slots, firstById, pending, results: new Array<ProduceResult | undefined>(prepared.length) });
    }

    let consumed: number | undefined;
    let joinedDone = joined === undefined;
    // Optimistic concurrency on the partition heads, not a retry of AWS errors: each round plans
    // offsets from the heads it reads, and a round that lost the race to another producer (heads
    // moved, message IDs taken) is planned again from the new heads. AWS errors are retried once,
    // by the SDK (lambda/core/aws/clients.ts); whatever it gives up on goes straight to the caller.
    for (let attempt = 0; !joinedDone || work.some((w) => w.pending.length > 0); attempt++) {
      if (attempt >= this.maxAppendAttempts) {
        throw new ThrottledError(`Appends lost a race ${attempt} times (contended partitions); retry with backoff`);
      }
      const open = work.filter((w) => w.pending.length > 0);
      // One partition, no message IDs to remember, nothing joined: the store appends without a
      // transaction, to the head's tail or one batch. Such an append reads its head eventually
      // consistently on the first try: its writes fail on a stale head, and re-plans read
      // consistently. A transaction keeps consistent reads (a stale head would cancel all of it).
      const single = joined === undefined && open.length === 1 && singleItemCandidate(open[0]!.config, open[0]!.pending);
      const consistent = attempt > 0 || !single;
      const planned = await Promise.all(open.map(async (w) => ({ w, ...(await this.plan(w.config, w.pending, now, consistent, single, producer)) })));
      // A batch the producer's partition head already remembers: answered with its offsets.
      for (const { w, duplicateAt } of planned) {
        if (duplicateAt === undefined) continue;
        w.pending.forEach((p, i) => (w.results[p.index] = { partition: p.partition, offset: duplicateAt + i, messageId: p.record.m, duplicate: true }));
        w.pending = [];
      }
      const plans = planned.filter((p) => p.duplicateAt === undefined);
      if (plans.length === 0 && joinedDone) break;
      const tx = new WriteTransaction();
      joined?.addTo(tx);
      const actions = plans.reduce((n, p) => n + p.actions, 0) + tx.size;
      if (actions > EVENT_LIMITS.maxTransactionActions) throw tooManyActions(actions);
      try {
        const outcome = await this.log.append(plans.map((p) => p.append), tx);
        if (outcome.consumedWriteUnits !== undefined) consumed = (consumed ?? 0) + outcome.consumedWriteUnits;
        for (const { append } of plans) for (const part of append.partitions) this.rememberHead(append.topicId, part.partition, part.next, now);
        for (const { w, offsets } of plans) {
          for (const p of w.pending) w.results[p.index] = { ...offsets.get(p.index)!, messageId: p.record.m, duplicate: false };
          w.pending = [];
        }
        joinedDone = true;
      } catch (err) {
        if (!(err instanceof AppendConflict)) throw err;
        if (err.joinedFailures.length > 0 && joined) throw await joined.onFailed(err.joinedFailures);
        for (const w of work) {
          w.pending = w.pending.filter((p) => {
            const original = err.takenMessageIds.get(`${w.config.topicId}#${p.record.m}`);
            if (!original || original.untilMs <= now) return true;
            w.results[p.index] = duplicateOf(original);
            return false;
          });
        }
        if (err.movedHeads > 0) await this.sleep(backoffDelay(attempt, { initialDelayMs: 10, maxDelayMs: 500 }));
      }
    }

    const outcomes: ProduceResult[][] = requests.map((r) => new Array<ProduceResult>(r.events.length));
    for (const w of work) {
      for (const p of w.prepared) {
        const [r, i] = w.slots[p.index]!;
        outcomes[r]![i] = w.results[p.index] ?? { ...w.results[w.firstById.get(p.record.m)!]!, duplicate: true };
      }
    }
    return { outcomes, consumedWriteUnits: consumed };
  }

  /** Checks every limit and fills in message IDs, timestamps and partitions, before any write. */
  private prepare(
    config: TopicConfig,
    events: readonly ProduceEvent[],
    now: number,
    budget: { bytes: number },
    producer?: ProducerStamp,
  ): Prepared[] {
    if (events.length > EVENT_LIMITS.maxEventsPerRequest) throw tooManyEvents(events.length);
    let keylessPartition: number | undefined;
    const keylessCount = events.filter((e) => e.partition === undefined && (e.key === undefined || e.key === null)).length;
    return events.map((event, index) => {
      const size = checkEventLimits(event, index);
      const headers = event.headers ?? {};
      const headerCount = Object.keys(headers).length;
      budget.bytes += size;
      if (budget.bytes > EVENT_LIMITS.maxRequestBytes) {
        throw new RequestTooLargeError(`The events of a request may total at most ${EVENT_LIMITS.maxRequestBytes} bytes`, {
          details: { limit: 'maxRequestBytes', max: EVENT_LIMITS.maxRequestBytes },
        });
      }

      let partition: number;
      if (event.partition !== undefined) {
        partition = event.partition;
        this.requirePartition(config, partition);
      } else if (event.key !== undefined && event.key !== null) {
        partition = partitionForKey(event.key, config.partitions);
      } else {
        partition = keylessPartition ??= this.keylessPartitioner(config).next(keylessCount);
      }
      const record: StoredRecord = {
        ...(event.key === undefined || event.key === null ? {} : { k: event.key }),
        ...(event.value === undefined ? {} : { v: event.value }),
        ...(event.valueBase64 === undefined ? {} : { b: event.valueBase64 }),
        ...(headerCount > 0 ? { h: headers } : {}),
        t: event.timestamp ?? now,
        // An idempotent producer's events get IDs from their partition and sequence: unique in the
        // topic, and the same on every retry.
        m: event.messageId ?? (producer ? producerMessageId(producer, partition, index) : this.newMessageId()),
      };
      return { index, partition, record, callerId: event.messageId !== undefined };
    });
  }

  /**
   * Keyless events of one request go to one partition (Kafka's sticky partitioner), so a request
   * touches one head; the next request goes to the partition that got the fewest keyless events
   * from this instance, so partitions stay balanced by events whatever the request sizes. Each
   * Lambda instance starts at a random partition, so their sum is balanced too.
   */
  private keylessPartitioner(config: TopicConfig): KeylessPartitioner {
    let partitioner = this.keyless.get(config.topicId);
    if (partitioner?.partitions !== config.partitions) {
      partitioner = new KeylessPartitioner(config.partitions, { stickyEvents: 1 });
      this.keyless.set(config.topicId, partitioner);
    }
    return partitioner;
  }

  /**
   * Heads to plan from: for one partition, eventually consistent or not, the one this instance
   * last saw if it is fresh enough (HEAD_CACHE_MS); else read. A tombstone means the topic was
   * deleted after its configuration was read.
   */
  private async readHeads(config: TopicConfig, partitions: readonly number[], consistent: boolean, now: number): Promise<Map<number, PartitionHead>> {
    const maxAge = config.retentionMs === RETAIN_FOREVER ? HEAD_CACHE_MS : Math.min(HEAD_CACHE_MS, config.retentionMs / 10);
    const cached = partitions.length === 1 && !consistent ? this.heads.get(`${config.topicId}#${partitions[0]}`) : undefined;
    let heads: Map<number, PartitionHead>;
    if (cached && now - cached.at < maxAge) {
      heads = new Map([[partitions[0]!, cached.head]]);
    } else {
      heads = await this.log.readHeads(config.topicId, partitions, { consistent });
      for (const [p, head] of heads) this.rememberHead(config.topicId, p, head, now);
    }
    for (const head of heads.values()) if (head.deleted) throw new StaleTopicConfig(config.topicId);
    return heads;
  }

  private rememberHead(topicId: string, partition: number, head: PartitionHead, now: number): void {
    if (this.heads.size >= MAX_CACHED) this.heads.clear();
    this.heads.set(`${topicId}#${partition}`, { head, at: now });
  }

  /** `single`: the store writes this append without a transaction (to a tail, or one batch). */
  private async plan(config: TopicConfig, pending: readonly Prepared[], now: number, consistent: boolean, single: boolean, producer?: ProducerStamp) {
    const byPartition = new Map<number, Prepared[]>();
    for (const p of pending) {
      const list = byPartition.get(p.partition);
      if (list) list.push(p);
      else byPartition.set(p.partition, [p]);
    }
    let heads = await this.readHeads(config, [...byPartition.keys()], consistent, now);
    if (producer) {
      // One partition (checked in produceAll). Fenced or out of order is decided on a consistent
      // read only: a stale head may lack the producer's last batch.
      const partition = pending[0]!.partition;
      let check;
      try {
        check = checkSequence(heads.get(partition)?.producers, producer, pending.length);
      } catch (err) {
        if (consistent) throw err;
        heads = await this.readHeads(config, [partition], true, now);
        check = checkSequence(heads.get(partition)?.producers, producer, pending.length);
      }
      if (check.kind === 'duplicate') return { duplicateAt: check.offset, append: undefined, offsets: new Map(), actions: 0 };
    }

    const offsets = new Map<number, { partition: number; offset: number }>();
    const dedupe: DedupeRecord[] = [];
    const partitions: AppendPlan['partitions'][number][] = [];
    let actions = 0;
    for (const [partition, items] of byPartition) {
      const expected = heads.get(partition);
      const first = expected?.nextOffset ?? 0;
      const nextOffset = first + items.length;
      const runningMax = Math.max(expected?.maxTimestamp ?? 0, ...items.map((i) => i.record.t));
      const producers = producer ? recordBatch(expected?.producers, producer, items.length, first, now) : expected?.producers;
      // The tail's events go with the new ones: into the next head's tail while that fits one
      // write unit, else into batch items from where the batches end.
      const tail = expected?.tail;
      // Without a transaction (whose token makes the SDK's retry safe), the store knows its own
      // write by the first new event's message ID, unique when the service made it (a UUID, or the
      // idempotent producer's); a caller's own ID may not be, so that event carries a write ID too.
      const writeId = single && items[0]!.callerId ? randomBytes(8).toString('base64') : undefined;
      const records = [...(tail ? decodeRecords(tail) : []), ...items.map((i, j) => (j === 0 && writeId ? { ...i.record, w: writeId } : i.record))];
      const base = expected ? batchesEnd(expected) : 0;
      const encoded = encodeRecords(records);
      const next = { nextOffset, maxTimestamp: runningMax, ...(producers ? { producers } : {}) };
      const withTail = { ...next, tail: { partition, baseOffset: base, count: records.length, ...encoded, runningMaxTimestamp: runningMax } };
      const batches: StoredBatch[] = [];
      if (this.log.headFits(config.topicId, partition, withTail)) {
        partitions.push({ partition, expected, next: withTail, batches, ...(producer ? { producer } : {}) });
      } else {
        let at = base;
        let batchMax = expected?.maxTimestamp ?? 0;
        for (const chunk of splitIntoBatches(records, encoded)) {
          const maxT = Math.max(...chunk.records.map((r) => r.t));
          batchMax = Math.max(batchMax, maxT);
          batches.push({
            partition,
            baseOffset: at,
            count: chunk.records.length,
            codec: chunk.encoded.codec,
            data: chunk.encoded.data,
            runningMaxTimestamp: batchMax,
            ...(config.retentionMs === RETAIN_FOREVER ? {} : { expiresAt: Math.ceil((maxT + config.retentionMs) / 1000) }),
          });
          at += chunk.records.length;
        }
        const stamped = producer && batches.length === 1 ? [{ ...batches[0]!, producer, ...(items[0]!.callerId ? {} : { producerInMessageId: true as const }) }] : batches;
        partitions.push({ partition, expected, next, batches: stamped, ...(producer ? { producer } : {}) });
      }
      let offset = first;
      for (const item of items) {
        offsets.set(item.index, { partition, offset });
        if (config.dedupeWindowMs > 0 && item.callerId) {
          dedupe.push({ messageId: item.record.m, partition, offset, untilMs: now + config.dedupeWindowMs });
        }
        offset++;
      }
      // A head and at least one batch per partition, even when the events fit the tail: the limit
      // on a request must not depend on how well its events compress.
      actions += 1 + Math.max(1, batches.length);
    }
    actions += dedupe.length;
    const append: AppendPlan = { topicId: config.topicId, partitions, dedupe, nowMs: now };
    return { duplicateAt: undefined, append, offsets, actions };
  }

}

/** One partition and no message IDs to remember: the store may append without a transaction. */
function singleItemCandidate(config: TopicConfig, pending: readonly Prepared[]): boolean {
  const partition = pending[0]?.partition;
  return pending.every((p) => p.partition === partition && !(config.dedupeWindowMs > 0 && p.callerId));
}

function tooManyActions(actions: number): RequestTooLargeError {
  return new RequestTooLargeError(
    `This request needs ${actions} transactional writes (one per message ID with dedupe on, plus a head and ` +
      `a batch per partition touched, plus one per committed offset); at most ${EVENT_LIMITS.maxTransactionActions} ` +
      'fit one atomic append. Send fewer events, or fewer partitions, per request.',
    { details: { limit: 'maxTransactionActions', max: EVENT_LIMITS.maxTransactionActions, actual: actions } },
  );
}

function duplicateOf(original: DedupeRecord): ProduceResult {
  return { partition: original.partition, offset: original.offset, messageId: original.messageId, duplicate: true };
}

/** Splits a partition's records into batches that each fit one item, keeping their order. */
function splitIntoBatches(records: StoredRecord[], encoded = encodeRecords(records)): { records: StoredRecord[]; encoded: ReturnType<typeof encodeRecords> }[] {
  if (encoded.data.length <= MAX_BATCH_DATA_BYTES) return [{ records, encoded }];
  if (records.length === 1) {
    throw new EventTooLargeError(`An event encodes to ${encoded.data.length} bytes, more than one item holds`, {
      details: { max: MAX_BATCH_DATA_BYTES, actual: encoded.data.length },
    });
  }
  const half = Math.ceil(records.length / 2);
  return [...splitIntoBatches(records.slice(0, half)), ...splitIntoBatches(records.slice(half))];
}
