/**
 * What one idle records call costs in DynamoDB calls (issue 12: an idle member under $0.50 a
 * month): one query of the group's items (membership, heartbeats, offsets, positions), one
 * eventually consistent BatchGetItem of the partitions' heads, the topic's configuration from the
 * instance's cache, and no write until a third of the session has passed since the last heartbeat.
 * Real stores on DynamoDB Local, every command counted as it is sent.
 */
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbGroupStore } from '../../lambda/core/groups/dynamodb-group-store';
import { GroupService } from '../../lambda/core/groups/group-service';
import { DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogService } from '../../lambda/core/log/log-service';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import { emulatorClients, provisionIsolated } from '../support/emulators';

const clients = emulatorClients();
let resources: Awaited<ReturnType<typeof provisionIsolated>>;

beforeAll(async () => {
  resources = await provisionIsolated('idle-poll');
});

afterAll(() => {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
});

/** Every store on one document client that records each command it sends (name and consistency). */
function countingServices(now: () => number) {
  const doc = DynamoDBDocumentClient.from(clients.dynamodb);
  const sent: string[] = [];
  const send = doc.send.bind(doc) as (command: unknown) => Promise<unknown>;
  (doc as { send: unknown }).send = (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const items = command.input.RequestItems as Record<string, { ConsistentRead?: boolean }> | undefined;
    const consistent = command.input.ConsistentRead ?? Object.values(items ?? {})[0]?.ConsistentRead;
    sent.push(`${command.constructor.name}${consistent === false ? ' (eventually consistent)' : ''}`);
    return send(command);
  };
  const topics = new DynamoDbTopicStore({ client: doc, topicsTable: resources.tables.topics, logTable: resources.tables.log });
  const log = new LogService({ topics, log: new DynamoDbLogStore({ client: doc, logTable: resources.tables.log, dedupeTable: resources.tables.dedupe }), now });
  const groups = new GroupService({ groups: new DynamoDbGroupStore(doc, resources.tables.groups), topics, log, now });
  return { topics, log, groups, sent };
}

describe('an idle records call', () => {
  it('is one group query and one eventually consistent head read, and writes its heartbeat only every third of the session', async () => {
    let clock = Date.now();
    const { topics, log, groups, sent } = countingServices(() => clock);
    await topics.createTopic({ name: 'quiet', topicId: `quiet-${clock}`, partitions: 4, retentionMs: -1, dedupeWindowMs: 0, createdAt: new Date(clock).toISOString() });
    const { memberId } = await groups.join('sleepy', { topics: ['quiet'], sessionTimeoutMs: 30_000 });
    await groups.records('sleepy', memberId); // fixes the member's start positions
    await log.produce('quiet', [{ value: 'old', partition: 0 }]);
    await groups.records('sleepy', memberId); // reads it: positions move

    clock += 1_000;
    sent.length = 0;
    expect((await groups.records('sleepy', memberId)).records).toEqual([]);
    expect(sent).toEqual(['QueryCommand', 'BatchGetCommand (eventually consistent)']);

    // A third of the session since the member was last seen: the poll records a heartbeat too.
    clock += 10_000;
    sent.length = 0;
    expect((await groups.records('sleepy', memberId)).records).toEqual([]);
    expect(sent.filter((c) => c === 'PutCommand')).toHaveLength(1);
    expect(sent.filter((c) => c !== 'PutCommand')).toEqual(['QueryCommand', 'BatchGetCommand (eventually consistent)']);

    // A new event is found by that hint and fetched (consistently) on the next call.
    await log.produce('quiet', [{ value: 'new', partition: 2 }]);
    clock += 1_000;
    expect((await groups.records('sleepy', memberId)).records.map((r) => r.value)).toEqual(['new']);
  });
});
