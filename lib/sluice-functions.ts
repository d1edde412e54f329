/**
 * One Lambda function per entry of definitions/functions.ts, deployed from its prebuilt bundle
 * (`<handlers>/<function name>/index.mjs`, see build/handlers.ts), given exactly the table and
 * queue access its definition lists (and the environment variables naming those resources),
 * logging JSON to its own log group.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  FUNCTIONS,
  functionEnvironment,
  type FunctionDefinition,
  type FunctionName,
  type QueueAccess,
  type QueueTrigger,
  type StreamTrigger,
  type TableAccess,
} from '../definitions/functions';
import { QUEUES, type QueueDefinition, type QueueName } from '../definitions/queues';
import { TABLES, type TableDefinition, type TableName } from '../definitions/tables';
import { pascalCase } from './names';
import type { SluiceQueues } from './sluice-queues';
import type { SluiceTables } from './sluice-tables';
import { logRetentionRules, validateProps, type ValidationRule } from './validation';

const DEFAULT_TIMEOUT_SECONDS = 10;
const MIN_NODE_MAJOR = 22;
/**
 * AWS's guidance for SQS event sources: a queue's visibility timeout at least 6 times the timeout
 * of the function it triggers, so a message is not received again while a retried batch runs.
 */
const MIN_VISIBILITY_TIMEOUT_FACTOR = 6;

export interface SluiceFunctionsProps {
  /** The tables the functions are granted access to. */
  readonly tables: SluiceTables;

  /** The queues the functions send to or are triggered by. */
  readonly queues: SluiceQueues;

  /**
   * Lambda runtime of every function: Node.js 22 or newer. The prebuilt bundles target Node.js 22,
   * which newer runtimes run unchanged.
   *
   * @default lambda.Runtime.NODEJS_22_X
   */
  readonly runtime?: lambda.Runtime;

  /**
   * Memory of every function in MB, 128 to 10240. CPU is allocated in proportion.
   *
   * @default 256
   */
  readonly memorySize?: number;

  /**
   * How long CloudWatch keeps each function's logs; one of `logs.RetentionDays`.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/** The Lambda functions of one Sluice installation, by logical name (`topics`, `fallback`, ...). */
export class SluiceFunctions extends Construct {
  /** Every function, by its logical name in definitions/functions.ts. */
  readonly functions: Readonly<Record<FunctionName, lambda.Function>>;

  /** The log group of every function, by logical name. */
  readonly logGroups: Readonly<Record<FunctionName, logs.LogGroup>>;

  /** The prefix of the message queues the functions with `messageQueues` may touch (`<prefix>*`). */
  readonly messageQueuePrefix: string;

  constructor(scope: Construct, id: string, props: SluiceFunctionsProps) {
    super(scope, id);
    const runtime = props.runtime ?? lambda.Runtime.NODEJS_22_X;
    const memorySize = props.memorySize ?? 256;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const nodeMajor = nodeMajorVersion(runtime);
    validateProps(this, [
      {
        condition: nodeMajor === undefined || nodeMajor < MIN_NODE_MAJOR,
        message: `runtime must be Node.js ${MIN_NODE_MAJOR} or newer (e.g. lambda.Runtime.NODEJS_22_X); got ${runtime.name}`,
      },
      {
        condition: memorySize < 128 || memorySize > 10240 || !Number.isInteger(memorySize),
        message: `memorySize must be a whole number of MB from 128 to 10240; got ${memorySize}`,
      },
      ...logRetentionRules('logRetention', logRetention),
      ...definitionRules(FUNCTIONS, QUEUES, TABLES),
    ]);

    this.messageQueuePrefix = props.queues.messageQueuePrefix;
    const physical = { tables: props.tables.tableNames, queues: props.queues.queueUrls, queuePrefix: this.messageQueuePrefix };
    const handlersDir = handlerBundlesDir();
    const functions = {} as Record<FunctionName, lambda.Function>;
    const logGroups = {} as Record<FunctionName, logs.LogGroup>;
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      const def: FunctionDefinition = FUNCTIONS[name];
      const id = pascalCase(def.name);
      const logGroup = new logs.LogGroup(this, `${id}Logs`, { retention: logRetention });
      // An explicit role instead of the default one, which carries the AWSLambdaBasicExecutionRole
      // managed policy (logs:CreateLogGroup etc. on every log group): this role may write to its
      // own log group and use what the definition grants, nothing else.
      const role = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Sluice ${def.name} function`,
      });
      logGroup.grantWrite(role);

      const fn = new lambda.Function(this, id, {
        description: def.description,
        code: lambda.Code.fromAsset(join(handlersDir, def.name)),
        handler: 'index.handler',
        runtime,
        architecture: lambda.Architecture.ARM_64,
        memorySize,
        timeout: Duration.seconds(def.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS),
        role,
        logGroup,
        loggingFormat: lambda.LoggingFormat.JSON,
        environment: {
          ...functionEnvironment(def, physical),
          // The bundles carry source maps (without sources): stack traces point into the TypeScript.
          NODE_OPTIONS: '--enable-source-maps',
        },
      });
      for (const [table, access] of Object.entries(def.tables) as [TableName, TableAccess][]) {
        props.tables.grantAccess(fn, table, access);
      }
      for (const [queue, access] of Object.entries(def.queues) as [QueueName, QueueAccess][]) {
        if (access === 'send') props.queues.grantSend(fn, queue);
      }
      if (def.messageQueues?.length) props.queues.grantMessageQueues(fn, def.messageQueues);
      if (def.trigger) addTrigger(fn, def.trigger, props);
      functions[name] = fn;
      logGroups[name] = logGroup;
    }
    this.functions = functions;
    this.logGroups = logGroups;
  }
}

/**
 * The folder of the prebuilt handler bundles, found relative to this module, as aws-cdk-lib finds
 * its own handlers:
 * - in the installed package this module is dist/lib/index.js (esbuild bundles lib/ into it), and
 *   `npm run build` (run by `npm pack` through `prepack`) built the handlers into dist/handlers;
 * - in this repository this module is lib/sluice-functions.ts, run from source by tsx (`npx cdk
 *   synth` through cdk.json, `npm start`) or vitest (`npm test`). Then it first runs
 *   build/handlers.ts, which rebuilds dist/handlers only when a handler, a dependency or the build
 *   options changed since the last build (0.5 s when nothing did, about 4 s when something did).
 *   So no command needs a separate build step, and a synth never deploys stale bundles.
 * It runs the build in a child process because a construct is built synchronously and because the
 * published package must not depend on esbuild or on this repository's sources.
 */
function handlerBundlesDir(): string {
  const here = fileURLToPath(import.meta.url);
  if (!here.endsWith('.ts')) return resolve(dirname(here), '..', 'handlers');
  const repoRoot = resolve(dirname(here), '..');
  if (!handlersFresh) {
    const build = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'build', 'handlers.ts'), '--if-stale'], {
      cwd: repoRoot,
      stdio: ['ignore', 'ignore', 'pipe'],
      encoding: 'utf8',
    });
    if (build.status !== 0) {
      throw new Error(
        `Building the Lambda handlers (npx tsx build/handlers.ts) failed: ${build.error?.message ?? build.stderr}`,
      );
    }
    handlersFresh = true;
  }
  return join(repoRoot, 'dist', 'handlers');
}
/** Whether this process already built (or found fresh) the bundles in dist/handlers. */
let handlersFresh = false;

/** Whether a trigger is a DynamoDB stream's (else an SQS queue's). */
export function isStreamTrigger(trigger: QueueTrigger | StreamTrigger): trigger is StreamTrigger {
  return 'stream' in trigger;
}

/**
 * The event source of a function's trigger, with every option from its definition:
 * - a queue: an SQS event source reporting batch item failures (it grants the consume actions);
 * - a table's stream: a DynamoDB Streams event source mapping with the definition's filters,
 *   batching, parallelization, bisection, retries, record age and on-failure queue, reporting
 *   batch item failures; it may read that stream only (see `SluiceTables.grantStreamRead`), and
 *   sends what finally fails to the on-failure queue (the mapping grants `sqs:SendMessage` on it).
 */
function addTrigger(fn: lambda.Function, trigger: QueueTrigger | StreamTrigger, props: SluiceFunctionsProps): void {
  if (!isStreamTrigger(trigger)) {
    fn.addEventSource(
      new SqsEventSource(props.queues.queue(trigger.queue), { batchSize: trigger.batchSize, reportBatchItemFailures: true }),
    );
    return;
  }
  fn.addEventSource(
    new DynamoEventSource(props.tables.streamEventSourceTable(trigger.stream), {
      startingPosition: lambda.StartingPosition[trigger.startingPosition],
      batchSize: trigger.batchSize,
      maxBatchingWindow: Duration.seconds(trigger.maxBatchingWindowSeconds),
      parallelizationFactor: trigger.parallelizationFactor,
      bisectBatchOnError: trigger.bisectBatchOnError,
      retryAttempts: trigger.maxRetryAttempts,
      // -1 (no limit) is the mapping's default, and not a Duration CDK accepts.
      maxRecordAge: trigger.maxRecordAgeSeconds === -1 ? undefined : Duration.seconds(trigger.maxRecordAgeSeconds),
      reportBatchItemFailures: true,
      onFailure: new SqsDlq(props.queues.queue(trigger.onFailure)),
      // FilterCriteria.filter() JSON-encodes each pattern, as FilterCriteria.Filters[].Pattern expects.
      filters: trigger.filters.map((pattern) => lambda.FilterCriteria.filter({ ...pattern })),
    }),
  );
}

function nodeMajorVersion(runtime: lambda.Runtime): number | undefined {
  const match = /^nodejs(\d+)/.exec(runtime.name);
  return match ? Number(match[1]) : undefined;
}

/**
 * Consistency rules between function, queue and table definitions that AWS would otherwise reject
 * at deploy time (or that would silently misbehave). Exported for tests.
 */
export function definitionRules(
  functions: Readonly<Record<string, FunctionDefinition>>,
  queues: Readonly<Record<string, QueueDefinition>>,
  tables: Readonly<Record<string, TableDefinition>> = TABLES,
): ValidationRule[] {
  const rules: ValidationRule[] = [];
  for (const [name, queue] of Object.entries(queues)) {
    rules.push({
      condition: (queue.highThroughput ?? false) && !queue.fifo,
      message: `queue ${name}: highThroughput is a mode of FIFO queues; set fifo: true or drop it`,
    });
  }
  for (const def of Object.values(functions)) {
    const timeout = def.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    rules.push({
      condition: !Number.isInteger(timeout) || timeout < 1 || timeout > 900,
      message: `function ${def.name}: timeoutSeconds must be a whole number from 1 to 900; got ${timeout}`,
    });
    const trigger = def.trigger;
    for (const [queue, access] of Object.entries(def.queues)) {
      rules.push({
        condition: access === 'consume' && !(trigger && !isStreamTrigger(trigger) && trigger.queue === queue),
        message: `function ${def.name}: consumes queue ${queue} but has no trigger on it; consuming is granted by the trigger`,
      });
    }
    if (!trigger) continue;
    if (isStreamTrigger(trigger)) rules.push(...streamTriggerRules(def.name, trigger, queues, tables));
    else rules.push(...queueTriggerRules(def, trigger, queues, timeout));
  }
  return rules;
}

function queueTriggerRules(
  def: FunctionDefinition,
  trigger: QueueTrigger,
  queues: Readonly<Record<string, QueueDefinition>>,
  timeout: number,
): ValidationRule[] {
  const queue = queues[trigger.queue];
  return [
    {
      condition: (def.queues as Record<string, QueueAccess | undefined>)[trigger.queue] !== 'consume',
      message: `function ${def.name}: is triggered by queue ${trigger.queue} but does not declare it as 'consume'`,
    },
    {
      condition: !Number.isInteger(trigger.batchSize) || trigger.batchSize < 1 || trigger.batchSize > 10,
      message: `function ${def.name}: trigger batchSize must be 1 to 10 (no batching window is set); got ${trigger.batchSize}`,
    },
    {
      condition: queue !== undefined && queue.visibilityTimeoutSeconds < MIN_VISIBILITY_TIMEOUT_FACTOR * timeout,
      message:
        `function ${def.name}: queue ${trigger.queue} has a visibility timeout of ${queue?.visibilityTimeoutSeconds} s; ` +
        `it must be at least ${MIN_VISIBILITY_TIMEOUT_FACTOR}× the function timeout of ${timeout} s ` +
        `(${MIN_VISIBILITY_TIMEOUT_FACTOR * timeout} s), AWS's guidance for SQS event sources, or a message ` +
        'can be received again while it is still being processed',
    },
    {
      condition: queue === undefined,
      message: `function ${def.name}: is triggered by unknown queue ${trigger.queue}`,
    },
  ];
}

/** The ranges Lambda accepts for a DynamoDB Streams event source mapping (see `StreamTrigger`). */
function streamTriggerRules(
  fn: string,
  trigger: StreamTrigger,
  queues: Readonly<Record<string, QueueDefinition>>,
  tables: Readonly<Record<string, TableDefinition>>,
): ValidationRule[] {
  const table = tables[trigger.stream];
  const onFailure = queues[trigger.onFailure];
  const whole = (n: number, min: number, max: number) => Number.isInteger(n) && n >= min && n <= max;
  const rule = (condition: boolean, message: string): ValidationRule => ({ condition, message: `function ${fn}: stream trigger ${message}` });
  return [
    rule(table === undefined, `reads unknown table ${trigger.stream}`),
    rule(table !== undefined && table.stream === undefined, `reads table ${trigger.stream}, which has no stream (set its stream view)`),
    rule(
      trigger.startingPosition !== 'LATEST' && trigger.startingPosition !== 'TRIM_HORIZON',
      `startingPosition must be LATEST or TRIM_HORIZON; got ${String(trigger.startingPosition)}`,
    ),
    rule(!whole(trigger.batchSize, 1, 10_000), `batchSize must be a whole number from 1 to 10,000; got ${trigger.batchSize}`),
    rule(
      !whole(trigger.maxBatchingWindowSeconds, 0, 300),
      `maxBatchingWindowSeconds must be a whole number from 0 to 300; got ${trigger.maxBatchingWindowSeconds}`,
    ),
    rule(
      !whole(trigger.parallelizationFactor, 1, 10),
      `parallelizationFactor must be a whole number from 1 to 10; got ${trigger.parallelizationFactor}`,
    ),
    rule(
      !(trigger.maxRetryAttempts === -1 || whole(trigger.maxRetryAttempts, 0, 10_000)),
      `maxRetryAttempts must be -1 (until the record expires) or a whole number from 0 to 10,000; got ${trigger.maxRetryAttempts}`,
    ),
    rule(
      !(trigger.maxRecordAgeSeconds === -1 || whole(trigger.maxRecordAgeSeconds, 60, 604_800)),
      `maxRecordAgeSeconds must be -1 (no limit) or a whole number from 60 to 604,800; got ${trigger.maxRecordAgeSeconds}`,
    ),
    rule(onFailure === undefined, `sends failed batches to unknown queue ${trigger.onFailure}`),
    rule(
      onFailure !== undefined && onFailure.fifo,
      `sends failed batches to FIFO queue ${trigger.onFailure}; a stream's on-failure destination must be a standard queue`,
    ),
    rule(trigger.filters.length > 5, `has ${trigger.filters.length} filters; an event source mapping takes at most 5`),
    ...trigger.filters.map((pattern, i) =>
      rule(
        typeof pattern !== 'object' || pattern === null || Array.isArray(pattern) || Object.keys(pattern).length === 0,
        `filter ${i} must be a non-empty object pattern (FilterCriteria.Filters[].Pattern before JSON encoding)`,
      ),
    ),
    rule(
      trigger.filters.some((pattern) => JSON.stringify(pattern).length > 4096),
      'has a filter pattern over 4,096 characters of JSON, more than Lambda accepts',
    ),
  ];
}
