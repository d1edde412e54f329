/**
 * The Sluice client: topic administration, produce and fetch over the HTTP API.
 *
 * ```ts
 * const sluice = new SluiceClient(); // the local platform, or SLUICE_ENDPOINT
 * await sluice.createTopic({ name: 'orders', partitions: 3 });
 * await sluice.produce('orders', [{ key: 'customer-1', value: { total: 42 } }]);
 * const { events, nextOffset } = await sluice.fetch('orders', 0, { offset: 'earliest' });
 * ```
 *
 * Every method rejects with a typed error from api/errors (`TopicNotFoundError`, ...), a
 * `ConnectionError` when the endpoint cannot be reached, or `RetriesExceededError` when retriable
 * failures outlast the retry budget.
 */
import { randomUUID } from 'node:crypto';
import { InvalidRequestError } from '../api/errors';
import type { FetchResponse, ProduceEvent, ProduceResponse, ProduceResult } from '../api/events';
import {
  topicNameSchema,
  type CreateTopicRequest,
  type ListTopicsResponse,
  type TopicConfig,
  type TopicDescription,
  type UpdateTopicRequest,
} from '../api/topics';
import { createHttpTransport, type HttpTransport } from './http';
import {
  DEFAULT_TIMEOUT_MS,
  defaultEndpoint,
  defaultRegion,
  parseEndpoint,
  type SluiceClientOptions,
} from './options';
import { Producer, type ProducerOptions } from './producer';
import { createSigner, shouldSign } from './signing';

/** Where a fetch starts: an offset, or the first (`'earliest'`) or next (`'latest'`) one. */
export type FetchOffset = number | 'earliest' | 'latest';

export interface FetchOptions {
  /**
   * Where to start; give this or `timestamp`, not both. An offset outside
   * [logStartOffset, highWatermark] fails with `OffsetOutOfRangeError`.
   * @default 'earliest' (the log start offset)
   */
  readonly offset?: FetchOffset;
  /** Start at the first event whose timestamp is at or after this (epoch ms). @default - none */
  readonly timestamp?: number;
  /** Most events to return, 1-1000 (`FETCH_LIMITS.maxLimit`). @default 100 */
  readonly limit?: number;
  /**
   * Long poll: when there is nothing at the start offset yet, wait up to this long (ms, at most
   * `FETCH_LIMITS.maxWaitMs`, 20000) for an event to arrive. The attempt's HTTP timeout is the
   * client's `timeoutMs` plus this.
   * @default 0 (answer at once)
   */
  readonly waitMs?: number;
}

export class SluiceClient {
  /** The resolved endpoint, without a trailing slash. */
  readonly endpoint: string;
  /** The region requests are signed for. */
  readonly region: string;
  /** Whether requests are signed (the `signing` rule applied to this endpoint). */
  readonly signed: boolean;
  readonly #request: HttpTransport;
  readonly #timeoutMs: number;

  /** @throws TypeError when `endpoint` is not an http(s) URL. */
  constructor(options: SluiceClientOptions = {}) {
    const url = parseEndpoint(options.endpoint ?? defaultEndpoint());
    this.endpoint = url.href.replace(/\/$/, '');
    this.region = options.region ?? defaultRegion(url);
    this.signed = shouldSign(options.signing ?? 'auto', url);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#request = createHttpTransport({
      endpoint: url,
      signer: this.signed ? createSigner(this.region, options.credentials) : undefined,
      retry: options.retry ?? {},
      timeoutMs: this.#timeoutMs,
      fetch: options.fetch ?? globalThis.fetch,
    });
  }

  /**
   * Creates a topic; unset fields take the defaults of api/topics (`TOPIC_DEFAULTS`).
   * @throws TopicAlreadyExistsError, also when a retry follows a lost response to a create that
   * succeeded; InvalidRequestError when the request breaks a rule (`details.issues` says which).
   */
  createTopic(request: CreateTopicRequest): Promise<TopicConfig> {
    return this.#request('POST', '/topics', request);
  }

  listTopics(): Promise<ListTopicsResponse> {
    return this.#request('GET', '/topics');
  }

  /** The topic's configuration and, per partition, its log start offset and high watermark. */
  async describeTopic(name: string): Promise<TopicDescription> {
    return this.#request('GET', topicPath(name));
  }

  /**
   * Changes retention and/or the dedupe window; answers the new configuration. Reads apply a new
   * retention at once; stored events keep the expiry they were written with.
   */
  async updateTopic(name: string, changes: UpdateTopicRequest): Promise<TopicConfig> {
    return this.#request('PATCH', topicPath(name), changes);
  }

  /** Deletes the topic; its events are removed in the background. */
  async deleteTopic(name: string): Promise<void> {
    await this.#request('DELETE', topicPath(name));
  }

  /**
   * Appends events atomically (all or none) and answers, in request order, where each one went.
   * Every event without a `messageId` gets one (a random UUID) before the first attempt, so a
   * retry after a lost response is recognised as a duplicate instead of appended twice (on topics
   * whose `dedupeWindowMs` is not 0). The `events` array is not modified.
   * @throws RequestTooLargeError, EventTooLargeError, KeyTooLargeError, TooManyHeadersError,
   * PartitionNotFoundError, TopicNotFoundError, InvalidRequestError (nothing was appended)
   */
  async produce(topic: string, events: readonly ProduceEvent[]): Promise<ProduceResult[]> {
    const path = `${topicPath(topic)}/events`;
    const withIds = events.map((event) => (event.messageId === undefined ? { ...event, messageId: randomUUID() } : event));
    const response = await this.#request<ProduceResponse>('POST', path, { events: withIds });
    return [...response.results];
  }

  /**
   * Reads events of one partition in offset order, from `options.offset` or
   * `options.timestamp`; continue from the answer's `nextOffset`.
   * @throws OffsetOutOfRangeError (its `details` carry `logStartOffset` and `highWatermark`),
   * PartitionNotFoundError, TopicNotFoundError, InvalidRequestError
   */
  async fetch(topic: string, partition: number, options: FetchOptions = {}): Promise<FetchResponse> {
    const path = `${topicPath(topic)}/partitions/${partitionSegment(partition)}/events`;
    const { offset, timestamp, limit, waitMs } = options;
    return this.#request('GET', path, undefined, {
      query: { offset, timestamp, limit, waitMs },
      timeoutMs: this.#timeoutMs + Math.max(0, waitMs ?? 0),
    });
  }

  /** A batching producer on this client (KafkaJS's `kafka.producer()`); see {@link Producer}. */
  producer(options: ProducerOptions = {}): Producer {
    return new Producer(this, options);
  }
}

/** Same as `new SluiceClient(options)`. */
export function createClient(options: SluiceClientOptions = {}): SluiceClient {
  return new SluiceClient(options);
}

/**
 * A topic name becomes a path segment, so it is checked here: `.` and `..` would be resolved away
 * by URL parsing and reach a different route. Fails as the server would, without a request.
 */
function topicPath(name: string): string {
  const result = topicNameSchema.safeParse(name);
  if (!result.success) throw invalidPath('path.topic', result.error.issues.map((issue) => issue.message));
  return `/topics/${encodeURIComponent(name)}`;
}

/** A partition number becomes a path segment: it must be a non-negative integer. */
function partitionSegment(partition: number): string {
  if (!Number.isSafeInteger(partition) || partition < 0) {
    throw invalidPath('path.partition', ['must be a non-negative integer']);
  }
  return String(partition);
}

function invalidPath(path: string, messages: readonly string[]): InvalidRequestError {
  const issues = messages.map((message) => ({ path, message }));
  const summary = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  return new InvalidRequestError(`Invalid request: ${summary}`, { details: { issues } });
}
