/**
 * A worker that resolves a queue's messages with a handler, one message at a time per group:
 *
 * ```ts
 * const worker = sluice.queue('emails').worker();
 * const running = worker.run({
 *   eachMessage: async ({ message }) => { await sendEmail(message.body); }, // returns: acked; throws: nacked
 * });
 * process.once('SIGTERM', () => void worker.stop()); // finishes the handlers running, then stops
 * await running;
 * ```
 *
 * The loop: a long poll (`waitMs`, 20 s) for up to `maxMessages`, each hidden for
 * `visibilityTimeoutMs`; then the batch is handed to the handler group by group: groups run
 * concurrently, the messages of one group one after the other, in order (SQS FIFO may answer
 * several messages of a group in one receive; running them concurrently would break the group's
 * order). The next poll starts once the whole batch is resolved.
 * - The handler returns: the message is acked at once (deleted: resolved).
 * - The handler throws: the message is nacked, visible again after a backoff that grows with its
 *   `receiveCount` (`backoff`, through api/retry's `backoffDelay`); the messages of its group after
 *   it in the batch are not run and are nacked with the same delay, so the group stays in order.
 *   After the queue's `maxReceiveCount` receives, SQS moves a message to the dead-letter queue.
 * - While the batch is held, every `extendIntervalMs` the worker extends the visibility of the
 *   messages not yet resolved (those waiting behind their group's running one too), so a slow
 *   handler is not delivered a second time to another consumer.
 *
 * Per message rather than per batch: each message is resolved on its own the moment its handler
 * is done, so a crash redelivers only what was not finished, and one failure holds back only its
 * own group.
 */
import type { QueueMessage } from '../api/queues';
import { QUEUE_DEFAULTS, QUEUE_LIMITS } from '../api/queues';
import { backoffDelay, RETRY_DEFAULTS, type RetryOptions } from '../api/retry';
import type { ConsumerLogger } from './consumer-options';
import type { Queue } from './queue';

export interface QueueWorkerOptions {
  /** Most messages per receive, 1-10; also how many groups run at once. @default 10 */
  readonly maxMessages?: number;
  /** Long poll of a receive when the queue is empty, in ms, 0-20000. @default 20000 */
  readonly waitMs?: number;
  /**
   * How long a received message stays hidden while the worker holds it, in ms, 1000-43200000, sent
   * with every receive (the queue's own setting is not used). Extended while the handler runs; a
   * worker that dies without resolving it lets it go again after at most this long.
   * @default 30000
   */
  readonly visibilityTimeoutMs?: number;
  /** Time between extensions of the held messages' visibility, in ms; above 0, below `visibilityTimeoutMs`. @default visibilityTimeoutMs / 3 */
  readonly extendIntervalMs?: number;
  /**
   * The delay before a message whose handler threw is visible again: a random value between 0 and
   * `min(maxDelayMs, initialDelayMs × multiplier^(receiveCount − 1))` (full jitter), rounded up to
   * whole seconds by SQS. @default { initialDelayMs: 1000, multiplier: 2, maxDelayMs: 60000 }
   */
  readonly backoff?: Pick<RetryOptions, 'initialDelayMs' | 'multiplier' | 'maxDelayMs' | 'random'>;
  /** Told about handler failures and about acks, nacks and extensions that failed. @default - none */
  readonly logger?: ConsumerLogger;
}

export const QUEUE_WORKER_DEFAULTS = {
  maxMessages: QUEUE_LIMITS.maxReceive,
  waitMs: QUEUE_LIMITS.maxWaitMs,
  visibilityTimeoutMs: QUEUE_DEFAULTS.visibilityTimeoutMs,
  backoff: { initialDelayMs: 1000, multiplier: 2, maxDelayMs: 60_000 },
} as const;

export interface EachQueueMessagePayload {
  /** The queue's name. */
  readonly queue: string;
  readonly message: QueueMessage;
}

export interface QueueWorkerRunConfig {
  /** Resolves the message: return to ack it, throw to nack it (it is delivered again after a backoff). */
  readonly eachMessage: (payload: EachQueueMessagePayload) => Promise<void>;
}

/** What the worker needs of a queue (a Queue). */
export type WorkerQueue = Pick<Queue, 'name' | 'receive' | 'ack' | 'nack' | 'extend'>;

type ResolvedOptions = Required<Omit<QueueWorkerOptions, 'logger' | 'backoff'>> & Pick<QueueWorkerOptions, 'logger'> & { readonly backoff: RetryOptions };

export class QueueWorker {
  readonly #queue: WorkerQueue;
  readonly #options: ResolvedOptions;
  #state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  #done: Promise<void> | undefined;
  readonly #abort = new AbortController();

  /** @throws TypeError listing every option that breaks its rule (see QueueWorkerOptions) */
  constructor(queue: WorkerQueue, options: QueueWorkerOptions = {}) {
    this.#queue = queue;
    this.#options = resolveOptions(options);
  }

  /**
   * Receives and handles messages until `stop()`. Resolves once the worker has stopped; rejects when
   * it had to stop: a receive failed for good (e.g. `QueueNotFoundError`, or retries ran out). A
   * handler that throws never stops it (the message is nacked).
   */
  run(config: QueueWorkerRunConfig): Promise<void> {
    if (this.#state !== 'idle') return Promise.reject(new TypeError('run() was already called; create a new worker'));
    if (typeof config?.eachMessage !== 'function') return Promise.reject(new TypeError('give eachMessage'));
    this.#state = 'running';
    this.#done = this.#loop(config);
    return this.#done;
  }

  /**
   * Stops: abandons a waiting long poll at once, lets the handlers that are running finish (their
   * messages are acked or nacked), and makes the batch's messages not yet started visible again
   * at once, for other workers. Resolves once stopped (never rejects: `run()` reports failures).
   * Safe to call more than once.
   */
  async stop(): Promise<void> {
    if (this.#state === 'idle') this.#state = 'stopped';
    if (this.#state === 'running') {
      this.#state = 'stopping';
      this.#abort.abort();
    }
    await this.#done?.then(
      () => undefined,
      () => undefined,
    );
  }

  async #loop(config: QueueWorkerRunConfig): Promise<void> {
    try {
      while (this.#state === 'running') {
        const messages = await this.#poll();
        if (messages && messages.length > 0) await this.#handleBatch(messages, config);
      }
    } finally {
      this.#state = 'stopped';
    }
  }

  /** The next batch; undefined when `stop()` abandoned the poll. */
  async #poll(): Promise<QueueMessage[] | undefined> {
    const { maxMessages, waitMs, visibilityTimeoutMs } = this.#options;
    const signal = this.#abort.signal;
    const received = this.#queue.receive({ maxMessages, waitMs, visibilityTimeoutMs, signal });
    try {
      // The client may be sleeping between retries, where the signal is not looked at: stop() does
      // not wait for that (the next attempt is never sent: it checks the signal first).
      return await untilAborted(received, signal);
    } catch (err) {
      if (this.#state !== 'running') return undefined;
      throw err;
    }
  }

  async #handleBatch(messages: readonly QueueMessage[], config: QueueWorkerRunConfig): Promise<void> {
    const held = new Map(messages.map((m) => [m.receiptHandle, m] as const));
    const extender = new Extender(this.#queue, held, this.#options);
    try {
      await Promise.all([...byGroup(messages).values()].map((group) => this.#runGroup(group, config, held, extender)));
    } finally {
      await extender.stop();
    }
  }

  async #runGroup(group: readonly QueueMessage[], config: QueueWorkerRunConfig, held: Map<string, QueueMessage>, extender: Extender): Promise<void> {
    for (let i = 0; i < group.length; i++) {
      if (this.#state !== 'running') return this.#release(group.slice(i), 0, held, extender, 'released (stopping)');
      const message = group[i]!;
      try {
        await config.eachMessage({ queue: this.#queue.name, message });
      } catch (err) {
        const delayMs = Math.min(QUEUE_LIMITS.maxVisibilityTimeoutMs, backoffDelay(message.receiveCount - 1, this.#options.backoff));
        this.#options.logger?.warn('handler failed: message nacked', {
          queue: this.#queue.name,
          messageId: message.messageId,
          groupId: message.groupId,
          receiveCount: message.receiveCount,
          delayMs,
          error: err,
        });
        // The rest of its group waits behind it, in order.
        return this.#release(group.slice(i), delayMs, held, extender, 'nack failed');
      }
      held.delete(message.receiptHandle);
      await this.#settle('ack failed', [message], () => this.#queue.ack([message]));
    }
  }

  /** Nacks messages the worker will not run now (a failure ahead of them in their group, or stop). */
  async #release(messages: readonly QueueMessage[], delayMs: number, held: Map<string, QueueMessage>, extender: Extender, what: string): Promise<void> {
    for (const m of messages) held.delete(m.receiptHandle);
    // An extension in flight would set the visibility back to visibilityTimeoutMs after the nack.
    await extender.idle();
    await this.#settle(what, messages, () => this.#queue.nack(messages, { delayMs }));
  }

  /** Acks and nacks that fail are reported, not thrown: the message comes back after its visibility timeout. */
  async #settle(what: string, messages: readonly QueueMessage[], call: () => ReturnType<WorkerQueue['ack']>): Promise<void> {
    try {
      const results = await call();
      for (const r of results) {
        if (r.status === 'failed') this.#options.logger?.warn(what, { queue: this.#queue.name, receiptHandle: r.receiptHandle, error: r.error });
      }
    } catch (err) {
      this.#options.logger?.warn(what, { queue: this.#queue.name, messageIds: messages.map((m) => m.messageId), error: err });
    }
  }
}

/** Extends the visibility of a batch's unresolved messages every `extendIntervalMs`, one request at a time. */
class Extender {
  #timer: ReturnType<typeof setTimeout> | undefined;
  #inFlight: Promise<void> = Promise.resolve();
  #stopped = false;

  readonly #queue: WorkerQueue;
  readonly #held: ReadonlyMap<string, QueueMessage>;
  readonly #options: ResolvedOptions;

  constructor(queue: WorkerQueue, held: ReadonlyMap<string, QueueMessage>, options: ResolvedOptions) {
    this.#queue = queue;
    this.#held = held;
    this.#options = options;
    this.#schedule();
  }

  /** Resolves once no extension is in flight. */
  idle(): Promise<void> {
    return this.#inFlight;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#inFlight;
  }

  #schedule(): void {
    if (!this.#stopped) this.#timer = setTimeout(() => this.#tick(), this.#options.extendIntervalMs);
  }

  #tick(): void {
    const handles = [...this.#held.keys()];
    if (handles.length === 0) return this.#schedule();
    const { logger, visibilityTimeoutMs } = this.#options;
    this.#inFlight = this.#queue
      .extend(handles, visibilityTimeoutMs)
      .then((results) => {
        // A handle resolved meanwhile may fail to extend: that is expected, not worth a word.
        for (const r of results) {
          if (r.status === 'failed' && this.#held.has(r.receiptHandle)) {
            logger?.warn('visibility extension failed: the message may be delivered again', { queue: this.#queue.name, receiptHandle: r.receiptHandle, error: r.error });
          }
        }
      })
      .catch((err: unknown) => logger?.warn('visibility extension failed: the messages may be delivered again', { queue: this.#queue.name, error: err }))
      .finally(() => this.#schedule());
  }
}

/** The messages by group, each group's in the order received (SQS's order within the group). */
function byGroup(messages: readonly QueueMessage[]): Map<string, QueueMessage[]> {
  const groups = new Map<string, QueueMessage[]>();
  for (const m of messages) {
    const group = groups.get(m.groupId);
    if (group) group.push(m);
    else groups.set(m.groupId, [m]);
  }
  return groups;
}

/** The promise's value, or a rejection with the signal's reason as soon as it is aborted. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  promise.catch(() => undefined); // an abandoned request must not fail unhandled
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

const RULES: readonly { readonly condition: (o: ResolvedOptions) => boolean; readonly message: string }[] = [
  { condition: (o) => isIntIn(o.maxMessages, 1, QUEUE_LIMITS.maxReceive), message: `maxMessages must be an integer from 1 to ${QUEUE_LIMITS.maxReceive}` },
  { condition: (o) => isIntIn(o.waitMs, 0, QUEUE_LIMITS.maxWaitMs), message: `waitMs must be an integer from 0 to ${QUEUE_LIMITS.maxWaitMs}` },
  {
    condition: (o) => isIntIn(o.visibilityTimeoutMs, 1000, QUEUE_LIMITS.maxVisibilityTimeoutMs),
    message: `visibilityTimeoutMs must be an integer from 1000 to ${QUEUE_LIMITS.maxVisibilityTimeoutMs}`,
  },
  {
    condition: (o) => Number.isFinite(o.extendIntervalMs) && o.extendIntervalMs > 0 && o.extendIntervalMs < o.visibilityTimeoutMs,
    message: 'extendIntervalMs must be above 0 and below visibilityTimeoutMs',
  },
  {
    condition: ({ backoff: b }) => [b.initialDelayMs, b.maxDelayMs].every((v) => Number.isFinite(v) && v! >= 0) && Number.isFinite(b.multiplier) && b.multiplier! >= 1,
    message: 'backoff.initialDelayMs and backoff.maxDelayMs must be numbers of at least 0, backoff.multiplier at least 1',
  },
];

function resolveOptions(options: QueueWorkerOptions): ResolvedOptions {
  const visibilityTimeoutMs = options.visibilityTimeoutMs ?? QUEUE_WORKER_DEFAULTS.visibilityTimeoutMs;
  const resolved: ResolvedOptions = {
    maxMessages: options.maxMessages ?? QUEUE_WORKER_DEFAULTS.maxMessages,
    waitMs: options.waitMs ?? QUEUE_WORKER_DEFAULTS.waitMs,
    visibilityTimeoutMs,
    extendIntervalMs: options.extendIntervalMs ?? Math.floor(visibilityTimeoutMs / 3),
    backoff: { random: RETRY_DEFAULTS.random, ...QUEUE_WORKER_DEFAULTS.backoff, ...options.backoff },
    logger: options.logger,
  };
  const broken = RULES.filter((rule) => !rule.condition(resolved)).map((rule) => rule.message);
  if (broken.length > 0) throw new TypeError(`Invalid queue worker options: ${broken.join('; ')}`);
  return resolved;
}

function isIntIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}
