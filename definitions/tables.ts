/**
 * Every DynamoDB table Sluice uses, defined once. The CDK stack (lib/) and the local platform
 * (local/) both build their tables from this list, so the two cannot drift.
 */

export type AttributeType = 'S' | 'N' | 'B';

export interface KeyAttribute {
  readonly name: string;
  readonly type: AttributeType;
}

export interface TableDefinition {
  /** Logical name; also the suffix of the local table name (`sluice-<name>`). */
  readonly name: string;
  /** Why the table exists, for the stack description and the docs. */
  readonly description: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey?: KeyAttribute;
  /** Attribute holding the expiry time in epoch seconds, if items expire. */
  readonly timeToLiveAttribute?: string;
  /** DynamoDB Streams view, if changes fan out. */
  readonly stream?: 'NEW_IMAGE' | 'NEW_AND_OLD_IMAGES' | 'OLD_IMAGE' | 'KEYS_ONLY';
  /** Environment variable that carries the physical table name to a function. */
  readonly envVar: string;
}

export const TABLES = {
  topics: {
    name: 'topics',
    description: 'Topic configuration, one item per topic.',
    partitionKey: { name: 'name', type: 'S' },
    envVar: 'SLUICE_TOPICS_TABLE',
  },
  log: {
    name: 'log',
    description:
      'The partitioned topic log: record batches keyed by "<topicId>#<partition>" and the offset of ' +
      "their first event, with the partition's head (next offset) at offset -1 of the same key.",
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'offset', type: 'N' },
    timeToLiveAttribute: 'expiresAt',
    stream: 'NEW_IMAGE',
    envVar: 'SLUICE_LOG_TABLE',
  },
  dedupe: {
    name: 'dedupe',
    description:
      'Message IDs seen per topic within its dedupe window ("<topicId>#<messageId>" → partition and ' +
      'offset), written in the same transaction as the events, for exactly-once produce.',
    partitionKey: { name: 'id', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'SLUICE_DEDUPE_TABLE',
  },
  groups: {
    name: 'groups',
    description:
      'Consumer groups: per group, the membership item (generation, members, partition owners), ' +
      'committed offsets and members\' positions, under one partition key.',
    partitionKey: { name: 'group', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    envVar: 'SLUICE_GROUPS_TABLE',
  },
  acls: {
    name: 'acls',
    description:
      'Access control lists (Kafka-style: principal, topic/group/cluster pattern, operation, allow or deny), ' +
      'one item per ACL keyed by an ID derived from the ACL, read whole and cached by every routed function ' +
      'when authorization is "acl".',
    partitionKey: { name: 'id', type: 'S' },
    envVar: 'SLUICE_ACLS_TABLE',
  },
  subscriptions: {
    name: 'subscriptions',
    description:
      'Push subscriptions: per subscription (key "<topicId>#<name>"), its config, a cursor per partition ' +
      '(the next offset to deliver) and its dead letters.',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'SLUICE_SUBSCRIPTIONS_TABLE',
  },
  processors: {
    name: 'processors',
    description:
      'Stream processors (sluice/streams): per processor partition (key "<applicationId>#<partition>"), a meta item ' +
      '(version for optimistic concurrency, stream time, counters), the next offset of each input topic ' +
      '("pos#<topic>") and the state entries ("s#<store>#<key>"), all committed in the same transaction ' +
      'as the outputs.',
    partitionKey: { name: 'pk', type: 'S' },
    sortKey: { name: 'sk', type: 'S' },
    timeToLiveAttribute: 'expiresAt',
    envVar: 'SLUICE_PROCESSORS_TABLE',
  },
} as const satisfies Record<string, TableDefinition>;

export type TableName = keyof typeof TABLES;
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];
