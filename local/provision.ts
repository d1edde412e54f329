/**
 * Creates DynamoDB tables and SQS queues on the local emulators. Two callers describe them: the
 * template twin (local/template/twin.ts) from the synthesized stack's own resource properties, and
 * tests of the core, from definitions/ directly. Idempotent: what already exists (a kept data
 * directory) is left alone.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
  type DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  type StreamViewType,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, TagQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { QUEUES, QUEUE_NAMES, deadLetterQueueName, type QueueName } from '../definitions/queues';
import { TABLES, TABLE_NAMES, type TableName } from '../definitions/tables';

export interface ProvisionedResources {
  readonly tables: Record<TableName, string>;
  readonly queues: Record<QueueName, string>;
}

/** A table as CreateTable and UpdateTimeToLive take it. */
export interface TableSpec {
  readonly tableName: string;
  readonly keySchema: KeySchemaElement[];
  readonly attributeDefinitions: AttributeDefinition[];
  readonly streamViewType?: StreamViewType;
  readonly timeToLiveAttribute?: string;
  readonly globalSecondaryIndexes?: GlobalSecondaryIndex[];
}

/** A created table: its name, ARN and (when it has one) its stream's ARN. */
export interface CreatedTable {
  readonly tableName: string;
  readonly tableArn: string;
  readonly streamArn?: string;
}

/** Physical name of a resource on the local platform. */
export const localName = (prefix: string, name: string) => `${prefix}-${name}`;

/** The tables and queues of definitions/, for tests of the core services that need no functions. */
export async function provision(
  clients: { readonly dynamodb: DynamoDBClient; readonly sqs: SQSClient },
  prefix: string,
): Promise<ProvisionedResources> {
  const tables = {} as Record<TableName, string>;
  for (const name of TABLE_NAMES) {
    const def = TABLES[name];
    const keys = [def.partitionKey, ...('sortKey' in def ? [def.sortKey] : [])];
    const created = await createTable(clients.dynamodb, {
      tableName: localName(prefix, def.name),
      keySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      attributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
      streamViewType: 'stream' in def ? def.stream : undefined,
      timeToLiveAttribute: 'timeToLiveAttribute' in def ? def.timeToLiveAttribute : undefined,
    });
    tables[name] = created.tableName;
  }
  const queues = {} as Record<QueueName, string>;
  for (const name of QUEUE_NAMES) {
    const def = QUEUES[name];
    const base = localName(prefix, def.name);
    const fifo: Record<string, string> = def.fifo ? { FifoQueue: 'true' } : {};
    const highThroughput: Record<string, string> =
      'highThroughput' in def && def.highThroughput ? { DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' } : {};
    const dlq = await createQueue(clients.sqs, deadLetterQueueName(base, def.fifo), fifo);
    const queue = await createQueue(clients.sqs, def.fifo ? `${base}.fifo` : base, {
      ...fifo,
      ...highThroughput,
      VisibilityTimeout: String(def.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: def.maxReceiveCount }),
    });
    queues[name] = queue.url;
  }
  return { tables, queues };
}

export async function createTable(client: DynamoDBClient, spec: TableSpec): Promise<CreatedTable> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: spec.tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: spec.attributeDefinitions,
        KeySchema: spec.keySchema,
        GlobalSecondaryIndexes: spec.globalSecondaryIndexes,
        StreamSpecification: spec.streamViewType ? { StreamEnabled: true, StreamViewType: spec.streamViewType } : undefined,
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  if (spec.timeToLiveAttribute) {
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: spec.tableName }));
    if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: spec.tableName,
          TimeToLiveSpecification: { AttributeName: spec.timeToLiveAttribute, Enabled: true },
        }),
      );
    }
  }
  const { Table } = await client.send(new DescribeTableCommand({ TableName: spec.tableName }));
  return { tableName: spec.tableName, tableArn: Table?.TableArn ?? '', streamArn: Table?.LatestStreamArn };
}

/**
 * Creates a queue (or finds it, with the same attributes) with these tags, and returns its URL and
 * ARN. Tags are set again on a queue that existed (CreateQueue ignores them then, as on AWS).
 */
export async function createQueue(
  client: SQSClient,
  queueName: string,
  attributes: Record<string, string>,
  tags: Record<string, string> = {},
): Promise<{ readonly url: string; readonly arn: string }> {
  const hasTags = Object.keys(tags).length > 0;
  const queue = await client.send(new CreateQueueCommand({ QueueName: queueName, Attributes: attributes, ...(hasTags ? { tags } : {}) }));
  if (!queue.QueueUrl) throw new Error(`CreateQueue ${queueName} returned no URL`);
  if (hasTags) await client.send(new TagQueueCommand({ QueueUrl: queue.QueueUrl, Tags: tags }));
  const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: queue.QueueUrl, arn: attrs.Attributes?.QueueArn ?? '' };
}
