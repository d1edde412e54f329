/**
 * The local platform: the Sluice stack as synthesized for AWS, run on this machine. DynamoDB Local
 * and the SQS server stand in for DynamoDB and SQS; the template twin creates the stack's tables
 * and queues from its own resource properties; every function runs from its bundle in the cloud
 * assembly, in execution environments of its own with exactly its template environment, its
 * timeout and memory size; a local IAM holds each function to its role's grants; a local API
 * Gateway serves the stack's HTTP or REST API; pollers stand in for its SQS event source mappings.
 * `npm start` runs it; the tests start the same pieces.
 */
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import { QUEUES, QUEUE_NAMES, type QueueName } from '../definitions/queues';
import { TABLES, TABLE_NAMES, type TableName } from '../definitions/tables';
import { silentLogger, type Logger } from '../lambda/core/logger';
import type { SluiceApiType } from '../lib/sluice-api';
import { startDynamoDbLocal } from './dynamodb-local';
import { startGateway } from './gateway/server';
import { createConsoleHandler } from '../console/server';
import { SluiceClient } from '../client/sluice-client';
import { watchEmulators } from './health';
import { startAwsProxy, type AwsProxy } from './iam/aws-proxy';
import { evaluate } from './iam/policy';
import { FunctionPool, InvocationError } from './lambda/function-pool';
import type { ProvisionedResources } from './provision';
import { startSqsServer } from './sqs-server';
import { startStreamPoller } from './event-sources/dynamodb-stream';
import { startSqsPoller } from './event-sources/sqs-queue';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './support';
import { readStack } from './template/stack-template';
import { synthesizeStack } from './template/synth';
import { LOCAL_ACCOUNT_ID, buildTwin, type Twin, type TwinFunction, type TwinStatement } from './template/twin';

export const DEFAULT_PORT = 4545;
/** Where the gateway serves the web console, beside the API. */
export const CONSOLE_PATH = '/console';
export const DEFAULT_HOST = '127.0.0.1';
/** Concurrent batches per SQS event source mapping (Lambda starts with five). */
const SQS_POLLERS_PER_MAPPING = 5;
export const REPO_ROOT = resolve(import.meta.dirname, '..');

export interface PlatformOptions {
  /** Port of the API; 0 picks a free one. @default SLUICE_PORT, else 4545 */
  readonly port?: number;
  /** @default '127.0.0.1' (loopback only: the local API does not verify signatures) */
  readonly host?: string;
  /** Which API the stack is synthesized with. @default SLUICE_API, else 'http' */
  readonly api?: SluiceApiType;
  /**
   * Run the stack in this cloud assembly (`cdk synth`'s output folder) instead of synthesizing
   * Sluice's own. It must hold one stack, or name it with `stackName`.
   *
   * @default SLUICE_ASSEMBLY, else the Sluice stack synthesized afresh
   */
  readonly assemblyDir?: string;
  /** @default the only stack in the assembly */
  readonly stackName?: string;
  /** Keep DynamoDB data here across restarts. @default SLUICE_DATA_DIR, else in memory */
  readonly dataDir?: string;
  /** Prefix of local table and queue names. @default 'sluice' */
  readonly prefix?: string;
  /**
   * Run the stack's message queues under this prefix instead of the stack's own
   * (`SLUICE_QUEUE_PREFIX`), so platforms sharing one SQS server never share one (see
   * local/template/twin.ts). @default the stack's own
   */
  readonly messageQueuePrefix?: string;
  /** Where the DynamoDB Local emulator is cached. @default SLUICE_CACHE_DIR, else <repo>/.cache */
  readonly cacheDir?: string;
  /** Use these emulators instead of starting new ones (the test suite shares one pair). */
  readonly emulators?: { readonly dynamodbEndpoint: string; readonly sqsEndpoint: string };
  /** @default a silent logger */
  readonly logger?: Logger;
  /** Where the functions' own log lines go (CloudWatch Logs on AWS). @default dropped */
  readonly functionLogs?: (functionName: string, line: string) => void;
  /** API Gateway's integration timeout, shortened in tests. @default 30 s */
  readonly integrationTimeoutMs?: number;
  /**
   * Called once if an emulator the platform started dies or stops answering; the platform is
   * then of no use and should be stopped. @default log the error
   */
  readonly onFatal?: (error: Error) => void;
}

export interface Platform {
  /** Base URL of the API (a REST API's includes its stage). */
  readonly endpoint: string;
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  /** Physical names of Sluice's tables and queues, by their names in definitions/. */
  readonly resources: ProvisionedResources;
  /** What the platform runs: the stack's resources as created here. */
  readonly twin: Twin;
  /** AWS calls the local IAM refused so far. */
  readonly deniedCalls: AwsProxy['denied'];
  /** `role action resource` of every AWS call the local IAM allowed so far. */
  readonly usedGrants: AwsProxy['used'];
  /**
   * Each function's execution environments, by the function's logical ID: what tests use to end
   * them abruptly (`crash()`), as when a Lambda runtime dies.
   */
  readonly functions: ReadonlyMap<string, FunctionPool>;
  stop(): Promise<void>;
}

/** Access key of a role's local credentials: the local IAM knows the caller by it. */
const roleAccessKey = (roleLogicalId: string) => `LOCALROLE${roleLogicalId.replace(/[^A-Za-z0-9]/g, '')}`;

export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  const logger = options.logger ?? silentLogger;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error) => logger.warn('stop failed', { error }));
    stops.length = 0;
  };
  try {
    let dynamodbEndpoint: string;
    let sqsEndpoint: string;
    if (options.emulators) {
      ({ dynamodbEndpoint, sqsEndpoint } = options.emulators);
    } else {
      const dataDir = options.dataDir ?? (process.env.SLUICE_DATA_DIR || undefined);
      const cacheDir = options.cacheDir ?? process.env.SLUICE_CACHE_DIR ?? resolve(REPO_ROOT, '.cache');
      const [ddb, sqs] = await Promise.all([
        startDynamoDbLocal({ dataDir, cacheDir, logger }).then((d) => (stops.push(d.stop), d)),
        startSqsServer().then((s) => (stops.push(s.stop), s)),
      ]);
      const health = watchEmulators({
        dynamodb: ddb,
        onFatal: options.onFatal ?? ((error) => logger.error('emulator failed', { error })),
      });
      stops.push(() => health.stop());
      dynamodbEndpoint = ddb.endpoint;
      sqsEndpoint = sqs.endpoint;
    }

    const api = options.api ?? parseApiType(process.env.SLUICE_API);
    const assemblyDir = options.assemblyDir ?? (process.env.SLUICE_ASSEMBLY || undefined);
    const stack = assemblyDir ? await readStack(assemblyDir, options.stackName) : await synthesizeStack({ api });
    // A stack synthesized here lives in a temporary folder of its own, removed on stop.
    if (!assemblyDir) stops.push(() => rm(stack.assemblyDir, { recursive: true, force: true }));

    const dynamodb = new DynamoDBClient({ endpoint: dynamodbEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const sqs = new SQSClient({ endpoint: sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    stops.push(async () => {
      dynamodb.destroy();
      sqs.destroy();
    });
    const pools = new Map<string, FunctionPool>();
    // The local IAM first: the twin's queue URLs name it, as functions send to a queue's own URL.
    const principals = new Map<string, { roleName: string; statements: readonly TwinStatement[] }>();
    const iam = await startAwsProxy({
      dynamodbEndpoint,
      sqsEndpoint,
      region: LOCAL_REGION,
      accountId: LOCAL_ACCOUNT_ID,
      principals,
      administrator: LOCAL_CREDENTIALS.accessKeyId,
      invoke: async (nameOrArn, payload) => {
        const fn = [...pools.values()].find((p) => p.name === nameOrArn || p.arn === nameOrArn);
        if (!fn) return undefined;
        try {
          return { functionArn: fn.arn, payload: (await fn.invoke(JSON.parse(payload || 'null'))).payload };
        } catch (error) {
          const e = error instanceof InvocationError ? error : new InvocationError('Error', String(error));
          return { functionArn: fn.arn, payload: JSON.stringify({ errorType: e.errorType, errorMessage: e.message }), error: e.errorType };
        }
      },
      logger: logger.child('iam'),
    });
    stops.push(() => iam.close());
    const twin = await buildTwin({
      stack,
      clients: { dynamodb, sqs },
      prefix: options.prefix ?? 'sluice',
      region: LOCAL_REGION,
      sqsEndpoint: iam.endpoint,
      messageQueuePrefix: options.messageQueuePrefix,
    });
    for (const [roleId, statements] of twin.policies) {
      principals.set(roleAccessKey(roleId), { roleName: roleNameOf(twin, roleId), statements });
    }

    for (const fn of twin.functions.values()) {
      const pool = new FunctionPool({
        fn,
        runtimeEnvironment: lambdaRuntimeEnvironment(fn, iam.endpoint),
        output: (line) => options.functionLogs?.(fn.functionName, line),
        logger: logger.child(`lambda.${fn.functionName}`),
      });
      pools.set(fn.logicalId, pool);
      stops.push(() => pool.close());
    }

    for (const source of twin.sqsEventSources) {
      // Lambda's poller reads the queue with the function's execution role.
      const client = new SQSClient({
        endpoint: iam.endpoint,
        region: LOCAL_REGION,
        credentials: { accessKeyId: roleAccessKey(source.function.roleLogicalId), secretAccessKey: 'local' },
      });
      // Lambda polls a queue with several concurrent batches (five at first); on a FIFO queue the
      // SQS server's group locking keeps each message group to one batch at a time, so a slow
      // group delays only itself, as on AWS.
      const pollers = Array.from({ length: SQS_POLLERS_PER_MAPPING }, () =>
        startSqsPoller({
          client,
          queueUrl: source.queue.url,
          queueArn: source.queue.arn,
          function: pools.get(source.function.logicalId)!,
          batchSize: source.batchSize,
          reportBatchItemFailures: source.reportBatchItemFailures,
          logger: logger.child(`poller.${source.function.functionName}`),
        }),
      );
      stops.push(async () => {
        await Promise.all(pollers.map((p) => p.stop()));
        client.destroy();
      });
    }

    for (const source of twin.streamEventSources) {
      const role = source.function.roleLogicalId;
      const statements = twin.policies.get(role) ?? [];
      const streams = new DynamoDBStreamsClient({ endpoint: dynamodbEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
      // The on-failure destination is written with the function's role, as Lambda does.
      const failures = new SQSClient({
        endpoint: iam.endpoint,
        region: LOCAL_REGION,
        credentials: { accessKeyId: roleAccessKey(role), secretAccessKey: 'local' },
      });
      const poller = await startStreamPoller({
        source,
        function: pools.get(source.function.logicalId)!,
        streams,
        sqs: failures,
        authorize: (action, resource) => evaluate(statements, { action, resources: [resource] }).allowed,
        region: LOCAL_REGION,
        logger: logger.child(`stream.${source.function.functionName}`),
      });
      stops.push(async () => {
        await poller.stop();
        streams.destroy();
        failures.destroy();
      });
    }

    const envPort = process.env.SLUICE_PORT ? Number(process.env.SLUICE_PORT) : undefined;
    const port = options.port ?? envPort ?? DEFAULT_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Invalid port: ${port}`);
    let apiEndpoint = '';
    const consoleHandler = createConsoleHandler({
      basePath: CONSOLE_PATH,
      client: () => new SluiceClient({ endpoint: apiEndpoint }),
      endpointLabel: () => `${apiEndpoint} (local platform)`,
    });
    const gateway = await startGateway({
      mounts: [{ prefix: CONSOLE_PATH, handler: consoleHandler }],
      api: twin.api,
      pools,
      port,
      host: options.host ?? DEFAULT_HOST,
      logger: logger.child('gateway'),
      integrationTimeoutMs: options.integrationTimeoutMs,
    });
    stops.push(() => gateway.close());
    apiEndpoint = gateway.endpoint;

    return {
      endpoint: gateway.endpoint,
      dynamodbEndpoint,
      sqsEndpoint,
      resources: sluiceResources(twin),
      twin,
      deniedCalls: iam.denied,
      usedGrants: iam.used,
      functions: pools,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export function parseApiType(value: string | undefined): SluiceApiType {
  if (value === undefined || value === '' || value === 'http') return 'http';
  if (value === 'rest') return 'rest';
  throw new Error(`SLUICE_API must be "http" or "rest"; got "${value}"`);
}

function roleNameOf(twin: Twin, roleId: string): string {
  return [...twin.functions.values()].find((f) => f.roleLogicalId === roleId)?.roleName ?? roleId;
}

/**
 * What Lambda's Node.js runtime adds to a function's own variables. The endpoints are the local
 * IAM's (AWS SDKs read AWS_ENDPOINT_URL_*), and the credentials name the function's role.
 */
function lambdaRuntimeEnvironment(fn: TwinFunction, awsEndpoint: string): Record<string, string> {
  return {
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: roleAccessKey(fn.roleLogicalId),
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: awsEndpoint,
    AWS_ENDPOINT_URL_SQS: awsEndpoint,
    AWS_ENDPOINT_URL_LAMBDA: awsEndpoint,
    AWS_EXECUTION_ENV: `AWS_Lambda_${fn.runtime}`,
    AWS_LAMBDA_FUNCTION_NAME: fn.functionName,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
    AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.functionName}`,
    AWS_LAMBDA_LOG_STREAM_NAME: `local/${fn.functionName}`,
    LAMBDA_TASK_ROOT: resolve(fn.file, '..'),
    _HANDLER: `${fn.handler}`,
    LANG: 'en_US.UTF-8',
    // The variable as Lambda sets it; the clock's zone is still the platform process's own.
    TZ: ':UTC',
    PATH: '/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin',
    // Lambda runs Node 22+; on this machine's Node 20 the SDK would warn on every cold start.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/** Sluice's tables and queues by their names in definitions/, read off the functions' variables. */
function sluiceResources(twin: Twin): ProvisionedResources {
  const tables = {} as Record<TableName, string>;
  const queues = {} as Record<QueueName, string>;
  for (const fn of twin.functions.values()) {
    for (const name of TABLE_NAMES) {
      const value = fn.environment[TABLES[name].envVar];
      if (value) tables[name] = value;
    }
    for (const name of QUEUE_NAMES) {
      const value = fn.environment[QUEUES[name].envVar];
      if (value) queues[name] = value;
    }
  }
  return { tables, queues };
}
