/**
 * Infrastructure tests: the synthesized Sluice stack against the definitions it is built from
 * (every route, table, queue and grant comes from definitions/), and cdk-nag over the whole app.
 * The stack is synthesized once per app below (bundling runs esbuild per function; bundles are
 * cached for the rest of the process).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { App, CfnElement, Duration, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FALLBACK_FUNCTION,
  FUNCTIONS,
  ROUTES,
  routeKey,
  type FunctionDefinition,
  type FunctionName,
  type QueueTrigger,
  type StreamTrigger,
} from '../../definitions/functions';
import { MESSAGE_QUEUES, QUEUES, QUEUE_NAMES, type QueueDefinition, type QueueName } from '../../definitions/queues';
import { TABLES, TABLE_NAMES, type TableName } from '../../definitions/tables';
import { acknowledgeSluiceFindings, applyNagChecks } from '../../lib/nag';
import { pascalCase } from '../../lib/names';
import { isStreamTrigger } from '../../lib/sluice-functions';
import { SluiceStack } from '../../lib/sluice-stack';

const SYNTH_TIMEOUT = 120_000;
const FUNCTION_NAMES = Object.keys(FUNCTIONS) as FunctionName[];

/** The same feature flags `cdk synth` uses, so the template under test is the one deployed. */
const CDK_CONTEXT = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;

const outdirs: string[] = [];
const newApp = () => {
  outdirs.push(mkdtempSync(join(tmpdir(), 'sluice-cdk-')));
  return new App({ context: CDK_CONTEXT, outdir: outdirs.at(-1) });
};
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

// Synthesized CloudFormation, navigated by key.
type Json = Record<string, any>;

describe('SluiceStack', () => {
  let app: App;
  let stack: SluiceStack;
  let template: Template;
  let resources: Record<string, Json>;
  const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const props = (construct: IConstruct): Json => resources[logicalId(construct)]!.Properties;

  beforeAll(() => {
    app = newApp();
    stack = new SluiceStack(app, 'Sluice');
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources;
  }, SYNTH_TIMEOUT);

  describe('API', () => {
    it.each([...ROUTES.map(routeKey), '$default'])('route %s requires IAM (SigV4) auth', (key) => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key, AuthorizationType: 'AWS_IAM' });
    });

    it('has no route besides ROUTES and $default', () => {
      template.resourceCountIs('AWS::ApiGatewayV2::Route', ROUTES.length + 1);
    });

    it('is an HTTP API by default, with no REST API resource', () => {
      expect(stack.api.type).toBe('http');
      expect(Object.values(resources).filter((r) => r.Type.startsWith('AWS::ApiGateway::'))).toEqual([]);
    });

    it.each([
      ...ROUTES.map((r) => [routeKey(r), r.function] as const),
      ['$default', FALLBACK_FUNCTION] as const,
    ])('route %s invokes the %s function', (key, fn) => {
      const [route] = Object.values(template.findResources('AWS::ApiGatewayV2::Route', { Properties: { RouteKey: key } }));
      const integrationId = route!.Properties.Target['Fn::Join'][1][1].Ref;
      expect(resources[integrationId]!.Properties).toMatchObject({
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
        IntegrationUri: { 'Fn::GetAtt': [logicalId(stack.functions.functions[fn]), 'Arn'] },
      });
    });

    it('logs every request of the $default stage as JSON to a log group with retention', () => {
      const stage = props(stack.api.stage);
      expect(stage.StageName).toBe('$default');
      expect(stage.AutoDeploy).toBe(true);
      expect(stage.AccessLogSettings.DestinationArn).toEqual({ 'Fn::GetAtt': [logicalId(stack.api.accessLogs), 'Arn'] });
      const format = JSON.parse(stage.AccessLogSettings.Format);
      expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', userArn: '$context.identity.userArn' });
      expect(props(stack.api.accessLogs).RetentionInDays).toBe(30);
    });

    it('throttles the default stage', () => {
      expect(props(stack.api.stage).DefaultRouteSettings).toEqual({ ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 });
    });

    it('lets only API Gateway, from this API, invoke the functions', () => {
      const permissions = Object.values(template.findResources('AWS::Lambda::Permission'));
      expect(permissions.length).toBeGreaterThan(0);
      for (const p of permissions) {
        expect(p.Properties.Principal).toBe('apigateway.amazonaws.com');
        expect(JSON.stringify(p.Properties.SourceArn)).toContain(logicalId(stack.api.httpApi!));
      }
    });
  });

  describe('tables', () => {
    it.each(TABLE_NAMES)('%s: on demand, point-in-time recovery, encrypted with the AWS managed key', (name) => {
      expect(props(stack.tables.tables[name])).toMatchObject({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      });
    });

    it.each(TABLE_NAMES)('%s: keys as defined', (name) => {
      const def = TABLES[name];
      const keys = [def.partitionKey, ...('sortKey' in def ? [def.sortKey] : [])];
      expect(props(stack.tables.tables[name]).KeySchema).toEqual(
        keys.map((k, i) => ({ AttributeName: k.name, KeyType: i === 0 ? 'HASH' : 'RANGE' })),
      );
    });

    it.each(TABLE_NAMES)('%s: TTL attribute and stream as defined', (name) => {
      const def = TABLES[name];
      const table = props(stack.tables.tables[name]);
      const ttl = 'timeToLiveAttribute' in def ? def.timeToLiveAttribute : undefined;
      const stream = 'stream' in def ? def.stream : undefined;
      expect(table.TimeToLiveSpecification).toEqual(ttl ? { AttributeName: ttl, Enabled: true } : undefined);
      expect(table.StreamSpecification).toEqual(stream ? { StreamViewType: stream } : undefined);
    });

    it('streams NEW_IMAGE from the log table, which expires items by expiresAt', () => {
      expect(props(stack.tables.tables.log)).toMatchObject({
        StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      });
    });

    it('retains every table by default', () => {
      for (const name of TABLE_NAMES) {
        expect(resources[logicalId(stack.tables.tables[name])]).toMatchObject({
          DeletionPolicy: 'Retain',
          UpdateReplacePolicy: 'Retain',
        });
      }
    });
  });

  describe('queues', () => {
    it.each(QUEUE_NAMES)('%s: redrives to its own dead-letter queue after maxReceiveCount', (name) => {
      const { queue, deadLetterQueue } = stack.queues.queues[name];
      expect(props(queue)).toMatchObject({
        VisibilityTimeout: QUEUES[name].visibilityTimeoutSeconds,
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(deadLetterQueue), 'Arn'] },
          maxReceiveCount: QUEUES[name].maxReceiveCount,
        },
      });
      expect(props(deadLetterQueue).MessageRetentionPeriod).toBe(Duration.days(14).toSeconds());
    });

    it.each(QUEUE_NAMES)('%s: FIFO and high-throughput mode as defined, on the queue and its dead-letter queue', (name) => {
      const def: QueueDefinition = QUEUES[name];
      const expected = !def.fifo
        ? { FifoQueue: undefined, DeduplicationScope: undefined, FifoThroughputLimit: undefined }
        : def.highThroughput
          ? { FifoQueue: true, DeduplicationScope: 'messageGroup', FifoThroughputLimit: 'perMessageGroupId' }
          : { FifoQueue: true, DeduplicationScope: undefined, FifoThroughputLimit: undefined };
      for (const queue of [stack.queues.queues[name].queue, stack.queues.queues[name].deadLetterQueue]) {
        const { FifoQueue, DeduplicationScope, FifoThroughputLimit } = props(queue);
        expect({ FifoQueue, DeduplicationScope, FifoThroughputLimit }, queue.node.path).toEqual(expected);
      }
    });

    it('makes deliveries a high-throughput FIFO queue: deduplication and throughput per message group', () => {
      expect(props(stack.queues.queues.deliveries.queue)).toMatchObject({
        FifoQueue: true,
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
        VisibilityTimeout: 6 * (FUNCTIONS.deliverer.timeoutSeconds ?? 10),
      });
    });

    it('encrypts every queue (SSE-SQS) and refuses requests without TLS', () => {
      const queues = template.findResources('AWS::SQS::Queue');
      expect(Object.keys(queues)).toHaveLength(QUEUE_NAMES.length * 2);
      for (const [id, queue] of Object.entries(queues)) {
        expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
        template.hasResourceProperties('AWS::SQS::QueuePolicy', {
          Queues: [{ Ref: id }],
          PolicyDocument: {
            Statement: Match.arrayWith([
              Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
            ]),
          },
        });
      }
    });
  });

  describe('functions', () => {
    it('runs every function on Node.js 22 or newer, on ARM', () => {
      const functions = Object.values(template.findResources('AWS::Lambda::Function'));
      expect(functions).toHaveLength(FUNCTION_NAMES.length);
      for (const fn of functions) {
        const major = Number(/^nodejs(\d+)\.x$/.exec(fn.Properties.Runtime)?.[1]);
        expect(major, fn.Properties.Runtime).toBeGreaterThanOrEqual(22);
        expect(fn.Properties.Architectures).toEqual(['arm64']);
      }
    });

    it.each(FUNCTION_NAMES)('%s: timeout, JSON logs to its own log group, environment as defined', (name) => {
      const def: FunctionDefinition = FUNCTIONS[name];
      const fn = props(stack.functions.functions[name]);
      expect(fn.Timeout).toBe(def.timeoutSeconds ?? 10);
      expect(fn.LoggingConfig).toEqual({ LogFormat: 'JSON', LogGroup: { Ref: logicalId(stack.functions.logGroups[name]) } });
      const expectedEnv = [
        ...Object.keys(def.tables).map((t) => TABLES[t as TableName].envVar),
        ...Object.keys(def.queues).map((q) => QUEUES[q as QueueName].envVar),
        ...(def.messageQueues?.length ? [MESSAGE_QUEUES.prefixEnvVar] : []),
        'NODE_OPTIONS',
      ];
      expect(Object.keys(fn.Environment.Variables).sort()).toEqual(expectedEnv.sort());
      expect(fn.Environment.Variables.NODE_OPTIONS).toBe('--enable-source-maps');
    });

    it('gives every log group a retention (one month by default)', () => {
      const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
      expect(groups).toHaveLength(FUNCTION_NAMES.length + 1); // + API access logs
      for (const group of groups) expect(group.Properties.RetentionInDays).toBe(30);
    });

    const triggered = (kind: 'queue' | 'stream') =>
      FUNCTION_NAMES.filter((n) => {
        const trigger = (FUNCTIONS[n] as FunctionDefinition).trigger;
        return trigger !== undefined && (kind === 'stream') === isStreamTrigger(trigger);
      });

    it.each(triggered('queue'))('%s: triggered by its queue, reporting partial batch failures', (name) => {
      const trigger = (FUNCTIONS[name] as FunctionDefinition).trigger as QueueTrigger;
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: logicalId(stack.functions.functions[name]) },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.queues.queues[trigger.queue].queue), 'Arn'] },
        BatchSize: trigger.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    });

    it.each(triggered('stream'))('%s: triggered by its table\'s stream with every option of its definition', (name) => {
      const trigger = (FUNCTIONS[name] as FunctionDefinition).trigger as StreamTrigger;
      const mappings = Object.values(
        template.findResources('AWS::Lambda::EventSourceMapping', {
          Properties: { FunctionName: { Ref: logicalId(stack.functions.functions[name]) } },
        }),
      );
      expect(mappings).toHaveLength(1);
      expect(mappings[0]!.Properties).toEqual({
        FunctionName: { Ref: logicalId(stack.functions.functions[name]) },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack.tables.tables[trigger.stream]), 'StreamArn'] },
        StartingPosition: trigger.startingPosition,
        BatchSize: trigger.batchSize,
        MaximumBatchingWindowInSeconds: trigger.maxBatchingWindowSeconds,
        ParallelizationFactor: trigger.parallelizationFactor,
        BisectBatchOnFunctionError: trigger.bisectBatchOnError,
        MaximumRetryAttempts: trigger.maxRetryAttempts,
        ...(trigger.maxRecordAgeSeconds === -1 ? {} : { MaximumRecordAgeInSeconds: trigger.maxRecordAgeSeconds }),
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack.queues.queues[trigger.onFailure].queue), 'Arn'] } } },
        FilterCriteria: { Filters: trigger.filters.map((pattern) => ({ Pattern: JSON.stringify(pattern) })) },
      });
    });

    it('filters the dispatcher\'s stream to record batches (offset >= 0) and heads holding a tail, inserted or modified, in the JSON Lambda expects', () => {
      const [mapping] = Object.values(
        template.findResources('AWS::Lambda::EventSourceMapping', {
          Properties: { FunctionName: { Ref: logicalId(stack.functions.functions.dispatcher) } },
        }),
      );
      const filters = mapping!.Properties.FilterCriteria.Filters;
      expect(filters).toEqual([
        { Pattern: '{"eventName":["INSERT","MODIFY"],"dynamodb":{"Keys":{"offset":{"N":[{"numeric":[">=",0]}]}}}}' },
        { Pattern: '{"eventName":["INSERT","MODIFY"],"dynamodb":{"Keys":{"offset":{"N":["-1"]}},"NewImage":{"tb":{"N":[{"exists":true}]}}}}' },
      ]);
      expect(JSON.parse(filters[0].Pattern)).toEqual({ eventName: ['INSERT', 'MODIFY'], dynamodb: { Keys: { offset: { N: [{ numeric: ['>=', 0] }] } } } });
      // REMOVEs (TTL expiries) match neither pattern.
      expect(filters.every((f: { Pattern: string }) => !f.Pattern.includes('REMOVE'))).toBe(true);
    });
  });

  describe('least privilege', () => {
    const TABLE_WRITE = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'];
    const QUEUE_SEND = ['sqs:SendMessage'];
    const QUEUE_CONSUME = ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'];

    /** Where a message-queue grant points (test/infra/queues.test.ts checks those statements exactly). */
    const MESSAGE_QUEUES_KEY = '<message queues by prefix>';
    const LIST_QUEUES_KEY = '<sqs:ListQueues on *>';

    /**
     * Actions the function's role may take, by the logical ID of the resource they apply to (or, for
     * message queues, one of the keys above: they have no logical ID).
     */
    function permissionsOf(name: FunctionName): Map<string, Set<string>> {
      const roleId = logicalId(stack.functions.functions[name].role!);
      expect(resources[roleId]!.Properties.ManagedPolicyArns).toBeUndefined();
      const byResource = new Map<string, Set<string>>();
      const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
        p.Properties.Roles.some((r: Json) => r.Ref === roleId),
      );
      for (const statement of policies.flatMap((p) => p.Properties.PolicyDocument.Statement)) {
        expect(statement.Effect).toBe('Allow');
        for (const resource of [statement.Resource].flat()) {
          const actions = [statement.Action].flat() as string[];
          // arn:<partition>:sqs:<region>:<account>:<prefix>* (an Fn::Join of the pseudo parameters).
          const parts: unknown[] = resource['Fn::Join']?.[1] ?? [];
          const prefixArn = parts.includes(':sqs:') && parts.at(-1) === `:${stack.queues.messageQueuePrefix}*`;
          const id =
            resource === '*' && actions.length === 1 && actions[0] === 'sqs:ListQueues'
              ? LIST_QUEUES_KEY
              : prefixArn
                ? MESSAGE_QUEUES_KEY
                : (expect(JSON.stringify(resource), 'no wildcard resources').not.toMatch(/"\*"|\/\*/), referencedLogicalId(resource));
          const granted = byResource.get(id) ?? new Set<string>();
          for (const action of actions) granted.add(action);
          byResource.set(id, granted);
        }
      }
      return byResource;
    }

    /** The stream a function's trigger reads and the queue its failures go to, if it has a stream trigger. */
    const streamOf = (name: FunctionName) => {
      const trigger = (FUNCTIONS[name] as FunctionDefinition).trigger;
      return trigger && isStreamTrigger(trigger) ? trigger : undefined;
    };

    it.each(FUNCTION_NAMES)('%s: may touch only its log group and the tables, streams and queues it declares', (name) => {
      const def: FunctionDefinition = FUNCTIONS[name];
      const stream = streamOf(name);
      const expected = [
        logicalId(stack.functions.logGroups[name]),
        ...Object.keys(def.tables).map((t) => logicalId(stack.tables.tables[t as TableName])),
        ...Object.keys(def.queues).map((q) => logicalId(stack.queues.queues[q as QueueName].queue)),
        ...(stream
          ? [`${logicalId(stack.tables.tables[stream.stream])}.StreamArn`, logicalId(stack.queues.queues[stream.onFailure].queue)]
          : []),
        ...(def.messageQueues?.some((a) => a !== 'ListQueues') ? [MESSAGE_QUEUES_KEY] : []),
        ...(def.messageQueues?.includes('ListQueues') ? [LIST_QUEUES_KEY] : []),
      ];
      expect([...new Set(expected)].sort()).toEqual([...permissionsOf(name).keys()].sort());
    });

    it.each(FUNCTION_NAMES.filter((n) => streamOf(n)))('%s: reads its stream (and nothing else of the table) and sends only to its on-failure queue', (name) => {
      const stream = streamOf(name)!;
      const permissions = permissionsOf(name);
      expect([...permissions.get(`${logicalId(stack.tables.tables[stream.stream])}.StreamArn`)!].sort()).toEqual(
        ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'].sort(),
      );
      if (!(stream.stream in FUNCTIONS[name].tables)) expect(permissions.get(logicalId(stack.tables.tables[stream.stream]))).toBeUndefined();
      const onFailure = [...permissions.get(logicalId(stack.queues.queues[stream.onFailure].queue))!];
      expect(onFailure).toContain('sqs:SendMessage');
      expect(onFailure.filter((a) => QUEUE_CONSUME.includes(a))).toEqual([]);
    });

    it.each(FUNCTION_NAMES)('%s: exactly the DynamoDB actions its definition lists, and the queue actions of its access', (name) => {
      const def: FunctionDefinition = FUNCTIONS[name];
      const permissions = permissionsOf(name);
      for (const [table, actions] of Object.entries(def.tables)) {
        const granted = [...permissions.get(logicalId(stack.tables.tables[table as TableName]))!];
        // Least privilege derived from definitions/: nothing more, nothing less.
        expect(granted.sort(), `${name} on ${table}`).toEqual(actions.map((a) => `dynamodb:${a}`).sort());
      }
      for (const [queue, access] of Object.entries(def.queues)) {
        const actions = [...permissions.get(logicalId(stack.queues.queues[queue as QueueName].queue))!];
        const [granted, denied] = access === 'send' ? [QUEUE_SEND, QUEUE_CONSUME] : [QUEUE_CONSUME, QUEUE_SEND];
        expect(actions, `${name} on ${queue}`).toEqual(expect.arrayContaining(granted));
        expect(actions.filter((a) => denied.includes(a)), `${name} on ${queue}`).toEqual([]);
      }
      const messageQueueActions = (def.messageQueues ?? []).filter((a) => a !== 'ListQueues').map((a) => `sqs:${a}`);
      expect([...(permissions.get(MESSAGE_QUEUES_KEY) ?? [])].sort(), `${name} on message queues`).toEqual(messageQueueActions.sort());
    });

    it('grants produce no delete, scan or update on the log and dedupe tables (seen over-granted before)', () => {
      const permissions = permissionsOf('produce');
      for (const table of ['log', 'dedupe'] as const) {
        const actions = [...permissions.get(logicalId(stack.tables.tables[table]))!];
        expect(actions.filter((a) => /DeleteItem|Scan|UpdateItem/.test(a)), table).toEqual([]);
      }
      expect([...permissionsOf('topics').get(logicalId(stack.tables.tables.log))!]).not.toContain('dynamodb:Scan');
    });

    it('gives the fallback function no DynamoDB or SQS permissions at all', () => {
      const actions = [...permissionsOf(FALLBACK_FUNCTION).values()].flatMap((s) => [...s]);
      expect(actions.filter((a) => /^(dynamodb|sqs):/.test(a))).toEqual([]);
    });

    it('lets the topics function write the log table only in batches (a deleted topic\'s head tombstones), and not consume the purge queue', () => {
      const permissions = permissionsOf('topics');
      const onLog = [...permissions.get(logicalId(stack.tables.tables.log))!];
      const onPurge = [...permissions.get(logicalId(stack.queues.queues.topicPurge.queue))!];
      expect(onLog.filter((a) => TABLE_WRITE.includes(a))).toEqual(['dynamodb:BatchWriteItem']);
      expect(onPurge).not.toContain('sqs:ReceiveMessage');
    });
  });

  it('outputs the API URL, table names and queue URLs', () => {
    template.hasOutput('ApiUrl', { Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) });
    for (const name of TABLE_NAMES) template.hasOutput(`${pascalCase(TABLES[name].name)}TableName`, {});
    for (const name of QUEUE_NAMES) template.hasOutput(`${pascalCase(QUEUES[name].name)}QueueUrl`, {});
  });

  it('bundles every handler into an ES module that loads and exports handler', () => {
    const bundles = readdirSync(app.outdir)
      .filter((d) => d.startsWith('asset.'))
      .map((d) => join(app.outdir, d, 'index.mjs'));
    expect(bundles).toHaveLength(FUNCTION_NAMES.length);
    for (const bundle of bundles) {
      expect(existsSync(`${bundle}.map`), 'source map').toBe(true);
      // A fresh Node process, no environment: importing must not need configuration or the network.
      const out = execFileSync(
        process.execPath,
        ['--input-type=module', '-e', `const m = await import(${JSON.stringify(pathToFileURL(bundle).href)}); console.log(typeof m.handler);`],
        { env: { PATH: process.env.PATH }, encoding: 'utf8' },
      );
      expect(out.trim(), bundle).toBe('function');
    }
  });
});

describe('cdk-nag (AwsSolutions)', () => {
  interface Finding {
    readonly rule: string;
    readonly severity: string;
    readonly path: string;
  }

  /** Synthesize an app, let validation fail if it must, and return what the AwsSolutions plugin reported. */
  function nagFindings(app: App): Finding[] {
    const reportFile = join(app.outdir, 'validation-report.json');
    try {
      app.synth();
    } catch (error) {
      // Unacknowledged errors fail synthesis after the report is written; anything else is a bug.
      if (!existsSync(reportFile)) throw error;
    }
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    return report.pluginReports
      .filter((r: Json) => r.pluginName === 'AwsSolutions')
      .flatMap((r: Json) => r.violations)
      .flatMap((v: Json) =>
        v.violatingConstructs.map((c: Json) => ({ rule: v.ruleName, severity: v.severity, path: c.constructPath })),
      );
  }

  it('reports no unacknowledged error or warning for the app', () => {
    const app = newApp();
    new SluiceStack(app, 'Sluice');
    applyNagChecks(app);
    expect(nagFindings(app)).toEqual([]);
  }, SYNTH_TIMEOUT);

  it('needs every acknowledgement it makes (none is stale)', () => {
    const app = newApp();
    const stack = new SluiceStack(app, 'Sluice');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const findings = nagFindings(app);
    acknowledgeSluiceFindings(stack);
    const acknowledged = stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.keys(m.data as object).map((k) => k.replace(/^annotation::/i, '')));
    expect(acknowledged.length).toBeGreaterThan(0);
    expect(new Set(acknowledged)).toEqual(new Set(findings.map((f) => f.rule)));
  }, SYNTH_TIMEOUT);
});

/** The logical ID a CloudFormation resource expression points at (`Ref` or `Fn::GetAtt`; `<id>.StreamArn` for a table's stream). */
function referencedLogicalId(expression: Json): string {
  if (expression.Ref) return expression.Ref;
  // A table's stream is a resource of its own (`<table>.StreamArn`), not the table.
  if (expression['Fn::GetAtt']?.[1] === 'StreamArn') return `${expression['Fn::GetAtt'][0]}.StreamArn`;
  if (expression['Fn::GetAtt']) return expression['Fn::GetAtt'][0];
  throw new Error(`Unexpected IAM resource ${JSON.stringify(expression)}`);
}
