/**
 * The template twin: creates what a synthesized Sluice stack declares on the local emulators, from
 * the template's own resource properties (key schemas, streams, TTL, FIFO, redrive), and reads
 * off everything else the local platform needs to run it as AWS would: each function's bundle,
 * limits, role and exact environment; the API's routes; the event source mappings.
 *
 * Whatever the template holds that the twin cannot reproduce fails here, loudly, instead of
 * running differently from AWS.
 *
 * Message queues (`sluice.addQueue`, `POST /queues`) are named from the stack's prefix
 * (`SLUICE_QUEUE_PREFIX`), not by the twin. So that twins sharing one SQS server do not share
 * queues, a twin may be given a prefix of its own (`messageQueuePrefix`): it then stands in for the
 * stack's everywhere the stack names it, in the queues' names, the functions' variable and the
 * policies' `arn:aws:sqs:…:<prefix>*`, as if the stack had been synthesized with it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { AttributeDefinition, DynamoDBClient, KeySchemaElement, StreamViewType } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { MESSAGE_QUEUES } from '../../definitions/queues';
import { createQueue, createTable, localName } from '../provision';
import { resolveString, resolveValue, type IntrinsicContext, type ResourceAttributes } from './intrinsics';
import { validatePattern } from '../event-sources/filter-pattern';
import { resourcesOfType, type CfnResource, type CfnTemplate, type SynthesizedStack } from './stack-template';

export const LOCAL_ACCOUNT_ID = '000000000000';

export interface TwinFunction {
  readonly logicalId: string;
  readonly functionName: string;
  readonly functionArn: string;
  /** The bundle file (`index.mjs` for handler `index.handler`) inside the assembly's asset folder. */
  readonly file: string;
  /** The exported handler's name. */
  readonly exportName: string;
  /** The template's `Handler`, e.g. `index.handler`. */
  readonly handler: string;
  readonly runtime: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  /** Exactly the template's `Environment.Variables`, resolved. */
  readonly environment: Readonly<Record<string, string>>;
  readonly roleLogicalId: string;
  readonly roleName: string;
}

export interface TwinQueue {
  readonly logicalId: string;
  /** The queue's name on the SQS server (the template's `QueueName`, else one the twin gives it). */
  readonly queueName: string;
  readonly url: string;
  readonly arn: string;
  readonly visibilityTimeoutSeconds: number;
  /** The template's `Tags`, set on the queue. */
  readonly tags: Readonly<Record<string, string>>;
}

export interface TwinSqsEventSource {
  readonly function: TwinFunction;
  readonly queue: TwinQueue;
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
}

/** A DynamoDB Streams event source mapping, with the options the template sets (AWS's defaults otherwise). */
export interface TwinStreamEventSource {
  readonly function: TwinFunction;
  readonly tableName: string;
  readonly streamArn: string;
  readonly startingPosition: 'LATEST' | 'TRIM_HORIZON';
  readonly batchSize: number;
  readonly maximumBatchingWindowSeconds: number;
  readonly parallelizationFactor: number;
  readonly bisectBatchOnFunctionError: boolean;
  /** -1: until the record expires. */
  readonly maximumRetryAttempts: number;
  /** -1: no limit. */
  readonly maximumRecordAgeSeconds: number;
  readonly reportBatchItemFailures: boolean;
  /** Where records of a batch that finally failed are reported. */
  readonly onFailureQueue?: TwinQueue;
  /** Lambda filter patterns (parsed); empty: every record. */
  readonly filters: readonly Record<string, unknown>[];
}

/** One IAM policy statement as the template states it, with its resources resolved to ARNs. */
export interface TwinStatement {
  readonly effect: 'Allow' | 'Deny';
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

export interface HttpApiRoute {
  /** `GET /topics/{topic}`, or `$default`. */
  readonly routeKey: string;
  readonly authorizationType: string;
  readonly function: TwinFunction;
  readonly payloadFormatVersion: string;
}

export interface RestApiMethod {
  /** The resource path, e.g. `/topics/{topic}` or `/{proxy+}`. */
  readonly resourcePath: string;
  readonly resourceId: string;
  /** `GET`, ..., or `ANY`. */
  readonly httpMethod: string;
  readonly authorizationType: string;
  readonly function: TwinFunction;
}

export type TwinApi =
  | { readonly type: 'http'; readonly apiId: string; readonly routes: readonly HttpApiRoute[] }
  | { readonly type: 'rest'; readonly apiId: string; readonly stageName: string; readonly methods: readonly RestApiMethod[] };

export interface Twin {
  readonly stack: SynthesizedStack;
  readonly tables: ReadonlyMap<string, { readonly tableName: string; readonly tableArn: string; readonly streamArn?: string }>;
  readonly queues: ReadonlyMap<string, TwinQueue>;
  readonly functions: ReadonlyMap<string, TwinFunction>;
  readonly sqsEventSources: readonly TwinSqsEventSource[];
  readonly streamEventSources: readonly TwinStreamEventSource[];
  /** Each role's statements, by the role's logical ID. */
  readonly policies: ReadonlyMap<string, readonly TwinStatement[]>;
  readonly api: TwinApi;
  /** The stack's outputs, resolved. */
  readonly outputs: Readonly<Record<string, string>>;
  /** The prefix of the stack's message queues here (`SLUICE_QUEUE_PREFIX`), if its functions have one. */
  readonly messageQueuePrefix?: string;
}

export interface TwinOptions {
  readonly stack: SynthesizedStack;
  readonly clients: { readonly dynamodb: DynamoDBClient; readonly sqs: SQSClient };
  /** Prefix of physical names, so several twins can share one pair of emulators. */
  readonly prefix: string;
  readonly region: string;
  /**
   * Where functions reach SQS (the local IAM): queue URLs name it, since the SQS client sends to a
   * queue's own URL. @default the SQS server's own URLs
   */
  readonly sqsEndpoint?: string;
  /**
   * Run the stack's message queues under this prefix instead of the one the stack was synthesized
   * with (`SLUICE_QUEUE_PREFIX`, see the module comment), so twins sharing one SQS server never
   * share a message queue. 1 to 24 of `[a-zA-Z0-9_-]`. @default the stack's own
   */
  readonly messageQueuePrefix?: string;
}

/**
 * AWS managed policies the twin evaluates, with the documents AWS publishes for them. CDK gives a
 * function without a role of its own `AWSLambdaBasicExecutionRole` (CloudWatch Logs only, which
 * the platform does not call): knowing it lets a user's plain `lambda.Function` run locally. Any
 * other managed policy fails the twin.
 */
const KNOWN_MANAGED_POLICIES: Readonly<Record<string, readonly TwinStatement[]>> = {
  'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole': [
    { effect: 'Allow', actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], resources: ['*'] },
  ],
};

/** Resource types the twin reproduces, or knowingly leaves to AWS (logs, permissions, deployments). */
const HANDLED = new Set([
  'AWS::DynamoDB::Table',
  'AWS::SQS::Queue',
  'AWS::SQS::QueuePolicy',
  'AWS::Lambda::Function',
  'AWS::Lambda::Permission',
  'AWS::Lambda::EventSourceMapping',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'AWS::Logs::LogGroup',
  'AWS::ApiGatewayV2::Api',
  'AWS::ApiGatewayV2::Route',
  'AWS::ApiGatewayV2::Integration',
  'AWS::ApiGatewayV2::Stage',
  'AWS::ApiGateway::RestApi',
  'AWS::ApiGateway::Resource',
  'AWS::ApiGateway::Method',
  'AWS::ApiGateway::Deployment',
  'AWS::ApiGateway::Stage',
  'AWS::ApiGateway::Account',
  'AWS::KMS::Key',
  'AWS::KMS::Alias',
  'CDK::Metadata',
  // What `cdk synth` adds unless version reporting is off: the CDK's usage metadata, nothing to run.
  'AWS::CDK::Metadata',
]);

export async function buildTwin(options: TwinOptions): Promise<Twin> {
  const { template, stackName } = options.stack;
  const unknown = [...new Set(Object.values(template.Resources).map((r) => r.Type))].filter((t) => !HANDLED.has(t));
  if (unknown.length > 0) {
    throw new Error(`The local platform cannot run resources of type ${unknown.join(', ')} from stack ${stackName}`);
  }
  const { region, prefix } = options;
  const attributes = new Map<string, ResourceAttributes>();
  const ctx: IntrinsicContext = { region, accountId: LOCAL_ACCOUNT_ID, stackName, resource: (id) => attributes.get(id) };
  const physical = (logicalId: string) => localName(prefix, logicalId);
  const arn = (service: string, resource: string, noRegion = false) =>
    `arn:aws:${service}:${noRegion ? '' : region}:${LOCAL_ACCOUNT_ID}:${resource}`;
  const mq = messageQueueRenaming(template, options.messageQueuePrefix, arn('sqs', ''));

  // Names every other resource can refer to, before anything is created.
  for (const [id] of resourcesOfType(template, 'AWS::IAM::Role')) {
    const name = physical(id);
    attributes.set(id, { ref: name, attributes: { Arn: arn('iam', `role/${name}`, true), RoleId: name } });
  }
  for (const [id] of resourcesOfType(template, 'AWS::Logs::LogGroup')) {
    const name = `/aws/lambda/${physical(id)}`;
    attributes.set(id, { ref: name, attributes: { Arn: arn('logs', `log-group:${name}:*`) } });
  }
  for (const [id] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    const name = physical(id);
    attributes.set(id, { ref: name, attributes: { Arn: arn('lambda', `function:${name}`) } });
  }
  for (const type of ['AWS::KMS::Key', 'AWS::ApiGatewayV2::Api', 'AWS::ApiGateway::RestApi']) {
    for (const [id] of resourcesOfType(template, type)) {
      attributes.set(id, { ref: id, attributes: { Arn: arn('kms', `key/${id}`), RootResourceId: `${id}-root`, ApiEndpoint: '' } });
    }
  }
  for (const [id] of resourcesOfType(template, 'AWS::ApiGateway::Resource')) attributes.set(id, { ref: id, attributes: {} });

  const tables = new Map<string, { tableName: string; tableArn: string; streamArn?: string }>();
  for (const [id, r] of resourcesOfType(template, 'AWS::DynamoDB::Table')) {
    const p = props(r);
    const tableName = p.TableName ? resolveString(p.TableName, ctx, `${id}.TableName`) : physical(id);
    const ttl = p.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    const stream = p.StreamSpecification as { StreamViewType?: StreamViewType } | undefined;
    const created = await createTable(options.clients.dynamodb, {
      tableName,
      keySchema: p.KeySchema as KeySchemaElement[],
      attributeDefinitions: p.AttributeDefinitions as AttributeDefinition[],
      streamViewType: stream?.StreamViewType,
      timeToLiveAttribute: ttl?.Enabled ? ttl.AttributeName : undefined,
      globalSecondaryIndexes: p.GlobalSecondaryIndexes as never,
    });
    // ARNs in this account and Region, as IAM policies name them (DynamoDB Local says "ddblocal").
    const tableArn = arn('dynamodb', `table/${tableName}`);
    const streamArn = created.streamArn;
    tables.set(id, { tableName, tableArn, streamArn });
    attributes.set(id, { ref: tableName, attributes: { Arn: tableArn, ...(streamArn ? { StreamArn: streamArn } : {}) } });
  }

  // Dead-letter queues first: a queue's redrive policy names its DLQ's ARN.
  const queueEntries = resourcesOfType(template, 'AWS::SQS::Queue').sort(
    ([, a], [, b]) => Number(props(a).RedrivePolicy !== undefined) - Number(props(b).RedrivePolicy !== undefined),
  );
  const queues = new Map<string, TwinQueue>();
  for (const [id, r] of queueEntries) {
    const p = props(r);
    const fifo = p.FifoQueue === true || p.FifoQueue === 'true';
    const queueName = p.QueueName ? mq.name(resolveString(p.QueueName, ctx, `${id}.QueueName`)) : `${physical(id)}${fifo ? '.fifo' : ''}`;
    const attrs: Record<string, string> = {};
    for (const key of ['FifoQueue', 'VisibilityTimeout', 'MessageRetentionPeriod', 'DelaySeconds', 'ReceiveMessageWaitTimeSeconds',
      'ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit', 'MaximumMessageSize']) {
      if (p[key] !== undefined) attrs[key] = resolveString(p[key], ctx, `${id}.${key}`);
    }
    if (p.RedrivePolicy !== undefined) attrs.RedrivePolicy = JSON.stringify(resolveValue(p.RedrivePolicy, ctx, `${id}.RedrivePolicy`));
    // Tags matter to code that reads them (a message queue's `sluice:origin`).
    const tags: Record<string, string> = {};
    for (const [i, tag] of ((p.Tags as { Key?: unknown; Value?: unknown }[] | undefined) ?? []).entries()) {
      tags[resolveString(tag.Key, ctx, `${id}.Tags[${i}].Key`)] = resolveString(tag.Value, ctx, `${id}.Tags[${i}].Value`);
    }
    const created = await createQueue(options.clients.sqs, queueName, attrs, tags);
    const url = options.sqsEndpoint ? `${options.sqsEndpoint}${new URL(created.url).pathname}` : created.url;
    const queue = { logicalId: id, queueName, url, arn: created.arn, visibilityTimeoutSeconds: Number(attrs.VisibilityTimeout ?? 30), tags };
    queues.set(id, queue);
    attributes.set(id, { ref: url, attributes: { Arn: created.arn, QueueName: queueName, QueueUrl: url } });
  }

  const policies = new Map<string, TwinStatement[]>();
  /** Roles with a managed policy the twin does not know, and which. */
  const unknownManagedPolicies = new Map<string, string[]>();
  for (const [id, r] of resourcesOfType(template, 'AWS::IAM::Role')) {
    const p = props(r);
    const managed = ((p.ManagedPolicyArns as unknown[] | undefined) ?? []).map((a, i) => resolveString(a, ctx, `${id}.ManagedPolicyArns[${i}]`));
    const unknownPolicies = managed.filter((a) => KNOWN_MANAGED_POLICIES[a] === undefined);
    if (unknownPolicies.length > 0) unknownManagedPolicies.set(id, unknownPolicies);
    const inline = (p.Policies as { PolicyDocument: unknown }[] | undefined) ?? [];
    policies.set(id, [
      ...managed.flatMap((a) => KNOWN_MANAGED_POLICIES[a] ?? []),
      ...inline.flatMap((pol, i) => statements(pol.PolicyDocument, ctx, `${id}.Policies[${i}]`).map(mq.statement)),
    ]);
  }
  for (const [id, r] of resourcesOfType(template, 'AWS::IAM::Policy')) {
    const p = props(r);
    const doc = statements(p.PolicyDocument, ctx, `${id}.PolicyDocument`).map(mq.statement);
    for (const role of (p.Roles as unknown[] | undefined) ?? []) {
      const roleId = refTarget(role);
      if (!roleId || !policies.has(roleId)) throw new Error(`${id}: attached to a role the template does not define`);
      policies.get(roleId)!.push(...doc);
    }
  }

  const functions = new Map<string, TwinFunction>();
  for (const [id, r] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    const fn = mq.fn(readFunction(id, r, options.stack.assemblyDir, ctx, attributes.get(id)!));
    const unknownPolicies = unknownManagedPolicies.get(fn.roleLogicalId);
    if (unknownPolicies) {
      throw new Error(
        `Function ${id}: its role has managed policies the local platform cannot evaluate (${unknownPolicies.join(', ')}); grant actions inline`,
      );
    }
    functions.set(id, fn);
  }
  const functionByArn = (value: string, where: string): TwinFunction => {
    const fn = [...functions.values()].find((f) => value === f.functionArn || value === f.functionName || value.includes(`/functions/${f.functionArn}/`));
    if (!fn) throw new Error(`${where}: ${value} is not a function of this stack`);
    return fn;
  };

  const sqsEventSources: TwinSqsEventSource[] = [];
  const streamEventSources: TwinStreamEventSource[] = [];
  for (const [id, r] of resourcesOfType(template, 'AWS::Lambda::EventSourceMapping')) {
    const p = props(r);
    const sourceArn = resolveString(p.EventSourceArn, ctx, `${id}.EventSourceArn`);
    if (p.Enabled === false) continue;
    const table = [...tables.values()].find((t) => t.streamArn !== undefined && t.streamArn === sourceArn);
    if (table) {
      streamEventSources.push(readStreamMapping(id, p, table, ctx, queues, functionByArn));
      continue;
    }
    const queue = [...queues.values()].find((q) => q.arn === sourceArn);
    if (!queue) throw new Error(`${id}: event source ${sourceArn} is neither a queue nor a table stream of this stack`);
    sqsEventSources.push({
      function: functionByArn(resolveString(p.FunctionName, ctx, `${id}.FunctionName`), id),
      queue,
      batchSize: Number(p.BatchSize ?? 10),
      maximumBatchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
      reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
    });
  }

  const api = readApi(options.stack, ctx, functionByArn);
  const outputs: Record<string, string> = {};
  for (const [name, output] of Object.entries(template.Outputs ?? {})) {
    try {
      outputs[name] = resolveString(output.Value, ctx, `Outputs.${name}`);
    } catch {
      // An output of something only AWS has (the deployed API's URL): the platform supplies its own.
    }
  }
  return {
    stack: options.stack,
    tables,
    queues,
    functions,
    sqsEventSources,
    streamEventSources,
    policies,
    api,
    outputs,
    messageQueuePrefix: mq.prefix,
  };
}

/**
 * How the stack's message-queue prefix maps to the twin's (see the module comment): the prefix
 * is what the functions' `SLUICE_QUEUE_PREFIX` says (one value for the whole stack), and it is
 * replaced where the stack names message queues by it: queue names, that variable, and SQS ARNs
 * in policies (`<sqsArnHead><prefix>…`). Without a prefix of the twin's own, nothing changes.
 */
function messageQueueRenaming(template: CfnTemplate, replacement: string | undefined, sqsArnHead: string) {
  const declared = new Set<string>();
  for (const [, r] of resourcesOfType(template, 'AWS::Lambda::Function')) {
    const value = (props(r).Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.[MESSAGE_QUEUES.prefixEnvVar];
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new Error(`${MESSAGE_QUEUES.prefixEnvVar} must be a literal string in the template`);
    declared.add(value);
  }
  if (declared.size > 1) throw new Error(`The stack's functions disagree on ${MESSAGE_QUEUES.prefixEnvVar}: ${[...declared].join(', ')}`);
  const from = [...declared][0];
  if (replacement !== undefined && !MESSAGE_QUEUES.prefixPattern.test(replacement)) {
    throw new Error(`messageQueuePrefix must be 1 to 24 of [a-zA-Z0-9_-]; got "${replacement}"`);
  }
  const to = from === undefined ? undefined : (replacement ?? from);
  const rename = (value: string, head = '') =>
    from !== undefined && to !== from && value.startsWith(head + from) ? head + to + value.slice(head.length + from.length) : value;
  return {
    prefix: to,
    name: (queueName: string) => rename(queueName),
    statement: (s: TwinStatement): TwinStatement => ({ ...s, resources: s.resources.map((r) => rename(r, sqsArnHead)) }),
    fn: (fn: TwinFunction): TwinFunction =>
      fn.environment[MESSAGE_QUEUES.prefixEnvVar] === undefined
        ? fn
        : { ...fn, environment: { ...fn.environment, [MESSAGE_QUEUES.prefixEnvVar]: to! } },
  };
}

function readStreamMapping(
  id: string,
  p: Record<string, unknown>,
  table: { readonly tableName: string; readonly streamArn?: string },
  ctx: IntrinsicContext,
  queues: ReadonlyMap<string, TwinQueue>,
  functionByArn: (value: string, where: string) => TwinFunction,
): TwinStreamEventSource {
  const destination = (p.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination;
  let onFailureQueue: TwinQueue | undefined;
  if (destination !== undefined) {
    const arn = resolveString(destination, ctx, `${id}.DestinationConfig.OnFailure.Destination`);
    onFailureQueue = [...queues.values()].find((q) => q.arn === arn);
    if (!onFailureQueue) throw new Error(`${id}: on-failure destination ${arn} is not a queue of this stack`);
  }
  const criteria = (p.FilterCriteria as { Filters?: { Pattern?: unknown }[] } | undefined)?.Filters ?? [];
  const filters = criteria.map((f, i) => {
    const pattern = resolveValue(f.Pattern, ctx, `${id}.FilterCriteria.Filters[${i}]`);
    const parsed = typeof pattern === 'string' ? (JSON.parse(pattern) as Record<string, unknown>) : (pattern as Record<string, unknown>);
    validatePattern(parsed, `${id}.FilterCriteria.Filters[${i}]`);
    return parsed;
  });
  const position = String(p.StartingPosition ?? 'LATEST');
  if (position !== 'LATEST' && position !== 'TRIM_HORIZON') throw new Error(`${id}: StartingPosition ${position} is not supported locally`);
  return {
    function: functionByArn(resolveString(p.FunctionName, ctx, `${id}.FunctionName`), id),
    tableName: table.tableName,
    streamArn: table.streamArn!,
    startingPosition: position,
    batchSize: Number(p.BatchSize ?? 100),
    maximumBatchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
    parallelizationFactor: Number(p.ParallelizationFactor ?? 1),
    bisectBatchOnFunctionError: p.BisectBatchOnFunctionError === true,
    maximumRetryAttempts: Number(p.MaximumRetryAttempts ?? -1),
    maximumRecordAgeSeconds: Number(p.MaximumRecordAgeInSeconds ?? -1),
    reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes('ReportBatchItemFailures'),
    onFailureQueue,
    filters,
  };
}

function props(r: CfnResource): Record<string, unknown> {
  return r.Properties ?? {};
}

function refTarget(value: unknown): string | undefined {
  const v = value as { Ref?: unknown; 'Fn::GetAtt'?: unknown } | null;
  if (typeof v?.Ref === 'string') return v.Ref;
  const getAtt = v?.['Fn::GetAtt'];
  return Array.isArray(getAtt) && typeof getAtt[0] === 'string' ? getAtt[0] : undefined;
}

function statements(doc: unknown, ctx: IntrinsicContext, where: string): TwinStatement[] {
  const resolved = resolveValue(doc, ctx, where) as { Statement?: unknown[] };
  return (resolved.Statement ?? []).map((raw, i) => {
    const s = raw as { Effect?: string; Action?: string | string[]; Resource?: string | string[]; NotAction?: unknown; NotResource?: unknown };
    if (s.NotAction !== undefined || s.NotResource !== undefined) {
      throw new Error(`${where}.Statement[${i}]: NotAction/NotResource are not supported by the local platform`);
    }
    const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
    return { effect: s.Effect === 'Deny' ? 'Deny' : 'Allow', actions: list(s.Action), resources: list(s.Resource) };
  });
}

function readFunction(
  id: string,
  r: CfnResource,
  assemblyDir: string,
  ctx: IntrinsicContext,
  own: ResourceAttributes,
): TwinFunction {
  const p = props(r);
  // The CDK CLI records the asset folder in metadata; without it, the S3 key names the asset's hash.
  const s3Key = (p.Code as { S3Key?: unknown } | undefined)?.S3Key;
  const assetPath =
    r.Metadata?.['aws:asset:path'] ?? (typeof s3Key === 'string' ? `asset.${s3Key.replace(/\.zip$/, '')}` : undefined);
  if (typeof assetPath !== 'string' || !existsSync(join(assemblyDir, assetPath))) {
    throw new Error(`Function ${id} has no asset folder in the cloud assembly (inline or image code is not supported locally)`);
  }
  const handler = String(p.Handler ?? '');
  const dot = handler.lastIndexOf('.');
  if (dot <= 0) throw new Error(`Function ${id}: handler "${handler}" is not of the form file.export`);
  const base = join(assemblyDir, assetPath, handler.slice(0, dot));
  // Lambda's Node.js runtimes try these extensions in this order.
  const file = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => existsSync(f));
  if (!file) throw new Error(`Function ${id}: no ${handler.slice(0, dot)}.js/.mjs/.cjs in its asset ${assetPath}`);
  const variables = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {});
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) environment[name] = resolveString(value, ctx, `${id}.Environment.${name}`);
  const roleId = refTarget(p.Role);
  if (!roleId) throw new Error(`Function ${id}: its role is not a role of this stack`);
  return {
    logicalId: id,
    functionName: own.ref,
    functionArn: own.attributes.Arn!,
    file,
    exportName: handler.slice(dot + 1),
    handler,
    runtime: String(p.Runtime ?? ''),
    // CloudFormation's defaults when the template leaves them out.
    timeoutSeconds: Number(p.Timeout ?? 3),
    memorySize: Number(p.MemorySize ?? 128),
    environment,
    roleLogicalId: roleId,
    roleName: ctx.resource(roleId)!.ref,
  };
}

function readApi(
  stack: SynthesizedStack,
  ctx: IntrinsicContext,
  functionByArn: (value: string, where: string) => TwinFunction,
): TwinApi {
  const { template } = stack;
  const httpApis = resourcesOfType(template, 'AWS::ApiGatewayV2::Api');
  const restApis = resourcesOfType(template, 'AWS::ApiGateway::RestApi');
  if (httpApis.length + restApis.length !== 1) {
    throw new Error(`Stack ${stack.stackName} must hold exactly one API (it has ${httpApis.length} HTTP and ${restApis.length} REST APIs)`);
  }
  if (httpApis.length === 1) {
    const apiId = httpApis[0]![0];
    const integrations = new Map(resourcesOfType(template, 'AWS::ApiGatewayV2::Integration'));
    const routes = resourcesOfType(template, 'AWS::ApiGatewayV2::Route').map(([id, r]): HttpApiRoute => {
      const p = props(r);
      const target = resolveValue(p.Target, { ...ctx, resource: (rid) => ({ ref: rid, attributes: {} }) }, `${id}.Target`);
      const integrationId = String(target).replace(/^integrations\//, '');
      const integration = integrations.get(integrationId);
      if (!integration) throw new Error(`Route ${id}: target ${String(target)} is not an integration of this stack`);
      const ip = props(integration);
      return {
        routeKey: String(p.RouteKey),
        authorizationType: String(p.AuthorizationType ?? 'NONE'),
        function: functionByArn(resolveString(ip.IntegrationUri, ctx, `${integrationId}.IntegrationUri`), integrationId),
        payloadFormatVersion: String(ip.PayloadFormatVersion ?? '2.0'),
      };
    });
    return { type: 'http', apiId, routes };
  }
  const apiId = restApis[0]![0];
  const paths = new Map<string, string>([[`${apiId}-root`, '/']]);
  const resources = new Map(resourcesOfType(template, 'AWS::ApiGateway::Resource'));
  const pathOf = (resourceId: string, seen = new Set<string>()): string => {
    const known = paths.get(resourceId);
    if (known) return known;
    const res = resources.get(resourceId);
    if (!res || seen.has(resourceId)) throw new Error(`REST API resource ${resourceId} is not in the template`);
    seen.add(resourceId);
    const p = props(res);
    const parent = resolveString(p.ParentId, ctx, `${resourceId}.ParentId`);
    const parentPath = pathOf(parent, seen);
    const path = `${parentPath === '/' ? '' : parentPath}/${String(p.PathPart)}`;
    paths.set(resourceId, path);
    return path;
  };
  const methods = resourcesOfType(template, 'AWS::ApiGateway::Method').map(([id, r]): RestApiMethod => {
    const p = props(r);
    const resourceId = resolveString(p.ResourceId, ctx, `${id}.ResourceId`);
    const integration = p.Integration as { Type?: string; Uri?: unknown } | undefined;
    if (integration?.Type !== 'AWS_PROXY') throw new Error(`Method ${id}: only Lambda proxy integrations run locally (got ${integration?.Type})`);
    return {
      resourcePath: pathOf(resourceId),
      resourceId,
      httpMethod: String(p.HttpMethod),
      authorizationType: String(p.AuthorizationType ?? 'NONE'),
      function: functionByArn(resolveString(integration.Uri, ctx, `${id}.Integration.Uri`), id),
    };
  });
  const stages = resourcesOfType(template, 'AWS::ApiGateway::Stage');
  const stageName = stages.length > 0 ? String(props(stages[0]![1]).StageName ?? 'prod') : 'prod';
  return { type: 'rest', apiId, stageName, methods };
}
