/**
 * One message queue, as `sluice.queue(name)` hands it out: send, receive and resolve messages.
 *
 * ```ts
 * const emails = sluice.queue('emails');
 * await emails.send([{ body: { to: 'a@example.com' }, groupId: 'customer-1', messageId: 'welcome-1' }]);
 * const messages = await emails.receive({ maxMessages: 10, waitMs: 20_000 });
 * await emails.ack(messages);                       // resolved: gone from the queue
 * await emails.nack(messages, { delayMs: 5_000 });  // or: visible again in 5 s
 * const worker = emails.worker();                   // or let a QueueWorker do all of it
 * ```
 *
 * Every call rejects with a typed error from api/errors (`QueueNotFoundError`, ...), a
 * `ConnectionError`, or `RetriesExceededError` when retriable failures outlast the client's retry
 * budget. Each call is safe to retry, so the client retries them: `send` gives every message
 * without a `messageId` one before the first attempt (a retry after a lost answer says
 * `duplicate` instead of enqueueing it twice); a repeated ack, nack or extend changes nothing more;
 * a repeated receive only leaves the lost answer's messages hidden until their visibility timeout
 * ends (then they are delivered again).
 */
import { randomUUID } from 'node:crypto';
import {
  QUEUE_LIMITS,
  type QueueMessage,
  type QueueMessageInput,
  type ReceiptResponse,
  type ReceiptResult,
  type ReceiveMessagesResponse,
  type SendMessagesResponse,
  type SendResult,
} from '../api/queues';
import type { HttpTransport } from './http';
import { QueueWorker, type QueueWorkerOptions } from './queue-worker';

/** A receipt handle, or a received message (its `receiptHandle` is used). */
export type Receipt = string | Pick<QueueMessage, 'receiptHandle'>;

export interface ReceiveOptions {
  /** Most messages to answer, 1-10. @default 10 */
  readonly maxMessages?: number;
  /**
   * Long poll: when no message is there, wait up to this long for one, in ms, 0-20000 (SQS counts
   * whole seconds: rounded up). The attempt's HTTP timeout is the client's `timeoutMs` plus this.
   * @default 0 (answer at once)
   */
  readonly waitMs?: number;
  /** How long the messages stay hidden from other consumers, in ms. @default the queue's */
  readonly visibilityTimeoutMs?: number;
  /** Abandons the receive (a long poll) when aborted: it rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

export interface NackOptions {
  /** Visible again after this long, in ms (rounded up to whole seconds). @default 0 (at once) */
  readonly delayMs?: number;
}

/** What a Queue needs of its client (made by SluiceClient.queue). */
export interface QueueTransport {
  readonly request: HttpTransport;
  /** The client's time for one attempt, to which a long poll's wait is added. */
  readonly timeoutMs: number;
}

export class Queue {
  /** The queue's name. */
  readonly name: string;
  readonly #path: string;
  readonly #transport: QueueTransport;

  /** Made by `sluice.queue(name)`, which checks the name. */
  constructor(name: string, path: string, transport: QueueTransport) {
    this.name = name;
    this.#path = path;
    this.#transport = transport;
  }

  /**
   * Enqueues up to 100 messages (`QUEUE_LIMITS.maxMessagesPerSend`) and answers, in order, whether
   * each was `sent` or a `duplicate` (its `messageId` and group were sent within the last 5
   * minutes: nothing new was enqueued). A message without a `messageId` gets a random UUID before
   * the first attempt (the array is not modified). An empty array resolves to `[]` without a
   * request.
   * @throws MessageTooLargeError (nothing of the request was enqueued), QueueNotFoundError,
   * InvalidRequestError
   */
  async send(messages: readonly QueueMessageInput[]): Promise<SendResult[]> {
    if (messages.length === 0) return [];
    const withIds = messages.map((m) => (m.messageId === undefined ? { ...m, messageId: randomUUID() } : m));
    const response = await this.#transport.request<SendMessagesResponse>('POST', `${this.#path}/messages`, { messages: withIds });
    return [...response.results];
  }

  /**
   * Receives up to `maxMessages` messages, hidden from other consumers until their visibility
   * timeout ends; resolve each with `ack`, `nack` or `extend`. Messages of one group come in order,
   * and a group's next message only once the previous one is acked (or visible again).
   * @throws QueueNotFoundError, InvalidRequestError; the signal's reason when aborted
   */
  async receive(options: ReceiveOptions = {}): Promise<QueueMessage[]> {
    const { maxMessages, waitMs, visibilityTimeoutMs, signal } = options;
    const response = await this.#transport.request<ReceiveMessagesResponse>(
      'POST',
      `${this.#path}/receive`,
      { maxMessages, waitMs, visibilityTimeoutMs },
      { timeoutMs: this.#transport.timeoutMs + Math.max(0, waitMs ?? 0), signal },
    );
    return [...response.messages];
  }

  /** Deletes the messages: they are resolved. Answers per receipt, in order (`failed`: e.g. its visibility timeout ran out). */
  ack(receipts: readonly Receipt[]): Promise<ReceiptResult[]> {
    return this.#resolve('ack', receipts, {});
  }

  /** Makes the messages visible again, at once or after `delayMs`; each receive counts towards the queue's `maxReceiveCount`. */
  nack(receipts: readonly Receipt[], options: NackOptions = {}): Promise<ReceiptResult[]> {
    return this.#resolve('nack', receipts, { delayMs: options.delayMs });
  }

  /** Hides the messages for `visibilityTimeoutMs` more, counted from now (for long work). */
  extend(receipts: readonly Receipt[], visibilityTimeoutMs: number): Promise<ReceiptResult[]> {
    return this.#resolve('extend', receipts, { visibilityTimeoutMs });
  }

  /** A {@link QueueWorker} on this queue. */
  worker(options: QueueWorkerOptions = {}): QueueWorker {
    return new QueueWorker(this, options);
  }

  /** Any number of receipts, in requests of at most 100 (`QUEUE_LIMITS.maxReceiptHandles`), results in order. */
  async #resolve(action: 'ack' | 'nack' | 'extend', receipts: readonly Receipt[], fields: Record<string, number | undefined>): Promise<ReceiptResult[]> {
    const handles = receipts.map((r) => (typeof r === 'string' ? r : r.receiptHandle));
    const results: ReceiptResult[] = [];
    for (let i = 0; i < handles.length; i += QUEUE_LIMITS.maxReceiptHandles) {
      const chunk = handles.slice(i, i + QUEUE_LIMITS.maxReceiptHandles);
      const response = await this.#transport.request<ReceiptResponse>('POST', `${this.#path}/${action}`, { receiptHandles: chunk, ...fields });
      results.push(...response.results);
    }
    return results;
  }
}
