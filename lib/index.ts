/**
 * Sluice's CDK constructs, the package's main entry (`import { Sluice } from 'sluice'`):
 *
 *   const events = new Sluice(this, 'Events', { api: 'http' }); // in any stack of your app
 *   new SluiceStack(app, 'Sluice');                 // or a stack of its own
 *   events.addQueue('payments').addConsumer(fn);    // a message queue and its Lambda consumer
 *   applyNagChecks(app);                            // cdk-nag with Sluice's accepted findings
 *
 * The building blocks are exported too, for apps that compose them differently.
 */
export {
  Sluice,
  DECLARED_ACLS_MAX_BYTES,
  type ConsumeGrant,
  type ResourcePattern,
  type SluiceProps,
  type SluiceTopic,
  type SubscriptionTargets,
  type WebhookOptions,
} from './sluice';
export {
  DECLARED_SUBSCRIPTIONS_ENV,
  DECLARED_SUBSCRIPTIONS_MAX_BYTES,
  WEBHOOK_ALLOW_PRIVATE_NETWORKS_ENV,
  type DeclaredSubscription,
  type SluiceSubscription,
  type SubscribeLambdaOptions,
  type SubscribeOptions,
  type SubscriptionFilter,
  type SubscriptionStart,
} from './sluice-subscriptions';
export {
  SluiceMessageQueue,
  type ISluiceMessageQueue,
  type MessageQueueConsumerOptions,
  type MessageQueueOptions,
  type SluiceMessageQueueProps,
} from './sluice-message-queue';
export {
  StreamProcessor,
  STREAM_PROCESSOR_TABLE_ACCESS,
  type StreamProcessorProps,
  type StreamProcessorTopology,
} from './stream-processor';
export { SluiceStack, type SluiceStackProps } from './sluice-stack';
export { SluiceTables, type SluiceTablesProps } from './sluice-tables';
export { SluiceQueues, type SluiceQueue, type SluiceQueuesProps } from './sluice-queues';
export { SluiceFunctions, type SluiceFunctionsProps } from './sluice-functions';
export { SluiceApi, type SluiceApiProps, type SluiceApiType } from './sluice-api';
export { applyNagChecks, acknowledgeSluiceFindings, type NagOptions } from './nag';
export { SluicePropsError } from './validation';
