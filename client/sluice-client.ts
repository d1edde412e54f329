/**
 * The Sluice client: topic administration, produce and fetch, consumer groups and transactions,
 * message queues (`queue(name)`), over the HTTP API.
 *
 * ```ts
 * const sluice = new SluiceClient(); // the local platform, or SLUICE_ENDPOINT
 * await sluice.createTopic({ name: 'orders', partitions: 3 });
 * await sluice.produce('orders', [{ key: 'customer-1', value: { total: 42 } }]);
 * const { events, nextOffset } = await sluice.fetch('orders', 0, { offset: 'earliest' });
 * const consumer = sluice.consumer({ groupId: 'billing' }); // see Consumer
 * ```
 *
 * Every method rejects with a typed error from api/errors (`TopicNotFoundError`, ...), a
 * `ConnectionError` when the endpoint cannot be reached, or `RetriesExceededError` when retriable
 * failures outlast the retry budget.
 */
import { randomUUID } from 'node:crypto';
import type { AclFilter, CreateAclsRequest, CreateAclsResponse, DeleteAclsResponse, ListAclsResponse } from '../api/acls';
import { InvalidRequestError } from '../api/errors';
import type { FetchResponse, ProduceEvent, ProduceResponse, ProduceResult, ProducerStamp } from '../api/events';
import {
  groupNameSchema,
  memberIdSchema,
  type CommitRequest,
  type GroupDescription,
  type HeartbeatResponse,
  type JoinGroupRequest,
  type MembershipResponse,
  type SeekRequest,
  type TopicPartitionOffset,
  type TransactionRequest,
} from '../api/groups';
import {
  topicNameSchema,
  type CreateTopicRequest,
  type ListTopicsResponse,
  type TopicConfig,
  type TopicDescription,
  type UpdateTopicRequest,
} from '../api/topics';
import {
  subscriptionNameSchema,
  type CreateSubscriptionRequest,
  type CreateSubscriptionResponse,
  type DeadLettersResponse,
  type RedriveResponse,
  type SubscriptionConfigView,
  type SubscriptionDescription,
  type SubscriptionSeekRequest,
} from '../api/subscriptions';
import {
  queueNameSchema,
  type CreateQueueRequest,
  type ListQueuesResponse,
  type PurgeRequest,
  type PurgeResponse,
  type QueueDescription,
  type RedriveResponse as QueueRedriveResponse,
} from '../api/queues';
import { processorNameSchema, type ListProcessorsResponse, type ProcessorDescription } from '../api/processors';
import { createHttpTransport, type HttpTransport } from './http';
import {
  DEFAULT_TIMEOUT_MS,
  defaultEndpoint,
  defaultRegion,
  parseEndpoint,
  type SluiceClientOptions,
} from './options';
import { Consumer, type ConsumerOptions } from './consumer';
import type { ListGroupsResponse, RecordsOptions, RecordsResponse, SeekResponse, TransactionResponse } from './group-types';
import { Producer, type ProducerOptions } from './producer';
import { Queue } from './queue';
import { createSigner, shouldSign } from './signing';

export type { ListGroupsResponse, RecordsOptions, RecordsResponse, SeekResponse, TransactionResponse } from './group-types';

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
  /**
   * Abandons the fetch when aborted, a long poll included: it rejects at once with the signal's
   * reason (not retried). @default - none
   */
  readonly signal?: AbortSignal;
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
  async produce(topic: string, events: readonly ProduceEvent[], options: { readonly producer?: ProducerStamp } = {}): Promise<ProduceResult[]> {
    const path = `${topicPath(topic)}/events`;
    // An idempotent producer's stamp makes retries safe without message IDs (the service derives
    // them from the sequence), so they are not recorded for dedupe, which costs a write each.
    if (options.producer) {
      const response = await this.#request<ProduceResponse>('POST', path, { events, producer: options.producer });
      return [...response.results];
    }
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
    const { offset, timestamp, limit, waitMs, signal } = options;
    return this.#request('GET', path, undefined, {
      query: { offset, timestamp, limit, waitMs },
      timeoutMs: this.#timeoutMs + Math.max(0, waitMs ?? 0),
      signal,
    });
  }

  /** A batching producer on this client (KafkaJS's `kafka.producer()`); see {@link Producer}. */
  producer(options: ProducerOptions = {}): Producer {
    return new Producer(this, options);
  }

  /** A group consumer on this client (KafkaJS's `kafka.consumer()`); see {@link Consumer}. */
  consumer(options: ConsumerOptions): Consumer {
    return new Consumer(this, options);
  }

  /**
   * Joins (or rejoins) the group; answers the member's ID, the generation and its assignments. A
   * request without `memberId` gets a random UUID before the first attempt, so a retry after a lost
   * response rejoins the same member instead of adding a second one.
   * @throws TopicNotFoundError, InvalidRequestError
   */
  async joinGroup(group: string, request: JoinGroupRequest): Promise<MembershipResponse> {
    const body = { ...request, memberId: request.memberId ?? randomUUID() };
    return this.#request('POST', `${groupPath(group)}/members`, body);
  }

  /**
   * Keeps the member alive and answers its current generation and assignments; `rebalanced` is
   * true when `generation` (the one the member last saw) is not the current one.
   * @throws FencedMemberError when the member is no longer in the group: rejoin
   */
  async heartbeat(group: string, memberId: string, generation?: number): Promise<HeartbeatResponse> {
    return this.#request('POST', `${memberPath(group, memberId)}/heartbeat`, generation === undefined ? {} : { generation });
  }

  /**
   * Leaves the group at once (its partitions are reassigned).
   * @throws FencedMemberError when the member is not in the group (also when a retry follows a
   * leave that succeeded)
   */
  async leaveGroup(group: string, memberId: string): Promise<void> {
    await this.#request('DELETE', memberPath(group, memberId));
  }

  listGroups(): Promise<ListGroupsResponse> {
    return this.#request('GET', '/groups');
  }

  /** Members, generation and, per partition, owner, committed offset, high watermark and lag. */
  async describeGroup(group: string): Promise<GroupDescription> {
    return this.#request('GET', groupPath(group));
  }

  /**
   * Deletes the group's committed offsets and membership (`kafka-consumer-groups --delete`).
   * @throws GroupNotEmptyError while the group has live members (`details.members`): nothing is
   * deleted; GroupNotFoundError when there is no such group (also when a retry follows a delete
   * that succeeded)
   */
  async deleteGroup(group: string): Promise<void> {
    await this.#request('DELETE', groupPath(group));
  }

  /**
   * Reads the next records of the member's partitions from the position the server keeps for it;
   * counts as a heartbeat. Never retried: the call moves the member's positions, so a retry after
   * a lost response would answer the records after the lost ones. After a failure, rejoin under a
   * new generation (leave, then join) to restart from the committed offsets.
   * @throws FencedMemberError (rejoin), RebalanceInProgressError (with `commit`: nothing committed)
   */
  async records(group: string, memberId: string, options: RecordsOptions = {}): Promise<RecordsResponse> {
    const { maxRecords, waitMs, commit, signal } = options;
    return this.#request('GET', `${memberPath(group, memberId)}/records`, undefined, {
      query: { maxRecords, waitMs, commit: commit === undefined ? undefined : String(commit) },
      timeoutMs: this.#timeoutMs + Math.max(0, waitMs ?? 0),
      retry: { isRetriable: () => false },
      signal,
    });
  }

  /**
   * Commits offsets (each the next offset to read: last processed + 1), if the member is in the
   * group at `generation` and owns every partition.
   * @throws RebalanceInProgressError (stale generation), FencedMemberError (not a member, or not
   * the owner); nothing is committed then
   */
  async commitOffsets(group: string, request: CommitRequest): Promise<void> {
    await this.#request('POST', `${groupPath(group)}/offsets`, request);
  }

  /**
   * Sets the group's committed offsets of a topic's partitions (all, or `partitions`) to the
   * earliest, the latest, an offset or the first at a timestamp; members re-read from there.
   * @throws OffsetOutOfRangeError, TopicNotFoundError
   */
  async seek(group: string, request: SeekRequest): Promise<SeekResponse> {
    return this.#request('POST', `${groupPath(group)}/seek`, request);
  }

  /**
   * Appends events to several topics and, optionally, commits a member's offsets, in one atomic
   * step (read-process-write). Events without a `messageId` get a random UUID before the first
   * attempt, so a retry dedupes.
   * @throws FencedMemberError, RebalanceInProgressError (nothing written), the produce errors
   */
  async transaction(request: TransactionRequest): Promise<TransactionResponse> {
    const produce = request.produce.map(({ topic, events }) => ({
      topic,
      events: events.map((event) => (event.messageId === undefined ? { ...event, messageId: randomUUID() } : event)),
    }));
    return this.#request('POST', '/transactions', { ...request, produce });
  }

  /**
   * Creates ACLs (needs cluster alter when ACLs are on). Creating an ACL that exists changes nothing,
   * so a retry is safe. Unset `patternType` is `literal`, unset `permission` is `allow`.
   */
  async createAcls(acls: CreateAclsRequest['acls']): Promise<CreateAclsResponse> {
    return this.#request('POST', '/acls', { acls });
  }

  /** The ACLs matching every given field, declared in the stack and created here (needs cluster describe). */
  async listAcls(filter: AclFilter = {}): Promise<ListAclsResponse> {
    return this.#request('GET', '/acls', undefined, { query: { ...filter } });
  }

  /** Deletes the created ACLs matching every given field; at least one is required (needs cluster alter). */
  async deleteAcls(filter: AclFilter): Promise<DeleteAclsResponse> {
    return this.#request('DELETE', '/acls', undefined, { query: { ...filter } });
  }

  /**
   * Subscribes a webhook, an SQS queue or a Lambda function to a topic's events (needs topic read
   * when ACLs are on). A webhook's `secret` (given, or generated) is answered here only.
   * @throws SubscriptionAlreadyExistsError, TopicNotFoundError
   */
  async createSubscription(topic: string, request: CreateSubscriptionRequest): Promise<CreateSubscriptionResponse> {
    return this.#request('POST', `${topicPath(topic)}/subscriptions`, request);
  }

  /** The topic's subscriptions: those declared in the stack and those created through the API. */
  async listSubscriptions(topic: string): Promise<SubscriptionConfigView[]> {
    return (await this.#request<{ subscriptions: SubscriptionConfigView[] }>('GET', `${topicPath(topic)}/subscriptions`)).subscriptions;
  }

  /** Config and status: position and lag per partition, failing deliveries, dead letters. */
  async describeSubscription(topic: string, name: string): Promise<SubscriptionDescription> {
    return this.#request('GET', subscriptionPath(topic, name));
  }

  /** Deletes a subscription created through the API, with its positions and dead letters. */
  async deleteSubscription(topic: string, name: string): Promise<void> {
    await this.#request('DELETE', subscriptionPath(topic, name));
  }

  /** Moves the subscription to the earliest, the latest, a timestamp, or one partition's offset; it replays from there. */
  async seekSubscription(topic: string, name: string, to: SubscriptionSeekRequest['to']): Promise<{ positions: { partition: number; position: number }[] }> {
    return this.#request('POST', `${subscriptionPath(topic, name)}/seek`, { to });
  }

  /** The subscription's dead letters, oldest first (all partitions, or one). */
  async deadLetters(topic: string, name: string, options: { partition?: number; limit?: number } = {}): Promise<DeadLettersResponse> {
    const query: Record<string, string> = {};
    if (options.partition !== undefined) query.partition = String(options.partition);
    if (options.limit !== undefined) query.limit = String(options.limit);
    return this.#request('GET', `${subscriptionPath(topic, name)}/dead-letters`, undefined, { query });
  }

  /** Delivers the dead letters again (all partitions, or some), then deletes them. */
  async redriveDeadLetters(topic: string, name: string, partitions?: readonly number[]): Promise<RedriveResponse> {
    return this.#request('POST', `${subscriptionPath(topic, name)}/dead-letters/redrive`, partitions ? { partitions } : {});
  }

  /**
   * A message queue, to send, receive and resolve messages (and to run a QueueWorker); see
   * {@link Queue}. Makes no request.
   * @throws InvalidRequestError when `name` is not a queue name (1-48 of `a-z A-Z 0-9 _ -`)
   */
  queue(name: string): Queue {
    return new Queue(name, queuePath(name), { request: this.#request, timeoutMs: this.#timeoutMs });
  }

  /**
   * Creates a queue (an SQS FIFO queue) and its dead-letter queue; unset fields take the defaults
   * of api/queues (`QUEUE_DEFAULTS`).
   * @throws QueueAlreadyExistsError (also when a retry follows a lost answer to a create that
   * succeeded), QueueBusyError (a queue of that name was deleted less than 60 s ago; retriable),
   * InvalidRequestError
   */
  async createQueue(request: CreateQueueRequest): Promise<QueueDescription> {
    return this.#request('POST', '/queues', request);
  }

  /** The queues, created here and declared in the stack (eventually consistent on AWS: a new queue may take a moment to show). */
  async listQueues(): Promise<ListQueuesResponse> {
    return this.#request('GET', '/queues');
  }

  /** The queue's configuration and SQS's approximate counts: visible, in flight, delayed, dead letters. */
  async describeQueue(name: string): Promise<QueueDescription> {
    return this.#request('GET', queuePath(name));
  }

  /**
   * Deletes a queue created through the API, with its messages and dead letters. SQS refuses a
   * queue of the same name for 60 s after.
   * @throws QueueNotFoundError, QueueReadOnlyError (declared in the stack: delete it there)
   */
  async deleteQueue(name: string): Promise<void> {
    await this.#request('DELETE', queuePath(name));
  }

  /**
   * Moves dead letters back to the queue (all, or at most `maxMessages`, as many as one request's
   * time allows: call again while `remaining` is above 0).
   */
  async redriveQueue(name: string, options: { maxMessages?: number } = {}): Promise<QueueRedriveResponse> {
    return this.#request('POST', `${queuePath(name)}/redrive`, { maxMessages: options.maxMessages });
  }

  /**
   * Deletes every message of the queue, or of its dead-letter queue (`target: 'dead-letters'`).
   * @throws QueueBusyError when it was purged less than 60 s ago (retriable)
   */
  async purgeQueue(name: string, options: PurgeRequest = {}): Promise<PurgeResponse> {
    return this.#request('POST', `${queuePath(name)}/purge`, { target: options.target });
  }

  // ---- stream processors -----------------------------------------------------------------------

  /** The stream processors the stack deploys (`StreamProcessor`), each with its lag, counters and state size per partition. */
  async listProcessors(): Promise<ListProcessorsResponse> {
    return this.#request('GET', '/processors');
  }

  /**
   * One stream processor: per partition, its input positions against the high watermarks (lag),
   * stream time, counters (processed, late-dropped, dead-lettered) and state size.
   * @throws ProcessorNotFoundError
   */
  async describeProcessor(name: string): Promise<ProcessorDescription> {
    return this.#request('GET', `/processors/${segment(processorNameSchema, name, 'path.name')}`);
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

/** Group names and member IDs become path segments, checked by the same schemas as the server. */
function groupPath(group: string): string {
  return `/groups/${segment(groupNameSchema, group, 'path.group')}`;
}

function memberPath(group: string, memberId: string): string {
  return `${groupPath(group)}/members/${segment(memberIdSchema, memberId, 'path.memberId')}`;
}

function segment(schema: typeof groupNameSchema | typeof processorNameSchema, value: string, path: string): string {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidPath(path, result.error.issues.map((issue) => issue.message));
  return encodeURIComponent(value);
}

/** A subscription name becomes a path segment, checked by the server's schema. */
function subscriptionPath(topic: string, name: string): string {
  const result = subscriptionNameSchema.safeParse(name);
  if (!result.success) throw invalidPath('path.name', result.error.issues.map((issue) => issue.message));
  return `${topicPath(topic)}/subscriptions/${encodeURIComponent(name)}`;
}

/** A queue name becomes a path segment, checked by the server's schema. */
function queuePath(name: string): string {
  const result = queueNameSchema.safeParse(name);
  if (!result.success) throw invalidPath('path.queue', result.error.issues.map((issue) => issue.message));
  return `/queues/${encodeURIComponent(name)}`;
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
