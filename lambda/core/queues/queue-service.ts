/**
 * Message queues on SQS FIFO (api/queues.ts): create, list, describe, delete, send, receive, ack,
 * nack, extend, redrive, purge. Every queue is a FIFO queue in high-throughput mode with a FIFO
 * dead-letter queue, found by name through the installation's prefix (QueueDirectory). Knows
 * nothing of Lambda.
 *
 * Durations are ms in the API and whole seconds in SQS, rounded up (a lock or a wait is never
 * shorter than asked).
 */
import { randomUUID } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ListQueueTagsCommand,
  ListQueuesCommand,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  type QueueAttributeName,
  type SQSClient,
  type SendMessageBatchResultEntry,
} from '@aws-sdk/client-sqs';
import {
  DependencyFailedError,
  InternalError,
  MessageTooLargeError,
  QueueAlreadyExistsError,
  QueueNotFoundError,
  QueueReadOnlyError,
  ThrottledError,
  type SluiceError,
} from '../../../api/errors';
import {
  QUEUE_DEFAULTS,
  QUEUE_LIMITS,
  queueNameSchema,
  type AckRequest,
  type CreateQueueRequest,
  type ExtendRequest,
  type NackRequest,
  type PurgeRequest,
  type PurgeResponse,
  type QueueDescription,
  type QueueMessage,
  type QueueOrigin,
  type QueueSummary,
  type ReceiptResponse,
  type ReceiptResult,
  type ReceiveMessagesRequest,
  type ReceiveMessagesResponse,
  type RedriveRequest,
  type RedriveResponse,
  type SendMessagesRequest,
  type SendMessagesResponse,
  type SendResult,
} from '../../../api/queues';
import { RETRY_DEFAULTS, backoffDelay } from '../../../api/retry';
import { MESSAGE_QUEUES, messageQueueNameOf } from '../../../definitions/queues';
import { classifyAwsError } from '../aws/errors';
import { ResponseBudget } from '../log/response-budget';
import { MESSAGE_ID_ATTRIBUTE, SQS_DEDUPE_WINDOW_MS, attributeBytes, deduplicationId, encodeBody, toQueueMessage } from './message-format';
import type { QueueDirectory } from './queue-directory';
import { sendMarkerId, type SendMarkerStore } from './send-marker-store';
import { isQueueDoesNotExist, toQueueError } from './sqs-errors';

/** SQS's limits on one batch call. */
const SQS_BATCH_ENTRIES = 10;
const SQS_BATCH_BYTES = 1_048_576;

/** A failed entry of a send batch (an SQS fault) is sent again this many times, within about 2 s. */
const ENTRY_RETRIES = 3;
const ENTRY_BACKOFF = { initialDelayMs: 100, maxDelayMs: 1000 } as const;

/** How long redrive holds a dead letter while moving it (visible again after, should the move fail). */
const REDRIVE_VISIBILITY_SECONDS = 60;
/** Redrive moves for at most this long, well inside the function's 28 s (and API Gateway's 30 s). */
const REDRIVE_TIME_BUDGET_MS = 20_000;
/** Parallel ListQueueTags calls of a listing. */
const LIST_TAGS_CONCURRENCY = 10;

/** What every queue and dead-letter queue is: FIFO, high throughput, encrypted with SQS's own keys. */
const FIFO_ATTRIBUTES = {
  FifoQueue: 'true',
  DeduplicationScope: 'messageGroup',
  FifoThroughputLimit: 'perMessageGroupId',
  SqsManagedSseEnabled: 'true',
} as const;

const seconds = (ms: number) => Math.ceil(ms / 1000);

export interface QueueServiceOptions {
  readonly directory: QueueDirectory;
  readonly markers: SendMarkerStore;
  /** @default Date.now */
  readonly now?: () => number;
  /** Message IDs of messages sent without one. @default randomUUID */
  readonly newMessageId?: () => string;
  /** Injected for tests. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default 20 s */
  readonly redriveTimeBudgetMs?: number;
}

/** A message ready to send: its JSON body and its size as SQS counts it. */
interface Outgoing {
  readonly index: number;
  readonly messageId: string;
  readonly groupId: string;
  readonly body: string;
  readonly bytes: number;
  /** The caller gave no messageId: it is new by construction, so it needs no marker. */
  readonly generated: boolean;
}

export class QueueService {
  private readonly directory: QueueDirectory;
  private readonly sqs: SQSClient;
  private readonly now: () => number;
  private readonly newMessageId: () => string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: QueueServiceOptions) {
    this.directory = options.directory;
    this.sqs = options.directory.client;
    this.now = options.now ?? Date.now;
    this.newMessageId = options.newMessageId ?? randomUUID;
    this.sleep = options.sleep ?? RETRY_DEFAULTS.sleep;
  }

  // ---- administration ----------------------------------------------------------------------------

  async create(request: CreateQueueRequest): Promise<QueueDescription> {
    const { name } = request;
    // CreateQueue of an existing name with the same attributes answers the existing queue, so
    // "already exists" is asked first. Two concurrent creates of one name can both pass here; with
    // the same settings both then succeed (the same queue), with different ones SQS refuses the
    // second (QueueNameExists → 409).
    // Fresh: another execution environment may have deleted it since this one cached its URL.
    if ((await this.directory.find(name, { fresh: true })) !== undefined) {
      throw new QueueAlreadyExistsError(`Queue "${name}" already exists`, { details: { queue: name } });
    }
    const tags = { [MESSAGE_QUEUES.originTag]: 'api' satisfies QueueOrigin };
    // The dead-letter queue first: a crash before the queue exists leaves a DLQ that a retried
    // create reuses (same name, same attributes), never a queue without one.
    const deadLetterUrl = await this.createSqsQueue(
      this.directory.deadLetterSqsName(name),
      { ...FIFO_ATTRIBUTES, MessageRetentionPeriod: String(seconds(QUEUE_DEFAULTS.deadLetterRetentionMs)) },
      tags,
      name,
    );
    const deadLetterArn = (await this.attributes(deadLetterUrl, name, ['QueueArn'])).QueueArn;
    const url = await this.createSqsQueue(
      this.directory.sqsName(name),
      {
        ...FIFO_ATTRIBUTES,
        VisibilityTimeout: String(seconds(request.visibilityTimeoutMs ?? QUEUE_DEFAULTS.visibilityTimeoutMs)),
        MessageRetentionPeriod: String(seconds(request.retentionMs ?? QUEUE_DEFAULTS.retentionMs)),
        DelaySeconds: String(seconds(request.deliveryDelayMs ?? QUEUE_DEFAULTS.deliveryDelayMs)),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: deadLetterArn, maxReceiveCount: request.maxReceiveCount ?? QUEUE_DEFAULTS.maxReceiveCount }),
      },
      tags,
      name,
    );
    this.directory.forget(name);
    return this.describeAt(name, url, deadLetterUrl);
  }

  /**
   * Every queue of the installation, sorted by name. SQS's ListQueues is eventually consistent: a
   * queue created or deleted a moment ago may be missing or still listed.
   */
  async list(): Promise<QueueSummary[]> {
    const urls: string[] = [];
    let token: string | undefined;
    try {
      do {
        const out = await this.sqs.send(
          new ListQueuesCommand({ QueueNamePrefix: `${this.directory.prefix}q-`, MaxResults: 1000, NextToken: token }),
        );
        urls.push(...(out.QueueUrls ?? []));
        token = out.NextToken;
      } while (token);
    } catch (err) {
      throw toQueueError(err, 'ListQueues', '*');
    }
    const named = urls
      .map((url) => ({ url, name: messageQueueNameOf(this.directory.prefix, url) }))
      .filter((q): q is { url: string; name: string } => q.name !== undefined && queueNameSchema.safeParse(q.name).success);
    const summaries: QueueSummary[] = [];
    for (let i = 0; i < named.length; i += LIST_TAGS_CONCURRENCY) {
      const chunk = named.slice(i, i + LIST_TAGS_CONCURRENCY);
      const origins = await Promise.all(chunk.map((q) => this.origin(q.url, q.name).catch((err: unknown) => {
        if (err instanceof QueueNotFoundError) return undefined; // deleted since it was listed
        throw err;
      })));
      chunk.forEach((q, j) => {
        const origin = origins[j];
        if (origin) summaries.push({ name: q.name, origin });
      });
    }
    return summaries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async describe(name: string): Promise<QueueDescription> {
    return this.describeAt(name, await this.directory.url(name));
  }

  /**
   * Deletes the queue, then its dead-letter queue. A crash in between leaves the DLQ alone; a
   * retried delete (404, the queue is gone) removes it then.
   */
  async delete(name: string): Promise<void> {
    const url = await this.directory.find(name, { fresh: true });
    if (url === undefined) {
      await this.deleteLeftoverDeadLetters(name);
      throw new QueueNotFoundError(`Queue "${name}" does not exist`, { details: { queue: name } });
    }
    if ((await this.origin(url, name)) === 'stack') {
      throw new QueueReadOnlyError(`Queue "${name}" is declared in the stack; remove it there`, { details: { queue: name } });
    }
    try {
      await this.sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
    } catch (err) {
      this.directory.forget(name);
      throw toQueueError(err, 'DeleteQueue', name, { write: true });
    }
    this.directory.forget(name);
    await this.deleteLeftoverDeadLetters(name);
  }

  // ---- messages ------------------------------------------------------------------------------

  /**
   * Sends the messages in request order (so a group's order is the request's). Every size is
   * checked first: one too large sends nothing. Each message's ID is its deduplication ID; after
   * SQS accepted it, a marker in the dedupe table tells a new message from a duplicate (SQS does
   * not say). Send first, mark second: a crash in between leaves no marker, and the retry answers
   * "sent", which is true: SQS enqueued the message once.
   */
  async send(name: string, request: SendMessagesRequest): Promise<SendMessagesResponse> {
    const outgoing = request.messages.map((m, index): Outgoing => {
      const generated = m.messageId === undefined;
      const messageId = m.messageId ?? this.newMessageId();
      const body = encodeBody(m.body);
      const bytes = Buffer.byteLength(body, 'utf8') + attributeBytes(messageId);
      if (bytes > QUEUE_LIMITS.maxMessageBytes) {
        throw new MessageTooLargeError(
          `Message ${index} is ${bytes} bytes (its JSON body and the ${MESSAGE_ID_ATTRIBUTE} attribute); SQS takes at most ` +
            `${QUEUE_LIMITS.maxMessageBytes}. Nothing was sent`,
          { details: { index, max: QUEUE_LIMITS.maxMessageBytes, actual: bytes } },
        );
      }
      return { index, messageId, groupId: m.groupId ?? messageId, body, bytes, generated };
    });
    const queue = await this.guard(name, () => this.directory.identity(name));
    const results: SendResult[] = [];
    const sent: number[] = [];
    /** Marker IDs of this request so far: a later message with one of them is a duplicate of an earlier one. */
    const seen = new Set<string>();
    for (const batch of byteBatches(outgoing)) {
      const startedAt = this.now();
      const accepted = await this.sendBatch(name, queue.url, batch, sent);
      const statuses = await Promise.all(
        batch.map(async (m): Promise<SendResult['status']> => {
          if (m.generated) return 'sent';
          const id = sendMarkerId(this.directory.sqsName(name), queue.createdTimestamp, m.groupId, m.messageId);
          if (seen.has(id)) return 'duplicate';
          seen.add(id);
          try {
            // The window is counted from before the send: the marker never outlives SQS's memory of the ID.
            return (await this.options.markers.mark({ id, untilMs: startedAt + SQS_DEDUPE_WINDOW_MS }, this.now())) ? 'sent' : 'duplicate';
          } catch (err) {
            throw withSent(err as SluiceError, sent);
          }
        }),
      );
      batch.forEach((m, j) => {
        results.push({ messageId: m.messageId, groupId: m.groupId, status: statuses[j]!, sequenceNumber: accepted.get(m.index) ?? '' });
      });
    }
    return { results };
  }

  /**
   * Receives up to `maxMessages`, long-polling up to `waitMs`. Messages past what one answer holds
   * (about 5.75 MiB, Lambda's response limit) are made visible again at once.
   */
  async receive(name: string, request: ReceiveMessagesRequest): Promise<ReceiveMessagesResponse> {
    const url = await this.directory.url(name);
    const out = await this.guard(name, () =>
      this.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: request.maxMessages ?? QUEUE_DEFAULTS.maxMessages,
          WaitTimeSeconds: seconds(request.waitMs ?? QUEUE_DEFAULTS.waitMs),
          ...(request.visibilityTimeoutMs === undefined ? {} : { VisibilityTimeout: seconds(request.visibilityTimeoutMs) }),
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: [MESSAGE_ID_ATTRIBUTE],
        }),
      ),
      'ReceiveMessage',
    );
    const budget = new ResponseBudget();
    const messages: QueueMessage[] = [];
    const released: string[] = [];
    for (const m of out.Messages ?? []) {
      const message = toQueueMessage(m);
      if (budget.take(message)) messages.push(message);
      else released.push(message.receiptHandle);
    }
    if (released.length > 0) {
      // Best effort: if this fails they come back when their visibility timeout ends.
      await this.changeVisibility(name, url, released, 0).catch(() => undefined);
    }
    return { messages };
  }

  /** Deletes the messages: resolved. Per receipt handle, in request order. */
  async ack(name: string, request: AckRequest): Promise<ReceiptResponse> {
    const url = await this.directory.url(name);
    return this.perHandle(name, request.receiptHandles, 'DeleteMessageBatch', (entries) =>
      this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: url, Entries: entries.map((e) => ({ Id: e.id, ReceiptHandle: e.handle })) })),
    );
  }

  /** Makes the messages visible again after `delayMs` (at once by default). */
  async nack(name: string, request: NackRequest): Promise<ReceiptResponse> {
    const url = await this.directory.url(name);
    return { results: await this.changeVisibility(name, url, request.receiptHandles, seconds(request.delayMs ?? 0)) };
  }

  /** Sets the messages' visibility timeout to `visibilityTimeoutMs` from now. */
  async extend(name: string, request: ExtendRequest): Promise<ReceiptResponse> {
    const url = await this.directory.url(name);
    return { results: await this.changeVisibility(name, url, request.receiptHandles, seconds(request.visibilityTimeoutMs)) };
  }

  // ---- dead letters ------------------------------------------------------------------------------

  /**
   * Moves dead letters back to the queue: receive up to 10 from the DLQ, send them to the queue
   * (same group, body and attributes), delete them from the DLQ; until `maxMessages` moved, the
   * DLQ answers empty, or about 20 s passed. The copy's deduplication ID is `redrive-<the dead
   * letter's SQS MessageId>`, not the message's own ID: that may still be inside SQS's 5-minute
   * window, and the copy would be dropped. A move whose delete failed is sent again by a later
   * redrive, and that copy is dropped by SQS if within 5 minutes.
   */
  async redrive(name: string, request: RedriveRequest): Promise<RedriveResponse> {
    const url = await this.directory.url(name);
    const deadLetters = await this.directory.deadLetterUrl(name);
    if (deadLetters === undefined) return { moved: 0, remaining: 0 };
    const max = request.maxMessages ?? Infinity;
    const deadline = this.now() + (this.options.redriveTimeBudgetMs ?? REDRIVE_TIME_BUDGET_MS);
    let moved = 0;
    try {
      while (moved < max && this.now() < deadline) {
        const out = await this.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: deadLetters,
            MaxNumberOfMessages: Math.min(SQS_BATCH_ENTRIES, max - moved),
            VisibilityTimeout: REDRIVE_VISIBILITY_SECONDS,
            // One second, not zero: a short poll may answer empty while messages remain.
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        const letters = out.Messages ?? [];
        if (letters.length === 0) break;
        const movedNow = await this.moveBack(url, deadLetters, letters);
        moved += movedNow;
        if (movedNow === 0) break; // the queue refused every one: they stay, visible again in a minute
      }
    } catch (err) {
      const mapped = toQueueError(err, 'Redrive', name, { write: true });
      mapped.details.moved = moved;
      throw mapped;
    }
    const counts = await this.attributes(deadLetters, name, ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible']);
    const remaining = Number(counts.ApproximateNumberOfMessages ?? 0) + Number(counts.ApproximateNumberOfMessagesNotVisible ?? 0);
    return { moved, remaining };
  }

  /** Empties the queue, or its dead-letter queue. SQS allows one purge per queue a minute (else 409 QueueBusy). */
  async purge(name: string, request: PurgeRequest): Promise<PurgeResponse> {
    const target = request.target ?? 'queue';
    const queueUrl = await this.directory.url(name);
    const url = target === 'queue' ? queueUrl : await this.directory.deadLetterUrl(name);
    if (url === undefined) throw new QueueNotFoundError(`Queue "${name}" has no dead-letter queue`, { details: { queue: name } });
    await this.guard(name, () => this.sqs.send(new PurgeQueueCommand({ QueueUrl: url })), 'PurgeQueue', true);
    return { target };
  }

  // ---- helpers -------------------------------------------------------------------------------

  /** Runs one SQS call on queue `name`, mapping its failure; a queue found gone is forgotten. */
  private async guard<T>(name: string, call: () => Promise<T>, operation = 'SQS', write = false): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (isQueueDoesNotExist(err) || err instanceof QueueNotFoundError) this.directory.forget(name);
      throw toQueueError(err, operation, name, { write });
    }
  }

  private async createSqsQueue(sqsName: string, attributes: Record<string, string>, tags: Record<string, string>, name: string): Promise<string> {
    try {
      const out = await this.sqs.send(new CreateQueueCommand({ QueueName: sqsName, Attributes: attributes, tags }));
      if (!out.QueueUrl) throw new InternalError(`CreateQueue ${sqsName} answered no URL`);
      return out.QueueUrl;
    } catch (err) {
      throw toQueueError(err, 'CreateQueue', name, { write: true });
    }
  }

  private async attributes(url: string, name: string, names: QueueAttributeName[]): Promise<Partial<Record<QueueAttributeName, string>>> {
    return (await this.guard(name, () => this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: names })), 'GetQueueAttributes'))
      .Attributes ?? {};
  }

  private async origin(url: string, name: string): Promise<QueueOrigin> {
    const out = await this.guard(name, () => this.sqs.send(new ListQueueTagsCommand({ QueueUrl: url })), 'ListQueueTags');
    return out.Tags?.[MESSAGE_QUEUES.originTag] === 'stack' ? 'stack' : 'api';
  }

  private async describeAt(name: string, url: string, knownDeadLetterUrl?: string): Promise<QueueDescription> {
    const deadLetterCount = async (): Promise<number> => {
      const dlq = knownDeadLetterUrl ?? (await this.directory.deadLetterUrl(name));
      if (dlq === undefined) return 0;
      try {
        const out = await this.sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['ApproximateNumberOfMessages'] }));
        return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
      } catch (err) {
        if (isQueueDoesNotExist(err)) return 0; // deleted meanwhile: no dead letters to count
        throw toQueueError(err, 'GetQueueAttributes', name);
      }
    };
    const [a, origin, deadLetters] = await Promise.all([
      this.attributes(url, name, ['All']),
      this.origin(url, name),
      deadLetterCount(),
    ]);
    let maxReceiveCount = 0;
    try {
      maxReceiveCount = Number((JSON.parse(a.RedrivePolicy ?? '{}') as { maxReceiveCount?: unknown }).maxReceiveCount ?? 0);
    } catch {
      // Not JSON: no redrive policy Sluice can read; 0 says messages never move.
    }
    return {
      name,
      origin,
      visibilityTimeoutMs: Number(a.VisibilityTimeout ?? 0) * 1000,
      maxReceiveCount,
      retentionMs: Number(a.MessageRetentionPeriod ?? 0) * 1000,
      deliveryDelayMs: Number(a.DelaySeconds ?? 0) * 1000,
      createdAt: Number(a.CreatedTimestamp ?? 0) * 1000,
      messages: {
        visible: Number(a.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
        delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
      },
      deadLetters: { visible: deadLetters },
      // SQS has no attribute for it (only CloudWatch's ApproximateAgeOfOldestMessage metric), and
      // receiving to look would change what it looks at.
      oldestMessageAgeMs: null,
    };
  }

  /** Deletes queue `name`'s dead-letter queue if one is there and not the stack's. */
  private async deleteLeftoverDeadLetters(name: string): Promise<void> {
    const dlq = await this.directory.deadLetterUrl(name);
    if (dlq === undefined) return;
    try {
      const tags = await this.sqs.send(new ListQueueTagsCommand({ QueueUrl: dlq }));
      if (tags.Tags?.[MESSAGE_QUEUES.originTag] === 'stack') return;
      await this.sqs.send(new DeleteQueueCommand({ QueueUrl: dlq }));
    } catch (err) {
      if (isQueueDoesNotExist(err)) return;
      throw toQueueError(err, 'DeleteQueue', name, { write: true });
    }
  }

  /**
   * One batch of a send, its failed entries (an SQS fault) sent again with backoff under the same
   * deduplication IDs, so never twice. Records each accepted index in `sent` (for the error of a
   * later failure) and answers the sequence numbers by index.
   */
  private async sendBatch(name: string, url: string, batch: readonly Outgoing[], sent: number[]): Promise<Map<number, string>> {
    const accepted = new Map<number, string>();
    let pending = batch;
    for (let attempt = 0; ; attempt++) {
      let out;
      try {
        out = await this.sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: url,
            Entries: pending.map((m) => ({
              Id: String(m.index),
              MessageBody: m.body,
              MessageGroupId: m.groupId,
              MessageDeduplicationId: deduplicationId(m.groupId, m.messageId),
              MessageAttributes: { [MESSAGE_ID_ATTRIBUTE]: { DataType: 'String', StringValue: m.messageId } },
            })),
          }),
        );
      } catch (err) {
        if (isQueueDoesNotExist(err)) this.directory.forget(name);
        throw withSent(toQueueError(err, 'SendMessageBatch', name, { write: true }), sent);
      }
      for (const s of out.Successful ?? []) {
        accepted.set(Number(s.Id), sequenceOf(s));
        sent.push(Number(s.Id));
      }
      const failed = out.Failed ?? [];
      if (failed.length === 0) return accepted;
      const refused = failed.find((f) => f.SenderFault);
      if (refused) {
        throw new DependencyFailedError(`SQS refused message ${refused.Id} (${refused.Code}: ${refused.Message})`, {
          details: { index: Number(refused.Id), sqsCode: refused.Code, sent: [...sent] },
        });
      }
      if (attempt >= ENTRY_RETRIES) {
        const f = failed[0]!;
        const message =
          `SendMessageBatch: SQS kept failing ${failed.length} messages (${f.Code}: ${f.Message}); the messages at indexes ` +
          `${JSON.stringify(sent)} were sent. Retry the request with the same messageIds: nothing is enqueued twice`;
        const details = { sent: [...sent], failed: failed.map((x) => Number(x.Id)) };
        throw classifyAwsError({ name: f.Code }) === 'throttled' ? new ThrottledError(message, { details }) : new InternalError(message, { details });
      }
      await this.sleep(backoffDelay(attempt, ENTRY_BACKOFF));
      const again = new Set(failed.map((f) => Number(f.Id)));
      pending = pending.filter((m) => again.has(m.index));
    }
  }

  private changeVisibility(name: string, url: string, handles: readonly string[], visibilitySeconds: number): Promise<ReceiptResult[]> {
    return this.perHandle(name, handles, 'ChangeMessageVisibilityBatch', async (entries) =>
      this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: url,
          Entries: entries.map((e) => ({ Id: e.id, ReceiptHandle: e.handle, VisibilityTimeout: visibilitySeconds })),
        }),
      ),
    ).then((r) => [...r.results]);
  }

  /** A batch call per 10 receipt handles, in parallel; per handle, in request order. */
  private async perHandle(
    name: string,
    handles: readonly string[],
    operation: string,
    call: (entries: { id: string; handle: string }[]) => Promise<{ Successful?: { Id?: string }[]; Failed?: { Id?: string; Code?: string; Message?: string }[] }>,
  ): Promise<ReceiptResponse> {
    const entries = handles.map((handle, i) => ({ id: String(i), handle }));
    const chunks: (typeof entries)[] = [];
    for (let i = 0; i < entries.length; i += SQS_BATCH_ENTRIES) chunks.push(entries.slice(i, i + SQS_BATCH_ENTRIES));
    const outcomes = new Map<string, ReceiptResult['error'] | null>();
    await Promise.all(
      chunks.map(async (chunk) => {
        const out = await this.guard(name, () => call(chunk), operation, true);
        for (const s of out.Successful ?? []) outcomes.set(s.Id ?? '', null);
        for (const f of out.Failed ?? []) outcomes.set(f.Id ?? '', { code: f.Code ?? 'Unknown', message: f.Message ?? '' });
      }),
    );
    return {
      results: entries.map((e): ReceiptResult => {
        const error = outcomes.get(e.id);
        if (error === null) return { receiptHandle: e.handle, status: 'ok' };
        return { receiptHandle: e.handle, status: 'failed', error: error ?? { code: 'Unknown', message: 'SQS answered nothing for this receipt handle' } };
      }),
    };
  }

  /** Sends dead letters to the queue and deletes those sent from the DLQ; answers how many moved. */
  private async moveBack(url: string, deadLetters: string, letters: readonly Message[]): Promise<number> {
    let moved = 0;
    const entries = letters.map((m, i) => ({
      letter: m,
      bytes: Buffer.byteLength(m.Body ?? '', 'utf8') + messageAttributesBytes(m.MessageAttributes),
      index: i,
    }));
    for (const batch of byteBatches(entries)) {
      const out = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: batch.map(({ letter, index }) => ({
            Id: String(index),
            MessageBody: letter.Body ?? '',
            MessageGroupId: letter.Attributes?.MessageGroupId ?? letter.MessageId ?? 'redrive',
            MessageDeduplicationId: `redrive-${letter.MessageId}`,
            ...(letter.MessageAttributes && Object.keys(letter.MessageAttributes).length > 0
              ? { MessageAttributes: sendableAttributes(letter.MessageAttributes) }
              : {}),
          })),
        }),
      );
      const ok = new Set((out.Successful ?? []).map((s) => Number(s.Id)));
      const done = batch.filter((e) => ok.has(e.index));
      if (done.length === 0) continue;
      const deleted = await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: deadLetters,
          Entries: done.map(({ letter, index }) => ({ Id: String(index), ReceiptHandle: letter.ReceiptHandle })),
        }),
      );
      moved += (deleted.Successful ?? []).length;
    }
    return moved;
  }
}

function messageAttributesBytes(attributes: Record<string, MessageAttributeValue> | undefined): number {
  let bytes = 0;
  for (const [name, a] of Object.entries(attributes ?? {})) {
    bytes += Buffer.byteLength(name) + Buffer.byteLength(a.DataType ?? '');
    if (a.StringValue !== undefined) bytes += Buffer.byteLength(a.StringValue);
    if (a.BinaryValue !== undefined) bytes += a.BinaryValue.byteLength;
  }
  return bytes;
}

/** Received attributes as SendMessage takes them (the list fields are reserved and must be absent). */
function sendableAttributes(attributes: Record<string, MessageAttributeValue>): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(attributes).map(([k, a]) => [
      k,
      { DataType: a.DataType, ...(a.StringValue !== undefined ? { StringValue: a.StringValue } : {}), ...(a.BinaryValue !== undefined ? { BinaryValue: a.BinaryValue } : {}) },
    ]),
  );
}

/** Consecutive items, at most 10 and 1 MiB a batch (an item of up to 1 MiB goes alone). */
function byteBatches<T extends { readonly bytes: number }>(items: readonly T[]): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && (current.length >= SQS_BATCH_ENTRIES || bytes + item.bytes > SQS_BATCH_BYTES)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function sequenceOf(entry: SendMessageBatchResultEntry): string {
  return entry.SequenceNumber ?? '';
}

/** The error, saying which messages of the request SQS had already accepted. */
function withSent(err: SluiceError, sent: readonly number[]): SluiceError {
  err.details.sent = [...sent];
  return err;
}
