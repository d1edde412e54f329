/**
 * The StreamProcessor construct: the function (bundled, run at synth to read its topology), one
 * Lambda subscription per topic it reads (internal topics included, from the earliest event), its
 * exact grants, its declaration to the `processors` function (SLUICE_DECLARED_PROCESSORS), the
 * `processors` table, synth-time validation, and cdk-nag over the result. The example processors
 * (examples/streams/processors) are the entries.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App, CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declaredProcessorSchema, PROCESSORS_ENV } from '../../api/processors';
import { TABLES, type TableName } from '../../definitions/tables';
import { applyNagChecks } from '../../lib/nag';
import { Sluice, type SluiceProps } from '../../lib/sluice';
import { DECLARED_SUBSCRIPTIONS_ENV } from '../../lib/sluice-subscriptions';
import { STREAM_PROCESSOR_TABLE_ACCESS, StreamProcessor, type StreamProcessorProps } from '../../lib/stream-processor';
import { SluicePropsError } from '../../lib/validation';

const SYNTH_TIMEOUT = 120_000;
const ROOT = resolve(import.meta.dirname, '../..');
const PROCESSORS = join(ROOT, 'examples/streams/processors');
const CLICKS = join(PROCESSORS, 'clicks-per-minute.ts');
const ENRICHMENT = join(PROCESSORS, 'order-enrichment.ts');
const CDK_CONTEXT = JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context;
const dirs: string[] = [];
const tempDir = (label: string) => {
  dirs.push(mkdtempSync(join(tmpdir(), `sluice-${label}-`)));
  return dirs.at(-1)!;
};
const newApp = (context: Record<string, unknown> = {}) => new App({ context: { ...CDK_CONTEXT, ...context }, outdir: tempDir('cdk') });
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

type Json = Record<string, any>;

function userStack(props: SluiceProps = {}, app = newApp()) {
  const stack = new Stack(app, 'Analytics');
  const sluice = new Sluice(stack, 'Events', props);
  return { app, stack, sluice };
}

const logicalId = (stack: Stack, construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);

/** Actions a role's policies allow, by resource logical ID (or the resource's JSON). */
function allowed(template: Template, roleId: string): Map<string, string[]> {
  const byResource = new Map<string, Set<string>>();
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) => p.Properties.Roles.some((r: Json) => r.Ref === roleId));
  for (const statement of policies.flatMap((p) => p.Properties.PolicyDocument.Statement)) {
    expect(statement.Effect).toBe('Allow');
    for (const resource of [statement.Resource].flat()) {
      const id = resource.Ref ?? resource['Fn::GetAtt']?.[0] ?? JSON.stringify(resource);
      const actions = byResource.get(id) ?? new Set<string>();
      for (const action of [statement.Action].flat()) actions.add(action);
      byResource.set(id, actions);
    }
  }
  return new Map([...byResource].map(([id, actions]) => [id, [...actions].sort()]));
}

describe('StreamProcessor in a user\'s stack', () => {
  let stack: Stack;
  let sluice: Sluice;
  let clicks: StreamProcessor;
  let enrichment: StreamProcessor;
  let template: Template;
  let resources: Record<string, Json>;

  beforeAll(() => {
    ({ stack, sluice } = userStack());
    clicks = new StreamProcessor(stack, 'ClicksPerMinute', { sluice, entry: CLICKS });
    enrichment = new StreamProcessor(stack, 'OrderEnrichment', {
      sluice,
      entry: ENRICHMENT,
      name: 'order-enrichment',
      memorySize: 1024,
      timeout: Duration.seconds(20),
      batchSize: 5,
      maxAttempts: 20,
      environment: { TIER_SOURCE: 'crm' },
    });
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources;
  }, SYNTH_TIMEOUT);

  it('reads the topology from the bundle: name, topics read and written, internal topics, description', () => {
    expect(clicks.name).toBe('clicks-per-minute');
    expect(clicks.topology).toMatchObject({
      applicationId: 'clicks-per-minute',
      sourceTopics: ['clicks'],
      internalTopics: ['clicks-per-minute-repartition-0'],
      outputTopics: ['clicks-per-minute'],
    });
    expect(clicks.topology.description).toContain('windowed-count');
    expect(enrichment.topology).toMatchObject({ sourceTopics: ['customers', 'orders'], internalTopics: ['order-enrichment-repartition-0'], outputTopics: ['enriched-orders'] });
  });

  it('deploys the bundle as a Node.js 22 arm64 function, with the runtime\'s variables and the user\'s', () => {
    const fn = resources[logicalId(stack, clicks.function)]!.Properties;
    expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler', MemorySize: 512, Timeout: 30, Description: 'Sluice stream processor clicks-per-minute' });
    expect(fn.Environment.Variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      SLUICE_PROCESSOR_NAME: 'clicks-per-minute',
      ...Object.fromEntries(
        (Object.keys(STREAM_PROCESSOR_TABLE_ACCESS) as TableName[]).map((t) => [TABLES[t].envVar, { Ref: logicalId(stack, sluice.tables.tables[t]) }]),
      ),
    });
    const other = resources[logicalId(stack, enrichment.function)]!.Properties;
    expect(other).toMatchObject({ MemorySize: 1024, Timeout: 20 });
    expect(other.Environment.Variables).toMatchObject({ TIER_SOURCE: 'crm', SLUICE_PROCESSOR_NAME: 'order-enrichment' });
    // Its own log group, with retention; its own role, not the default one's managed policy.
    expect(fn.LoggingConfig).toMatchObject({ LogFormat: 'JSON', LogGroup: { Ref: logicalId(stack, clicks.logGroup) } });
    expect(resources[logicalId(stack, clicks.logGroup)]!.Properties.RetentionInDays).toBe(30);
    expect(resources[fn.Role['Fn::GetAtt'][0]]!.Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('subscribes the function to every topic it reads, internal ones included, from the earliest event', () => {
    expect(clicks.subscriptions.map((s) => [s.topic, s.name])).toEqual([
      ['clicks', 'clicks-per-minute'],
      ['clicks-per-minute-repartition-0', 'clicks-per-minute'],
    ]);
    expect(enrichment.subscriptions.map((s) => s.topic)).toEqual(['customers', 'orders', 'order-enrichment-repartition-0']);
    // As the functions receive them: each queue URL a token resolved at deploy time.
    const [, parts] = resources[logicalId(stack, sluice.functions.functions.dispatcher)]!.Properties.Environment.Variables[DECLARED_SUBSCRIPTIONS_ENV]['Fn::Join'];
    const subscriptions = JSON.parse((parts as (string | Json)[]).map((p) => (typeof p === 'string' ? p : `https://sqs.example/${p.Ref}`)).join(''));
    const url = (s: { queue: IConstruct }) => ({ type: 'queue', queueUrl: `https://sqs.example/${logicalId(stack, s.queue)}` });
    expect(subscriptions).toEqual([
      ...clicks.subscriptions.map((s) => ({ topic: s.topic, name: 'clicks-per-minute', target: url(s), startAt: 'earliest', maxAttempts: 10 })),
      ...enrichment.subscriptions.map((s) => ({ topic: s.topic, name: 'order-enrichment', target: url(s), startAt: 'earliest', maxAttempts: 20 })),
    ]);
    // One event source per subscription queue, partial batch responses, the batch size given.
    const mappings = Object.values(template.findResources('AWS::Lambda::EventSourceMapping')).filter(
      (m) => m.Properties.FunctionName.Ref === logicalId(stack, enrichment.function),
    );
    expect(mappings).toHaveLength(3);
    for (const m of mappings) expect(m.Properties).toMatchObject({ BatchSize: 5, FunctionResponseTypes: ['ReportBatchItemFailures'] });
    // The queue hides a delivery for 6 × the function's timeout; its dead-letter queue after maxAttempts receives.
    const queue = resources[logicalId(stack, enrichment.subscriptions[0]!.queue)]!.Properties;
    expect(queue).toMatchObject({ FifoQueue: true, VisibilityTimeout: 120, RedrivePolicy: { maxReceiveCount: 20 } });
  });

  it('grants exactly the runtime\'s table actions, its queues and its log group, and nothing else', () => {
    const role = resources[logicalId(stack, clicks.function)]!.Properties.Role['Fn::GetAtt'][0];
    const grants = allowed(template, role);
    const expected = new Map<string, string[]>([
      [logicalId(stack, clicks.logGroup), ['logs:CreateLogStream', 'logs:PutLogEvents']],
      ...(Object.entries(STREAM_PROCESSOR_TABLE_ACCESS) as [TableName, readonly string[]][]).map(
        ([t, actions]) => [logicalId(stack, sluice.tables.tables[t]), actions.map((a) => `dynamodb:${a}`).sort()] as [string, string[]],
      ),
      ...clicks.subscriptions.map(
        (s) =>
          [logicalId(stack, s.queue), ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage']] as [
            string,
            string[],
          ],
      ),
    ]);
    expect(grants).toEqual(expected);
  });

  it('declares the processors and the topics they read to the processors function, which may only query the processors table', () => {
    const processorsFn = sluice.functions.functions.processors;
    const env = resources[logicalId(stack, processorsFn)]!.Properties.Environment.Variables;
    const declared = JSON.parse(env[PROCESSORS_ENV.declared]);
    expect(declared).toEqual([
      { name: 'clicks-per-minute', inputs: ['clicks', 'clicks-per-minute-repartition-0'] },
      { name: 'order-enrichment', inputs: ['customers', 'orders', 'order-enrichment-repartition-0'] },
    ]);
    for (const d of declared) expect(declaredProcessorSchema.safeParse(d).success).toBe(true);
    const grants = allowed(template, resources[logicalId(stack, processorsFn)]!.Properties.Role['Fn::GetAtt'][0]);
    expect(grants.get(logicalId(stack, sluice.tables.tables.processors))).toEqual(['dynamodb:Query']);
  });

  it('creates the processors table with the runtime\'s keys and TTL', () => {
    expect(resources[logicalId(stack, sluice.tables.tables.processors)]!.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      BillingMode: 'PAY_PER_REQUEST',
    });
  });
});

describe('StreamProcessor validation at synth', () => {
  const attempt = (props: Partial<StreamProcessorProps>, setup?: (s: ReturnType<typeof userStack>) => void) => {
    const s = userStack();
    setup?.(s);
    return () => new StreamProcessor(s.stack, 'Processor', { sluice: s.sluice, entry: CLICKS, ...props });
  };

  it('refuses a name other than the module\'s application ID', () => {
    expect(attempt({ name: 'clicks' })).toThrow(/name "clicks" must equal the application ID the entry gives streams\(\): "clicks-per-minute"/);
  }, SYNTH_TIMEOUT);

  it('refuses two processors with one application ID in one installation (they would share state)', () => {
    expect(attempt({}, (s) => new StreamProcessor(s.stack, 'First', { sluice: s.sluice, entry: CLICKS }))).toThrow(
      /another StreamProcessor of this Sluice is named clicks-per-minute/,
    );
  }, SYNTH_TIMEOUT);

  it('refuses bad props before bundling anything, every problem at once', () => {
    let problems: readonly string[] = [];
    try {
      attempt({ entry: join(PROCESSORS, 'missing.ts'), batchSize: 11, maxAttempts: 0, memorySize: 64, environment: { SLUICE_LOG_TABLE: 'x' } })();
    } catch (error) {
      expect(error).toBeInstanceOf(SluicePropsError);
      problems = (error as SluicePropsError).problems;
    }
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).toMatch(/entry .*missing\.ts does not exist/);
    expect(problems).toContain('memorySize must be a whole number of MB from 128 to 10240; got 64');
    expect(problems).toContain('batchSize must be a whole number from 1 to 10 (an SQS FIFO event source); got 11');
    expect(problems).toContain('maxAttempts must be a whole number from 1 to 100; got 0');
    expect(problems).toContain("environment may not set Sluice's own variables: SLUICE_LOG_TABLE");
  });

  it('refuses a processor in another stack than its Sluice', () => {
    const { app, sluice } = userStack();
    const other = new Stack(app, 'Elsewhere');
    expect(() => new StreamProcessor(other, 'Processor', { sluice, entry: CLICKS })).toThrow(/must be in the same stack as its Sluice \(Analytics\)/);
  });

  it('refuses an entry that exports no topology, and one that fails to load, with what it printed', () => {
    // types.ts exports only types: its bundle exports nothing.
    expect(attempt({ entry: join(PROCESSORS, 'types.ts') })).toThrow(/the entry exports no topology: export const handler = sluiceProcessor\(app\)/);
    // Under the project root (NodejsFunction bundles from there), out of the way of git and tsc.
    mkdirSync(join(ROOT, 'node_modules/.cache'), { recursive: true });
    const dir = mkdtempSync(join(ROOT, 'node_modules/.cache/stream-processor-'));
    dirs.push(dir);
    const broken = join(dir, 'broken.ts');
    writeFileSync(
      broken,
      `import { streams, sluiceProcessor } from ${JSON.stringify(join(ROOT, 'lambda/streams'))};\n` +
        "const app = streams('broken');\napp.stream('a').to('a');\nexport const handler = sluiceProcessor(app);\n",
    );
    expect(attempt({ entry: broken })).toThrow(/could not read the topology of .*exited with 1.*TopologyError/s);
  }, SYNTH_TIMEOUT);

  it('refuses, at synth, more processors and declared ACLs than fit the processors function\'s environment', () => {
    const { app, stack, sluice } = userStack({ authorization: 'acl' });
    // About 2,900 bytes of declared ACLs: within their own budget, not with the processors.
    for (let i = 0; i < 32; i++) {
      sluice.addAcl({ principal: `arn:aws:iam::111111111111:role/consumer-${i}`, resourceType: 'topic', patternType: 'literal', resourceName: `topic-${i}`, operation: 'read', permission: 'allow' });
    }
    new StreamProcessor(stack, 'ClicksPerMinute', { sluice, entry: CLICKS });
    new StreamProcessor(stack, 'OrderEnrichment', { sluice, entry: ENRICHMENT });
    expect(() => app.synth()).toThrow(/stream processors declared in this Sluice \(2\) and its declared ACLs take about \d+ bytes of the processors function's environment/);
  }, SYNTH_TIMEOUT);

  it('does not bundle or run anything for a stack whose bundling is skipped (cdk deploy OtherStack)', () => {
    const app = newApp({ 'aws:cdk:bundling-stacks': ['Other'] });
    const { stack, sluice } = userStack({}, app);
    const processor = new StreamProcessor(stack, 'Processor', { sluice, entry: CLICKS });
    expect(processor.subscriptions).toEqual([]);
    expect(() => app.synth()).not.toThrow();
  });
});

describe('cdk-nag with stream processors', () => {
  it.each(['http', 'rest'] as const)('reports nothing on Sluice\'s constructs or the processor (%s API)', (api) => {
    const app = newApp();
    const stack = new Stack(app, 'Analytics');
    const sluice = new Sluice(stack, 'Events', { api });
    new StreamProcessor(stack, 'ClicksPerMinute', { sluice, entry: CLICKS });
    applyNagChecks(app);
    const reportFile = join(app.outdir, 'validation-report.json');
    try {
      app.synth();
    } catch (error) {
      if (!existsSync(reportFile)) throw error;
    }
    const findings = JSON.parse(readFileSync(reportFile, 'utf8'))
      .pluginReports.flatMap((r: Json) => r.violations)
      .flatMap((v: Json) => v.violatingConstructs.map((c: Json) => `${v.ruleName} ${c.constructPath}`));
    expect(findings).toEqual([]);
  }, SYNTH_TIMEOUT);
});
