/**
 * One DynamoDB table per entry of definitions/tables.ts, configured the same way the local
 * platform creates them (keys, TTL attribute, stream view), plus what only AWS has: on-demand
 * billing, point-in-time recovery and encryption at rest.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { DynamoDbAction, TableAccess } from '../definitions/functions';
import { TABLES, TABLE_NAMES, type KeyAttribute, type TableName } from '../definitions/tables';
import { pascalCase } from './names';
import { removalPolicyRules, validateProps } from './validation';

export interface SluiceTablesProps {
  /**
   * What happens to the tables, and the events in them, when they leave the stack or the stack is
   * deleted. `RemovalPolicy.SNAPSHOT` is not valid: DynamoDB has no CloudFormation snapshot; use
   * point-in-time recovery or AWS Backup instead.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Turn on DynamoDB deletion protection, so no one (CloudFormation included) can delete a table
   * until it is turned off again. Cannot be combined with `removalPolicy: RemovalPolicy.DESTROY`.
   *
   * @default false
   */
  readonly deletionProtection?: boolean;

  /**
   * A customer managed KMS key to encrypt the tables with, for teams that must control the key
   * policy or be able to revoke access to the data. Grants made through this construct then
   * include the `kms:` actions the key needs.
   *
   * @default - the AWS managed key `aws/dynamodb`: encrypted at rest, key use visible in
   * CloudTrail, no key policy to manage and no KMS grants needed by functions or stream readers
   */
  readonly encryptionKey?: kms.IKey;
}

/** The DynamoDB tables of one Sluice installation, by logical name (`topics`, `log`, ...). */
export class SluiceTables extends Construct {
  /** Every table, by its logical name in definitions/tables.ts. */
  readonly tables: Readonly<Record<TableName, dynamodb.Table>>;

  constructor(scope: Construct, id: string, props: SluiceTablesProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const deletionProtection = props.deletionProtection ?? false;
    validateProps(this, [
      ...removalPolicyRules('removalPolicy', removalPolicy, [
        RemovalPolicy.RETAIN,
        RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        RemovalPolicy.DESTROY,
      ]),
      {
        condition: deletionProtection && removalPolicy === RemovalPolicy.DESTROY,
        message:
          'deletionProtection: true with removalPolicy: RemovalPolicy.DESTROY means CloudFormation can never ' +
          'delete the tables; choose one',
      },
    ]);

    const tables = {} as Record<TableName, dynamodb.Table>;
    for (const name of TABLE_NAMES) {
      const def = TABLES[name];
      const sortKey = 'sortKey' in def ? def.sortKey : undefined;
      const stream = 'stream' in def ? def.stream : undefined;
      tables[name] = new dynamodb.Table(this, pascalCase(def.name), {
        partitionKey: attribute(def.partitionKey),
        sortKey: sortKey && attribute(sortKey),
        billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: props.encryptionKey
          ? dynamodb.TableEncryption.CUSTOMER_MANAGED
          : dynamodb.TableEncryption.AWS_MANAGED,
        encryptionKey: props.encryptionKey,
        timeToLiveAttribute: 'timeToLiveAttribute' in def ? def.timeToLiveAttribute : undefined,
        stream: stream && dynamodb.StreamViewType[stream],
        deletionProtection,
        removalPolicy,
      });
    }
    this.tables = tables;
  }

  /** The table with this logical name. */
  table(name: TableName): dynamodb.ITable {
    return this.tables[name];
  }

  /** Physical table names by logical name, as `functionEnvironment()` expects them. */
  get tableNames(): Record<TableName, string> {
    const names = {} as Record<TableName, string>;
    for (const name of TABLE_NAMES) names[name] = this.tables[name].tableName;
    return names;
  }

  /**
   * Grant exactly the DynamoDB actions a function definition lists on one table (CDK's
   * `grantReadData`/`grantReadWriteData` would add Scan, DeleteItem and more to functions that never
   * call them), plus the KMS actions a customer managed key needs for them. Never the table's
   * stream, its indexes or any other table.
   */
  grantAccess(grantee: iam.IGrantable, name: TableName, actions: TableAccess): iam.Grant {
    const table = this.tables[name];
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: actions.map((a) => `dynamodb:${a}`),
      resourceArns: [table.tableArn],
    });
    const writes = actions.some((a) => WRITE_ACTIONS.has(a));
    table.encryptionKey?.grant(grantee, 'kms:Decrypt', 'kms:DescribeKey', ...(writes ? ['kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'] : []));
    return grant;
  }

  /**
   * Let a grantee read a table's stream, as a DynamoDB Streams event source mapping does:
   * `dynamodb:DescribeStream`, `GetRecords`, `GetShardIterator` and `ListStreams`, all on the
   * stream's ARN (CDK's `grantStreamRead` grants `ListStreams` on `*`, every table's streams in the
   * account), plus decrypting with a customer managed key. Nothing on the table itself.
   */
  grantStreamRead(grantee: iam.IGrantable, name: TableName): iam.Grant {
    const table = this.tables[name];
    if (!table.tableStreamArn) throw new Error(`Sluice table ${TABLES[name].name} has no stream to read`);
    const grant = iam.Grant.addToPrincipal({ grantee, actions: STREAM_READ_ACTIONS, resourceArns: [table.tableStreamArn] });
    table.encryptionKey?.grant(grantee, 'kms:Decrypt', 'kms:DescribeKey');
    return grant;
  }

  /**
   * The table as a DynamoDB event source (`new DynamoEventSource(...)`) should see it: the same
   * table and stream, whose `grantStreamRead` is this construct's, scoped to the stream's ARN.
   */
  streamEventSourceTable(name: TableName): dynamodb.ITable {
    const view: dynamodb.ITable = Object.create(this.tables[name], {
      grantStreamRead: { value: (grantee: iam.IGrantable) => this.grantStreamRead(grantee, name) },
    });
    return view;
  }
}

/** What reading a stream takes; `ListStreams` is what Lambda calls to find the stream's shards. */
const STREAM_READ_ACTIONS = ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'];

const WRITE_ACTIONS = new Set<DynamoDbAction>(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

function attribute(key: KeyAttribute): dynamodb.Attribute {
  const type = { S: dynamodb.AttributeType.STRING, N: dynamodb.AttributeType.NUMBER, B: dynamodb.AttributeType.BINARY };
  return { name: key.name, type: type[key.type] };
}
