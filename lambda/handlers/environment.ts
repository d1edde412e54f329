/**
 * Reads the physical table and queue names a function was given (see definitions/functions.ts)
 * and builds the services, once per cold start.
 */
import { QUEUES, type QueueName } from '../../definitions/queues';
import { TABLES, type TableName } from '../../definitions/tables';
import { createDocumentClient, createSqsClient } from '../core/aws/clients';
import { DynamoDbGroupStore } from '../core/groups/dynamodb-group-store';
import { GroupService } from '../core/groups/group-service';
import { DynamoDbLogStore } from '../core/log/dynamodb-log-store';
import { LogService } from '../core/log/log-service';
import { DynamoDbTopicStore } from '../core/topics/dynamodb-topic-store';
import { SqsPurgeQueue } from '../core/topics/purge-queue';
import { TopicService } from '../core/topics/topic-service';
import { TransactionService } from '../core/transactions/transaction-service';

function requireEnv(name: string, env: NodeJS.ProcessEnv): string {
  const value = env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set; the stack or local platform must set it`);
  return value;
}

export const tableFromEnv = (table: TableName, env = process.env) => requireEnv(TABLES[table].envVar, env);
export const queueFromEnv = (queue: QueueName, env = process.env) => requireEnv(QUEUES[queue].envVar, env);

function topicStoreFromEnv(env: NodeJS.ProcessEnv): DynamoDbTopicStore {
  return new DynamoDbTopicStore({
    client: createDocumentClient(),
    topicsTable: tableFromEnv('topics', env),
    logTable: tableFromEnv('log', env),
  });
}

export function logServiceFromEnv(env = process.env): LogService {
  return new LogService({
    topics: topicStoreFromEnv(env),
    log: new DynamoDbLogStore({
      client: createDocumentClient(),
      logTable: tableFromEnv('log', env),
      dedupeTable: tableFromEnv('dedupe', env),
    }),
  });
}

export function topicServiceFromEnv(env = process.env): TopicService {
  return new TopicService({
    store: topicStoreFromEnv(env),
    offsets: logServiceFromEnv(env),
    purgeQueue: new SqsPurgeQueue(createSqsClient(), queueFromEnv('topicPurge', env)),
  });
}

export function groupServiceFromEnv(env = process.env): GroupService {
  return new GroupService({
    groups: new DynamoDbGroupStore(createDocumentClient(), tableFromEnv('groups', env)),
    topics: topicStoreFromEnv(env),
    log: logServiceFromEnv(env),
  });
}

export function transactionServiceFromEnv(env = process.env): TransactionService {
  const groupStore = new DynamoDbGroupStore(createDocumentClient(), tableFromEnv('groups', env));
  const log = logServiceFromEnv(env);
  const groups = new GroupService({ groups: groupStore, topics: topicStoreFromEnv(env), log });
  return new TransactionService(log, groups, groupStore);
}
