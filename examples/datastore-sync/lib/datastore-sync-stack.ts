/**
 * The datastore-sync example: an "orders" table kept in sync with a "replica" table through a
 * Sluice message queue.
 *
 *   orders table ──stream──▶ publisher ──▶ Sluice queue "order-changes" (FIFO, group = order ID)
 *                                              │  addConsumer
 *                                              ▼
 *                                           worker ──conditional write──▶ replica table
 *
 * The Sluice installation (tables, functions, API) comes with it, so the queue is served by the
 * API too: `sluice queues describe order-changes`, `receive`, `redrive` work on it.
 */
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
// In your own app: `import { Sluice, type SluiceMessageQueue, type SluiceProps } from 'sluice';`
import { Sluice, type SluiceMessageQueue, type SluiceProps } from '../../../lib';

export interface DatastoreSyncStackProps extends StackProps {
  /**
   * How long a change the worker received stays hidden before the queue delivers it again (after
   * a crash of the worker, or a failure it reported). At least the worker's timeout; AWS
   * recommends 6 times it.
   *
   * @default 6 × workerTimeout
   */
  readonly visibilityTimeout?: Duration;

  /**
   * Receives of a change before the queue moves it to its dead-letter queue. Until then a change
   * that keeps failing holds up the later changes of its order (by design: they must not overtake
   * it); after, they go on without it, and `sluice queues redrive order-changes` brings it back.
   *
   * @default 10
   */
  readonly maxReceiveCount?: number;

  /** @default Duration.seconds(10) */
  readonly workerTimeout?: Duration;

  /** Props of the Sluice installation. @default { api: 'http' } */
  readonly sluice?: SluiceProps;
}

/** The Sluice name of the queue. */
export const QUEUE_NAME = 'order-changes';

export class DatastoreSyncStack extends Stack {
  readonly sluice: Sluice;
  readonly orders: dynamodb.Table;
  readonly replica: dynamodb.Table;
  readonly queue: SluiceMessageQueue;
  readonly publisher: NodejsFunction;
  readonly worker: NodejsFunction;

  constructor(scope: Construct, id: string, props: DatastoreSyncStackProps = {}) {
    super(scope, id, props);
    const workerTimeout = props.workerTimeout ?? Duration.seconds(10);
    this.sluice = new Sluice(this, 'Sluice', { api: 'http', ...props.sluice });

    const tableProps = {
      partitionKey: { name: 'orderId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // An example: `cdk destroy` removes its data. Keep the default (RETAIN) for your own tables.
      removalPolicy: RemovalPolicy.DESTROY,
    };
    this.orders = new dynamodb.Table(this, 'Orders', { ...tableProps, stream: dynamodb.StreamViewType.NEW_IMAGE });
    // Deleted orders stay as tombstones for 15 days (see functions/worker.ts), then TTL removes them.
    this.replica = new dynamodb.Table(this, 'Replica', { ...tableProps, timeToLiveAttribute: '_syncExpiresAt' });

    this.queue = this.sluice.addQueue(QUEUE_NAME, {
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(6 * workerTimeout.toSeconds()),
      maxReceiveCount: props.maxReceiveCount ?? 10,
    });

    this.publisher = this.function('Publisher', 'publisher.ts', Duration.seconds(30));
    this.publisher.addEnvironment('QUEUE_URL', this.queue.queue.queueUrl);
    this.queue.queue.grantSendMessages(this.publisher);
    this.publisher.addEventSource(
      new DynamoEventSource(this.orders, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        // The first record not sent is reported; the stream retries from it, so order holds. No
        // retry limit: a change is never skipped (it would leave the replica behind for good).
        reportBatchItemFailures: true,
      }),
    );
    Validations.of(this.publisher.role!.node.findChild('DefaultPolicy')).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        "The stream event source's own grant: dynamodb:ListStreams has no resource-level permission in IAM, so " +
        'it is on "*" (it lists stream ARNs, never data); reading records is granted on the orders stream only.',
    });

    this.worker = this.function('Worker', 'worker.ts', workerTimeout);
    this.worker.addEnvironment('REPLICA_TABLE', this.replica.tableName);
    this.replica.grant(this.worker, 'dynamodb:GetItem', 'dynamodb:PutItem');
    this.queue.addConsumer(this.worker, { batchSize: 10 });

    new CfnOutput(this, 'OrdersTableName', { value: this.orders.tableName });
    new CfnOutput(this, 'ReplicaTableName', { value: this.replica.tableName });
    new CfnOutput(this, 'QueueName', { value: QUEUE_NAME, description: 'The Sluice queue (sluice queues describe order-changes)' });
    new CfnOutput(this, 'SluiceUrl', { value: this.sluice.url });
  }

  /**
   * A Node.js function from functions/, bundled with esbuild (the AWS SDK included: the version
   * it was tested with), with a role of its own that may write to its log group only (plus the
   * grants above) instead of the default role's managed policy.
   */
  private function(id: string, file: string, timeout: Duration): NodejsFunction {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const role = new iam.Role(this, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    return new NodejsFunction(this, id, {
      entry: fileURLToPath(new URL(`../functions/${file}`, import.meta.url)),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout,
      role,
      logGroup,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        // Bundled CommonJS dependencies may call require() for Node built-ins; ESM has none.
        banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        externalModules: [],
        minify: true,
        sourceMap: true,
      },
      environment: { NODE_OPTIONS: '--enable-source-maps' },
    });
  }
}
