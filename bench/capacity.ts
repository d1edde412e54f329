/**
 * Capacity-unit arithmetic by AWS's documented rules, and a meter that watches every call a
 * DynamoDB client makes: it computes the units each call costs from the items it actually
 * writes or reads, and collects what the server reports (`ReturnConsumedCapacity: 'TOTAL'`).
 *
 * Item size: lambda/core/aws/item-size.ts, the same rules the log store sizes its heads with.
 *
 * Units:
 * - write: ceil(itemBytes / 1 KB) per item; twice that inside TransactWriteItems;
 * - read: ceil(bytes / 4 KB) per strongly consistent read, half for eventually consistent.
 *   GetItem and BatchGetItem round per item; Query rounds the total size of the items it read.
 *   A read that finds nothing still costs the minimum unit (DynamoDB Local charges a missed
 *   BatchGetItem key and an empty Query nothing).
 *
 * Approximations, on purpose: a write is sized by the item it writes, not the larger of the old
 * and new image (every item Sluice overwrites, a partition head, is kept within 1 KB either way);
 * a failed conditional write is counted like a successful one, as AWS charges it.
 */
import type { AttributeValue, ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { itemSize, numberSize, READ_UNIT_BYTES, valueSize, WRITE_UNIT_BYTES } from '../lambda/core/aws/item-size';

export { itemSize, numberSize, valueSize, READ_UNIT_BYTES, WRITE_UNIT_BYTES };

type Item = Record<string, AttributeValue>;

export function writeUnits(itemBytes: number, options: { transactional?: boolean } = {}): number {
  const units = Math.max(1, Math.ceil(itemBytes / WRITE_UNIT_BYTES));
  return options.transactional ? 2 * units : units;
}

export function readUnits(bytes: number, options: { consistent?: boolean; transactional?: boolean } = {}): number {
  const units = Math.max(1, Math.ceil(bytes / READ_UNIT_BYTES));
  if (options.transactional) return 2 * units;
  return options.consistent ? units : units / 2;
}

/** Units of some calls: computed by the documented rules, and as the server reported them. */
export interface Units {
  readonly computedWrite: number;
  readonly computedRead: number;
  readonly reportedWrite: number;
  readonly reportedRead: number;
  /** Whether the server reported anything at all for the calls metered. */
  readonly reported: boolean;
}

export interface MeterTotals extends Units {
  /** Calls per operation name, e.g. { TransactWriteItems: 40 }. */
  readonly calls: Record<string, number>;
  /** Writes (or calls) whose units the documented rules could not size from the call alone. */
  readonly unsized: number;
}

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

/**
 * Units a call costs by the documented rules, from its (marshalled) input and output. `unsized`
 * counts what the input alone cannot size (an update or delete is charged by the stored item):
 * the bench's paths have none, and the report flags any that appear.
 */
export function computeUnits(operation: string, input: Input, output: Output): { write: number; read: number; unsized: number } {
  switch (operation) {
    case 'PutItem':
      return { write: writeUnits(itemSize(input.Item as Item)), read: 0, unsized: 0 };
    case 'BatchWriteItem': {
      type Request = { PutRequest?: { Item: Item }; DeleteRequest?: { Key: Item } };
      const units = (tables: unknown) => {
        let write = 0;
        let unsized = 0;
        for (const requests of Object.values((tables ?? {}) as Record<string, Request[]>)) {
          for (const r of requests) {
            if (r.PutRequest) write += writeUnits(itemSize(r.PutRequest.Item));
            else unsized++;
          }
        }
        return { write, unsized };
      };
      // Items DynamoDB handed back unprocessed were not written (the caller sends them again).
      const sent = units(input.RequestItems);
      const back = units(output.UnprocessedItems);
      return { write: sent.write - back.write, read: 0, unsized: sent.unsized - back.unsized };
    }
    case 'TransactWriteItems': {
      let write = 0;
      let unsized = 0;
      for (const action of input.TransactItems as { Put?: { Item: Item } }[]) {
        if (action.Put) write += writeUnits(itemSize(action.Put.Item), { transactional: true });
        else unsized++;
      }
      return { write, read: 0, unsized };
    }
    case 'GetItem': {
      const item = output.Item as Item | undefined;
      return { write: 0, read: readUnits(item ? itemSize(item) : 0, { consistent: input.ConsistentRead === true }), unsized: 0 };
    }
    case 'BatchGetItem': {
      let read = 0;
      const requested = input.RequestItems as Record<string, { Keys: Item[]; ConsistentRead?: boolean }>;
      const found = (output.Responses ?? {}) as Record<string, Item[]>;
      for (const [table, request] of Object.entries(requested)) {
        const items = found[table] ?? [];
        const consistent = request.ConsistentRead === true;
        for (const item of items) read += readUnits(itemSize(item), { consistent });
        // A key that matched no item still costs the minimum read.
        const unprocessed = ((output.UnprocessedKeys as Record<string, { Keys: Item[] }> | undefined)?.[table]?.Keys ?? []).length;
        read += Math.max(0, request.Keys.length - items.length - unprocessed) * readUnits(0, { consistent });
      }
      return { write: 0, read, unsized: 0 };
    }
    case 'Query':
    case 'Scan': {
      const items = (output.Items ?? []) as Item[];
      const bytes = items.reduce((n, item) => n + itemSize(item), 0);
      return { write: 0, read: readUnits(bytes, { consistent: input.ConsistentRead === true }), unsized: 0 };
    }
    default:
      return { write: 0, read: 0, unsized: 1 };
  }
}

/**
 * Sums the units DynamoDB reported: one entry per call (TOTAL) or per table, each with
 * CapacityUnits (or only its read/write split).
 */
export function reportedUnits(consumed: ConsumedCapacity | ConsumedCapacity[] | undefined): number | undefined {
  if (consumed === undefined) return undefined;
  const list = Array.isArray(consumed) ? consumed : [consumed];
  return list.reduce((sum, c) => sum + (c.CapacityUnits ?? (c.ReadCapacityUnits ?? 0) + (c.WriteCapacityUnits ?? 0)), 0);
}

const READ_OPERATIONS = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan', 'TransactGetItems']);
const METERED_OPERATIONS = new Set([...READ_OPERATIONS, 'PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** How a client hands items back: as AttributeValues, or plain objects (the document client). */
export type OutputShape = 'raw' | 'document';

/**
 * Watches a client: every metered call is asked to return its consumed capacity (which changes
 * nothing else about the call), and its units are added up. `take()` returns the totals since the
 * last take and starts over.
 */
export class CapacityMeter {
  private computedWrite = 0;
  private computedRead = 0;
  private reportedWrite = 0;
  private reportedRead = 0;
  private reported = false;
  private unsized = 0;
  private calls: Record<string, number> = {};

  /** `shape`: 'document' when a DynamoDBDocumentClient is built on this client. */
  attach(client: DynamoDBClient, shape: OutputShape): void {
    const operationOf = (context: { commandName?: string }) => String(context.commandName ?? '').replace(/Command$/, '');
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (!METERED_OPERATIONS.has(operationOf(context))) return next(args);
        return next({ ...args, input: { ...(args.input as Input), ReturnConsumedCapacity: 'TOTAL' } });
      },
      { step: 'initialize', priority: 'high', name: 'benchAskForConsumedCapacity' },
    );
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = operationOf(context);
        if (!METERED_OPERATIONS.has(operation)) return next(args);
        let result;
        try {
          result = await next(args);
        } catch (err) {
          // A write that failed its condition (or a cancelled transaction) is still charged.
          if (!READ_OPERATIONS.has(operation)) this.record(operation, args.input as Input, {});
          throw err;
        }
        // Build step: the input is marshalled (the document client marshals before serializing),
        // while the document client has already unmarshalled the output: marshal it back.
        const output = result.output as unknown as Output;
        this.record(operation, args.input as Input, shape === 'document' ? marshallOutput(output) : output);
        return result;
      },
      { step: 'build', priority: 'high', name: 'benchCapacityMeter' },
    );
  }

  record(operation: string, input: Input, output: Output): void {
    this.calls[operation] = (this.calls[operation] ?? 0) + 1;
    const computed = computeUnits(operation, input, output);
    this.computedWrite += computed.write;
    this.computedRead += computed.read;
    this.unsized += computed.unsized;
    const reported = reportedUnits(output.ConsumedCapacity as ConsumedCapacity | ConsumedCapacity[] | undefined);
    if (reported !== undefined) {
      this.reported = true;
      if (READ_OPERATIONS.has(operation)) this.reportedRead += reported;
      else this.reportedWrite += reported;
    }
  }

  take(): MeterTotals {
    const totals: MeterTotals = {
      computedWrite: this.computedWrite,
      computedRead: this.computedRead,
      reportedWrite: this.reportedWrite,
      reportedRead: this.reportedRead,
      reported: this.reported,
      calls: this.calls,
      unsized: this.unsized,
    };
    this.computedWrite = this.computedRead = this.reportedWrite = this.reportedRead = this.unsized = 0;
    this.reported = false;
    this.calls = {};
    return totals;
  }
}

const toItem = (value: unknown): Item => marshall(value as Record<string, unknown>, { removeUndefinedValues: true });

/** The item-bearing parts of a document-client output, as AttributeValues again. */
function marshallOutput(output: Output): Output {
  const out: Output = { ...output };
  if (output.Item) out.Item = toItem(output.Item);
  if (Array.isArray(output.Items)) out.Items = output.Items.map(toItem);
  if (output.Responses && !Array.isArray(output.Responses)) {
    out.Responses = Object.fromEntries(
      Object.entries(output.Responses as Record<string, unknown[]>).map(([table, items]) => [table, items.map(toItem)]),
    );
  }
  return out;
}
