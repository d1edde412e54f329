/**
 * A whole Sluice installation in one stack: tables, queues, functions and the HTTP API, with the
 * API URL, table names and queue URLs as outputs (the CLI and the client read them).
 */
import { CfnOutput, Stack, type RemovalPolicy, type StackProps } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { QUEUES, QUEUE_NAMES } from '../definitions/queues';
import { TABLES, TABLE_NAMES } from '../definitions/tables';
import { pascalCase } from './names';
import { SluiceApi } from './sluice-api';
import { SluiceFunctions } from './sluice-functions';
import { SluiceQueues } from './sluice-queues';
import { SluiceTables } from './sluice-tables';

export interface SluiceStackProps extends StackProps {
  /**
   * What happens to the DynamoDB tables, and the events in them, when they leave the stack or the
   * stack is deleted: `RETAIN`, `RETAIN_ON_UPDATE_OR_DELETE` or `DESTROY` (for throw-away stacks).
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Turn on DynamoDB deletion protection for every table.
   *
   * @default false
   */
  readonly deletionProtection?: boolean;

  /**
   * A customer managed KMS key for the tables and queues.
   *
   * @default - AWS managed key `aws/dynamodb` for tables, SQS-managed encryption for queues
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * How long CloudWatch keeps function logs and API access logs; one of `logs.RetentionDays`.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Lambda runtime of every function: Node.js 22 or newer.
   *
   * @default lambda.Runtime.NODEJS_22_X
   */
  readonly runtime?: lambda.Runtime;

  /**
   * Memory of every function in MB, 128 to 10240.
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * Request limits of the API's default stage.
   *
   * @default { rateLimit: 1000, burstLimit: 2000 }
   */
  readonly throttle?: apigwv2.ThrottleSettings;
}

/** A complete Sluice installation: `new SluiceStack(app, 'Sluice')`. */
export class SluiceStack extends Stack {
  readonly tables: SluiceTables;
  readonly queues: SluiceQueues;
  readonly functions: SluiceFunctions;
  readonly api: SluiceApi;

  constructor(scope: Construct, id: string, props: SluiceStackProps = {}) {
    super(scope, id, {
      description: 'Sluice: Kafka-style event streaming on DynamoDB, SQS, Lambda and API Gateway',
      ...props,
    });

    this.tables = new SluiceTables(this, 'Tables', {
      removalPolicy: props.removalPolicy,
      deletionProtection: props.deletionProtection,
      encryptionKey: props.encryptionKey,
    });
    this.queues = new SluiceQueues(this, 'Queues', { encryptionKey: props.encryptionKey });
    this.functions = new SluiceFunctions(this, 'Functions', {
      tables: this.tables,
      queues: this.queues,
      runtime: props.runtime,
      memorySize: props.memorySize,
      logRetention: props.logRetention,
    });
    this.api = new SluiceApi(this, 'Api', {
      functions: this.functions.functions,
      throttle: props.throttle,
      accessLogRetention: props.logRetention,
    });

    new CfnOutput(this, 'ApiUrl', {
      description: 'Base URL of the Sluice HTTP API (requests must be SigV4-signed for execute-api)',
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
}
