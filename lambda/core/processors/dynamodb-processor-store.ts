/**
 * DynamoDB implementation of ProcessorStore, over the `processors` table as the stream runtime
 * writes it (its key layout is defined once, in lambda/streams/runtime/state-store.ts). One
 * partition key per processor partition, `<name>#<partition>`: its "meta" item (streamTime,
 * counters, updatedAt), a "pos#<topic>" item per input topic (offset, topicId), and its state
 * entries "s#<store>#<key>". Reads only.
 */
import { QueryCommand, type DynamoDBDocumentClient, type QueryCommandOutput } from '@aws-sdk/lib-dynamodb';
import { META_SK, partitionKey, POSITION_PREFIX, STATE_PREFIX } from '../../streams/runtime/state-store';
import { toSluiceError } from '../aws/errors';
import type { ProcessorStore, StoredPosition, StoredProcessorPartition } from './processor-store';

export class DynamoDbProcessorStore implements ProcessorStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async readPartition(name: string, partition: number): Promise<StoredProcessorPartition> {
    const pk = partitionKey(name, partition);
    // "meta" and "pos#..." sort before "s#...": one query for both, without reading the state.
    const head = await this.queryAll('ReadProcessorPartition', {
      KeyConditionExpression: 'pk = :pk AND sk < :state',
      ExpressionAttributeValues: { ':pk': pk, ':state': STATE_PREFIX },
    });
    const meta = head.find((i) => i.sk === META_SK);
    const positions: StoredPosition[] = head
      .filter((i) => typeof i.sk === 'string' && i.sk.startsWith(POSITION_PREFIX))
      .map((i) => ({
        topic: (i.sk as string).slice(POSITION_PREFIX.length),
        offset: Number(i.offset),
        ...(typeof i.topicId === 'string' ? { topicId: i.topicId } : {}),
      }));
    const state = await this.stateSize(pk);
    return {
      ...(typeof meta?.streamTime === 'number' ? { streamTime: meta.streamTime } : {}),
      ...(typeof meta?.updatedAt === 'number' ? { updatedAt: meta.updatedAt } : {}),
      counters: meta ? countersOf(meta) : {},
      positions,
      state,
    };
  }

  /** Items and bytes of the partition's state entries: read page by page, only their sizes kept. */
  private async stateSize(pk: string): Promise<{ items: number; bytes: number }> {
    let items = 0;
    let bytes = 0;
    await this.queryAll(
      'ReadProcessorState',
      { KeyConditionExpression: 'pk = :pk AND begins_with(sk, :state)', ExpressionAttributeValues: { ':pk': pk, ':state': STATE_PREFIX } },
      (page) => {
        for (const item of page) {
          items++;
          bytes += itemBytes(item);
        }
      },
    );
    return { items, bytes };
  }

  /** Every item of a query; with `onPage`, pages are handed over and not kept. */
  private async queryAll(
    operation: string,
    query: { KeyConditionExpression: string; ExpressionAttributeValues: Record<string, unknown> },
    onPage?: (items: Record<string, unknown>[]) => void,
  ): Promise<Record<string, unknown>[]> {
    const kept: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      let out: QueryCommandOutput;
      try {
        out = await this.client.send(new QueryCommand({ TableName: this.table, ...query, ExclusiveStartKey: start, ConsistentRead: true }));
      } catch (err) {
        throw toSluiceError(err, operation);
      }
      const items = (out.Items ?? []) as Record<string, unknown>[];
      if (onPage) onPage(items);
      else kept.push(...items);
      start = out.LastEvaluatedKey;
    } while (start);
    return kept;
  }
}

/** The meta item's counters (a map of numbers). */
function countersOf(meta: Record<string, unknown>): Record<string, number> {
  const counters: Record<string, number> = {};
  if (typeof meta.counters === 'object' && meta.counters !== null) {
    for (const [name, value] of Object.entries(meta.counters)) if (typeof value === 'number') counters[name] = value;
  }
  return counters;
}

/**
 * An item's size as DynamoDB counts it: its attribute names plus their values (UTF-8 strings,
 * numbers about one byte per two digits plus one, 3 bytes per map or list plus 1 per element).
 */
export function itemBytes(item: Record<string, unknown>): number {
  return Object.entries(item).reduce((n, [name, value]) => n + Buffer.byteLength(name) + valueBytes(value), 0);
}

function valueBytes(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value);
  if (typeof value === 'number' || typeof value === 'bigint') return Math.ceil(String(value).replace(/[-.]/g, '').length / 2) + 1;
  if (typeof value === 'boolean' || value === null || value === undefined) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  if (value instanceof Set) return [...(value as Set<unknown>)].reduce<number>((n, v) => n + valueBytes(v), 0);
  if (Array.isArray(value)) return 3 + value.reduce<number>((n, v) => n + 1 + valueBytes(v), 0);
  if (typeof value === 'object') return 3 + itemBytes(value as Record<string, unknown>) + Object.keys(value).length;
  return 0;
}
