/**
 * Group and topic administration against DynamoDB Local: deleting a group (Kafka's
 * `kafka-consumer-groups --delete`), members' client ID and host, and growing a topic's
 * partitions (Kafka's `kafka-topics --alter --partitions`) as produce, fetch, describe and
 * consumer groups see it. The group service's clock is injected (sessions, the layout cache).
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GroupNotEmptyError, GroupNotFoundError, InvalidRequestError, TopicNotFoundError } from '../../api/errors';
import { partitionForKey } from '../../api/partitioner';
import { DynamoDbGroupStore } from '../../lambda/core/groups/dynamodb-group-store';
import { GroupService, LAYOUT_CACHE_MS } from '../../lambda/core/groups/group-service';
import { DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogService } from '../../lambda/core/log/log-service';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import type { PurgeQueue } from '../../lambda/core/topics/purge-queue';
import { TopicService } from '../../lambda/core/topics/topic-service';
import { emulatorClients, provisionIsolated } from '../support/emulators';

const clients = emulatorClients();
let tables: { topics: string; log: string; dedupe: string; groups: string };
let topicStore: DynamoDbTopicStore;
let topics: TopicService;
let groupStore: DynamoDbGroupStore;
let groups: GroupService;
let clock: number;
let n = 0;
let group: string;

/** A new LogService: its topic config cache starts empty, as a new Lambda instance's does. */
const freshLog = () =>
  new LogService({
    topics: topicStore,
    log: new DynamoDbLogStore({ client: clients.doc, logTable: tables.log, dedupeTable: tables.dedupe }),
  });

async function topic(partitions: number): Promise<string> {
  const name = `admin-topic-${++n}`;
  await topics.createTopic({ name, partitions, retentionMs: -1 });
  return name;
}

const join = (topicName: string, memberId: string, extra: { clientId?: string; sessionTimeoutMs?: number } = {}, caller: { host?: string } = {}) =>
  groups.join(group, { topics: [topicName], memberId, offsetReset: 'earliest', sessionTimeoutMs: 10_000, ...extra }, caller);

/** Outlives the clock moves of the growth tests (LAYOUT_CACHE_MS each). */
const LONG_SESSION = { sessionTimeoutMs: 10 * LAYOUT_CACHE_MS };

/** Every item the groups table holds for the group (membership, heartbeats, offsets, positions). */
async function itemsOf(name: string): Promise<string[]> {
  const out = await clients.doc.send(
    new QueryCommand({ TableName: tables.groups, KeyConditionExpression: '#g = :g', ExpressionAttributeNames: { '#g': 'group' }, ExpressionAttributeValues: { ':g': name } }),
  );
  return (out.Items ?? []).map((i) => String(i.sk)).sort();
}

beforeAll(async () => {
  const resources = await provisionIsolated('group-admin');
  tables = resources.tables;
  topicStore = new DynamoDbTopicStore({ client: clients.doc, topicsTable: tables.topics, logTable: tables.log });
  const purgeQueue: PurgeQueue = { enqueue: async () => undefined };
  topics = new TopicService({ store: topicStore, offsets: freshLog(), purgeQueue });
  groupStore = new DynamoDbGroupStore(clients.doc, tables.groups);
});

beforeEach(() => {
  clock = Date.UTC(2026, 0, 1);
  groups = new GroupService({ groups: groupStore, topics: topicStore, log: freshLog(), now: () => clock, sleep: async () => {} });
  group = `admin-group-${++n}`;
});

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

describe('deleteGroup', () => {
  it('refuses a group with live members (GroupNotEmpty, naming them), deleting nothing', async () => {
    const t = await topic(2);
    const a = await join(t, 'm-a');
    await groups.commit(group, { memberId: 'm-a', generation: a.generation, offsets: [{ topic: t, partition: 0, offset: 0 }] });
    await groups.records(group, 'm-a');
    const before = await itemsOf(group);

    const refused = await groups.deleteGroup(group).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(GroupNotEmptyError);
    expect((refused as GroupNotEmptyError).status).toBe(409);
    expect((refused as GroupNotEmptyError).details).toEqual({ group, members: ['m-a'] });
    expect(await itemsOf(group)).toEqual(before);
    expect((await groups.describe(group)).partitions.map((p) => p.committedOffset)).toEqual([0, null]);
  });

  it('deletes membership, heartbeats, positions and offsets once every member has left; a new join starts afresh', async () => {
    const t = await topic(2);
    const a = await join(t, 'm-a');
    await groups.commit(group, { memberId: 'm-a', generation: a.generation, offsets: [{ topic: t, partition: 1, offset: 0 }] });
    await groups.heartbeat(group, 'm-a');
    await groups.records(group, 'm-a');
    await groups.leave(group, 'm-a');
    expect((await itemsOf(group)).length).toBeGreaterThan(1);

    await groups.deleteGroup(group);
    expect(await itemsOf(group)).toEqual([]);
    expect(await groups.listGroups()).not.toContain(group);
    await expect(groups.describe(group)).rejects.toBeInstanceOf(GroupNotFoundError);
    await expect(groups.deleteGroup(group)).rejects.toBeInstanceOf(GroupNotFoundError);

    const again = await join(t, 'm-b');
    expect(again.generation).toBe(1);
    expect(again.assignments.map((x) => x.committedOffset)).toEqual([null, null]);
  });

  it('does not count members whose session timed out', async () => {
    const t = await topic(1);
    await join(t, 'm-a');
    await expect(groups.deleteGroup(group)).rejects.toBeInstanceOf(GroupNotEmptyError);
    clock += 10_001;
    await groups.deleteGroup(group);
    expect(await itemsOf(group)).toEqual([]);
  });

  it('deletes a group that only has offsets (reset before anyone joined)', async () => {
    const t = await topic(3);
    await groups.seek(group, { topic: t, to: 'earliest' });
    expect(await groups.listGroups()).toContain(group);
    await groups.deleteGroup(group);
    expect(await itemsOf(group)).toEqual([]);
    expect(await groups.listGroups()).not.toContain(group);
  });

  it('answers GroupNotFound for a group that never existed, and creates nothing', async () => {
    await expect(groups.deleteGroup('never-was')).rejects.toBeInstanceOf(GroupNotFoundError);
    expect(await itemsOf('never-was')).toEqual([]);
  });
});

describe('client ID and host', () => {
  it('shows the clientId a member joined with and the host it joined from; null when not given', async () => {
    const t = await topic(2);
    await join(t, 'm-a', { clientId: 'billing-worker-1' }, { host: '203.0.113.7' });
    await join(t, 'm-b');
    const { members } = await groups.describe(group);
    expect(members.map(({ memberId, clientId, host }) => ({ memberId, clientId, host }))).toEqual([
      { memberId: 'm-a', clientId: 'billing-worker-1', host: '203.0.113.7' },
      { memberId: 'm-b', clientId: null, host: null },
    ]);
  });

  it('a rejoin with a new clientId updates it without a rebalance', async () => {
    const t = await topic(1);
    const first = await join(t, 'm-a', { clientId: 'old' });
    const again = await join(t, 'm-a', { clientId: 'new' }, { host: '198.51.100.2' });
    expect(again.generation).toBe(first.generation);
    expect((await groups.describe(group)).members[0]).toMatchObject({ clientId: 'new', host: '198.51.100.2' });
  });
});

describe('growing a topic', () => {
  it('adds partitions; the same count changes nothing; fewer is a 400 naming the current count; an unknown topic a 404', async () => {
    const t = await topic(2);
    const grown = await topics.updateTopic(t, { partitions: 4 });
    expect(grown.partitions).toBe(4);
    const described = await topics.describeTopic(t);
    expect(described.partitionOffsets.map((p) => [p.partition, p.logStartOffset, p.highWatermark])).toEqual([
      [0, 0, 0],
      [1, 0, 0],
      [2, 0, 0],
      [3, 0, 0],
    ]);
    expect((await topics.updateTopic(t, { partitions: 4, retentionMs: 60_000 })).partitions).toBe(4);

    const fewer = await topics.updateTopic(t, { partitions: 3 }).catch((err: unknown) => err);
    expect(fewer).toBeInstanceOf(InvalidRequestError);
    expect((fewer as InvalidRequestError).details).toMatchObject({
      issues: [{ path: 'body.partitions', message: expect.stringContaining('must be at least 4') }],
      partitions: 4,
      requested: 3,
    });
    expect((await topics.describeTopic(t)).partitions).toBe(4);
    await expect(topics.updateTopic('no-such-topic', { partitions: 5 })).rejects.toBeInstanceOf(TopicNotFoundError);
  });

  it('the store never takes partitions away, even from a caller that read an older count', async () => {
    const t = await topic(2);
    await topicStore.updateTopic(t, { partitions: 6 });
    await expect(topicStore.updateTopic(t, { partitions: 3 })).rejects.toBeInstanceOf(InvalidRequestError);
    expect((await topicStore.getTopic(t))?.partitions).toBe(6);
  });

  it('produce places keys by the new count and keyless events on every partition; fetch reads the new ones', async () => {
    const t = await topic(2);
    await topics.updateTopic(t, { partitions: 5 });
    const log = freshLog();
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    const keyed = await log.produce(t, keys.map((key) => ({ key, value: key })));
    expect(keyed.results.map((r) => r.partition)).toEqual(keys.map((k) => partitionForKey(k, 5)));
    expect(keyed.results.some((r) => r.partition >= 2)).toBe(true);

    for (let i = 0; i < 10; i++) await log.produce(t, [{ value: i }]);
    const marks = (await topics.describeTopic(t)).partitionOffsets.map((p) => p.highWatermark);
    const keyedPer = [0, 1, 2, 3, 4].map((p) => keyed.results.filter((r) => r.partition === p).length);
    // 10 keyless requests over 5 partitions, each to the one with the fewest so far: 2 each.
    expect(marks.map((m, p) => m - keyedPer[p]!)).toEqual([2, 2, 2, 2, 2]);

    const page = await log.fetch(t, 4, { offset: 'earliest' });
    expect(page.events).toHaveLength(marks[4]!);
  });

  it("gives a group's members the new partitions on their next heartbeat once the cached count is stale", async () => {
    const t = await topic(2);
    await join(t, 'm-a', LONG_SESSION);
    const b = await join(t, 'm-b', LONG_SESSION);
    expect(b.assignments).toHaveLength(1);
    const before = await groups.heartbeat(group, 'm-a');
    expect(before.assignments).toHaveLength(1);

    await topics.updateTopic(t, { partitions: 6 });
    // Within LAYOUT_CACHE_MS this instance still uses the count it read: nothing moves yet.
    expect((await groups.heartbeat(group, 'm-a')).generation).toBe(before.generation);

    clock += LAYOUT_CACHE_MS;
    const after = await groups.heartbeat(group, 'm-a', before.generation);
    expect(after).toMatchObject({ generation: before.generation + 1, rebalanced: true });
    // Sticky: each keeps its partition and gets two of the new ones.
    expect(after.assignments.map((a) => a.partition)).toContain(before.assignments[0]!.partition);
    expect(after.assignments).toHaveLength(3);
    const bAfter = await groups.heartbeat(group, 'm-b');
    expect(bAfter.generation).toBe(after.generation);
    expect([...after.assignments, ...bAfter.assignments].map((a) => a.partition).sort()).toEqual([0, 1, 2, 3, 4, 5]);

    // One growth, one generation: later calls find the assignment current.
    clock += LAYOUT_CACHE_MS;
    expect((await groups.heartbeat(group, 'm-a')).generation).toBe(after.generation);
    const described = await groups.describe(group);
    expect(described.partitions.map((p) => p.owner === null)).toEqual([false, false, false, false, false, false]);
  });

  it("a member at offsetReset 'latest' still reads what was produced to new partitions before it got them", async () => {
    const t = await topic(1);
    await groups.join(group, { topics: [t], memberId: 'm-a', offsetReset: 'latest', ...LONG_SESSION });
    await freshLog().produce(t, [{ partition: 0, value: 'before' }]);
    // Starts at the high watermark ('latest'), and commits it.
    expect((await groups.records(group, 'm-a', { commit: true })).records).toEqual([]);
    await topics.updateTopic(t, { partitions: 3 });
    await freshLog().produce(t, [
      { partition: 0, value: 'zero' },
      { partition: 1, value: 'one' },
      { partition: 2, value: 'two' },
    ]);
    clock += LAYOUT_CACHE_MS;
    const read = await groups.records(group, 'm-a');
    expect(read.records.map((r) => [r.partition, r.value]).sort()).toEqual([
      [0, 'zero'],
      [1, 'one'],
      [2, 'two'],
    ]);
    // The group committed offset 0 for the added partitions when it reassigned.
    expect((await groups.describe(group)).partitions.map((p) => p.committedOffset)).toEqual([1, 0, 0]);
  });

  it('initOffsets never overwrites a commit of the same topic incarnation', async () => {
    const t = await topic(2);
    const config = (await topicStore.getTopic(t))!;
    await groupStore.writeOffsets(group, [{ topic: t, partition: 0, offset: 5, topicId: config.topicId }]);
    await groupStore.writeOffsets(group, [{ topic: t, partition: 1, offset: 7, topicId: 'an-older-incarnation' }]);
    await groupStore.initOffsets(group, [
      { topic: t, partition: 0, offset: 0, topicId: config.topicId },
      { topic: t, partition: 1, offset: 0, topicId: config.topicId },
    ]);
    expect((await groupStore.readOffsets(group)).map((o) => [o.partition, o.offset, o.topicId === config.topicId])).toEqual([
      [0, 5, true],
      [1, 0, true],
    ]);
  });

  it('a records call picks up the new partitions and reads what was produced to them', async () => {
    const t = await topic(1);
    await join(t, 'm-a', LONG_SESSION);
    await groups.records(group, 'm-a');
    await topics.updateTopic(t, { partitions: 3 });
    await freshLog().produce(t, [
      { partition: 1, value: 'one' },
      { partition: 2, value: 'two' },
    ]);
    clock += LAYOUT_CACHE_MS;
    const read = await groups.records(group, 'm-a');
    expect(read.generation).toBe(2);
    expect(read.records.map((r) => [r.partition, r.value]).sort()).toEqual([
      [1, 'one'],
      [2, 'two'],
    ]);
  });
});
