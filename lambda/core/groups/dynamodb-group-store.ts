/**
 * DynamoDB implementation of GroupStore. One partition key per group:
 *   sk "group"                       membership: generation, version, members, owners
 *   sk "group#member#<memberId>"     the member's last heartbeat (a small item: a heartbeat writes
 *                                    1 write unit, not the membership item, which grows with the group)
 *   sk "offset#<topic>#<partition>"  committed offset
 *   sk "position#<topic>#<partition>" where the owning member will read next
 */
import {
  DeleteCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';
import { batchWriteAll } from '../aws/batch';
import { isConditionalCheckFailed, toSluiceError } from '../aws/errors';
import { commitTransaction, WriteTransaction, type TransactionPart } from '../aws/write-transaction';
import {
  CommitFenced,
  type CommitFence,
  type CommittedOffset,
  type GroupState,
  type GroupStore,
  type Position,
} from './group-store';

const MEMBERSHIP = 'group';
const HEARTBEAT_PREFIX = 'group#member#';
const heartbeatSk = (memberId: string) => `${HEARTBEAT_PREFIX}${memberId}`;
const offsetSk = (topic: string, partition: number) => `offset#${topic}#${partition}`;
const positionSk = (topic: string, partition: number) => `position#${topic}#${partition}`;

export class DynamoDbGroupStore implements GroupStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async getGroup(group: string): Promise<GroupState | undefined> {
    // One query reads the membership item and its members' heartbeat items ("group", "group#…").
    return toGroupState(group, await this.queryPrefix(group, MEMBERSHIP));
  }

  async readGroupView(group: string): Promise<{ state: GroupState | undefined; offsets: CommittedOffset[]; positions: Position[] }> {
    const items = await this.queryPrefix(group);
    const starting = (prefix: string) => items.filter((i) => String(i.sk).startsWith(prefix));
    return { state: toGroupState(group, starting(MEMBERSHIP)), offsets: starting('offset#').map(toOffset), positions: starting('position#').map(toPosition) };
  }

  async putGroup(state: GroupState, next: Omit<GroupState, 'version'>): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...next, sk: MEMBERSHIP, version: state.version + 1 },
          // Optimistic concurrency: membership changes are computed from what was read.
          ...(state.version === 0
            ? { ConditionExpression: 'attribute_not_exists(#g)', ExpressionAttributeNames: { '#g': 'group' } }
            : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': state.version } }),
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw toSluiceError(err, 'PutGroup', { write: true });
    }
    // Members that left or timed out: their heartbeat items go too (only on a membership change).
    const gone = Object.keys(state.members).filter((m) => !(m in next.members));
    if (gone.length > 0) {
      await batchWriteAll(
        this.client,
        this.table,
        gone.map((m) => ({ DeleteRequest: { Key: { group: state.group, sk: heartbeatSk(m) } } })),
        'DeleteHeartbeats',
      );
    }
    return true;
  }

  async touchMember(group: string, memberId: string, nowMs: number): Promise<boolean> {
    // The caller read the group and found the member in it. A member removed in between is caught
    // by the next call that reads the group, as one removed just after this write would be; commits
    // stay fenced by the membership item itself.
    await this.send(
      'Heartbeat',
      new PutCommand({ TableName: this.table, Item: { group, sk: heartbeatSk(memberId), memberId, lastSeenMs: nowMs } }),
    );
    return true;
  }

  async deleteGroup(group: string, version: number): Promise<boolean> {
    // The membership item first, conditionally: a member that joined since the caller found the
    // group empty makes this fail and nothing is deleted. Once it is gone the group has no members,
    // and the rest (offsets, positions, heartbeats) goes in batches; a delete that fails half way
    // leaves the group with fewer offsets, and the next delete finishes it.
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { group, sk: MEMBERSHIP },
          ...(version === 0
            ? { ConditionExpression: 'attribute_not_exists(#g)', ExpressionAttributeNames: { '#g': 'group' } }
            : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': version } }),
        }),
      );
    } catch (err) {
      if (isConditionalCheckFailed(err)) return false;
      throw toSluiceError(err, 'DeleteGroup', { write: true });
    }
    const rest = (await this.queryPrefix(group)).filter((i) => i.sk !== MEMBERSHIP);
    await batchWriteAll(
      this.client,
      this.table,
      rest.map((i) => ({ DeleteRequest: { Key: { group, sk: i.sk } } })),
      'DeleteGroup',
    );
    return true;
  }

  async listGroups(): Promise<string[]> {
    const groups: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.send(
        'ListGroups',
        new ScanCommand({
          TableName: this.table,
          // A group exists while it has members or offsets (a reset with no member creates it).
          FilterExpression: 'sk = :m OR begins_with(sk, :o)',
          ExpressionAttributeValues: { ':m': MEMBERSHIP, ':o': 'offset#' },
          ProjectionExpression: '#g',
          ExpressionAttributeNames: { '#g': 'group' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) groups.push(String(item.group));
      start = out.LastEvaluatedKey;
    } while (start);
    return [...new Set(groups)].sort();
  }

  async readOffsets(group: string): Promise<CommittedOffset[]> {
    return (await this.queryPrefix(group, 'offset#')).map(toOffset);
  }

  async readPositions(group: string): Promise<Position[]> {
    return (await this.queryPrefix(group, 'position#')).map(toPosition);
  }

  async writePositions(group: string, positions: readonly Position[]): Promise<void> {
    await batchWriteAll(
      this.client,
      this.table,
      positions.map((p) => ({ PutRequest: { Item: { group, sk: positionSk(p.topic, p.partition), ...p } } })),
      'WritePositions',
    );
  }

  async deletePositions(group: string, partitions: readonly { topic: string; partition: number }[]): Promise<void> {
    await batchWriteAll(
      this.client,
      this.table,
      partitions.map((p) => ({ DeleteRequest: { Key: { group, sk: positionSk(p.topic, p.partition) } } })),
      'DeletePositions',
    );
  }

  async initOffsets(group: string, offsets: readonly CommittedOffset[]): Promise<void> {
    // One conditional put each (BatchWriteItem takes no conditions); a lost condition is an
    // offset already there, which stays.
    for (let i = 0; i < offsets.length; i += 25) {
      await Promise.all(
        offsets.slice(i, i + 25).map(async (o) => {
          try {
            await this.client.send(
              new PutCommand({
                TableName: this.table,
                Item: this.offsetItem(group, o),
                ConditionExpression: 'attribute_not_exists(sk) OR topicId <> :topicId',
                ExpressionAttributeValues: { ':topicId': o.topicId },
              }),
            );
          } catch (err) {
            if (!isConditionalCheckFailed(err)) throw toSluiceError(err, 'InitOffsets', { write: true });
          }
        }),
      );
    }
  }

  async writeOffsets(group: string, offsets: readonly CommittedOffset[]): Promise<void> {
    await batchWriteAll(
      this.client,
      this.table,
      offsets.map((o) => ({ PutRequest: { Item: this.offsetItem(group, o) } })),
      'WriteOffsets',
    );
  }

  async commitOffsets(fence: CommitFence, offsets: readonly CommittedOffset[]): Promise<void> {
    const tx = new WriteTransaction();
    this.addFencedCommit(tx, fence, offsets);
    // A cancellation throws the fence's CommitFenced when it failed, else the AWS error.
    await commitTransaction(this.client, tx, { operation: 'CommitOffsets' });
  }

  addFencedCommit(tx: WriteTransaction, fence: CommitFence, offsets: readonly CommittedOffset[]): void {
    tx.add(this.fencedCommit(fence, offsets));
  }

  /** The fence's condition check (action 0), then one put per offset. */
  private fencedCommit(fence: CommitFence, offsets: readonly CommittedOffset[]): TransactionPart<CommitFenced> {
    const names: Record<string, string> = { '#m': fence.memberId };
    const ownership = fence.partitions.map((p, i) => {
      names[`#tp${i}`] = `${p.topic}#${p.partition}`;
      return `owners.#tp${i} = :member`;
    });
    return {
      actions: [
        {
          type: 'check',
          table: this.table,
          key: { group: fence.group, sk: MEMBERSHIP },
          // Kafka's fencing: only a current member of this generation, owning every partition it
          // commits, may commit.
          condition: {
            expression: ['generation = :gen', 'attribute_exists(members.#m)', ...ownership].join(' AND '),
            names,
            values: { ':gen': fence.generation, ':member': fence.memberId },
          },
        },
        ...offsets.map((o) => ({ type: 'put' as const, table: this.table, item: this.offsetItem(fence.group, o) })),
      ],
      // Only the fence has a condition.
      conditionFailed: (failures) => (failures.some((f) => f.index === 0) ? new CommitFenced() : undefined),
    };
  }

  private offsetItem(group: string, o: CommittedOffset) {
    return { group, sk: offsetSk(o.topic, o.partition), ...o, committedAt: new Date().toISOString() };
  }

  /** The group's items whose sort key starts with `prefix`; all of them without one. */
  private async queryPrefix(group: string, prefix?: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.send(
        'QueryGroup',
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: prefix === undefined ? '#g = :g' : '#g = :g AND begins_with(sk, :p)',
          ExpressionAttributeNames: { '#g': 'group' },
          ExpressionAttributeValues: prefix === undefined ? { ':g': group } : { ':g': group, ':p': prefix },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  private async send<T>(operation: string, command: { readonly input: unknown }): Promise<T & { Item?: Record<string, unknown>; Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown>; UnprocessedItems?: Record<string, unknown[]> }> {
    try {
      return (await this.client.send(command as never)) as never;
    } catch (err) {
      throw toSluiceError(err, operation);
    }
  }
}

/** The membership item and heartbeat items of a group, as its state (undefined without membership). */
function toGroupState(group: string, items: readonly Record<string, unknown>[]): GroupState | undefined {
  const item = items.find((i) => i.sk === MEMBERSHIP);
  if (!item) return undefined;
  const members = { ...((item.members ?? {}) as GroupState['members']) };
  for (const beat of items) {
    const memberId = String(beat.sk).slice(HEARTBEAT_PREFIX.length);
    const member = String(beat.sk).startsWith(HEARTBEAT_PREFIX) ? members[memberId] : undefined;
    // The later of the two: a join or membership change also stores the member's time.
    if (member && Number(beat.lastSeenMs) > member.lastSeenMs) members[memberId] = { ...member, lastSeenMs: Number(beat.lastSeenMs) };
  }
  return {
    group,
    generation: Number(item.generation),
    version: Number(item.version),
    members,
    owners: (item.owners ?? {}) as GroupState['owners'],
  };
}

function toOffset(i: Record<string, unknown>): CommittedOffset {
  return { topic: String(i.topic), partition: Number(i.partition), offset: Number(i.offset), topicId: String(i.topicId) };
}

function toPosition(i: Record<string, unknown>): Position {
  return {
    topic: String(i.topic),
    partition: Number(i.partition),
    offset: Number(i.offset),
    memberId: String(i.memberId),
    generation: Number(i.generation),
    ...(i.requestId === undefined ? {} : { requestId: String(i.requestId), from: Number(i.from) }),
  };
}
