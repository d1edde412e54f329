/**
 * Atomic writes that span stores, in Sluice's own types (as Powertools keeps DynamoDB behind its
 * persistence layer). Each store adds its parts to a WriteTransaction in domain terms (the log its
 * heads, batches and dedupe records; the groups store a fenced offset commit), and this module
 * alone turns the transaction into one TransactWriteItems call:
 * - at most 100 actions (DynamoDB's limit), checked before anything is sent;
 * - one ClientRequestToken per transaction: the SDK retries a call whose answer was lost with the
 *   same input, and a caller may commit the same transaction again, so DynamoDB applies it at most
 *   once (for 10 minutes);
 * - ReturnValuesOnConditionCheckFailure 'ALL_OLD' on the actions that ask for the item they lost to;
 * - a cancelled transaction's reasons routed back to the part that added each action, so each
 *   store turns its own failed conditions into its own domain error (TransactionPart.conditionFailed)
 *   and the committer decides what the cancellation means (CommitOptions.onCancelled).
 */
import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { TransactWriteCommand, type DynamoDBDocumentClient, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { RequestTooLargeError } from '../../../api/errors';
import { toSluiceError } from './errors';

/** DynamoDB's limit on the actions of one TransactWriteItems. */
export const MAX_TRANSACTION_ACTIONS = 100;

type Attributes = Readonly<Record<string, unknown>>;

/** A condition expression with the names and values it uses (explain it where it is written). */
export interface Condition {
  readonly expression: string;
  readonly names?: Readonly<Record<string, string>>;
  readonly values?: Attributes;
}

interface ActionBase {
  readonly table: string;
  /** The action holds only if this is true of the item as it is; else the transaction is cancelled. */
  readonly condition?: Condition;
  /** On a failed condition, give the part the item as it was (ReturnValuesOnConditionCheckFailure). */
  readonly returnItemOnFailure?: boolean;
}

/** One write of a transaction (a TransactWriteItems action), in plain attribute values. */
export type WriteAction =
  | (ActionBase & { readonly type: 'put'; readonly item: Attributes })
  | (ActionBase & { readonly type: 'check'; readonly key: Attributes; readonly condition: Condition })
  | (ActionBase & {
      readonly type: 'update';
      readonly key: Attributes;
      /** The update expression; its names and values share one namespace with the condition's. */
      readonly update: Condition;
    })
  | (ActionBase & { readonly type: 'delete'; readonly key: Attributes });

/** A failed condition of one action of a part. */
export interface ConditionFailure {
  /** Index of the action within its part. */
  readonly index: number;
  /** The item as it was, when the action asked for it (returnItemOnFailure) and the item existed. */
  readonly item?: Record<string, unknown>;
}

/** What one store adds to a transaction: its actions, and how it reads their failed conditions. */
export interface TransactionPart<E extends Error = Error> {
  readonly actions: readonly WriteAction[];
  /**
   * This part's failed conditions as its store's domain error; undefined when they are not
   * failures the store expects (the transaction then fails with the AWS error).
   */
  conditionFailed(failures: readonly ConditionFailure[]): E | undefined;
}

/** A unit of work: the parts of one or more stores, written all together or not at all. */
export class WriteTransaction {
  /** Sent as the ClientRequestToken: the same transaction committed twice is applied once. */
  readonly token: string = randomUUID();
  readonly #parts: TransactionPart[] = [];

  /** Adds a part; returns it, as the key to read its error from a TransactionCancellation. */
  add<E extends Error>(part: TransactionPart<E>): TransactionPart<E> {
    this.#parts.push(part);
    return part;
  }

  get parts(): readonly TransactionPart[] {
    return this.#parts;
  }

  /** Actions over all parts (DynamoDB allows MAX_TRANSACTION_ACTIONS). */
  get size(): number {
    return this.#parts.reduce((n, p) => n + p.actions.length, 0);
  }
}

/** Why DynamoDB cancelled a transaction, routed back to the parts. */
export class TransactionCancellation {
  /** Actions that met a concurrent transaction on the same item (TransactionConflict). */
  readonly conflicts: number;
  /**
   * Reasons no part explained: throttling, a rejected item (size, validation), or a failed
   * condition its part did not expect.
   */
  readonly unexplained: number;
  readonly #failures: Map<TransactionPart, ConditionFailure[]>;
  readonly #errors: Map<TransactionPart, Error>;

  constructor(
    tx: WriteTransaction,
    reasons: readonly { readonly Code?: string; readonly Item?: Record<string, AttributeValue> }[],
  ) {
    const owners: { part: TransactionPart; index: number }[] = [];
    for (const part of tx.parts) part.actions.forEach((_, index) => owners.push({ part, index }));
    let conflicts = 0;
    let unexplained = 0;
    const failures = new Map<TransactionPart, ConditionFailure[]>();
    reasons.forEach((reason, i) => {
      if (!reason.Code || reason.Code === 'None') return;
      if (reason.Code === 'TransactionConflict') {
        conflicts++;
        return;
      }
      const owner = owners[i];
      if (reason.Code !== 'ConditionalCheckFailed' || !owner) {
        unexplained++;
        return;
      }
      const list = failures.get(owner.part) ?? [];
      list.push({ index: owner.index, ...(reason.Item ? { item: unmarshall(reason.Item) } : {}) });
      failures.set(owner.part, list);
    });
    const errors = new Map<TransactionPart, Error>();
    for (const [part, list] of failures) {
      const error = part.conditionFailed(list);
      if (error) errors.set(part, error);
      else unexplained += list.length;
    }
    this.conflicts = conflicts;
    this.unexplained = unexplained;
    this.#failures = failures;
    this.#errors = errors;
  }

  /** The part's domain error, when its conditions failed (read by its own store). */
  errorOf<E extends Error>(part: TransactionPart<E>): E | undefined {
    const failures = this.#failures.get(part);
    return failures ? part.conditionFailed(failures) : undefined;
  }

  /** The domain errors of the parts whose conditions failed, in the order they were added. */
  errors(options: { readonly except?: TransactionPart } = {}): Error[] {
    return [...this.#errors].filter(([part]) => part !== options.except).map(([, error]) => error);
  }
}

export interface CommitOptions {
  /** Names the call in the errors it answers (e.g. "Append"). */
  readonly operation: string;
  /**
   * What a cancelled transaction means to the committer: the error to throw, or undefined to throw
   * the AWS error (mapped by toSluiceError).
   * @default - the domain error of the first part whose conditions failed
   */
  readonly onCancelled?: (cancellation: TransactionCancellation) => Error | undefined;
}

export interface CommitOutcome {
  /** Write capacity units DynamoDB reports for the transaction, when it reports them. */
  readonly consumedWriteUnits?: number;
}

/**
 * Writes every part of `tx` in one TransactWriteItems, or nothing. Throws RequestTooLargeError
 * (nothing sent) above MAX_TRANSACTION_ACTIONS; on a cancellation, `onCancelled`'s error; else the
 * AWS error as a write's SluiceError (OutcomeUnknown when the answer was lost).
 */
export async function commitTransaction(
  client: DynamoDBDocumentClient,
  tx: WriteTransaction,
  options: CommitOptions,
): Promise<CommitOutcome> {
  const input = toTransactWriteInput(tx);
  if (input.TransactItems.length === 0) return {};
  try {
    const out = await client.send(new TransactWriteCommand(input));
    const units = (out.ConsumedCapacity ?? []).reduce((sum, c) => sum + (c.WriteCapacityUnits ?? c.CapacityUnits ?? 0), 0);
    return { consumedWriteUnits: out.ConsumedCapacity ? units : undefined };
  } catch (err) {
    if ((err as { name?: string } | null)?.name === 'TransactionCanceledException') {
      const reasons = (err as { CancellationReasons?: { Code?: string; Item?: Record<string, AttributeValue> }[] }).CancellationReasons ?? [];
      const cancellation = new TransactionCancellation(tx, reasons);
      const error = (options.onCancelled ?? firstPartError)(cancellation);
      if (error) throw error;
    }
    throw toSluiceError(err, options.operation, { write: true });
  }
}

const firstPartError = (cancellation: TransactionCancellation): Error | undefined => cancellation.errors()[0];

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** The TransactWriteItems input of a transaction (exported for tests). */
export function toTransactWriteInput(tx: WriteTransaction): TransactWriteCommandInput & { TransactItems: TransactItem[] } {
  const TransactItems = tx.parts.flatMap((part) => part.actions.map(toTransactItem));
  if (TransactItems.length > MAX_TRANSACTION_ACTIONS) {
    throw new RequestTooLargeError(
      `A transaction holds at most ${MAX_TRANSACTION_ACTIONS} writes; this one needs ${TransactItems.length}`,
      { details: { limit: 'maxTransactionActions', max: MAX_TRANSACTION_ACTIONS, actual: TransactItems.length } },
    );
  }
  return {
    TransactItems,
    ReturnConsumedCapacity: 'TOTAL',
    // The SDK retries a transaction whose answer was lost with the same input, so with one token
    // per transaction DynamoDB applies it at most once (for 10 minutes).
    ClientRequestToken: tx.token,
  };
}

function toTransactItem(action: WriteAction): TransactItem {
  const names = { ...action.condition?.names, ...(action.type === 'update' ? action.update.names : {}) };
  const values = { ...action.condition?.values, ...(action.type === 'update' ? action.update.values : {}) };
  const common = {
    TableName: action.table,
    ...(action.condition ? { ConditionExpression: action.condition.expression } : {}),
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
    ...(action.returnItemOnFailure ? { ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const } : {}),
  };
  switch (action.type) {
    case 'put':
      return { Put: { ...common, Item: { ...action.item } } };
    case 'check':
      return { ConditionCheck: { ...common, ConditionExpression: action.condition.expression, Key: { ...action.key } } };
    case 'update':
      return { Update: { ...common, Key: { ...action.key }, UpdateExpression: action.update.expression } };
    case 'delete':
      return { Delete: { ...common, Key: { ...action.key } } };
  }
}
