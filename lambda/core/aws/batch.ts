/**
 * BatchGetItem and BatchWriteItem over any number of keys: chunked to DynamoDB's limits, with the
 * unprocessed remainder sent again with backoff (what DynamoDB hands back under load).
 *
 * The loops below are not a second retry layer around the SDK's (clients.ts): a batch call that
 * returns UnprocessedKeys/UnprocessedItems *succeeded*, so the SDK has nothing to retry, and only
 * the caller can send the part DynamoDB did not get to. A call that fails is not looped here: its
 * error (after the SDK's retries) goes to the caller.
 */
import {
  BatchGetCommand,
  BatchWriteCommand,
  type BatchGetCommandOutput,
  type BatchWriteCommandOutput,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { ThrottledError } from '../../../api/errors';
import { RETRY_DEFAULTS, backoffDelay } from '../../../api/retry';
import { toSluiceError } from './errors';

const BATCH_GET_MAX = 100;
const BATCH_WRITE_MAX = 25;
const MAX_ROUNDS = 8;
/** Inside a function's timeout: at most about 6 s over all rounds. */
const UNPROCESSED_BACKOFF = { initialDelayMs: 50, maxDelayMs: 1000 } as const;

type Key = Record<string, unknown>;
export type WriteRequest = { PutRequest: { Item: Key } } | { DeleteRequest: { Key: Key } };

/** Reads of every key that exists (order not kept); consistent unless `consistent: false`. */
export async function batchGetAll(
  client: DynamoDBDocumentClient,
  table: string,
  keys: readonly Key[],
  operation: string,
  options: { readonly consistent?: boolean } = {},
): Promise<Key[]> {
  const found: Key[] = [];
  try {
    for (let i = 0; i < keys.length; i += BATCH_GET_MAX) {
      let pending: Key[] | undefined = keys.slice(i, i + BATCH_GET_MAX);
      for (let round = 0; pending && pending.length > 0; round++) {
        if (round === MAX_ROUNDS) throw new ThrottledError(`${operation}: BatchGetItem kept returning UnprocessedKeys; retry with backoff`);
        if (round > 0) await RETRY_DEFAULTS.sleep(backoffDelay(round - 1, UNPROCESSED_BACKOFF));
        const out: BatchGetCommandOutput = await client.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: options.consistent ?? true } } }),
        );
        found.push(...(out.Responses?.[table] ?? []));
        pending = out.UnprocessedKeys?.[table]?.Keys;
      }
    }
  } catch (err) {
    throw toSluiceError(err, operation);
  }
  return found;
}

export async function batchWriteAll(
  client: DynamoDBDocumentClient,
  table: string,
  requests: readonly WriteRequest[],
  operation: string,
): Promise<void> {
  try {
    for (let i = 0; i < requests.length; i += BATCH_WRITE_MAX) {
      let pending = requests.slice(i, i + BATCH_WRITE_MAX);
      for (let round = 0; pending.length > 0; round++) {
        if (round === MAX_ROUNDS) throw new ThrottledError(`${operation}: BatchWriteItem kept returning UnprocessedItems; retry with backoff`);
        if (round > 0) await RETRY_DEFAULTS.sleep(backoffDelay(round - 1, UNPROCESSED_BACKOFF));
        const out: BatchWriteCommandOutput = await client.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
        pending = (out.UnprocessedItems?.[table] ?? []) as WriteRequest[];
      }
    }
  } catch (err) {
    throw toSluiceError(err, operation, { write: true });
  }
}
