/** The one module that turns a WriteTransaction into TransactWriteItems, with a mocked client. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { OutcomeUnknownError, RequestTooLargeError, ThrottledError } from '../../../api/errors';
import {
  commitTransaction,
  MAX_TRANSACTION_ACTIONS,
  toTransactWriteInput,
  WriteTransaction,
  type ConditionFailure,
  type TransactionPart,
  type WriteAction,
} from '../../../lambda/core/aws/write-transaction';

const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } }));
const mock = mockClient(client);

afterEach(() => {
  mock.reset();
});

class PartFailed extends Error {
  constructor(
    readonly part: string,
    readonly failures: readonly ConditionFailure[],
  ) {
    super(`${part} failed`);
    this.name = 'PartFailed';
  }
}

const put = (id: string, conditioned = false): WriteAction => ({
  type: 'put',
  table: 'things',
  item: { id },
  ...(conditioned ? { condition: { expression: 'attribute_not_exists(id)' }, returnItemOnFailure: true } : {}),
});

const part = (name: string, actions: readonly WriteAction[]): TransactionPart<PartFailed> => ({
  actions,
  conditionFailed: (failures) => new PartFailed(name, failures),
});

const cancelled = (codes: readonly (string | { Code: string; Item: Record<string, unknown> })[]) =>
  Object.assign(new Error('Transaction cancelled'), {
    name: 'TransactionCanceledException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    CancellationReasons: codes.map((c) => (typeof c === 'string' ? { Code: c } : { Code: c.Code, Item: marshall(c.Item) })),
  });

describe('Class: WriteTransaction', () => {
  describe('Method: toTransactWriteInput', () => {
    it('writes every part in the order added, with the condition, names, values and ALL_OLD where asked', () => {
      const tx = new WriteTransaction();
      tx.add(part('a', [put('1', true)]));
      tx.add(
        part('b', [
          { type: 'check', table: 'groups', key: { g: 'x' }, condition: { expression: '#m = :m', names: { '#m': 'member' }, values: { ':m': 'me' } } },
          { type: 'update', table: 'cursors', key: { c: 1 }, update: { expression: 'SET #o = :o', names: { '#o': 'offset' }, values: { ':o': 5 } } },
          { type: 'delete', table: 'cursors', key: { c: 2 } },
        ]),
      );
      const input = toTransactWriteInput(tx);
      expect(tx.size).toBe(4);
      expect(input.TransactItems).toEqual([
        {
          Put: {
            TableName: 'things',
            Item: { id: '1' },
            ConditionExpression: 'attribute_not_exists(id)',
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          ConditionCheck: {
            TableName: 'groups',
            Key: { g: 'x' },
            ConditionExpression: '#m = :m',
            ExpressionAttributeNames: { '#m': 'member' },
            ExpressionAttributeValues: { ':m': 'me' },
          },
        },
        {
          Update: {
            TableName: 'cursors',
            Key: { c: 1 },
            UpdateExpression: 'SET #o = :o',
            ExpressionAttributeNames: { '#o': 'offset' },
            ExpressionAttributeValues: { ':o': 5 },
          },
        },
        { Delete: { TableName: 'cursors', Key: { c: 2 } } },
      ]);
      expect(input.ReturnConsumedCapacity).toBe('TOTAL');
      expect(input.ClientRequestToken).toBe(tx.token);
    });
  });
});

describe('Function: commitTransaction', () => {
  describe('the action limit', () => {
    it.each([
      [MAX_TRANSACTION_ACTIONS, true],
      [MAX_TRANSACTION_ACTIONS + 1, false],
    ])('with %i actions over two parts, sends: %s', async (actions, sent) => {
      mock.on(TransactWriteCommand).resolves({});
      const tx = new WriteTransaction();
      tx.add(part('a', Array.from({ length: 40 }, (_, i) => put(`a${i}`))));
      tx.add(part('b', Array.from({ length: actions - 40 }, (_, i) => put(`b${i}`))));
      const result = await commitTransaction(client, tx, { operation: 'Op' }).catch((e: unknown) => e);
      if (sent) {
        expect(result).toEqual({ consumedWriteUnits: undefined });
        expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(1);
      } else {
        expect(result).toBeInstanceOf(RequestTooLargeError);
        expect(result).toMatchObject({ details: { limit: 'maxTransactionActions', max: 100, actual: 101 } });
        expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(0);
      }
    });

    it('sends nothing for an empty transaction', async () => {
      expect(await commitTransaction(client, new WriteTransaction(), { operation: 'Op' })).toEqual({});
      expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(0);
    });
  });

  describe('the ClientRequestToken', () => {
    it('is the same each time one transaction is committed, and differs between transactions', async () => {
      mock.on(TransactWriteCommand).resolves({ ConsumedCapacity: [{ TableName: 'things', CapacityUnits: 2 }, { TableName: 'x', WriteCapacityUnits: 4 }] });
      const first = new WriteTransaction();
      first.add(part('a', [put('1')]));
      const second = new WriteTransaction();
      second.add(part('a', [put('1')]));
      expect(await commitTransaction(client, first, { operation: 'Op' })).toEqual({ consumedWriteUnits: 6 });
      await commitTransaction(client, first, { operation: 'Op' });
      await commitTransaction(client, second, { operation: 'Op' });
      const tokens = mock.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.ClientRequestToken);
      expect(tokens[0]).toBe(first.token);
      expect(tokens[1]).toBe(first.token);
      expect(tokens[2]).toBe(second.token);
      expect(second.token).not.toBe(first.token);
    });
  });

  describe('a cancellation', () => {
    it('routes each reason to the part that added the action, with its index in the part and the old item', async () => {
      mock.on(TransactWriteCommand).rejects(cancelled(['None', 'None', { Code: 'ConditionalCheckFailed', Item: { id: 'b1', n: 7 } }]));
      const tx = new WriteTransaction();
      const a = tx.add(part('a', [put('a0', true), put('a1', true)]));
      const b = tx.add(part('b', [put('b0', true), put('b1', true)]));
      let seen: { a?: PartFailed; b?: PartFailed; others?: Error[]; conflicts?: number; unexplained?: number } = {};
      const err = await commitTransaction(client, tx, {
        operation: 'Op',
        onCancelled: (c) => {
          seen = { a: c.errorOf(a), b: c.errorOf(b), others: c.errors({ except: a }), conflicts: c.conflicts, unexplained: c.unexplained };
          return new Error('mine');
        },
      }).catch((e: unknown) => e);
      expect((err as Error).message).toBe('mine');
      expect(seen.a).toBeUndefined();
      expect(seen.b).toMatchObject({ part: 'b', failures: [{ index: 0, item: { id: 'b1', n: 7 } }] });
      expect(seen.others).toHaveLength(1);
      expect(seen).toMatchObject({ conflicts: 0, unexplained: 0 });
    });

    it('throws the first failed part’s own error by default', async () => {
      mock.on(TransactWriteCommand).rejects(cancelled(['None', 'ConditionalCheckFailed']));
      const tx = new WriteTransaction();
      tx.add(part('a', [put('a0')]));
      tx.add(part('b', [put('b0', true)]));
      await expect(commitTransaction(client, tx, { operation: 'Op' })).rejects.toMatchObject({ name: 'PartFailed', part: 'b' });
    });

    it('counts conflicts and unexplained reasons, and falls back to the AWS error when nothing explains it', async () => {
      const tx = new WriteTransaction();
      tx.add(part('a', [put('a0', true)]));
      tx.add({ actions: [put('b0', true)], conditionFailed: () => undefined });
      mock.on(TransactWriteCommand).rejects(cancelled(['TransactionConflict', 'ConditionalCheckFailed']));
      let counts: number[] = [];
      const err = await commitTransaction(client, tx, {
        operation: 'Op',
        onCancelled: (c) => {
          counts = [c.conflicts, c.unexplained, c.errors().length];
          return undefined;
        },
      }).catch((e: unknown) => e);
      expect(counts).toEqual([1, 1, 0]);
      // A cancellation with a TransactionConflict is retriable: toSluiceError decides.
      expect(err).toBeInstanceOf(ThrottledError);
    });
  });

  describe('other failures', () => {
    it('answers OutcomeUnknown when the answer was lost (the call writes)', async () => {
      mock.on(TransactWriteCommand).rejects(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
      const tx = new WriteTransaction();
      tx.add(part('a', [put('a0')]));
      const err = await commitTransaction(client, tx, { operation: 'Op' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OutcomeUnknownError);
      expect((err as OutcomeUnknownError).details).toMatchObject({ operation: 'Op' });
    });
  });
});
