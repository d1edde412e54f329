/**
 * The worker: the queue's consumer (`queue.addConsumer(worker)`). It applies each change to the
 * "replica" table, idempotently and in order per order ID, and succeeds for a message (so the
 * event source deletes it: the acknowledgement) only after its write succeeded.
 *
 * `sluiceSubscriber({ source: 'queue' })` hands over the decoded messages and answers with partial
 * batch failures: when a change fails, its message and the later ones of the same order are
 * reported failed, unprocessed, and come back after the visibility timeout, in order; other
 * orders go on.
 *
 * Applying a change: read the replica's item, skip the change if the replica already holds this
 * version or a newer one (a redelivery after a crash between the write and the acknowledgement,
 * or a copy re-sent after the deduplication window), else write the new image (or a tombstone for
 * a delete) with the version and the count of changes applied so far, on condition that nobody
 * wrote the item since it was read. The tombstone keeps a late, older change from resurrecting a
 * deleted order; it expires after TOMBSTONE_TTL_SECONDS.
 */
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import { sluiceSubscriber, type SluiceQueueBatch, type SluiceQueueMessage } from '../../../lambda/subscriber';
import { compareVersions, ORDER_KEY, SYNC, toSdkImage, type OrderChange } from './change';

const dynamodb = new DynamoDBClient({});
const REPLICA_TABLE = process.env.REPLICA_TABLE ?? '';
/** How long a deleted order's tombstone is kept: longer than a change can stay queued (4 days) or dead-lettered (14). */
const TOMBSTONE_TTL_SECONDS = 15 * 24 * 60 * 60;

export type Outcome = 'applied' | 'stale';

export async function applyChange(change: OrderChange): Promise<Outcome> {
  const key = { [ORDER_KEY]: { S: change.orderId } };
  const names = { '#version': SYNC.version, '#changes': SYNC.changes };
  const current = await dynamodb.send(
    new GetItemCommand({ TableName: REPLICA_TABLE, Key: key, ConsistentRead: true, ProjectionExpression: '#version, #changes', ExpressionAttributeNames: names }),
  );
  const applied = current.Item?.[SYNC.version]?.N;
  if (applied !== undefined && compareVersions(applied, change.version) >= 0) return 'stale';
  const changes = Number(current.Item?.[SYNC.changes]?.N ?? 0) + 1;
  const sync: Record<string, AttributeValue> = { [SYNC.version]: { N: change.version }, [SYNC.changes]: { N: String(changes) } };
  const item: Record<string, AttributeValue> =
    change.op === 'put'
      ? { ...toSdkImage(change.image), ...sync }
      : { ...key, ...sync, [SYNC.deleted]: { BOOL: true }, [SYNC.expiresAt]: { N: String(Math.floor(Date.now() / 1000) + TOMBSTONE_TTL_SECONDS) } };
  await dynamodb.send(
    new PutItemCommand({
      TableName: REPLICA_TABLE,
      Item: item,
      // Written only over what was read: a concurrent writer of this order makes this attempt fail
      // (and the message come back), never lose an update.
      ConditionExpression: applied === undefined ? 'attribute_not_exists(#key)' : '#version = :read',
      ExpressionAttributeNames: applied === undefined ? { '#key': ORDER_KEY } : { '#version': SYNC.version },
      ExpressionAttributeValues: applied === undefined ? undefined : { ':read': { N: applied } },
    }),
  );
  return 'applied';
}

async function applyMessage(message: SluiceQueueMessage): Promise<void> {
  const change = message.body as OrderChange;
  let outcome: Outcome;
  try {
    outcome = await applyChange(change);
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) console.warn(JSON.stringify({ level: 'WARN', message: 'replica item changed meanwhile; retrying later', orderId: change.orderId }));
    throw error; // this message and the later changes of its order come back later, in order
  }
  console.log(JSON.stringify({ level: 'INFO', message: 'change', outcome, orderId: change.orderId, op: change.op, version: change.version, receiveCount: message.receiveCount }));
}

export const handler = middy()
  .use(sluiceSubscriber({ source: 'queue' }))
  .handler(async (batch: SluiceQueueBatch) => {
    await batch.eachMessage(applyMessage);
  });
