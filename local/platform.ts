/**
 * The local platform: DynamoDB Local, the SQS server (fauxqs), the tables and queues of
 * definitions/, and the Lambda handlers behind a local API Gateway and SQS pollers. `npm start`
 * runs it; the test suite starts the same pieces.
 */
import { resolve } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { FUNCTIONS, functionEnvironment, type FunctionName } from '../definitions/functions';
import { silentLogger, type Logger } from '../lambda/core/logger';
import { startApiServer } from './api-server';
import { startDynamoDbLocal } from './dynamodb-local';
import { REPO_ROOT } from './lambda-runtime';
import { provision, type ProvisionedResources } from './provision';
import { startSqsServer } from './sqs-server';
import { startSqsPoller, type SqsPoller } from './sqs-poller';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './support';

export const DEFAULT_PORT = 4545;
export const DEFAULT_HOST = '127.0.0.1';

export interface PlatformOptions {
  /** Port of the HTTP API; 0 picks a free one. @default SLUICE_PORT, else 4545 */
  readonly port?: number;
  /** @default '127.0.0.1' (loopback only: the local API has no authentication) */
  readonly host?: string;
  /** Keep DynamoDB data here across restarts. @default SLUICE_DATA_DIR, else in memory */
  readonly dataDir?: string;
  /** Prefix of local table and queue names. @default 'sluice' */
  readonly prefix?: string;
  /** Where the DynamoDB Local emulator is cached. @default SLUICE_CACHE_DIR, else <repo>/.cache */
  readonly cacheDir?: string;
  /** Use these emulators instead of starting new ones (the test suite shares one pair). */
  readonly emulators?: { readonly dynamodbEndpoint: string; readonly sqsEndpoint: string };
  /** @default a silent logger */
  readonly logger?: Logger;
}

export interface Platform {
  /** Base URL of the HTTP API. */
  readonly endpoint: string;
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  readonly resources: ProvisionedResources;
  stop(): Promise<void>;
}

let running = false;

/**
 * Starts the platform. Handlers read their configuration from process.env, as in Lambda, so one
 * process runs one platform at a time.
 */
export async function startPlatform(options: PlatformOptions = {}): Promise<Platform> {
  if (running) throw new Error('A local platform is already running in this process');
  running = true;
  const logger = options.logger ?? silentLogger;
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((error) => logger.warn('stop failed', { error }));
    running = false;
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
      dynamodbEndpoint = ddb.endpoint;
      sqsEndpoint = sqs.endpoint;
    }

    const dynamodb = new DynamoDBClient({ endpoint: dynamodbEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const sqs = new SQSClient({ endpoint: sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    stops.push(async () => {
      dynamodb.destroy();
      sqs.destroy();
    });
    const resources = await provision({ dynamodb, sqs }, options.prefix ?? 'sluice');

    // What Lambda would give each function: region, credentials, endpoints, resource names.
    Object.assign(process.env, {
      // Lambda runs Node 22+; the SDK's warning about Node 20 is noise on a developer's machine.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
      AWS_ENDPOINT_URL_SQS: sqsEndpoint,
    });
    for (const fn of Object.values(FUNCTIONS)) Object.assign(process.env, functionEnvironment(fn, resources));

    for (const [name, fn] of Object.entries(FUNCTIONS) as [FunctionName, (typeof FUNCTIONS)[FunctionName]][]) {
      if (!('trigger' in fn)) continue;
      const queueUrl = resources.queues[fn.trigger.queue];
      const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
      const poller: SqsPoller = startSqsPoller({
        client: sqs,
        queueUrl,
        queueArn: attrs.Attributes?.QueueArn ?? '',
        function: name,
        batchSize: fn.trigger.batchSize,
        logger: logger.child(`poller.${fn.name}`),
      });
      stops.push(() => poller.stop());
    }

    const envPort = process.env.SLUICE_PORT ? Number(process.env.SLUICE_PORT) : undefined;
    const port = options.port ?? envPort ?? DEFAULT_PORT;
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Invalid port: ${port}`);
    const api = await startApiServer({ port, host: options.host ?? DEFAULT_HOST, logger: logger.child('api') });
    stops.push(() => api.close());

    return { endpoint: api.endpoint, dynamodbEndpoint, sqsEndpoint, resources, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
