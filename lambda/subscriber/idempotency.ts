/**
 * The idempotency records of `sluiceSubscriber({ idempotent })`: one item per processed event,
 * keyed by (topic, subscription, partition, offset), or per processed queue message, keyed by
 * (queue, group, message ID), in a DynamoDB table the user owns.
 *
 * Table: partition key `pk` (string), no sort key; turn on TTL on `expiresAt` so records leave
 * after `retention`. The function needs `dynamodb:PutItem`, `UpdateItem`, `DeleteItem` and
 * `GetItem` on it (`table.grant(fn, ...)`, or `grantReadWriteData`).
 *
 * An event goes through: claim → handler → complete (or release):
 * - **claim**: a conditional PutItem `{ status: IN_PROGRESS, claimedUntil, claim }` that succeeds
 *   only if there is no record (`attribute_not_exists(pk)`) or only an abandoned claim (in progress
 *   past `claimedUntil`: its invocation timed out or crashed). It answers `claimed`, `done` (a
 *   COMPLETED record: the event is skipped) or `busy` (another invocation holds it now: the
 *   message is retried later, never processed twice at the same time);
 * - **complete**: once the handler succeeded, UpdateItem to COMPLETED (conditional on our claim);
 * - **release**: when the handler failed, DeleteItem (conditional on our claim), so the retry
 *   processes the event. A failed handler never leaves a record behind.
 * The window left: the handler succeeds and the invocation dies before `complete`; the claim
 * expires after `claimedUntil` and the event is processed again (at-least-once, as Powertools'
 * idempotency utility). Make effects that matter transactional with the record if you need more.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';

export type ClaimResult = 'claimed' | 'done' | 'busy';

export interface IdempotencyStoreOptions {
  readonly table: string;
  readonly client?: DynamoDBClient;
  /** Seconds a COMPLETED record is kept (its `expiresAt`). */
  readonly retentionSeconds: number;
}

export interface EventKey {
  readonly topic: string;
  readonly subscription: string;
  readonly partition: number;
  readonly offset: number;
}

const IN_PROGRESS = 'IN_PROGRESS';
const COMPLETED = 'COMPLETED';

/** The record key of one event: topic and subscription names cannot contain `#`. */
export function idempotencyKey(event: EventKey): string {
  return `${event.topic}#${event.subscription}#${event.partition}#${event.offset}`;
}

export interface QueueMessageKey {
  /** The SQS queue's name. */
  readonly queue: string;
  readonly groupId: string;
  readonly messageId: string;
}

/**
 * The record key of one queue message. SQS FIFO deduplicates per group in high-throughput mode, so
 * the group is part of the identity. Group and message IDs may contain `#`: they are URI-encoded.
 */
export function queueIdempotencyKey(message: QueueMessageKey): string {
  return `queue#${message.queue}#${encodeURIComponent(message.groupId)}#${encodeURIComponent(message.messageId)}`;
}

type Sdk = typeof import('@aws-sdk/client-dynamodb');
let sdk: Promise<Sdk> | undefined;
/**
 * The AWS SDK's DynamoDB client, loaded on first use: the Lambda Node.js runtime provides it, so
 * subscribers that do not use idempotency need not have it installed.
 */
const loadSdk = (): Promise<Sdk> => (sdk ??= import('@aws-sdk/client-dynamodb'));
/** One client per process when the user gives none, reused across invocations. */
let defaultClient: DynamoDBClient | undefined;

export class IdempotencyStore {
  /** Our claim on the records we claimed, by key. */
  private readonly claims = new Map<string, string>();

  constructor(private readonly options: IdempotencyStoreOptions) {}

  /** Claims an event until `claimedUntil` (epoch ms). */
  async claim(key: string, claimedUntil: number): Promise<ClaimResult> {
    const { client, sdk } = await this.connect();
    const claim = randomUUID();
    const now = Date.now();
    try {
      await client.send(
        new sdk.PutItemCommand({
          TableName: this.options.table,
          Item: {
            pk: { S: key },
            status: { S: IN_PROGRESS },
            claim: { S: claim },
            claimedUntil: { N: String(claimedUntil) },
            expiresAt: { N: String(Math.ceil(now / 1000) + this.options.retentionSeconds) },
          },
          ConditionExpression: 'attribute_not_exists(pk) OR (#status = :inProgress AND claimedUntil < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':inProgress': { S: IN_PROGRESS }, ':now': { N: String(now) } },
        }),
      );
      this.claims.set(key, claim);
      return 'claimed';
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = await client.send(
        new sdk.GetItemCommand({ TableName: this.options.table, Key: { pk: { S: key } }, ConsistentRead: true }),
      );
      const status = existing.Item?.status?.S;
      if (status === COMPLETED) return 'done';
      // Held by another invocation (or gone again since: let the retry find out).
      return 'busy';
    }
  }

  /** Marks a claimed event processed. Returns false if the claim was lost (it expired and was taken). */
  async complete(key: string): Promise<boolean> {
    const claim = this.claims.get(key);
    if (claim === undefined) return false;
    this.claims.delete(key);
    const { client, sdk } = await this.connect();
    try {
      await client.send(
        new sdk.UpdateItemCommand({
          TableName: this.options.table,
          Key: { pk: { S: key } },
          UpdateExpression: 'SET #status = :completed, completedAt = :now REMOVE claimedUntil',
          ConditionExpression: 'claim = :claim',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':completed': { S: COMPLETED }, ':now': { N: String(Date.now()) }, ':claim': { S: claim } },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Gives up a claim after a failure, so a retry processes the event. */
  async release(key: string): Promise<void> {
    const claim = this.claims.get(key);
    if (claim === undefined) return;
    this.claims.delete(key);
    const { client, sdk } = await this.connect();
    try {
      await client.send(
        new sdk.DeleteItemCommand({
          TableName: this.options.table,
          Key: { pk: { S: key } },
          ConditionExpression: 'claim = :claim',
          ExpressionAttributeValues: { ':claim': { S: claim } },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /** Keys claimed and neither completed nor released yet. */
  get held(): string[] {
    return [...this.claims.keys()];
  }

  private async connect(): Promise<{ client: DynamoDBClient; sdk: Sdk }> {
    const loaded = await loadSdk();
    const client = this.options.client ?? (defaultClient ??= new loaded.DynamoDBClient({}));
    return { client, sdk: loaded };
  }
}

/** By name, not `instanceof`: the client may come from another copy of the SDK than the one loaded here. */
function isConditionFailure(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'ConditionalCheckFailedException';
}
