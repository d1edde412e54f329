/**
 * Creates the tables and queues of definitions/ on the local emulators, the way the CDK stack
 * creates them in AWS. Idempotent: what already exists (a kept data directory) is left alone.
 */
import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type StreamViewType,
} from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { QUEUES, QUEUE_NAMES, deadLetterQueueName, type QueueDefinition, type QueueName } from '../definitions/queues';
import { TABLES, TABLE_NAMES, type TableDefinition, type TableName } from '../definitions/tables';

export interface ProvisionedResources {
  readonly tables: Record<TableName, string>;
  readonly queues: Record<QueueName, string>;
}

/** Physical name of a resource on the local platform. */
export const localName = (prefix: string, name: string) => `${prefix}-${name}`;

export async function provision(
  clients: { readonly dynamodb: DynamoDBClient; readonly sqs: SQSClient },
  prefix: string,
): Promise<ProvisionedResources> {
  const tables = {} as Record<TableName, string>;
  for (const name of TABLE_NAMES) tables[name] = await createTable(clients.dynamodb, TABLES[name], localName(prefix, TABLES[name].name));
  const queues = {} as Record<QueueName, string>;
  for (const name of QUEUE_NAMES) queues[name] = await createQueue(clients.sqs, QUEUES[name], localName(prefix, QUEUES[name].name));
  return { tables, queues };
}

async function createTable(client: DynamoDBClient, def: TableDefinition, tableName: string): Promise<string> {
  const keys = [def.partitionKey, ...(def.sortKey ? [def.sortKey] : [])];
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: keys.map((k) => ({ AttributeName: k.name, AttributeType: k.type })),
        KeySchema: keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
        StreamSpecification: def.stream
          ? { StreamEnabled: true, StreamViewType: def.stream as StreamViewType }
          : undefined,
      }),
    );
  } catch (err) {
    if (!(err instanceof ResourceInUseException)) throw err;
  }
  if (def.timeToLiveAttribute) {
    const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
    if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: tableName,
          TimeToLiveSpecification: { AttributeName: def.timeToLiveAttribute, Enabled: true },
        }),
      );
    }
  }
  return tableName;
}

async function createQueue(client: SQSClient, def: QueueDefinition, baseName: string): Promise<string> {
  const fifo = def.fifo ? { FifoQueue: 'true' } : {};
  const dlq = await client.send(
    new CreateQueueCommand({ QueueName: deadLetterQueueName(baseName, def.fifo), Attributes: { ...fifo } }),
  );
  const dlqArn = await client.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await client.send(
    new CreateQueueCommand({
      QueueName: def.fifo ? `${baseName}.fifo` : baseName,
      Attributes: {
        ...fifo,
        VisibilityTimeout: String(def.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn.Attributes?.QueueArn,
          maxReceiveCount: def.maxReceiveCount,
        }),
      },
    }),
  );
  if (!queue.QueueUrl) throw new Error(`CreateQueue ${baseName} returned no URL`);
  return queue.QueueUrl;
}
