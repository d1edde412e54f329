/**
 * The push-subscription services wired as deployed (topics, log, the read-only log the deliverer
 * gets, catalog, service, sender, deliverer) over one isolated set of tables and queues.
 */
import { DynamoDbLogReadStore, DynamoDbLogStore } from '../../lambda/core/log/dynamodb-log-store';
import { LogReadService } from '../../lambda/core/log/log-read-service';
import { LogService } from '../../lambda/core/log/log-service';
import type { Logger } from '../../lambda/core/logger';
import { SubscriptionCatalog } from '../../lambda/core/subscriptions/catalog';
import { Deliverer } from '../../lambda/core/subscriptions/deliverer';
import { DynamoDbSubscriptionStore } from '../../lambda/core/subscriptions/dynamodb-subscription-store';
import { SqsDeliveriesQueue } from '../../lambda/core/subscriptions/sqs-deliveries-queue';
import { SubscriptionService } from '../../lambda/core/subscriptions/subscription-service';
import { TargetSender } from '../../lambda/core/subscriptions/targets';
import { DynamoDbTopicStore } from '../../lambda/core/topics/dynamodb-topic-store';
import type { emulatorClients, provisionIsolated } from './emulators';

export function subscriptionServices(
  clients: ReturnType<typeof emulatorClients>,
  resources: Awaited<ReturnType<typeof provisionIsolated>>,
  options: { readonly logger: Logger; readonly backoffMs: number },
) {
  const { tables, queues } = resources;
  const topics = new DynamoDbTopicStore({ client: clients.doc, topicsTable: tables.topics, logTable: tables.log });
  const log = new LogService({ topics, log: new DynamoDbLogStore({ client: clients.doc, logTable: tables.log, dedupeTable: tables.dedupe }) });
  const readLog = new LogReadService({ topics, log: new DynamoDbLogReadStore({ client: clients.doc, logTable: tables.log }) });
  const catalog = new SubscriptionCatalog(new DynamoDbSubscriptionStore({ client: clients.doc, table: tables.subscriptions }));
  const service = new SubscriptionService({ catalog, topics, log: readLog, queue: new SqsDeliveriesQueue(clients.sqs, queues.deliveries), allowPrivateNetworks: true });
  const sender = new TargetSender({ sqs: () => clients.sqs, lambda: () => { throw new Error('no Lambda here'); }, allowPrivateNetworks: true, webhookTimeoutMs: 2000 });
  const deliverer = new Deliverer({ catalog, log: readLog, sender, logger: options.logger, backoff: { baseMs: options.backoffMs } });
  return { topics, log, readLog, catalog, service, deliverer };
}
