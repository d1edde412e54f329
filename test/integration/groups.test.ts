/**
 * Consumer groups against DynamoDB Local: assignment and stickiness, session expiry (driven by an
 * injected clock), zombie fencing of commits and transactions, positions, seek/replay and lag.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FencedMemberError, GroupNotFoundError, RebalanceInProgressError, TopicNotFoundError } from '../../api/errors';
import type { TopicConfig } from '../../api/topics';
import { DynamoDbGroupStore } from '../../lambda/core/groups/dynamodb-group-store';
import { GroupService } from '../../lambda/core/groups/group-service';
import { DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogService } from '../../lambda/core/log/log-service';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { TransactionService } from '../../lambda/core/transactions/transaction-service';
import { emulatorClients, provisionIsolated } from '../support/emulators';

const clients = emulatorClients();
let topics: DynamoDbTopicStore;
let log: LogService;
let groupStore: DynamoDbGroupStore;
let clock: number;
let groups: GroupService;
let transactions: TransactionService;
let n = 0;
let group: string;

async function topic(partitions: number, events = 0): Promise<TopicConfig> {
  n++;
  const config: TopicConfig = {
    name: `g-topic-${n}`,
    topicId: `g-topic-${n}-${Date.now()}`,
    partitions,
    retentionMs: -1,
    dedupeWindowMs: 86_400_000,
    createdAt: new Date().toISOString(),
  };
  await topics.createTopic(config);
  for (let p = 0; p < partitions && events > 0; p++) {
    await log.produce(config.name, Array.from({ length: events }, (_, i) => ({ partition: p, value: `${p}:${i}`, timestamp: 1000 + i })));
  }
  return config;
}

const join = (topicName: string, extra: { memberId?: string; sessionTimeoutMs?: number } = {}) =>
  groups.join(group, { topics: [topicName], offsetReset: 'earliest', sessionTimeoutMs: 10_000, ...extra });

beforeAll(async () => {
  const resources = await provisionIsolated('groups');
  topics = new DynamoDbTopicStore({ client: clients.doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
  log = new LogService({
    topics,
    log: new DynamoDbLogStore({ client: clients.doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe }),
  });
  groupStore = new DynamoDbGroupStore(clients.doc, resources.tables.groups);
});

beforeEach(() => {
  clock = Date.UTC(2026, 0, 1);
  groups = new GroupService({ groups: groupStore, topics, log, now: () => clock, sleep: async () => {} });
  transactions = new TransactionService(log, groups, groupStore);
  group = `group-${++n}`;
});

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('membership and assignment', () => {
  it('splits 4 partitions 2/2 and moves the leaver’s partitions to the other member', async () => {
    const t = await topic(4);
    const a = await join(t.name);
    expect(a.assignments).toHaveLength(4);
    const b = await join(t.name);
    const aNow = await groups.heartbeat(group, a.memberId, a.generation);
    expect(aNow.rebalanced).toBe(true);
    expect(aNow.assignments).toHaveLength(2);
    expect(b.assignments).toHaveLength(2);
    expect(b.generation).toBe(a.generation + 1);

    await groups.leave(group, b.memberId);
    const after = await groups.heartbeat(group, a.memberId, aNow.generation);
    expect(after.assignments.map((x) => x.partition)).toEqual([0, 1, 2, 3]);
    expect(after.generation).toBe(b.generation + 1);
  });

  it('removes a member that misses its session timeout and reassigns its partitions', async () => {
    const t = await topic(4);
    const a = await join(t.name, { sessionTimeoutMs: 3000 });
    const b = await join(t.name, { sessionTimeoutMs: 3000 });
    clock += 2000;
    await groups.heartbeat(group, a.memberId);
    clock += 1500; // b last seen 3.5 s ago, a 1.5 s ago
    const beat = await groups.heartbeat(group, a.memberId, b.generation);
    expect(beat.rebalanced).toBe(true);
    expect(beat.assignments).toHaveLength(4);
    await expect(groups.heartbeat(group, b.memberId)).rejects.toBeInstanceOf(FencedMemberError);
  });

  it('keeps assignments when a member rejoins with the same ID and subscription', async () => {
    const t = await topic(2);
    const a = await join(t.name, { memberId: 'static-a' });
    const again = await join(t.name, { memberId: 'static-a' });
    expect(again.generation).toBe(a.generation);
    expect(again.assignments).toEqual(a.assignments);
  });

  it('restarts a rejoining member ID from the committed offsets, not from what it read', async () => {
    const t = await topic(1, 5);
    const a = await join(t.name, { memberId: 'restarted' });
    await groups.commit(group, { memberId: a.memberId, generation: a.generation, offsets: [{ topic: t.name, partition: 0, offset: 1 }] });
    await groups.records(group, a.memberId, { maxRecords: 3 }); // read 1..3, crashed before committing
    await join(t.name, { memberId: 'restarted' });
    expect((await groups.records(group, a.memberId, { maxRecords: 10 })).records.map((r) => r.offset)).toEqual([1, 2, 3, 4]);
  });

  it('answers GroupNotFound to a leave from an unknown group, and creates nothing', async () => {
    await expect(groups.leave('never-was', 'm')).rejects.toBeInstanceOf(GroupNotFoundError);
    expect(await groups.listGroups()).not.toContain('never-was');
  });

  it('refuses unknown topics and unknown groups', async () => {
    await expect(groups.join(group, { topics: ['no-such-topic'] })).rejects.toBeInstanceOf(TopicNotFoundError);
    await expect(groups.describe('no-such-group')).rejects.toBeInstanceOf(GroupNotFoundError);
  });
});

describe('records and commits', () => {
  it('gives a member only its own partitions, in offset order, continuing from its position', async () => {
    const t = await topic(2, 5);
    const a = await join(t.name);
    await join(t.name);
    const beat = await groups.heartbeat(group, a.memberId);
    const mine = beat.assignments.map((x) => x.partition);
    expect(mine).toHaveLength(1);

    const first = await groups.records(group, a.memberId, { maxRecords: 3 });
    expect(first.records.map((r) => r.partition)).toEqual([mine[0], mine[0], mine[0]]);
    expect(first.records.map((r) => r.offset)).toEqual([0, 1, 2]);
    const second = await groups.records(group, a.memberId, { maxRecords: 10 });
    expect(second.records.map((r) => r.offset)).toEqual([3, 4]);
  });

  it('starts from the committed offset after a rebalance', async () => {
    const t = await topic(1, 10);
    const a = await join(t.name);
    await groups.records(group, a.memberId, { maxRecords: 4 });
    await groups.commit(group, { memberId: a.memberId, generation: a.generation, offsets: [{ topic: t.name, partition: 0, offset: 4 }] });
    await groups.records(group, a.memberId, { maxRecords: 3 }); // read past the commit, not committed
    await groups.leave(group, a.memberId);

    const b = await join(t.name);
    const resumed = await groups.records(group, b.memberId, { maxRecords: 100 });
    expect(resumed.records.map((r) => r.offset)).toEqual([4, 5, 6, 7, 8, 9]);
  });

  it('fences commits: stale generation → RebalanceInProgress; non-owner or ex-member → FencedMember; nothing written', async () => {
    const t = await topic(2);
    const a = await join(t.name);
    const b = await join(t.name);
    const aOwns = (await groups.heartbeat(group, a.memberId)).assignments[0]!.partition;
    const commit = (memberId: string, generation: number, partition: number) =>
      groups.commit(group, { memberId, generation, offsets: [{ topic: t.name, partition, offset: 1 }] });

    await expect(commit(a.memberId, a.generation, aOwns)).rejects.toBeInstanceOf(RebalanceInProgressError);
    await expect(commit(a.memberId, b.generation, 1 - aOwns)).rejects.toBeInstanceOf(FencedMemberError);
    await groups.leave(group, b.memberId);
    await expect(commit(b.memberId, b.generation + 1, 0)).rejects.toBeInstanceOf(FencedMemberError);
    expect((await groups.describe(group)).partitions.map((p) => p.committedOffset)).toEqual([null, null]);
  });

  it('returns the same records to a retried call (same requestId), then moves on', async () => {
    const t = await topic(1, 6);
    const a = await join(t.name);
    const first = await groups.records(group, a.memberId, { maxRecords: 2, requestId: 'call-1' });
    const retried = await groups.records(group, a.memberId, { maxRecords: 2, requestId: 'call-1' });
    expect(retried.records.map((r) => r.offset)).toEqual(first.records.map((r) => r.offset));
    expect((await groups.records(group, a.memberId, { maxRecords: 2, requestId: 'call-2' })).records.map((r) => r.offset)).toEqual([2, 3]);
  });

  it('commits on return with commit: true (at-most-once)', async () => {
    const t = await topic(1, 3);
    const a = await join(t.name);
    await groups.records(group, a.memberId, { maxRecords: 2, commit: true });
    expect((await groups.describe(group)).partitions[0]).toMatchObject({ committedOffset: 2, highWatermark: 3, lag: 1 });
  });
});

describe('transactions', () => {
  it('appends outputs and commits inputs together; a fenced member’s transaction changes nothing', async () => {
    const input = await topic(1, 3);
    const output = await topic(1);
    const a = await join(input.name);
    const { records } = await groups.records(group, a.memberId, { maxRecords: 3 });
    const produce = [{ topic: output.name, events: records.map((r) => ({ value: r.value as string, messageId: `out-${r.offset}` })) }];
    const commit = { group, memberId: a.memberId, generation: a.generation, offsets: [{ topic: input.name, partition: 0, offset: 3 }] };

    // A second member joins: a's generation is stale, so its transaction is fenced.
    const b = await join(input.name);
    await expect(transactions.run({ produce, commit })).rejects.toBeInstanceOf(RebalanceInProgressError);
    expect((await log.fetch(output.name, 0, {})).highWatermark).toBe(0);
    expect((await groups.describe(group)).partitions.find((p) => p.topic === input.name)?.committedOffset).toBeNull();

    await groups.leave(group, b.memberId);
    const current = await groups.heartbeat(group, a.memberId);
    const done = await transactions.run({ produce, commit: { ...commit, generation: current.generation } });
    expect(done.produced[0]!.results.map((r) => r.offset)).toEqual([0, 1, 2]);
    // Retried after a lost answer: nothing new is appended, the commit is the same.
    const retried = await transactions.run({ produce, commit: { ...commit, generation: current.generation } });
    expect(retried.produced[0]!.results.every((r) => r.duplicate)).toBe(true);
    expect((await log.fetch(output.name, 0, {})).highWatermark).toBe(3);
    expect((await groups.describe(group)).partitions.find((p) => p.topic === input.name)?.committedOffset).toBe(3);
  });
});

describe('seek and lag', () => {
  it('resets committed offsets to earliest, latest, an offset or a timestamp, and members replay from there', async () => {
    const t = await topic(1, 10);
    const a = await join(t.name);
    await groups.records(group, a.memberId, { maxRecords: 10, commit: true });
    expect((await groups.describe(group)).partitions[0]).toMatchObject({ committedOffset: 10, lag: 0 });

    expect(await groups.seek(group, { topic: t.name, to: 'earliest' })).toEqual([{ topic: t.name, partition: 0, offset: 0 }]);
    expect((await groups.describe(group)).partitions[0]!.lag).toBe(10);
    expect((await groups.records(group, a.memberId, { maxRecords: 2 })).records.map((r) => r.offset)).toEqual([0, 1]);

    await groups.seek(group, { topic: t.name, to: { timestamp: 1005 } });
    expect((await groups.records(group, a.memberId, { maxRecords: 1 })).records[0]!.offset).toBe(5);
    await groups.seek(group, { topic: t.name, to: { offset: 7 } });
    expect((await groups.records(group, a.memberId, { maxRecords: 1 })).records[0]!.offset).toBe(7);
    await groups.seek(group, { topic: t.name, to: 'latest' });
    expect((await groups.records(group, a.memberId, { maxRecords: 1 })).records).toEqual([]);
  });

  it('lists and describes a group that only has offsets (reset before any member joined)', async () => {
    const t = await topic(1, 3);
    await groups.seek(group, { topic: t.name, to: { offset: 2 } });
    expect(await groups.listGroups()).toContain(group);
    expect(await groups.describe(group)).toMatchObject({ generation: 0, members: [], partitions: [{ committedOffset: 2, lag: 1 }] });
    const a = await join(t.name);
    expect((await groups.records(group, a.memberId, {})).records.map((r) => r.offset)).toEqual([2]);
  });

  it('lists groups', async () => {
    const t = await topic(1);
    await join(t.name);
    expect(await groups.listGroups()).toContain(group);
  });
});
