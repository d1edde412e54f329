/**
 * The message the publisher sends for each change of an order and the worker applies: one per
 * DynamoDB stream record of the "orders" table.
 *
 * - `version` is the stream record's sequence number (a decimal string, up to 40 digits): DynamoDB
 *   gives an item's stream records in the order of its modifications, with increasing sequence
 *   numbers. The worker applies a change only if its version is above the one the replica holds,
 *   which makes a redelivered or re-sent change a no-op and keeps an older change from undoing a
 *   newer one.
 * - `image` is the item's new image in DynamoDB's JSON (as the stream event carries it), so every
 *   type survives the trip (numbers keep their precision, sets stay sets).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** The attribute AttributeValue-JSON of a Lambda stream event: binary values are base64 strings. */
export type EventAttributeValue = Record<string, unknown>;

export type OrderChange =
  | { readonly orderId: string; readonly version: string; readonly op: 'put'; readonly image: Record<string, EventAttributeValue> }
  | { readonly orderId: string; readonly version: string; readonly op: 'delete' };

/** The orders table's (and the replica's) partition key. */
export const ORDER_KEY = 'orderId';

/**
 * Attributes the replica adds to each item (and the test leaves out when it compares the tables):
 * the version applied last, how many changes were applied, and for a deleted order a tombstone
 * flag and its expiry (TTL).
 */
export const SYNC = {
  version: '_syncVersion',
  changes: '_syncChanges',
  deleted: '_syncDeleted',
  expiresAt: '_syncExpiresAt',
} as const;

/** Compares two versions (decimal strings of any length). */
export function compareVersions(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * An image of a Lambda stream event as the SDK writes it: binary values (B, BS, and inside M and L)
 * decoded from base64.
 */
export function toSdkImage(image: Record<string, EventAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, toSdkValue(value)]));
}

function toSdkValue(value: EventAttributeValue): AttributeValue {
  if (typeof value.B === 'string') return { B: Buffer.from(value.B, 'base64') };
  if (Array.isArray(value.BS)) return { BS: (value.BS as string[]).map((b) => Buffer.from(b, 'base64')) };
  if (value.M && typeof value.M === 'object') return { M: toSdkImage(value.M as Record<string, EventAttributeValue>) };
  if (Array.isArray(value.L)) return { L: (value.L as EventAttributeValue[]).map(toSdkValue) };
  return value as unknown as AttributeValue;
}
