import { BatchWriteCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TopicAlreadyExistsError, TopicNotFoundError } from '../../api/errors';
import type { TopicConfig } from '../../api/topics';
import { HEAD_OFFSET, logPartitionKey } from '../../lambda/core/log/dynamodb-log-store';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { emulatorClients, provisionIsolated } from '../support/emulators';

const clients = emulatorClients();
let store: DynamoDbTopicStore;
let tables: { topics: string; log: string };

const config = (name: string, overrides: Partial<TopicConfig> = {}): TopicConfig => ({
  name,
  topicId: `id-${name}`,
  partitions: 3,
  retentionMs: 60_000,
  dedupeWindowMs: 0,
  createdAt: '2026-01-01T00:00:00.000Z',
  ...overrides,
});

async function putLogItems(topicId: string, partition: number, offsets: number[]) {
  for (let i = 0; i < offsets.length; i += 25) {
    await clients.doc.send(
      new BatchWriteCommand({
        RequestItems: {
          [tables.log]: offsets.slice(i, i + 25).map((offset) => ({
            PutRequest: { Item: { pk: logPartitionKey(topicId, partition), offset, value: 'x' } },
          })),
        },
      }),
    );
  }
}

beforeAll(async () => {
  const resources = await provisionIsolated('store');
  tables = resources.tables;
  store = new DynamoDbTopicStore({ client: clients.doc, topicsTable: tables.topics, logTable: tables.log });
});

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('Class: DynamoDbTopicStore', () => {
  describe('Method: createTopic', () => {
    it('stores the config so getTopic returns it unchanged', async () => {
      await store.createTopic(config('created'));
      expect(await store.getTopic('created')).toEqual(config('created'));
    });

    it('refuses a second topic of the same name and keeps the first', async () => {
      await store.createTopic(config('dup'));
      await expect(store.createTopic(config('dup', { topicId: 'other', partitions: 9 }))).rejects.toBeInstanceOf(
        TopicAlreadyExistsError,
      );
      expect(await store.getTopic('dup')).toEqual(config('dup'));
    });

    it('lets exactly one of many concurrent creates of one name win', async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) => store.createTopic(config('race', { topicId: `racer-${i}` }))),
      );
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const losers = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(losers).toHaveLength(7);
      for (const l of losers) expect(l.reason).toBeInstanceOf(TopicAlreadyExistsError);
    });
  });

  describe('Method: listTopics', () => {
    it('returns every topic sorted by name', async () => {
      await store.createTopic(config('zz-last'));
      await store.createTopic(config('aa-first'));
      const names = (await store.listTopics()).map((t) => t.name);
      expect(names).toEqual([...names].sort());
      expect(names).toEqual(expect.arrayContaining(['aa-first', 'zz-last']));
    });
  });

  describe('Method: deleteTopic', () => {
    it('deletes the topic when the topicId matches', async () => {
      await store.createTopic(config('gone'));
      await store.deleteTopic('gone', 'id-gone');
      expect(await store.getTopic('gone')).toBeUndefined();
    });

    it('leaves a re-created topic alone when the topicId is stale', async () => {
      await store.createTopic(config('again', { topicId: 'second-life' }));
      await expect(store.deleteTopic('again', 'first-life')).rejects.toBeInstanceOf(TopicNotFoundError);
      expect((await store.getTopic('again'))?.topicId).toBe('second-life');
    });

    it('answers TopicNotFound for a topic that never existed', async () => {
      await expect(store.deleteTopic('never', 'x')).rejects.toBeInstanceOf(TopicNotFoundError);
    });
  });

  describe('Method: purgePartition', () => {
    it('removes every batch of the partition, in more than one batch, leaves its head a tombstone, and touches nothing else', async () => {
      const offsets = [HEAD_OFFSET, ...Array.from({ length: 60 }, (_, i) => i)];
      await putLogItems('doomed', 0, offsets);
      await putLogItems('doomed', 1, [0, 1]);
      await putLogItems('survivor', 0, [0]);

      expect(await store.purgePartition('doomed', 0)).toBe(60);

      const left = await clients.doc.send(
        new QueryCommand({
          TableName: tables.log,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': logPartitionKey('doomed', 0) },
        }),
      );
      // The tombstone refuses any append still planned from the deleted topic; TTL removes it.
      expect(left.Items).toEqual([{ pk: logPartitionKey('doomed', 0), offset: HEAD_OFFSET, deleted: true, expiresAt: expect.any(Number) }]);
      const other = await clients.doc.send(
        new GetCommand({ TableName: tables.log, Key: { pk: logPartitionKey('survivor', 0), offset: 0 } }),
      );
      expect(other.Item).toBeDefined();
      expect(await store.purgePartition('doomed', 1)).toBe(2);
    });
  });
});
