/**
 * A batching producer in the spirit of KafkaJS's: `send({ topic, messages })` per call, batched
 * per partition behind the scenes.
 *
 * ```ts
 * const producer = sluice.producer({ lingerMs: 10 });
 * const results = await producer.send({ topic: 'orders', messages: [{ key: 'customer-1', value: { total: 42 } }] });
 * await producer.disconnect(); // sends what is pending, then refuses new sends
 * ```
 *
 * How a message travels:
 * 1. `send` checks every message as the service would (client/message-checks.ts); one bad message
 *    rejects its whole send, nothing of it sent. Messages keep the `messageId` they are given, if
 *    any; the idempotent producer (4.) needs none.
 * 2. Its partition: `partition` if given, else `partitionForKey(key, partitions)` (Kafka's
 *    murmur2) when it has a key, else the topic's sticky partition (KeylessPartitioner, as Kafka's
 *    uniform sticky partitioner): it takes a batch's worth of keyless messages (`batchSize`, or
 *    `EVENT_LIMITS.maxRequestBytes`), then moves on to the partition that got the fewest. It
 *    counts messages, not requests, so how sends are batched, and which partition has a request
 *    in flight, does not skew the spread. The partition count comes from `describeTopic`, asked
 *    again in the background once `metadataMaxAgeMs` old (Kafka's `metadata.max.age.ms`), and at
 *    once for a message whose `partition` is beyond the count known: partitions added to a topic
 *    (`PATCH /topics/{topic}`) get keyless messages, and keys move to them, within that time.
 * 3. Messages wait in a queue per partition, in send order. A batch is sent when it is full
 *    (`batchSize` events, or `EVENT_LIMITS.maxRequestBytes`), when its first message has waited
 *    `lingerMs`, or on `flush`; messages of sends made in the same tick always share a batch. One
 *    request per batch, and at most one request in flight per partition: the next batch waits for
 *    the previous one to complete (retries included), so a partition is never reordered.
 * 4. Idempotent by default (as Kafka's producer since 3.0): each request carries the producer's ID,
 *    its epoch (the time the Producer was made, in ms) and the sequence of its first event on that
 *    partition, and the partition head remembers the producer's last 5 batches. Retriable failures
 *    are retried by the client (its `retry` option) with the same request, so an append whose
 *    response was lost is answered `duplicate: true` with its original offsets, not appended twice,
 *    without message IDs (each would cost a dedupe write; give your own only to deduplicate across
 *    producers). A batch that still fails starts a new epoch, sequences from 0, so nothing after it
 *    is mistaken for it. A Producer made with the same `producerId` fences this one
 *    (`ProducerFencedError`) on the partitions it writes to. `idempotent: false`: random message
 *    IDs instead, as before.
 *
 * A send settles once every batch holding its messages has completed: it resolves to one
 * ProduceResult per message, in order, or rejects with the first error. Messages of one send that
 * went to other partitions may have been appended even so (as in Kafka); give messages your own
 * `messageId` to send them again exactly once.
 */
import { randomUUID } from 'node:crypto';
import { SluiceError } from '../api/errors';
import { EVENT_LIMITS, type ProduceEvent, type ProduceResult } from '../api/events';
import { KeylessPartitioner, partitionForKey } from '../api/partitioner';
import { checkMessage } from './message-checks';
import type { SluiceClient } from './sluice-client';

export interface ProducerOptions {
  /**
   * How long a message may wait for others to share its request, in ms (Kafka's `linger.ms`).
   * A number of at least 0; 0 sends as soon as the partition has no request in flight.
   * @default 5
   */
  readonly lingerMs?: number;
  /**
   * Most events in one request, 1-500 (`EVENT_LIMITS.maxEventsPerRequest`); a batch is also
   * closed before its events total more than `EVENT_LIMITS.maxRequestBytes` (3 MiB). A request
   * goes to one partition and is one DynamoDB transaction of at most 100 writes: with dedupe on,
   * one per event, plus the partition head, plus one per stored item (an item holds up to about
   * 380 KB of encoded events). So 40 events fit whatever their size (40 + 1 + at most 40 = 81),
   * and up to 98 small ones fit one item; a batch that does not fit fails with
   * `RequestTooLargeError`. With the topic's `dedupeWindowMs` at 0, only the head and items count.
   * @default 40
   */
  readonly batchSize?: number;
  /** Stamp requests as an idempotent producer (above). @default true */
  readonly idempotent?: boolean;
  /**
   * The idempotent producer's ID: give a stable one (1-64 of `A-Za-z0-9._:-`) so that a restarted
   * process fences its predecessor. @default a random UUID
   */
  readonly producerId?: string;
  /**
   * How old a topic's partition count may get before the producer describes the topic again, in
   * ms (Kafka's `metadata.max.age.ms`); a number of at least 0.
   * @default 300000 (5 minutes)
   */
  readonly metadataMaxAgeMs?: number;
}

export const PRODUCER_DEFAULTS = {
  lingerMs: 5,
  batchSize: 40,
  idempotent: true,
  metadataMaxAgeMs: 300_000,
} as const satisfies Required<Omit<ProducerOptions, 'producerId'>>;

type ResolvedOptions = Required<Omit<ProducerOptions, 'producerId'>> & { readonly producerId?: string };

/** A message: an event of `POST /topics/{topic}/events` (key, value or valueBase64, headers, ...). */
export type ProducerMessage = ProduceEvent;

export interface ProducerRecord {
  readonly topic: string;
  readonly messages: readonly ProducerMessage[];
}

/** `send` after `disconnect`. */
export class ProducerDisconnectedError extends SluiceError {
  override readonly code = 'ProducerDisconnected';
  override readonly status = 0;
}

/** What the producer needs of a client (a SluiceClient). */
export type ProducerClient = Pick<SluiceClient, 'describeTopic' | 'produce'>;

/** One `send` call, settled when all its messages are. */
interface PendingSend {
  readonly results: ProduceResult[];
  remaining: number;
  error: { readonly cause: unknown } | undefined;
  readonly resolve: (results: ProduceResult[]) => void;
  readonly reject: (err: unknown) => void;
}

interface Entry {
  readonly event: ProduceEvent;
  readonly bytes: number;
  readonly enqueuedAt: number;
  readonly send: PendingSend;
  readonly index: number;
}

interface PartitionQueue {
  readonly topic: string;
  readonly partition: number;
  readonly pending: Entry[];
  inFlight: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  drainScheduled: boolean;
  /** The epoch `sequence` counts in, and the sequence of the next batch's first event. */
  epoch: number;
  sequence: number;
}

interface TopicState {
  /** The partition count, and the partitioner of keyless messages over it: replaced when the count changes. */
  partitions: number;
  keyless: KeylessPartitioner;
  readonly queues: Map<number, PartitionQueue>;
  /** When the count was learned (ms since the epoch). */
  describedAt: number;
  /** A describe in flight, so concurrent sends share it. */
  refresh: Promise<void> | undefined;
}

const OPTION_RULES: readonly { readonly condition: (o: ResolvedOptions) => boolean; readonly message: string }[] = [
  {
    condition: (o) => o.producerId === undefined || /^[A-Za-z0-9._:-]{1,64}$/.test(o.producerId),
    message: 'producerId must be 1-64 letters, digits, ".", "_", ":" or "-"',
  },
  { condition: (o) => Number.isFinite(o.lingerMs) && o.lingerMs >= 0, message: 'lingerMs must be a number of at least 0' },
  {
    condition: (o) => Number.isFinite(o.metadataMaxAgeMs) && o.metadataMaxAgeMs >= 0,
    message: 'metadataMaxAgeMs must be a number of at least 0',
  },
  {
    condition: (o) => Number.isInteger(o.batchSize) && o.batchSize >= 1 && o.batchSize <= EVENT_LIMITS.maxEventsPerRequest,
    message: `batchSize must be an integer from 1 to ${EVENT_LIMITS.maxEventsPerRequest}`,
  },
];

export class Producer {
  readonly #client: ProducerClient;
  readonly #lingerMs: number;
  readonly #batchSize: number;
  readonly #metadataMaxAgeMs: number;
  readonly #topics = new Map<string, Promise<TopicState>>();
  /** Sends not settled yet, as promises that never reject (for flush). */
  readonly #sends = new Set<Promise<void>>();
  #flushing = 0;
  #disconnected = false;
  readonly #idempotent: boolean;
  readonly #producerId: string;
  /** Starts at the time the producer was made, so a restart with the same ID has a newer one. */
  #epoch = Date.now();

  /** @throws TypeError listing every option that breaks its rule */
  constructor(client: ProducerClient, options: ProducerOptions = {}) {
    const resolved: ResolvedOptions = { ...PRODUCER_DEFAULTS, ...withoutUndefined(options) };
    const broken = OPTION_RULES.filter((rule) => !rule.condition(resolved)).map((rule) => rule.message);
    if (broken.length > 0) throw new TypeError(`Invalid producer options: ${broken.join('; ')}`);
    this.#client = client;
    this.#lingerMs = resolved.lingerMs;
    this.#batchSize = resolved.batchSize;
    this.#metadataMaxAgeMs = resolved.metadataMaxAgeMs;
    this.#idempotent = resolved.idempotent;
    this.#producerId = resolved.producerId ?? randomUUID();
  }

  /**
   * Queues the messages and resolves, once all are appended, to their results in order. An empty
   * `messages` resolves to `[]` without a request.
   * @throws ProducerDisconnectedError after `disconnect()`; the errors of `describeTopic` and of
   * `SluiceClient.produce`; the service's validation errors for a bad message (nothing sent)
   */
  send(record: ProducerRecord): Promise<ProduceResult[]> {
    if (this.#disconnected) {
      return Promise.reject(new ProducerDisconnectedError('The producer is disconnected; create a new one to send'));
    }
    const result = this.#send(record);
    const settled = result.then(
      () => undefined,
      () => undefined,
    );
    this.#sends.add(settled);
    void settled.then(() => this.#sends.delete(settled));
    return result;
  }

  /**
   * Sends every queued message now, without waiting for `lingerMs`, and resolves once every send
   * made before the call has settled. It never rejects: each send's own promise reports its failure.
   */
  async flush(): Promise<void> {
    this.#flushing++;
    try {
      for (const topic of this.#topics.values()) {
        void topic.then((state) => state.queues.forEach((queue) => this.#drain(state, queue)), () => undefined);
      }
      await Promise.all([...this.#sends]);
    } finally {
      this.#flushing--;
    }
  }

  /** Refuses new sends (`ProducerDisconnectedError`), then flushes. Safe to call more than once. */
  async disconnect(): Promise<void> {
    this.#disconnected = true;
    await this.flush();
  }

  async #send({ topic, messages }: ProducerRecord): Promise<ProduceResult[]> {
    if (messages.length === 0) return [];
    const state = await this.#topicState(topic);
    // A partition beyond the count known may have been added since: ask before refusing it.
    if (messages.some((m) => m.partition !== undefined && m.partition >= state.partitions)) await this.#describe(topic, state).catch(() => undefined);
    const prepared = messages.map((message, index) => {
      const event = message.messageId === undefined && !this.#idempotent ? { ...message, messageId: randomUUID() } : message;
      return { event, bytes: checkMessage(event, index, topic, state.partitions) };
    });
    return new Promise<ProduceResult[]>((resolve, reject) => {
      const results = new Array<ProduceResult>(messages.length);
      const send: PendingSend = { results, remaining: messages.length, error: undefined, resolve, reject };
      const touched = new Set<PartitionQueue>();
      prepared.forEach(({ event, bytes }, index) => {
        const partition = event.partition ?? (event.key == null ? state.keyless.next(1, bytes) : partitionForKey(event.key, state.partitions));
        const queue = this.#queue(state, topic, partition);
        queue.pending.push({ event: { ...event, partition }, bytes, enqueuedAt: Date.now(), send, index });
        touched.add(queue);
        // A full batch goes at once.
        this.#drain(state, queue, true);
      });
      // The rest a moment later: the messages of sends made in the same tick share their batches.
      for (const queue of touched) this.#drainSoon(state, queue);
    });
  }

  /**
   * Describes the topic once, then again in the background once `metadataMaxAgeMs` old; a failure
   * of the first is not cached, so the next send asks again.
   */
  #topicState(topic: string): Promise<TopicState> {
    let state = this.#topics.get(topic);
    if (!state) {
      state = this.#client.describeTopic(topic).then((description) => ({
        partitions: description.partitions,
        keyless: this.#keylessPartitioner(description.partitions),
        queues: new Map(),
        describedAt: Date.now(),
        refresh: undefined,
      }));
      this.#topics.set(topic, state);
      state.catch(() => this.#topics.delete(topic));
    } else {
      void state.then((s) => {
        if (Date.now() - s.describedAt >= this.#metadataMaxAgeMs) void this.#describe(topic, s).catch(() => undefined);
      }, () => undefined);
    }
    return state;
  }

  /** Learns the topic's partition count again (one describe at a time); a failed one keeps the old count. */
  #describe(topic: string, state: TopicState): Promise<void> {
    state.refresh ??= this.#client
      .describeTopic(topic)
      .then((description) => {
        if (description.partitions !== state.partitions) {
          state.partitions = description.partitions;
          state.keyless = this.#keylessPartitioner(description.partitions);
        }
        state.describedAt = Date.now();
      })
      .finally(() => (state.refresh = undefined));
    return state.refresh;
  }

  #keylessPartitioner(partitions: number): KeylessPartitioner {
    return new KeylessPartitioner(partitions, { stickyEvents: this.#batchSize, stickyBytes: EVENT_LIMITS.maxRequestBytes });
  }

  #queue(state: TopicState, topic: string, partition: number): PartitionQueue {
    let queue = state.queues.get(partition);
    if (!queue) {
      queue = { topic, partition, pending: [], inFlight: false, timer: undefined, drainScheduled: false, epoch: this.#epoch, sequence: 0 };
      state.queues.set(partition, queue);
    }
    return queue;
  }

  #drainSoon(state: TopicState, queue: PartitionQueue): void {
    if (queue.drainScheduled) return;
    queue.drainScheduled = true;
    queueMicrotask(() => {
      queue.drainScheduled = false;
      this.#drain(state, queue);
    });
  }

  /**
   * Sends the queue's next batch if nothing is in flight and the batch is full, or (unless
   * `onlyWhenFull`) lingered long enough or is being flushed; else arms the linger timer.
   */
  #drain(state: TopicState, queue: PartitionQueue, onlyWhenFull = false): void {
    const first = queue.pending[0];
    if (queue.inFlight || !first) return;
    const count = this.#batchLength(queue.pending);
    const full = count < queue.pending.length || count === this.#batchSize;
    const waited = Date.now() - first.enqueuedAt;
    if (!full && onlyWhenFull) return;
    if (!full && this.#flushing === 0 && waited < this.#lingerMs) {
      queue.timer ??= setTimeout(() => {
        queue.timer = undefined;
        this.#drain(state, queue);
      }, this.#lingerMs - waited);
      return;
    }
    clearTimeout(queue.timer);
    queue.timer = undefined;
    const batch = queue.pending.splice(0, count);
    queue.inFlight = true;
    if (queue.epoch !== this.#epoch) {
      queue.epoch = this.#epoch;
      queue.sequence = 0;
    }
    const producer = this.#idempotent ? { id: this.#producerId, epoch: queue.epoch, sequence: queue.sequence } : undefined;
    this.#client
      .produce(
        queue.topic,
        batch.map((entry) => entry.event),
        ...(producer ? [{ producer }] : []),
      )
      .then(
        (results) => {
          queue.sequence += batch.length;
          batch.forEach((entry, i) => settle(entry, results[i], undefined));
        },
        (err: unknown) => {
          // Whether it landed is unknown: a new epoch, so no later batch reuses its sequences.
          if (producer) this.#epoch = Math.max(this.#epoch + 1, Date.now());
          batch.forEach((entry) => settle(entry, undefined, err));
        },
      )
      .finally(() => {
        queue.inFlight = false;
        this.#drain(state, queue);
      });
  }

  /** How many of the first pending entries fit one request. */
  #batchLength(pending: readonly Entry[]): number {
    let count = 0;
    let bytes = 0;
    for (const entry of pending) {
      if (count === this.#batchSize || (count > 0 && bytes + entry.bytes > EVENT_LIMITS.maxRequestBytes)) break;
      bytes += entry.bytes;
      count++;
    }
    return count;
  }
}

function settle(entry: Entry, result: ProduceResult | undefined, err: unknown): void {
  const send = entry.send;
  if (result) send.results[entry.index] = result;
  else send.error ??= { cause: err ?? new Error('The service answered fewer results than events') };
  if (--send.remaining > 0) return;
  if (send.error) send.reject(send.error.cause);
  else send.resolve(send.results);
}

function withoutUndefined<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
