/**
 * A group consumer in the spirit of KafkaJS's:
 *
 * ```ts
 * const consumer = sluice.consumer({ groupId: 'billing' });
 * consumer.subscribe({ topics: ['orders'] });
 * const running = consumer.run({
 *   guarantee: 'at-least-once',
 *   eachMessage: async ({ topic, partition, message }) => { ... },
 * });
 * // later (e.g. on SIGTERM):
 * await consumer.disconnect(); // finishes the current batch, commits it, leaves the group
 * await running;               // run() settles once the consumer has stopped
 * ```
 *
 * The loop: join (a member ID of its own, kept for the consumer's life), then call the records
 * route again and again (a long poll of `waitMs`), and deliver what it answers partition by
 * partition (client/consumer-delivery.ts). Once a long poll comes back empty, it polls quickly
 * (no server wait) and sleeps on its side, backing off up to `idlePollMs`, until records come
 * again: an idle member holds no function open. Heartbeats go out every `heartbeatIntervalMs` in
 * the background (client/consumer-membership.ts), unless records calls refreshed the session
 * meanwhile. A member the group fenced out rejoins with the same
 * ID; a new generation is learned by a heartbeat. A records call that fails is not retried as
 * is: the server moved the member's positions, so the consumer leaves and joins again (a new
 * generation: reads restart from the committed offsets), then polls again, per `retry`.
 *
 * Pausing: records of a paused partition are neither delivered nor committed; the first offset
 * dropped is remembered, and `resume` seeks the group back to it (POST seek) before the next poll,
 * if the member still owns the partition (else its new owner reads from the committed offset).
 */
import { randomUUID } from 'node:crypto';
import { OffsetOutOfRangeError, RebalanceInProgressError } from '../api/errors';
import type { TopicPartitionOffset } from '../api/groups';
import { RETRY_DEFAULTS, withRetries } from '../api/retry';
import { deliver, type DeliveryClient, type DeliveryContext, type Guarantee, type Handler, type PartitionBatch } from './consumer-delivery';
import { isGone, Membership, tpKey, type MembershipClient, type TopicPartition } from './consumer-membership';
import { CONSUMER_DEFAULTS, resolveConsumerOptions, type ConsumerOptions, type ResolvedConsumerOptions } from './consumer-options';
import { Pauses, type TopicPartitions } from './consumer-pauses';
import type { RecordsResponse, SluiceClient } from './sluice-client';

export type { ConsumerOptions } from './consumer-options';
export type { TopicPartitions } from './consumer-pauses';

export type RunConfig = Handler & {
  /** @default 'at-least-once' */
  readonly guarantee?: Guarantee;
  /** Called with the member's partitions after it joins and whenever they change. */
  readonly onAssignment?: (assignments: readonly TopicPartition[]) => void;
};

/** What the consumer needs of a client (a SluiceClient). */
export type ConsumerClient = MembershipClient & DeliveryClient & Pick<SluiceClient, 'records' | 'seek'>;

interface PendingSeek extends TopicPartition {
  readonly offset: number;
  /** A resume's rewind (applied only to an owned partition) rather than the user's seek. */
  readonly rewind: boolean;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

const GUARANTEES: readonly Guarantee[] = ['at-most-once', 'at-least-once', 'exactly-once'];

export class Consumer {
  readonly groupId: string;
  /** This consumer's member ID, kept when it rejoins. */
  readonly memberId: string = randomUUID();
  readonly #client: ConsumerClient;
  readonly #options: ResolvedConsumerOptions;
  readonly #topics = new Set<string>();
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  #done: Promise<void> | undefined;
  readonly #abort = new AbortController();
  #membership: Membership | undefined;
  readonly #pauses = new Pauses();
  #seeks: PendingSeek[] = [];

  /** @throws TypeError listing every option that breaks its rule (see ConsumerOptions) */
  constructor(client: ConsumerClient, options: ConsumerOptions) {
    this.#options = resolveConsumerOptions(options);
    this.#client = client;
    this.groupId = this.#options.groupId;
  }

  /** Adds topics to the subscription; only before `run`. */
  subscribe(subscription: { readonly topic: string } | { readonly topics: readonly string[] }): void {
    if (this.#state !== 'idle') throw new TypeError('subscribe before run()');
    for (const topic of 'topic' in subscription ? [subscription.topic] : subscription.topics) this.#topics.add(topic);
  }

  /**
   * Joins the group and consumes until `disconnect()`. Resolves once the consumer has stopped and
   * left; rejects when it had to stop (a handler that kept failing, an error it cannot recover
   * from), after leaving the group.
   */
  run(config: RunConfig): Promise<void> {
    const guarantee = config.guarantee ?? 'at-least-once';
    if (this.#state !== 'idle') return Promise.reject(new TypeError('run() was already called; create a new consumer'));
    if (this.#topics.size === 0) return Promise.reject(new TypeError('subscribe to a topic before run()'));
    if (!GUARANTEES.includes(guarantee)) return Promise.reject(new TypeError(`guarantee must be one of ${GUARANTEES.join(', ')}`));
    if (!config.eachMessage === !config.eachBatch) return Promise.reject(new TypeError('give eachMessage or eachBatch (one of them)'));
    this.#state = 'running';
    const membership = new Membership(this.#client, {
      group: this.groupId,
      memberId: this.memberId,
      topics: [...this.#topics],
      sessionTimeoutMs: this.#options.sessionTimeoutMs,
      heartbeatIntervalMs: this.#options.heartbeatIntervalMs,
      offsetReset: this.#options.offsetReset,
      clientId: this.#options.clientId,
      onAssignment: (assignments) => {
        this.#pauses.forgetUnless((topic, partition) => membership.owns(topic, partition));
        config.onAssignment?.(assignments);
      },
      onHeartbeatError: (err) => this.#options.logger?.warn('heartbeat failed', { group: this.groupId, error: err }),
    });
    this.#membership = membership;
    const maxRecords = this.#options.maxRecords ?? (guarantee === 'exactly-once' ? CONSUMER_DEFAULTS.exactlyOnceMaxRecords : CONSUMER_DEFAULTS.maxRecords);
    const context: DeliveryContext = {
      group: this.groupId,
      client: this.#client,
      membership,
      guarantee,
      handler: config,
      retry: this.#options.retry,
      isRunning: () => this.#state === 'running',
      isStale: (batch) => membership.generation !== batch.generation || !membership.owns(batch.topic, batch.partition),
      interruption: (batch) => this.#interruption(context, batch),
      onPaused: (topic, partition, offset) => this.#pauses.dropped(topic, partition, offset),
    };
    this.#done = this.#loop(context, maxRecords);
    return this.#done;
  }

  /** Stops delivering the partitions (all of a topic's, without `partitions`) until resumed. */
  pause(topics: readonly TopicPartitions[]): void {
    this.#pauses.pause(topics);
  }

  /**
   * Delivers the partitions again, from the first record dropped while they were paused. A topic
   * paused as a whole is resumed as a whole.
   * @throws TypeError for some partitions of a topic paused as a whole
   */
  resume(topics: readonly TopicPartitions[]): void {
    for (const rewind of this.#pauses.resume(topics)) {
      this.#seeks.push({ ...rewind, rewind: true, resolve: () => undefined, reject: () => undefined });
    }
  }

  /** What is paused: whole topics (no `partitions`), then single partitions. */
  paused(): TopicPartitions[] {
    return this.#pauses.paused();
  }

  /**
   * Sets the group's committed offset of a partition (POST seek); the group reads on from there.
   * While running, it is applied before the next poll and the partition's records fetched before
   * it are dropped; resolves once it is applied.
   */
  seek({ topic, partition, offset }: TopicPartition & { readonly offset: number }): Promise<void> {
    this.#pauses.forget(topic, partition);
    if (this.#state !== 'running') return this.#seek(topic, partition, offset);
    return new Promise((resolve, reject) => this.#seeks.push({ topic, partition, offset, rewind: false, resolve, reject }));
  }

  /** The member's partitions, as last heard from the group. */
  assignment(): readonly TopicPartition[] {
    return this.#membership?.assignments ?? [];
  }

  /**
   * Stops: abandons a waiting poll, lets the current batch finish and commits it, stops the
   * heartbeats and leaves the group (its partitions go to the other members at once). Rejects
   * when leaving fails. Safe to call more than once.
   */
  async disconnect(): Promise<void> {
    if (this.#state === 'idle') this.#state = 'stopped';
    if (this.#state !== 'running') return this.#state === 'stopping' ? this.#done : undefined;
    this.#state = 'stopping';
    this.#abort.abort();
    await this.#done;
  }

  async #loop(context: DeliveryContext, maxRecords: number): Promise<void> {
    const membership = context.membership;
    try {
      await membership.join();
      membership.startHeartbeats();
      // Empty answers in a row: past the first, the consumer polls quickly and sleeps on its side.
      let empty = 0;
      while (this.#state === 'running') {
        await this.#applySeeks(membership);
        const idle = empty > 0 && this.#options.idlePollMs > 0;
        const response = await this.#poll(context, maxRecords, idle ? 0 : this.#options.waitMs);
        if (response) await this.#deliverAll(context, response);
        empty = response && response.records.length === 0 ? empty + 1 : 0;
        if (empty > 0 && this.#options.idlePollMs > 0) {
          await abortableSleep(Math.min(this.#options.idlePollMs, 250 * 2 ** Math.min(empty - 1, 16)), this.#abort.signal);
        }
      }
    } catch (err) {
      this.#state = 'stopped';
      await membership.leave().catch(() => undefined);
      await this.#applySeeks(undefined);
      throw err;
    }
    this.#state = 'stopped';
    try {
      await membership.leave();
    } finally {
      await this.#applySeeks(undefined);
    }
  }

  async #poll(context: DeliveryContext, maxRecords: number, waitMs: number): Promise<RecordsResponse | undefined> {
    const membership = context.membership;
    let rejoin = false;
    try {
      return await withRetries(
        async () => {
          if (rejoin) await membership.rejoinFresh();
          rejoin = false;
          try {
            const sentAt = Date.now();
            const response = await this.#client.records(this.groupId, membership.memberId, {
              maxRecords,
              waitMs,
              commit: context.guarantee === 'at-most-once' && !this.#pauses.any(),
              signal: this.#abort.signal,
            });
            membership.contacted(sentAt);
            return response;
          } catch (err) {
            rejoin = RETRY_DEFAULTS.isRetriable(err);
            throw err;
          }
        },
        { ...this.#options.retry, isRetriable: (err) => this.#state === 'running' && RETRY_DEFAULTS.isRetriable(err) },
      );
    } catch (err) {
      if (this.#state !== 'running') return undefined; // disconnect abandoned the poll
      if (isGone(err)) await membership.join();
      else if (err instanceof RebalanceInProgressError) await membership.heartbeat();
      else throw err;
      return undefined;
    }
  }

  async #deliverAll(context: DeliveryContext, response: RecordsResponse): Promise<void> {
    const { membership, guarantee } = context;
    if (response.generation !== membership.generation) await membership.heartbeat();
    const batches = byPartition(response);
    if (guarantee === 'at-most-once' && this.#pauses.any()) {
      // The records call did not commit (it would have committed the paused partitions too).
      const offsets = batches
        .filter((b) => !this.#pauses.isPaused(b.topic, b.partition))
        .map((b) => ({ topic: b.topic, partition: b.partition, offset: b.records.at(-1)!.offset + 1 }));
      if (offsets.length > 0 && !(await this.#commitBeforeDelivery(context, response.generation, offsets))) return;
    }
    for (const batch of batches) {
      const interruption = this.#interruption(context, batch);
      if (interruption === 'paused') this.#pauses.dropped(batch.topic, batch.partition, batch.records[0]!.offset);
      if (interruption) continue;
      await deliver(context, batch);
    }
  }

  /** At-most-once with paused partitions: commit the others before delivering; false when refused. */
  async #commitBeforeDelivery(context: DeliveryContext, generation: number, offsets: TopicPartitionOffset[]): Promise<boolean> {
    try {
      await this.#client.commitOffsets(this.groupId, { memberId: this.memberId, generation, offsets });
      return true;
    } catch (err) {
      if (!(err instanceof RebalanceInProgressError) && !isGone(err)) throw err;
      await context.membership.heartbeat();
      return false;
    }
  }

  #interruption(context: DeliveryContext, batch: PartitionBatch): 'paused' | 'stop' | undefined {
    if (this.#state !== 'running') return 'stop';
    if (this.#pauses.isPaused(batch.topic, batch.partition)) return 'paused';
    if (this.#seeks.some((s) => s.topic === batch.topic && s.partition === batch.partition)) return 'stop';
    // At-most-once records are committed already: deliver them even if the group moved on.
    if (context.guarantee !== 'at-most-once' && context.isStale(batch)) return 'stop';
    return undefined;
  }

  /**
   * Sends the pending seeks: the user's (their promises settle with the outcome) and resumes'
   * rewinds (only for partitions the member owns; `membership` undefined: dropped). A rewind that
   * fails stops the consumer: polling on would skip the records it was to bring back.
   */
  async #applySeeks(membership: Membership | undefined): Promise<void> {
    const seeks = this.#seeks;
    this.#seeks = [];
    for (const seek of seeks) {
      if (seek.rewind && !membership?.owns(seek.topic, seek.partition)) continue;
      try {
        await this.#seek(seek.topic, seek.partition, seek.offset, seek.rewind);
        seek.resolve();
      } catch (err) {
        seek.reject(err);
        if (seek.rewind) throw err;
      }
    }
  }

  async #seek(topic: string, partition: number, offset: number, orEarliest = false): Promise<void> {
    try {
      await this.#client.seek(this.groupId, { topic, partitions: [partition], to: { offset } });
    } catch (err) {
      // A rewind to records that expired meanwhile: the earliest retained one is next.
      if (!(orEarliest && err instanceof OffsetOutOfRangeError)) throw err;
      await this.#client.seek(this.groupId, { topic, partitions: [partition], to: 'earliest' });
    }
  }
}

/** Resolves after `ms`, or at once when `signal` aborts (disconnect does not wait out an idle sleep). */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function byPartition(response: RecordsResponse): PartitionBatch[] {
  const batches = new Map<string, PartitionBatch & { records: RecordsResponse['records'][number][] }>();
  for (const record of response.records) {
    const key = tpKey(record.topic, record.partition);
    let batch = batches.get(key);
    if (!batch) {
      batch = { topic: record.topic, partition: record.partition, generation: response.generation, records: [] };
      batches.set(key, batch);
    }
    batch.records.push(record);
  }
  return [...batches.values()];
}
