/**
 * A stream processor in CDK: a topology written with `sluice/streams`, run exactly-once by a Lambda
 * function fed by push subscriptions to its input topics (docs/architecture.md, "Stream processors").
 *
 *   // processors/big-orders.ts
 *   const app = streams('big-orders');
 *   app.stream<Order>('orders').filter((o) => o.total > 100).to('big-orders');
 *   export const handler = sluiceProcessor(app);
 *
 *   // the stack
 *   new StreamProcessor(this, 'BigOrders', { sluice, entry: 'processors/big-orders.ts' });
 *
 * The entry is bundled with esbuild (NodejsFunction, locally: no Docker) and the bundle is run once
 * at synth time to read its topology: the processor's name (the application ID), the topics it reads
 * (user topics and its internal repartition topics) and writes. The function is subscribed to each
 * topic it reads (`subscribeLambda`, from the earliest event), granted exactly what the runtime calls
 * on Sluice's tables, and declared to the `processors` function (`GET /processors`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Duration, Lazy, Stack, Token, Validations, AssetStaging } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { MAX_PROCESSOR_INPUTS, PROCESSORS_ENV, processorNameSchema, type DeclaredProcessor } from '../api/processors';
import { SUBSCRIPTION_LIMITS } from '../api/subscriptions';
import { topicNameSchema } from '../api/topics';
import { encodeDeclaredAcls } from '../definitions/authorization';
import type { TableAccess } from '../definitions/functions';
import { TABLES, type TableName } from '../definitions/tables';
import type { Sluice } from './sluice';
import { DEFAULT_SUBSCRIBER_MAX_ATTEMPTS, DECLARED_SUBSCRIPTIONS_MAX_BYTES, type SluiceSubscription } from './sluice-subscriptions';
import { logRetentionRules, validateProps, type ValidationRule } from './validation';

/**
 * What the stream runtime (lambda/streams/runtime) calls on each of Sluice's tables, exactly: the
 * processor's role is granted these and nothing else (the local platform's IAM refuses anything else).
 */
export const STREAM_PROCESSOR_TABLE_ACCESS = {
  // Input and output topics' configuration; internal topics (repartition, dead letters) created on first use.
  topics: ['GetItem', 'PutItem'],
  // Outputs: the partitions' heads, then the batches and heads written in the commit's transaction.
  // Query: events a lost delivery held, and the record of a step left half-committed, are read from the log.
  // GetItem: a batch a single-item append left between its two writes is read to move its head on.
  log: ['GetItem', 'BatchGetItem', 'PutItem', 'Query'],
  // Outputs' message IDs (deterministic when a record's outputs are committed in chunks).
  dedupe: ['PutItem'],
  // Meta, positions and state entries (BatchGetItem, range reads by Query), written in the commit's
  // transaction (the meta conditioned on its version).
  processors: ['BatchGetItem', 'Query', 'PutItem', 'DeleteItem'],
} as const satisfies Partial<Record<TableName, TableAccess>>;

/** The variable naming the processor, checked by the runtime against the app's application ID. */
export const PROCESSOR_NAME_ENV = 'SLUICE_PROCESSOR_NAME';

/** The topology a bundle exports, as read at synth time. */
export interface StreamProcessorTopology {
  /** The application ID: the processor's name. */
  readonly applicationId: string;
  /** User topics read. */
  readonly sourceTopics: readonly string[];
  /** Repartition topics the runtime creates on first use (`<applicationId>-repartition-<n>`), read and written. */
  readonly internalTopics: readonly string[];
  /** User topics written. */
  readonly outputTopics: readonly string[];
  /** `topology.describe()`: the sub-topologies, their sources, processors, stores and sinks. */
  readonly description: string;
}

export interface StreamProcessorProps {
  /** The Sluice installation whose topics the processor reads and writes. It must be in the same stack. */
  readonly sluice: Sluice;

  /**
   * The processor's module (TypeScript or JavaScript), relative to the current directory (the CDK
   * app's, where `cdk.json` is) or absolute. It exports `handler = sluiceProcessor(app)`, `app` built
   * with `streams('<name>')` from `sluice/streams`.
   */
  readonly entry: string;

  /**
   * The processor's name. It must equal the application ID the module gives `streams(...)`: that ID
   * scopes the processor's state, names its internal topics (`<name>-repartition-<n>`, `<name>-dlq`)
   * and its subscriptions, and is the `group` resource ACLs check for `GET /processors/{name}`.
   * Given, it is checked against the module at synth; a mismatch fails synthesis.
   *
   * @default - the module's application ID
   */
  readonly name?: string;

  /**
   * Memory of the function in MB, 128 to 10240 (CPU is allocated in proportion).
   *
   * @default 512
   */
  readonly memorySize?: number;

  /**
   * How long one invocation (up to `batchSize` deliveries, each committed on its own) may run. The
   * subscription queues' visibility timeout is 6 times it, so a delivery whose invocation crashed
   * comes back after that long.
   *
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;

  /**
   * Deliveries (each up to 100 events of one partition of one input topic) per invocation, 1 to 10.
   *
   * @default 10
   */
  readonly batchSize?: number;

  /**
   * Receives of a delivery before it goes to its subscription's dead-letter queue. Until then a
   * delivery that keeps failing (an infrastructure error: a missing output topic, throttling) holds
   * up its partition, which must not be processed out of order. Records whose own processing
   * throws never count here: they go to the processor's `<name>-dlq` topic and processing continues.
   * 1 to 100.
   *
   * @default 10
   */
  readonly maxAttempts?: number;

  /**
   * Lambda runtime: Node.js 22 or newer.
   *
   * @default lambda.Runtime.NODEJS_22_X
   */
  readonly runtime?: lambda.Runtime;

  /**
   * How long CloudWatch keeps the function's logs.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * More environment variables for the function (the runtime's own, `SLUICE_*`, cannot be overridden).
   *
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;

  /**
   * esbuild options for the bundle, merged over the defaults (ESM, Node.js 22, minified, source
   * maps, every dependency bundled, the AWS SDK included).
   *
   * @default - the defaults
   */
  readonly bundling?: BundlingOptions;
}

/** A stream processor: its function, its subscriptions and its grants. */
export class StreamProcessor extends Construct {
  /** The processor's name (its application ID). */
  readonly name: string;
  /** The topology read from the bundle at synth time. */
  readonly topology: StreamProcessorTopology;
  readonly function: NodejsFunction;
  readonly logGroup: logs.LogGroup;
  /** One per topic read (user topics, then internal ones), each named after the processor. */
  readonly subscriptions: readonly SluiceSubscription[];

  constructor(scope: Construct, id: string, props: StreamProcessorProps) {
    super(scope, id);
    const { sluice } = props;
    const entry = resolve(props.entry);
    const memorySize = props.memorySize ?? 512;
    const timeout = props.timeout ?? Duration.seconds(30);
    const runtime = props.runtime ?? lambda.Runtime.NODEJS_22_X;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    const nodeMajor = Number(/^nodejs(\d+)/.exec(runtime.name)?.[1] ?? 0);
    const timeoutSeconds = timeout.toSeconds();
    const reserved = Object.keys(props.environment ?? {}).filter((k) => k.startsWith('SLUICE_'));
    validateProps(this, [
      {
        condition: Stack.of(this) !== Stack.of(sluice),
        message:
          `must be in the same stack as its Sluice (${Stack.of(sluice).node.path}): its subscriptions and its ` +
          'declaration to GET /processors live there',
      },
      { condition: !existsSync(entry), message: `entry ${props.entry} does not exist (resolved to ${entry})` },
      { condition: nodeMajor < 22, message: `runtime must be Node.js 22 or newer; got ${runtime.name}` },
      {
        condition: !Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240,
        message: `memorySize must be a whole number of MB from 128 to 10240; got ${memorySize}`,
      },
      {
        condition: !Token.isUnresolved(timeoutSeconds) && (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 900),
        message: `timeout must be whole seconds from 1 to 900 (15 minutes); got ${timeout.toHumanString()}`,
      },
      {
        condition: props.batchSize !== undefined && !(Number.isInteger(props.batchSize) && props.batchSize >= 1 && props.batchSize <= 10),
        message: `batchSize must be a whole number from 1 to 10 (an SQS FIFO event source); got ${props.batchSize}`,
      },
      {
        condition:
          props.maxAttempts !== undefined &&
          !(Number.isInteger(props.maxAttempts) && props.maxAttempts >= 1 && props.maxAttempts <= SUBSCRIPTION_LIMITS.maxAttempts),
        message: `maxAttempts must be a whole number from 1 to ${SUBSCRIPTION_LIMITS.maxAttempts}; got ${props.maxAttempts}`,
      },
      { condition: reserved.length > 0, message: `environment may not set Sluice's own variables: ${reserved.join(', ')}` },
      ...logRetentionRules('logRetention', logRetention),
    ]);

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: logRetention });
    // A role of its own instead of the default one (AWSLambdaBasicExecutionRole: every log group):
    // its log group, its subscription queues (the event sources) and the tables below, nothing else.
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Sluice stream processor ${this.node.path}`,
    });
    this.logGroup.grantWrite(role);
    this.function = new NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      runtime,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout,
      role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        mainFields: ['module', 'main'],
        // Bundled CommonJS dependencies may call require() for Node built-ins; ESM has none.
        banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        // The AWS SDK too: the version the runtime was tested with, not the one Lambda happens to have.
        externalModules: [],
        minify: true,
        sourceMap: true,
        ...props.bundling,
      },
      environment: { ...props.environment, NODE_OPTIONS: '--enable-source-maps' },
    });

    const topology = readTopology(this, this.function);
    this.topology = topology ?? { applicationId: props.name ?? '', sourceTopics: [], internalTopics: [], outputTopics: [], description: '' };
    this.name = props.name ?? this.topology.applicationId;
    const inputs = [...this.topology.sourceTopics, ...this.topology.internalTopics];
    if (topology) validateProps(this, topologyRules(props.name, topology, inputs));

    // Before subscribing: a second processor of the same name would otherwise fail on its subscriptions' names.
    if (topology) validateProps(this, uniqueNameRules(sluice, this.name));
    (this.function.node.defaultChild as lambda.CfnFunction).description = `Sluice stream processor ${this.name}`;
    const env: Record<string, string> = { [PROCESSOR_NAME_ENV]: this.name };
    for (const [table, actions] of Object.entries(STREAM_PROCESSOR_TABLE_ACCESS) as [TableName, TableAccess][]) {
      sluice.tables.grantAccess(this.function, table, actions);
      env[TABLES[table].envVar] = sluice.tables.tables[table].tableName;
    }
    for (const [name, value] of Object.entries(env)) this.function.addEnvironment(name, value);

    // From the earliest event: a processor deployed after its topics filled processes their history,
    // and an internal topic created later by the runtime is read from its first event.
    const options = { name: this.name, startAt: 'earliest' as const, batchSize: props.batchSize ?? 10, maxAttempts: props.maxAttempts ?? DEFAULT_SUBSCRIBER_MAX_ATTEMPTS };
    this.subscriptions = inputs.map((topic) => sluice.topic(topic).subscribeLambda(this.function, options));
    if (topology) declareProcessor(sluice, { name: this.name, inputs });

    if (runtime === lambda.Runtime.NODEJS_22_X) {
      Validations.of(this.function).acknowledge({
        id: 'AwsSolutions-L1',
        reason:
          "Node.js 22 is the default on purpose, as for Sluice's own functions: the runtime and its bundled " +
          'dependencies are built and tested for it; a newer one is a deliberate choice through the runtime prop.',
      });
    }
  }
}

/** The problems of a topology read from a bundle. */
function topologyRules(name: string | undefined, topology: StreamProcessorTopology, inputs: readonly string[]): ValidationRule[] {
  const badTopics = [...inputs, ...topology.outputTopics].filter((t) => !topicNameSchema.safeParse(t).success);
  return [
    {
      condition: name !== undefined && name !== topology.applicationId,
      message:
        `name ${JSON.stringify(name)} must equal the application ID the entry gives streams(): ${JSON.stringify(topology.applicationId)} ` +
        '(it scopes the state and names the internal topics); drop name, or change one of them',
    },
    {
      condition: !processorNameSchema.safeParse(topology.applicationId).success,
      message: `application ID ${JSON.stringify(topology.applicationId)} must be 1 to 128 of [A-Za-z0-9._-]`,
    },
    {
      condition: topology.sourceTopics.length === 0,
      message: 'the topology reads no topic: give it app.stream(topic) or app.table(topic) and an operation ending in .to(topic)',
    },
    {
      condition: inputs.length > MAX_PROCESSOR_INPUTS,
      message: `the topology reads ${inputs.length} topics (internal ones included); at most ${MAX_PROCESSOR_INPUTS}`,
    },
    { condition: badTopics.length > 0, message: `the topology names invalid topics: ${badTopics.join(', ')}` },
  ];
}

// ---- reading the topology from the bundle ------------------------------------------------------

/** Printed before the topology's JSON, so that whatever the module logs when loaded is ignored. */
const MARKER = '@@sluice-topology@@';

/**
 * Run in a child Node.js process: loads the bundle as Lambda would, finds the topology it exports
 * (the handler `sluiceProcessor(app)` made, or an exported StreamsBuilder or Topology) and prints it.
 */
const INTROSPECT = `
const { pathToFileURL } = await import('node:url');
const mod = await import(pathToFileURL(process.argv[1]).href);
const isTopology = (v) => v && typeof v === 'object' && typeof v.applicationId === 'string' && Array.isArray(v.subTopologies);
const asTopology = (v) => {
  if (!v || (typeof v !== 'object' && typeof v !== 'function')) return undefined;
  if (isTopology(v)) return v;
  if (isTopology(v.topology)) return v.topology;
  if (typeof v.topology === 'function') { const t = v.topology(); if (isTopology(t)) return t; }
  if (typeof v.applicationId === 'string' && typeof v.build === 'function') { const t = v.build(); if (isTopology(t)) return t; }
  return undefined;
};
const found = [mod.handler, mod.app, mod.topology, mod.default, ...Object.values(mod)].map(asTopology).find(Boolean);
if (!found) {
  process.stderr.write('the entry exports no topology: export const handler = sluiceProcessor(app), with app = streams(name)');
  process.exit(3);
}
process.stdout.write(${JSON.stringify(MARKER)} + JSON.stringify({
  applicationId: found.applicationId,
  sourceTopics: [...found.sourceTopics],
  internalTopics: found.internalTopics.map((t) => t.name),
  outputTopics: [...found.outputTopics],
  description: found.describe(),
}) + '\\n');
`;

/**
 * The topology of the function's bundle (undefined when this stack's bundling is skipped, e.g.
 * `cdk deploy OtherStack`: then this stack is not deployed and nothing needs it).
 */
function readTopology(scope: Construct, fn: NodejsFunction): StreamProcessorTopology | undefined {
  if (!Stack.of(scope).bundlingRequired) return undefined;
  const staging = fn.node.tryFindChild('Code')?.node.tryFindChild('Stage');
  if (!(staging instanceof AssetStaging)) throw new Error(`${scope.node.path}: cannot find the function's bundle (aws-cdk-lib changed?)`);
  // index.mjs for ESM (the default), index.js when `bundling.format` is CommonJS.
  const bundle = ['index.mjs', 'index.js'].map((f) => join(staging.absoluteStagedPath, f)).find((f) => existsSync(f));
  if (!bundle) throw new Error(`${scope.node.path}: the bundle has no index.mjs or index.js (${staging.absoluteStagedPath})`);
  const run = spawnSync(process.execPath, ['--enable-source-maps', '--input-type=module', '-e', INTROSPECT, bundle], {
    encoding: 'utf8',
    timeout: 60_000,
    // The module is loaded as at a cold start, without Lambda's variables: it must not need AWS to load.
    env: { ...process.env, AWS_REGION: process.env.AWS_REGION ?? 'us-east-1' },
  });
  const out = run.stdout ?? '';
  const at = out.lastIndexOf(MARKER);
  if (run.status !== 0 || at < 0) {
    validateProps(scope, [
      {
        condition: true,
        message:
          `could not read the topology of ${fn.node.path}'s bundle (loading it ${run.error ? `failed: ${run.error.message}` : `exited with ${run.status}`}): ` +
          (run.stderr || out).trim().slice(-2000),
      },
    ]);
  }
  return JSON.parse(out.slice(at + MARKER.length)) as StreamProcessorTopology;
}

// ---- declaring processors to the processors function ---------------------------------------

/** The processors declared so far, per Sluice installation. */
const declaredBySluice = new WeakMap<Sluice, DeclaredProcessor[]>();

/**
 * Adds the processor to SLUICE_DECLARED_PROCESSORS of the installation's `processors` function
 * (written when the template is synthesized, so processors declared later are included).
 */
function declareProcessor(sluice: Sluice, processor: DeclaredProcessor): void {
  let declared = declaredBySluice.get(sluice);
  if (!declared) {
    declared = [];
    declaredBySluice.set(sluice, declared);
    const list = declared;
    sluice.functions.functions.processors.addEnvironment(PROCESSORS_ENV.declared, Lazy.string({ produce: () => JSON.stringify(list) }));
    sluice.node.addValidation({ validate: () => environmentBudgetErrors(sluice, list) });
  }
  declared.push(processor);
}

function uniqueNameRules(sluice: Sluice, name: string): ValidationRule[] {
  return [
    {
      condition: declaredBySluice.get(sluice)?.some((p) => p.name === name) ?? false,
      message: `another StreamProcessor of this Sluice is named ${name}: two processors with one application ID would share their state`,
    },
  ];
}

/** The processors function carries the declared processors, and with ACLs on the declared ACLs: together they must fit. */
function environmentBudgetErrors(sluice: Sluice, declared: readonly DeclaredProcessor[]): string[] {
  const acls = sluice.authorization === 'acl' ? encodeDeclaredAcls(sluice.acls) : [];
  // A role ARN is a token until deploy: counted as a long one.
  const size = Buffer.byteLength(JSON.stringify(declared)) + Buffer.byteLength(JSON.stringify(acls).replace(/\$\{Token\[[^\]]*\]\}/g, 'x'.repeat(100)));
  return size > DECLARED_SUBSCRIPTIONS_MAX_BYTES
    ? [
        `the stream processors declared in this Sluice (${declared.length})${acls.length ? ' and its declared ACLs' : ''} take about ${size} bytes ` +
          `of the processors function's environment, more than ${DECLARED_SUBSCRIPTIONS_MAX_BYTES} (Lambda allows 4 KB of variables in all); ` +
          'use fewer processors per installation (or shorter names)',
      ]
    : [];
}
