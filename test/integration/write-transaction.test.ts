/**
 * WriteTransaction against DynamoDB Local: the stores' parts in one TransactWriteItems, each failed
 * condition routed back to the store that added it, a transaction committed twice applied once,
 * and DynamoDB's 100-action limit.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RequestTooLargeError } from '../../api/errors';
import {
  commitTransaction,
  MAX_TRANSACTION_ACTIONS,
  WriteTransaction,
  type TransactionPart,
  type WriteAction,
} from '../../lambda/core/aws/write-transaction';
import { DynamoDbGroupStore } from '../../lambda/core/groups/dynamodb-group-store';
import { CommitFenced } from '../../lambda/core/groups/group-store';
import { DynamoDbLogStore, HEAD_OFFSET, logPartitionKey } from '../../lambda/core/log/dynamodb-log-store';
import { AppendConflict, type AppendPlan } from '../../lambda/core/log/log-store';
import { emulatorClients, provisionIsolated } from '../support/emulators';

const clients = emulatorClients();
let resources: Awaited<ReturnType<typeof provisionIsolated>>;
let n = 0;

beforeAll(async () => {
  resources = await provisionIsolated('write-tx');
});

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

class Taken extends Error {
  constructor(readonly items: readonly (Record<string, unknown> | undefined)[]) {
    super('taken');
  }
}

/** A part that creates dedupe-table items with the given ids, each only if it does not exist yet. */
const createOnce = (...ids: string[]): TransactionPart<Taken> => ({
  actions: ids.map(
    (id): WriteAction => ({
      type: 'put',
      table: resources.tables.dedupe,
      item: { id, n: 1 },
      condition: { expression: 'attribute_not_exists(id)' },
      returnItemOnFailure: true,
    }),
  ),
  conditionFailed: (failures) => new Taken(failures.map((f) => f.item)),
});

const exists = async (id: string) =>
  (await clients.doc.send(new GetCommand({ TableName: resources.tables.dedupe, Key: { id }, ConsistentRead: true }))).Item !== undefined;

describe('Function: commitTransaction', () => {
  it('writes the parts of several stores together', async () => {
    const tx = new WriteTransaction();
    tx.add(createOnce(`all-${++n}-a`));
    tx.add(createOnce(`all-${n}-b`, `all-${n}-c`));
    await commitTransaction(clients.doc, tx, { operation: 'Test' });
    expect(await Promise.all(['a', 'b', 'c'].map((s) => exists(`all-${n}-${s}`)))).toEqual([true, true, true]);
  });

  it('routes a failed condition to the part that added it, with the item it lost to, and writes nothing', async () => {
    const taken = `routed-${++n}-taken`;
    const setup = new WriteTransaction();
    setup.add(createOnce(taken));
    await commitTransaction(clients.doc, setup, { operation: 'Test' });

    const tx = new WriteTransaction();
    const first = tx.add(createOnce(`routed-${n}-new`));
    const second = tx.add(createOnce(`routed-${n}-other`, taken));
    let routed: { first?: Taken; second?: Taken } = {};
    const err = await commitTransaction(clients.doc, tx, {
      operation: 'Test',
      onCancelled: (c) => {
        routed = { first: c.errorOf(first), second: c.errorOf(second) };
        return c.errorOf(second);
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Taken);
    expect(routed.first).toBeUndefined();
    expect(routed.second?.items).toEqual([{ id: taken, n: 1 }]);
    expect(await exists(`routed-${n}-new`)).toBe(false);
  });

  it('applies a transaction committed twice once (the same ClientRequestToken); a new one with the same writes fails', async () => {
    const id = `token-${++n}`;
    const tx = new WriteTransaction();
    tx.add(createOnce(id));
    await commitTransaction(clients.doc, tx, { operation: 'Test' });
    // A retry after a lost answer: the condition would fail if it were applied again.
    await commitTransaction(clients.doc, tx, { operation: 'Test' });
    expect(await exists(id)).toBe(true);

    const again = new WriteTransaction();
    again.add(createOnce(id));
    await expect(commitTransaction(clients.doc, again, { operation: 'Test' })).rejects.toBeInstanceOf(Taken);
  });

  it(`refuses more than ${MAX_TRANSACTION_ACTIONS} actions before sending anything`, async () => {
    const tx = new WriteTransaction();
    const ids = Array.from({ length: MAX_TRANSACTION_ACTIONS + 1 }, (_, i) => `limit-${++n}-${i}`);
    tx.add(createOnce(...ids.slice(0, 50)));
    tx.add(createOnce(...ids.slice(50)));
    await expect(commitTransaction(clients.doc, tx, { operation: 'Test' })).rejects.toBeInstanceOf(RequestTooLargeError);
    expect(await exists(ids[0]!)).toBe(false);
  });
});

describe('an append joined by a fenced commit', () => {
  const plan = (topicId: string, nextOffset = 0): AppendPlan => ({
    topicId,
    partitions: [{ partition: 0, expected: undefined, next: { nextOffset: nextOffset + 1, maxTimestamp: 1 }, batches: [] }],
    dedupe: [],
    nowMs: Date.now(),
  });

  it('reports the fence as the groups store’s CommitFenced, inside the log’s AppendConflict, and writes nothing', async () => {
    const topicId = `joined-${++n}`;
    const log = new DynamoDbLogStore({ client: clients.doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe });
    const groups = new DynamoDbGroupStore(clients.doc, resources.tables.groups);
    const tx = new WriteTransaction();
    // No such group: the fence cannot hold.
    groups.addFencedCommit(tx, { group: `g-${n}`, memberId: 'm', generation: 1, partitions: [{ topic: 't', partition: 0 }] }, [
      { topic: 't', partition: 0, offset: 1, topicId },
    ]);
    const err = await log.append([plan(topicId)], tx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppendConflict);
    expect(err).toMatchObject({ movedHeads: 0, takenMessageIds: new Map() });
    expect((err as AppendConflict).joinedFailures).toEqual([expect.any(CommitFenced)]);
    expect(await log.readHeads(topicId, [0])).toEqual(new Map());
  });

  it('reports a moved head as the log’s own conflict', async () => {
    const topicId = `moved-${++n}`;
    const log = new DynamoDbLogStore({ client: clients.doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe });
    await log.append([plan(topicId)]);
    const err = await log.append([plan(topicId)]).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AppendConflict', movedHeads: 1, joinedFailures: [] });
    const head = await clients.doc.send(
      new GetCommand({ TableName: resources.tables.log, Key: { pk: logPartitionKey(topicId, 0), offset: HEAD_OFFSET }, ConsistentRead: true }),
    );
    expect(head.Item).toMatchObject({ nextOffset: 1 });
  });
});
