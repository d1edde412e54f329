/**
 * A whole Sluice installation in one stack (the `Sluice` construct), with the API URL, table names
 * and queue URLs as outputs (the CLI and the client read them).
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { AclBinding } from '../api/acls';
import type { Construct } from 'constructs';
import { QUEUES, QUEUE_NAMES } from '../definitions/queues';
import { TABLES, TABLE_NAMES } from '../definitions/tables';
import { pascalCase } from './names';
import { Sluice, type ConsumeGrant, type ResourcePattern, type SluiceProps } from './sluice';
import type { SluiceApi } from './sluice-api';
import type { SluiceFunctions } from './sluice-functions';
import type { ISluiceMessageQueue, MessageQueueOptions, SluiceMessageQueue } from './sluice-message-queue';
import type { SluiceQueues } from './sluice-queues';
import type { SluiceSubscription, SubscribeLambdaOptions, SubscribeOptions } from './sluice-subscriptions';
import type { SluiceTables } from './sluice-tables';

export interface SluiceStackProps extends StackProps, SluiceProps {}

/** A complete Sluice installation in a stack of its own: `new SluiceStack(app, 'Sluice')`. */
export class SluiceStack extends Stack {
  /** The installation. */
  readonly sluice: Sluice;
  readonly tables: SluiceTables;
  readonly queues: SluiceQueues;
  readonly functions: SluiceFunctions;
  readonly api: SluiceApi;

  constructor(scope: Construct, id: string, props: SluiceStackProps = {}) {
    super(scope, id, {
      description: 'Sluice: Kafka-style event streaming on DynamoDB, SQS, Lambda and API Gateway',
      ...props,
    });
    // 'Default' leaves no trace in logical IDs, so stacks deployed before the Sluice construct
    // existed keep their tables instead of having them replaced.
    this.sluice = new Sluice(this, 'Default', props);
    ({ tables: this.tables, queues: this.queues, functions: this.functions, api: this.api } = this.sluice);

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the Sluice API (requests must be SigV4-signed for execute-api)',
      value: this.api.url,
    });
    for (const name of TABLE_NAMES) {
      new CfnOutput(this, `${pascalCase(TABLES[name].name)}TableName`, {
        description: `Physical name of the ${TABLES[name].name} table (${TABLES[name].envVar})`,
        value: this.tables.tables[name].tableName,
      });
    }
    for (const name of QUEUE_NAMES) {
      new CfnOutput(this, `${pascalCase(QUEUES[name].name)}QueueUrl`, {
        description: `URL of the ${QUEUES[name].name} queue (${QUEUES[name].envVar})`,
        value: this.queues.queues[name].queue.queueUrl,
      });
    }
  }

  /** `Sluice.grantProduce`: IAM to call the produce routes, and the ACL (topic write). */
  grantProduce(grantee: iam.IGrantable, topic: ResourcePattern): iam.Grant {
    return this.sluice.grantProduce(grantee, topic);
  }

  /** `Sluice.grantConsume`: IAM to call the fetch and group routes, and the ACLs (topic read, group read). */
  grantConsume(grantee: iam.IGrantable, options: ConsumeGrant): iam.Grant {
    return this.sluice.grantConsume(grantee, options);
  }

  /** `Sluice.grantAdmin`: IAM to call every route, and the ACLs (all) on the cluster, every topic and group. */
  grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.sluice.grantAdmin(grantee);
  }

  /** `Sluice.addQueue`: declares a message queue (SQS FIFO, high throughput, with a dead-letter queue). */
  addQueue(name: string, options?: MessageQueueOptions): SluiceMessageQueue {
    return this.sluice.addQueue(name, options);
  }

  /** `Sluice.queue`: a message queue by name (declared or created at run time), to grant API callers on it. */
  queue(name: string): ISluiceMessageQueue {
    return this.sluice.queue(name);
  }

  /** `Sluice.grantQueueAdmin`: IAM and ACLs to manage message queues (every one, or those named). */
  grantQueueAdmin(grantee: iam.IGrantable, queue?: ResourcePattern): iam.Grant {
    return this.sluice.grantQueueAdmin(grantee, queue);
  }

  /** `Sluice.addAcl`: declares an ACL in the stack. */
  addAcl(acl: AclBinding): void {
    this.sluice.addAcl(acl);
  }

  /** `Sluice.subscribeLambda`: a FIFO queue, its DLQ and an SQS event source on `fn`, for a subscription to a topic. */
  subscribeLambda(fn: lambda.IFunction, options: SubscribeLambdaOptions): SluiceSubscription {
    return this.sluice.subscribeLambda(fn, options);
  }

  /** `Sluice.subscribeQueue`: a subscription delivering a topic's events to your FIFO queue. */
  subscribeQueue(queue: sqs.IQueue, options: SubscribeOptions): SluiceSubscription {
    return this.sluice.subscribeQueue(queue, options);
  }
}
