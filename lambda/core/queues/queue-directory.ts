/**
 * Finds the installation's message queues by their Sluice name: the SQS names derive from the
 * prefix (definitions/queues.ts), and GetQueueUrl turns a name into the URL every other call
 * needs. Answers are cached per process for at most a minute: SQS refuses to re-create a name
 * within 60 s of deleting it, so a URL (and a queue's CreatedTimestamp) cached for less than that
 * still names the same queue, or one that no longer exists (a call then fails with
 * QueueDoesNotExist, and the entry is dropped).
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MESSAGE_QUEUES, messageDeadLetterQueueName, messageQueueName } from '../../../definitions/queues';
import { QueueNotFoundError } from '../../../api/errors';
import { isQueueDoesNotExist, toQueueError } from './sqs-errors';

/** Under SQS's 60 s: a cached name cannot have been deleted and re-created meanwhile. */
export const QUEUE_CACHE_TTL_MS = 55_000;

export interface QueueIdentity {
  readonly url: string;
  /** SQS's CreatedTimestamp (epoch seconds): tells a re-created queue of the same name apart. */
  readonly createdTimestamp: number;
}

export interface QueueDirectoryOptions {
  /** @default Date.now */
  readonly now?: () => number;
}

export class QueueDirectory {
  private readonly urls = new Map<string, { readonly url: string; readonly at: number }>();
  private readonly identities = new Map<string, { readonly identity: QueueIdentity; readonly at: number }>();
  private readonly now: () => number;

  constructor(
    readonly client: SQSClient,
    readonly prefix: string,
    options: QueueDirectoryOptions = {},
  ) {
    if (!MESSAGE_QUEUES.prefixPattern.test(prefix)) {
      throw new Error(`The message-queue prefix must be 1 to 24 of [a-zA-Z0-9_-]; got "${prefix}"`);
    }
    this.now = options.now ?? Date.now;
  }

  /** The SQS name of queue `name`. */
  sqsName(name: string): string {
    return messageQueueName(this.prefix, name);
  }

  /** The SQS name of queue `name`'s dead-letter queue. */
  deadLetterSqsName(name: string): string {
    return messageDeadLetterQueueName(this.prefix, name);
  }

  /** The URL of queue `name`; QueueNotFoundError if there is none. */
  async url(name: string): Promise<string> {
    const url = await this.find(name);
    if (url === undefined) throw new QueueNotFoundError(`Queue "${name}" does not exist`, { details: { queue: name } });
    return url;
  }

  /** The URL of queue `name`, or undefined if there is none; `fresh`: ask SQS, whatever is cached. */
  async find(name: string, options: { readonly fresh?: boolean } = {}): Promise<string | undefined> {
    const cached = this.urls.get(name);
    if (!options.fresh && cached && this.now() - cached.at < QUEUE_CACHE_TTL_MS) return cached.url;
    const url = await this.lookUp(this.sqsName(name), name);
    if (url === undefined) this.urls.delete(name);
    else this.urls.set(name, { url, at: this.now() });
    return url;
  }

  /** The URL of queue `name`'s dead-letter queue (not cached: only redrive and purge use it). */
  async deadLetterUrl(name: string): Promise<string | undefined> {
    return this.lookUp(this.deadLetterSqsName(name), name);
  }

  /** URL and CreatedTimestamp of queue `name`; QueueNotFoundError if there is none. */
  async identity(name: string): Promise<QueueIdentity> {
    const cached = this.identities.get(name);
    if (cached && this.now() - cached.at < QUEUE_CACHE_TTL_MS) return cached.identity;
    const url = await this.url(name);
    let out;
    try {
      out = await this.client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['CreatedTimestamp'] }));
    } catch (err) {
      if (isQueueDoesNotExist(err)) this.forget(name);
      throw toQueueError(err, 'GetQueueAttributes', name);
    }
    const identity = { url, createdTimestamp: Number(out.Attributes?.CreatedTimestamp ?? 0) };
    this.identities.set(name, { identity, at: this.now() });
    return identity;
  }

  /** Drops what is cached about queue `name` (it was deleted, or a call found it gone). */
  forget(name: string): void {
    this.urls.delete(name);
    this.identities.delete(name);
  }

  private async lookUp(sqsName: string, name: string): Promise<string | undefined> {
    try {
      const out = await this.client.send(new GetQueueUrlCommand({ QueueName: sqsName }));
      return out.QueueUrl;
    } catch (err) {
      if (isQueueDoesNotExist(err)) return undefined;
      throw toQueueError(err, 'GetQueueUrl', name);
    }
  }
}
