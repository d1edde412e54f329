/**
 * Compares the "orders" table with its replica: every order has an item in the replica with the
 * same attributes (the replica's own `_sync*` attributes left out), and the replica has no live
 * item for an order that does not exist (deleted orders are tombstones there). The demo and the
 * crash test (test/e2e/datastore-sync.test.ts) both check the example with it.
 */
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ORDER_KEY, SYNC } from '../functions/change';

export interface ReplicaItem {
  /** The item without the `_sync*` attributes, canonical (keys sorted, sets sorted). */
  readonly content: string;
  readonly version: string;
  /** How many changes the worker applied to this order. */
  readonly changes: number;
  readonly deleted: boolean;
}

export interface SyncReport {
  /** True when the two tables hold the same orders with the same content. */
  readonly inSync: boolean;
  readonly orders: number;
  readonly replicaLive: number;
  readonly tombstones: number;
  /** Orders missing from the replica, or deleted there. */
  readonly missing: readonly string[];
  /** Live replica items of orders that do not exist. */
  readonly extra: readonly string[];
  /** Orders whose replica item differs. */
  readonly different: readonly string[];
  /** Every replica item by order ID. */
  readonly replica: ReadonlyMap<string, ReplicaItem>;
}

export async function compareTables(client: DynamoDBClient, ordersTable: string, replicaTable: string): Promise<SyncReport> {
  const [orders, replicaItems] = await Promise.all([scanAll(client, ordersTable), scanAll(client, replicaTable)]);
  const source = new Map(orders.map((item) => [item[ORDER_KEY]!.S!, canonical(item)]));
  const replica = new Map<string, ReplicaItem>();
  for (const item of replicaItems) {
    const content = Object.fromEntries(Object.entries(item).filter(([name]) => !Object.values<string>(SYNC).includes(name)));
    replica.set(item[ORDER_KEY]!.S!, {
      content: canonical(content),
      version: item[SYNC.version]?.N ?? '',
      changes: Number(item[SYNC.changes]?.N ?? 0),
      deleted: item[SYNC.deleted]?.BOOL === true,
    });
  }
  const missing = [...source.keys()].filter((id) => !replica.has(id) || replica.get(id)!.deleted);
  const different = [...source.entries()].filter(([id, content]) => replica.has(id) && !replica.get(id)!.deleted && replica.get(id)!.content !== content).map(([id]) => id);
  const extra = [...replica.entries()].filter(([id, r]) => !r.deleted && !source.has(id)).map(([id]) => id);
  const tombstones = [...replica.values()].filter((r) => r.deleted).length;
  return {
    inSync: missing.length === 0 && different.length === 0 && extra.length === 0,
    orders: source.size,
    replicaLive: replica.size - tombstones,
    tombstones,
    missing,
    extra,
    different,
    replica,
  };
}

async function scanAll(client: DynamoDBClient, table: string): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** An item as canonical JSON: attribute names sorted, sets sorted, binary as base64. */
export function canonical(item: Record<string, AttributeValue>): string {
  return JSON.stringify(normalize({ M: item }));
}

function normalize(value: AttributeValue): unknown {
  if (value.M) return { M: Object.fromEntries(Object.keys(value.M).sort().map((k) => [k, normalize(value.M![k]!)])) };
  if (value.L) return { L: value.L.map(normalize) };
  if (value.SS) return { SS: [...value.SS].sort() };
  if (value.NS) return { NS: value.NS.map(Number).sort((a, b) => a - b).map(String) };
  if (value.B) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')).sort() };
  return value;
}
