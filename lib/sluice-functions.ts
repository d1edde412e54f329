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
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  FUNCTIONS,
  functionEnvironment,
  type FunctionDefinition,
  type FunctionName,
  type QueueAccess,
  type TableAccess,
} from '../definitions/functions';
import { QUEUES, type QueueDefinition, type QueueName } from '../definitions/queues';
import type { TableName } from '../definitions/tables';
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
      ...definitionRules(FUNCTIONS, QUEUES),
    ]);

    const physical = { tables: props.tables.tableNames, queues: props.queues.queueUrls };
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
      if (def.trigger) {
        // Grants the consume actions on this queue; reportBatchItemFailures lets the handler
        // retry only the messages that failed.
        fn.addEventSource(
          new SqsEventSource(props.queues.queue(def.trigger.queue), {
            batchSize: def.trigger.batchSize,
            reportBatchItemFailures: true,
          }),
        );
      }
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

function nodeMajorVersion(runtime: lambda.Runtime): number | undefined {
  const match = /^nodejs(\d+)/.exec(runtime.name);
  return match ? Number(match[1]) : undefined;
}

/**
 * Consistency rules between function and queue definitions that AWS would otherwise reject at
 * deploy time (or that would silently misbehave). Exported for tests.
 */
export function definitionRules(
  functions: Readonly<Record<string, FunctionDefinition>>,
  queues: Readonly<Record<string, QueueDefinition>>,
): ValidationRule[] {
  const rules: ValidationRule[] = [];
  for (const def of Object.values(functions)) {
    const timeout = def.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    rules.push({
      condition: !Number.isInteger(timeout) || timeout < 1 || timeout > 900,
      message: `function ${def.name}: timeoutSeconds must be a whole number from 1 to 900; got ${timeout}`,
    });
    for (const [queue, access] of Object.entries(def.queues)) {
      rules.push({
        condition: access === 'consume' && def.trigger?.queue !== queue,
        message: `function ${def.name}: consumes queue ${queue} but has no trigger on it; consuming is granted by the trigger`,
      });
    }
    const trigger = def.trigger;
    if (!trigger) continue;
    const queue = queues[trigger.queue];
    rules.push({
      condition: (def.queues as Record<string, QueueAccess | undefined>)[trigger.queue] !== 'consume',
      message: `function ${def.name}: is triggered by queue ${trigger.queue} but does not declare it as 'consume'`,
    });
    rules.push({
      condition: !Number.isInteger(trigger.batchSize) || trigger.batchSize < 1 || trigger.batchSize > 10,
      message: `function ${def.name}: trigger batchSize must be 1 to 10 (no batching window is set); got ${trigger.batchSize}`,
    });
    rules.push({
      condition: queue !== undefined && queue.visibilityTimeoutSeconds < MIN_VISIBILITY_TIMEOUT_FACTOR * timeout,
      message:
        `function ${def.name}: queue ${trigger.queue} has a visibility timeout of ${queue?.visibilityTimeoutSeconds} s; ` +
        `it must be at least ${MIN_VISIBILITY_TIMEOUT_FACTOR}× the function timeout of ${timeout} s ` +
        `(${MIN_VISIBILITY_TIMEOUT_FACTOR * timeout} s), AWS's guidance for SQS event sources, or a message ` +
        'can be received again while it is still being processed',
    });
    rules.push({
      condition: queue === undefined,
      message: `function ${def.name}: is triggered by unknown queue ${trigger.queue}`,
    });
  }
  return rules;
}
