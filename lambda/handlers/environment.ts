/**
 * Reads the physical table and queue names a function was given (see definitions/functions.ts)
 * and builds the services, once per cold start.
 *
 * Each builder reads exactly the variables of the tables and queues its services touch, and no
 * more: the stack gives a function only the variables of what its definition lists, so a builder
 * that asked for more would throw at cold start on AWS. The read side of the log (fetch, describe
 * offsets, group records) is built from the topics and log tables only; only produce and
 * transactions build the full LogService, which needs the dedupe table. A unit test
 * (test/unit/lambda/function-environment.test.ts) builds every function from exactly its
 * definition's environment.
 *
 * SDK clients are created once per process and shared by every store (a Lambda execution
 * environment runs one function, so "per process" is "per cold start").
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { MESSAGE_QUEUES, QUEUES, type QueueName } from '../../definitions/queues';
import { TABLES, type TableName } from '../../definitions/tables';
import { createDocumentClient, createSqsClient } from '../core/aws/clients';
import { DynamoDbGroupStore } from '../core/groups/dynamodb-group-store';
import { DynamoDbSendMarkerStore } from '../core/queues/dynamodb-send-marker-store';
import { QueueDirectory } from '../core/queues/queue-directory';
import { QueueService } from '../core/queues/queue-service';
import { GroupService } from '../core/groups/group-service';
import { DynamoDbLogReadStore, DynamoDbLogStore } from '../core/log/dynamodb-log-store';
import { LogReadService } from '../core/log/log-read-service';
import { LogService } from '../core/log/log-service';
import { DynamoDbTopicStore } from '../core/topics/dynamodb-topic-store';
import { SqsPurgeQueue } from '../core/topics/purge-queue';
import { TopicService } from '../core/topics/topic-service';
import { TransactionService } from '../core/transactions/transaction-service';
import { PROCESSORS_ENV } from '../../api/processors';
import { decodeDeclaredProcessors } from '../core/processors/declared';
import { DynamoDbProcessorStore } from '../core/processors/dynamodb-processor-store';
import { ProcessorService } from '../core/processors/processor-service';
import { AUTHORIZATION_ENV, type AuthorizationMode } from '../../definitions/authorization';
import { AclService } from '../core/acls/acl-service';
import { Authorizer } from '../core/acls/authorizer';
import { decodeDeclaredAcls } from '../core/acls/declared';
import { DynamoDbAclStore } from '../core/acls/dynamodb-acl-store';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SUBSCRIPTIONS_ENV } from '../../api/subscriptions';
import type { Logger } from '../core/logger';
import { SubscriptionCatalog } from '../core/subscriptions/catalog';
import { decodeDeclaredSubscriptions } from '../core/subscriptions/declared';
import { Deliverer } from '../core/subscriptions/deliverer';
import { Dispatcher } from '../core/subscriptions/dispatcher';
import { DynamoDbSubscriptionStore } from '../core/subscriptions/dynamodb-subscription-store';
import { SqsDeliveriesQueue } from '../core/subscriptions/sqs-deliveries-queue';
import { SubscriptionService } from '../core/subscriptions/subscription-service';
import { TargetSender } from '../core/subscriptions/targets';
import { DynamoDbTopicLookup } from '../core/subscriptions/topic-ids';

/** The environment a function reads its configuration from (`process.env` in Lambda). */
export type FunctionEnv = Readonly<Record<string, string | undefined>>;

function requireEnv(name: string, env: FunctionEnv): string {
  const value = env[name];
  if (!value) throw new Error(`Environment variable ${name} is not set; the stack or local platform must set it`);
  return value;
}

export const tableFromEnv = (table: TableName, env: FunctionEnv = process.env) => requireEnv(TABLES[table].envVar, env);
export const queueFromEnv = (queue: QueueName, env: FunctionEnv = process.env) => requireEnv(QUEUES[queue].envVar, env);

/** SLUICE_QUEUE_PREFIX: the prefix of the installation's message queues' SQS names. */
export function queuePrefixFromEnv(env: FunctionEnv = process.env): string {
  const prefix = requireEnv(MESSAGE_QUEUES.prefixEnvVar, env);
  if (!MESSAGE_QUEUES.prefixPattern.test(prefix)) {
    throw new Error(`Environment variable ${MESSAGE_QUEUES.prefixEnvVar} must be 1 to 24 of [a-zA-Z0-9_-]; got "${prefix}"`);
  }
  return prefix;
}

let documentClient: DynamoDBDocumentClient | undefined;
let sqsClient: SQSClient | undefined;

/** The process's one DynamoDB document client, created on first use and shared by every store. */
export function sharedDocumentClient(): DynamoDBDocumentClient {
  return (documentClient ??= createDocumentClient());
}

/** The process's one SQS client, created on first use. */
export function sharedSqsClient(): SQSClient {
  return (sqsClient ??= createSqsClient());
}

/** Needs the topics and log tables. */
function topicStoreFromEnv(env: FunctionEnv): DynamoDbTopicStore {
  return new DynamoDbTopicStore({
    client: sharedDocumentClient(),
    topicsTable: tableFromEnv('topics', env),
    logTable: tableFromEnv('log', env),
  });
}

/** Fetch, partition bounds and offsets: needs the topics and log tables only. */
export function logReadServiceFromEnv(env: FunctionEnv = process.env, topics = topicStoreFromEnv(env)): LogReadService {
  return new LogReadService({
    topics,
    log: new DynamoDbLogReadStore({ client: sharedDocumentClient(), logTable: tableFromEnv('log', env) }),
  });
}

/** Produce (and fetch): needs the topics, log and dedupe tables. */
export function logServiceFromEnv(env: FunctionEnv = process.env, topics = topicStoreFromEnv(env)): LogService {
  return new LogService({
    topics,
    log: new DynamoDbLogStore({
      client: sharedDocumentClient(),
      logTable: tableFromEnv('log', env),
      dedupeTable: tableFromEnv('dedupe', env),
    }),
  });
}

/** Topic administration and purge: needs the topics and log tables and the purge queue. */
export function topicServiceFromEnv(env: FunctionEnv = process.env): TopicService {
  const store = topicStoreFromEnv(env);
  return new TopicService({
    store,
    offsets: logReadServiceFromEnv(env, store),
    purgeQueue: new SqsPurgeQueue(sharedSqsClient(), queueFromEnv('topicPurge', env)),
  });
}

/** Consumer groups: needs the topics, log and groups tables. */
export function groupServiceFromEnv(env: FunctionEnv = process.env): GroupService {
  const topics = topicStoreFromEnv(env);
  return new GroupService({
    groups: new DynamoDbGroupStore(sharedDocumentClient(), tableFromEnv('groups', env)),
    topics,
    log: logReadServiceFromEnv(env, topics),
  });
}

/** Read-process-write: needs the topics, log, dedupe and groups tables. */
export function transactionServiceFromEnv(env: FunctionEnv = process.env): TransactionService {
  const topics = topicStoreFromEnv(env);
  const groupStore = new DynamoDbGroupStore(sharedDocumentClient(), tableFromEnv('groups', env));
  const log = logServiceFromEnv(env, topics);
  const groups = new GroupService({ groups: groupStore, topics, log });
  return new TransactionService(log, groups, groupStore);
}

/** The `acls` table's store: every routed function is granted it (definitions/functions.ts). */
function aclStoreFromEnv(env: FunctionEnv): DynamoDbAclStore {
  return new DynamoDbAclStore({ client: sharedDocumentClient(), table: tableFromEnv('acls', env) });
}

/**
 * The authorizer of a routed function. The `acls` table's name is always read (every routed
 * function is given it); the checks are on only when the stack set SLUICE_AUTHORIZATION=acl
 * (the `authorization` prop of `Sluice`), with the ACLs it declared in SLUICE_DECLARED_ACLS.
 */
export function authorizerFromEnv(env: FunctionEnv = process.env, store: DynamoDbAclStore = aclStoreFromEnv(env)): Authorizer {
  const raw = env[AUTHORIZATION_ENV.mode];
  if (raw !== undefined && raw !== 'acl' && raw !== 'iam-only') {
    throw new Error(`Environment variable ${AUTHORIZATION_ENV.mode} must be "acl" or "iam-only"; got "${raw}"`);
  }
  const mode: AuthorizationMode = raw === 'acl' ? 'acl' : 'iam-only';
  if (mode !== 'acl') return Authorizer.off();
  const declared = env[AUTHORIZATION_ENV.declaredAcls];
  const ttl = env[AUTHORIZATION_ENV.cacheTtlMs];
  const cacheTtlMs = ttl === undefined || ttl === '' ? undefined : Number(ttl);
  if (cacheTtlMs !== undefined && !(Number.isInteger(cacheTtlMs) && cacheTtlMs >= 0)) {
    throw new Error(`Environment variable ${AUTHORIZATION_ENV.cacheTtlMs} must be a whole number of ms; got "${ttl}"`);
  }
  return new Authorizer({ mode, store, declared: declared ? decodeDeclaredAcls(declared) : [], cacheTtlMs });
}

/** ACL administration: needs the acls table (read and write). */
export function aclServiceFromEnv(env: FunctionEnv = process.env): { service: AclService; authorizer: Authorizer } {
  const store = aclStoreFromEnv(env);
  const authorizer = authorizerFromEnv(env, store);
  return { service: new AclService(store, authorizer), authorizer };
}

// ---- message queues --------------------------------------------------------------------------

/** The message queues of the installation, found by name from SLUICE_QUEUE_PREFIX. */
function queueDirectoryFromEnv(env: FunctionEnv): QueueDirectory {
  return new QueueDirectory(sharedSqsClient(), queuePrefixFromEnv(env));
}

/** The queues API: the message queues (prefix) and the dedupe table (send markers). */
export function queueServiceFromEnv(env: FunctionEnv = process.env): QueueService {
  return new QueueService({
    directory: queueDirectoryFromEnv(env),
    markers: new DynamoDbSendMarkerStore({ client: sharedDocumentClient(), dedupeTable: tableFromEnv('dedupe', env) }),
  });
}

// ---- push subscriptions ----------------------------------------------------------------------

let lambdaClient: LambdaClient | undefined;

/** The process's one Lambda client (for Lambda targets), created on first use. */
export function sharedLambdaClient(): LambdaClient {
  return (lambdaClient ??= new LambdaClient({}));
}

/** SLUICE_WEBHOOK_ALLOW_PRIVATE_NETWORKS: `true` lets webhooks use http and private addresses. */
export function allowPrivateNetworksFromEnv(env: FunctionEnv = process.env): boolean {
  const raw = env[SUBSCRIPTIONS_ENV.allowPrivateNetworks];
  if (raw !== undefined && raw !== '' && raw !== 'true' && raw !== 'false') {
    throw new Error(`Environment variable ${SUBSCRIPTIONS_ENV.allowPrivateNetworks} must be "true" or "false"; got "${raw}"`);
  }
  return raw === 'true';
}

/** The subscriptions table, and the subscriptions declared in the stack (SLUICE_DECLARED_SUBSCRIPTIONS). */
export function subscriptionCatalogFromEnv(env: FunctionEnv = process.env): SubscriptionCatalog {
  const store = new DynamoDbSubscriptionStore({ client: sharedDocumentClient(), table: tableFromEnv('subscriptions', env) });
  return new SubscriptionCatalog(store, decodeDeclaredSubscriptions(env[SUBSCRIPTIONS_ENV.declared]));
}

function deliveriesQueueFromEnv(env: FunctionEnv): SqsDeliveriesQueue {
  return new SqsDeliveriesQueue(sharedSqsClient(), queueFromEnv('deliveries', env));
}

/**
 * The subscriptions API: topics, log (read side), subscriptions tables, the deliveries queue, and
 * the message queues (a queue target must name one that exists).
 */
export function subscriptionServiceFromEnv(env: FunctionEnv = process.env): SubscriptionService {
  const topics = topicStoreFromEnv(env);
  return new SubscriptionService({
    catalog: subscriptionCatalogFromEnv(env),
    topics,
    log: logReadServiceFromEnv(env, topics),
    queue: deliveriesQueueFromEnv(env),
    messageQueues: queueDirectoryFromEnv(env),
    allowPrivateNetworks: allowPrivateNetworksFromEnv(env),
  });
}

/** The dispatcher: the topics table (declared subscriptions' topic IDs), subscriptions, deliveries queue. */
export function dispatcherFromEnv(env: FunctionEnv, logger: Logger): Dispatcher {
  return new Dispatcher(
    subscriptionCatalogFromEnv(env),
    new DynamoDbTopicLookup(sharedDocumentClient(), tableFromEnv('topics', env)),
    deliveriesQueueFromEnv(env),
    logger,
  );
}

/**
 * The deliverer: topics and log (reads), subscriptions; the deliveries queue URL (visibility
 * changes); the message queues (targets that name a Sluice queue).
 */
export function delivererFromEnv(env: FunctionEnv, logger: Logger): { deliverer: Deliverer; queueUrl: string } {
  const allowPrivateNetworks = allowPrivateNetworksFromEnv(env);
  const messageQueues = queueDirectoryFromEnv(env);
  const deliverer = new Deliverer({
    catalog: subscriptionCatalogFromEnv(env),
    log: logReadServiceFromEnv(env),
    sender: new TargetSender({ sqs: sharedSqsClient, lambda: sharedLambdaClient, allowPrivateNetworks, messageQueues }),
    logger,
  });
  return { deliverer, queueUrl: queueFromEnv('deliveries', env) };
}

// ---- stream processors -----------------------------------------------------------------------

/**
 * The processors API: the processors the stack declares (SLUICE_DECLARED_PROCESSORS), the
 * `processors` table (their state), and the topics and log tables (read side) for lag.
 */
export function processorServiceFromEnv(env: FunctionEnv = process.env): ProcessorService {
  const topics = topicStoreFromEnv(env);
  return new ProcessorService({
    declared: decodeDeclaredProcessors(env[PROCESSORS_ENV.declared]),
    topics,
    log: logReadServiceFromEnv(env, topics),
    store: new DynamoDbProcessorStore(sharedDocumentClient(), tableFromEnv('processors', env)),
  });
}
