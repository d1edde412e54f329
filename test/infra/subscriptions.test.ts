/**
 * Push subscriptions in the CDK: `subscribeLambda`/`subscribeQueue` in a user's own stack (the
 * subscriber queue, its DLQ, the event source, the grants, `SLUICE_DECLARED_SUBSCRIPTIONS` with
 * deploy-time tokens), the targets run-time subscriptions may use, the webhooks prop, synth-time
 * validation, and cdk-nag over the result in both API modes.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declaredSubscriptionSchema } from '../../api/subscriptions';
import { FUNCTIONS, type FunctionName } from '../../definitions/functions';
import { applyNagChecks } from '../../lib/nag';
import { Sluice, type SluiceProps } from '../../lib/sluice';
import type { SluiceApiType } from '../../lib/sluice-api';
import { SluiceStack } from '../../lib/sluice-stack';
import { DECLARED_SUBSCRIPTIONS_ENV, WEBHOOK_ALLOW_PRIVATE_NETWORKS_ENV } from '../../lib/sluice-subscriptions';

const SYNTH_TIMEOUT = 120_000;
const CDK_CONTEXT = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;
const outdirs: string[] = [];
const newApp = () => {
  outdirs.push(mkdtempSync(join(tmpdir(), 'sluice-cdk-')));
  return new App({ context: CDK_CONTEXT, outdir: outdirs.at(-1) });
};
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

type Json = Record<string, any>;

/** A user's stack: Sluice, and the user's own function and FIFO queue. */
function userStack(props: SluiceProps = {}, app = newApp()) {
  const stack = new Stack(app, 'Orders');
  const sluice = new Sluice(stack, 'Events', props);
  const fn = new lambda.Function(stack, 'OrderHandler', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
    timeout: Duration.seconds(20),
  });
  const audit = new sqs.Queue(stack, 'Audit', { fifo: true, enforceSSL: true });
  return { app, stack, sluice, fn, audit };
}

const logicalId = (stack: Stack, construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);

/** Actions the role's policies allow, by resource logical ID. */
function allowed(template: Template, stack: Stack, role: IConstruct): Map<string, Set<string>> {
  const roleId = logicalId(stack, role);
  const byResource = new Map<string, Set<string>>();
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p) =>
    p.Properties.Roles.some((r: Json) => r.Ref === roleId),
  );
  for (const statement of policies.flatMap((p) => p.Properties.PolicyDocument.Statement)) {
    for (const resource of [statement.Resource].flat()) {
      const id = resource.Ref ?? resource['Fn::GetAtt']?.[0] ?? JSON.stringify(resource);
      const actions = byResource.get(id) ?? new Set<string>();
      for (const action of [statement.Action].flat()) actions.add(action);
      byResource.set(id, actions);
    }
  }
  return byResource;
}

describe('subscribeLambda in a user\'s stack', () => {
  let stack: Stack;
  let sluice: Sluice;
  let fn: lambda.Function;
  let audit: sqs.Queue;
  let template: Template;
  let resources: Record<string, Json>;
  let subscription: ReturnType<Sluice['subscribeLambda']>;

  beforeAll(() => {
    ({ stack, sluice, fn, audit } = userStack());
    subscription = sluice.subscribeLambda(fn, {
      topic: 'orders',
      name: 'order-handler',
      filter: { key: [{ prefix: 'eu-' }], value: { total: [{ numeric: ['>', 100] }] } },
      startAt: 'earliest',
      batchSize: 5,
      maxAttempts: 7,
    });
    sluice.subscribeQueue(audit, { topic: 'orders', name: 'audit' });
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources;
  }, SYNTH_TIMEOUT);

  const props = (construct: IConstruct): Json => resources[logicalId(stack, construct)]!.Properties;

  it('creates a high-throughput FIFO queue with a FIFO DLQ after maxAttempts receives, encrypted', () => {
    const queue = props(subscription.queue);
    expect(queue).toMatchObject({
      FifoQueue: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      SqsManagedSseEnabled: true,
      // 6 × the function's 20 s timeout (AWS's guidance for SQS event sources).
      VisibilityTimeout: 120,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, subscription.deadLetterQueue!), 'Arn'] }, maxReceiveCount: 7 },
    });
    expect(props(subscription.deadLetterQueue!)).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true, MessageRetentionPeriod: 14 * 86_400 });
  });

  it('refuses requests without TLS on both queues', () => {
    for (const queue of [subscription.queue, subscription.deadLetterQueue!]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(stack, queue) }],
        PolicyDocument: { Statement: [{ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Action: 'sqs:*', Principal: { AWS: '*' }, Resource: { 'Fn::GetAtt': [logicalId(stack, queue), 'Arn'] } }] },
      });
    }
  });

  it('triggers the user\'s function from the queue, with partial batch responses and the batch size', () => {
    const mappings = Object.values(
      template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: logicalId(stack, fn) } } }),
    );
    expect(mappings.map((m) => m.Properties)).toEqual([
      {
        FunctionName: { Ref: logicalId(stack, fn) },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, subscription.queue), 'Arn'] },
        BatchSize: 5,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    ]);
  });

  it('lets the user\'s function consume the queue, and the deliverer send to it (and to the subscribed queue), nothing more', () => {
    const consume = allowed(template, stack, fn.role!).get(logicalId(stack, subscription.queue));
    expect(consume).toEqual(new Set(['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']));
    const deliverer = allowed(template, stack, sluice.functions.functions.deliverer.role!);
    for (const queue of [subscription.queue, audit]) {
      expect(deliverer.get(logicalId(stack, queue))).toEqual(new Set(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']));
    }
    expect(deliverer.get(logicalId(stack, subscription.deadLetterQueue!))).toBeUndefined();
  });

  it.each(['dispatcher', 'deliverer', 'subscriptions'] as const)(
    'declares the subscriptions to the %s function as JSON whose queue URLs resolve at deploy time',
    (name) => {
      const value = props(sluice.functions.functions[name]).Environment.Variables[DECLARED_SUBSCRIPTIONS_ENV];
      const [separator, parts] = value['Fn::Join'];
      expect(separator).toBe('');
      // Substitute each token with a recognisable URL and parse what the function will read.
      const resolved = (parts as (string | Json)[])
        .map((p) => (typeof p === 'string' ? p : `https://sqs.example/${p.Ref}`))
        .join('');
      const declared = JSON.parse(resolved);
      expect(declared).toEqual([
        {
          topic: 'orders',
          name: 'order-handler',
          target: { type: 'queue', queueUrl: `https://sqs.example/${logicalId(stack, subscription.queue)}` },
          filter: { key: [{ prefix: 'eu-' }], value: { total: [{ numeric: ['>', 100] }] } },
          startAt: 'earliest',
          maxAttempts: 7,
        },
        { topic: 'orders', name: 'audit', target: { type: 'queue', queueUrl: `https://sqs.example/${logicalId(stack, audit)}` } },
      ]);
      // The runtime's own schema accepts what the CDK declares.
      for (const d of declared) expect(declaredSubscriptionSchema.safeParse(d).success, JSON.stringify(d)).toBe(true);
    },
  );

  it('gives no other function the declared subscriptions', () => {
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      if (['dispatcher', 'deliverer', 'subscriptions'].includes(name)) continue;
      expect(props(sluice.functions.functions[name]).Environment.Variables[DECLARED_SUBSCRIPTIONS_ENV], name).toBeUndefined();
    }
  });

  it('returns what it created', () => {
    expect(subscription).toMatchObject({ topic: 'orders', name: 'order-handler' });
    expect(subscription.eventSourceMappingId).toBeDefined();
    expect(sluice.subscriptions.map((s) => s.name)).toEqual(['order-handler', 'audit']);
  });
});

describe('subscription options are checked at synth time', () => {
  const errorOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return String((error as Error).message);
    }
    return undefined;
  };

  it('names a subscription after the function when no name is given, within the API\'s rules', () => {
    const { sluice, fn } = userStack();
    const { name } = sluice.subscribeLambda(fn, { topic: 'orders' });
    expect(name).toMatch(/^OrderHandler-[0-9a-f]{8}$/);
  });

  it.each([
    ['an invalid topic name', { topic: 'no/slashes' }, /subscription topic "no\/slashes" is not a topic name/],
    ['an invalid name', { topic: 'orders', name: 'a b' }, /subscription name "a b" must be 1 to 128/],
    ['a name over 128 characters', { topic: 'orders', name: 'x'.repeat(129) }, /subscription name/],
    ['an invalid filter', { topic: 'orders', filter: { key: [{ suffix: 'x' }] } }, /subscription filter is invalid/],
    ['an invalid start', { topic: 'orders', startAt: 'now' }, /startAt must be 'latest', 'earliest' or \{ timestamp \}/],
    ['maxAttempts 0', { topic: 'orders', maxAttempts: 0 }, /maxAttempts must be a whole number from 1 to 100; got 0/],
    ['a batch size over 10', { topic: 'orders', batchSize: 11 }, /batchSize must be a whole number from 1 to 10/],
  ])('refuses %s', (_, options, message) => {
    const { sluice, fn } = userStack();
    expect(errorOf(() => sluice.subscribeLambda(fn, options as never))).toMatch(message);
  });

  it('refuses two subscriptions of one name on one topic', () => {
    const { sluice, fn, audit } = userStack();
    sluice.subscribeLambda(fn, { topic: 'orders', name: 'x' });
    expect(errorOf(() => sluice.subscribeQueue(audit, { topic: 'orders', name: 'x' }))).toMatch(/already has a subscription named x/);
    expect(() => sluice.subscribeQueue(audit, { topic: 'payments', name: 'x' })).not.toThrow();
  });

  it('refuses a standard queue for subscribeQueue, with how to fix it', () => {
    const { stack, sluice } = userStack();
    const standard = new sqs.Queue(stack, 'Standard', { enforceSSL: true });
    expect(errorOf(() => sluice.subscribeQueue(standard, { topic: 'orders' }))).toMatch(/Orders\/Standard is not a FIFO queue.*fifo: true/);
    const imported = sqs.Queue.fromQueueArn(stack, 'Imported', 'arn:aws:sqs:us-east-1:111111111111:elsewhere.fifo');
    expect(() => sluice.subscribeQueue(imported, { topic: 'orders', name: 'elsewhere' })).not.toThrow();
  });

  it('refuses more declared subscriptions than fit in the functions\' environment', () => {
    const { stack, sluice } = userStack();
    const queue = sqs.Queue.fromQueueArn(stack, 'Many', 'arn:aws:sqs:us-east-1:111111111111:many.fifo');
    const declare = (i: number) => sluice.subscribeQueue(queue, { topic: `topic-${i}`, name: `subscription-${i}` });
    let i = 0;
    const error = errorOf(() => {
      for (; i < 100; i++) declare(i);
    });
    expect(error).toMatch(/take about \d+ bytes of the functions' environment, more than 3000/);
    expect(i).toBeGreaterThan(5);
  });

  it('forwards subscribeLambda and subscribeQueue from SluiceStack', () => {
    const app = newApp();
    const stack = new SluiceStack(app, 'Sluice');
    const fn = new lambda.Function(stack, 'Fn', { runtime: lambda.Runtime.NODEJS_22_X, handler: 'index.handler', code: lambda.Code.fromInline('x') });
    expect(stack.subscribeLambda(fn, { topic: 'orders', name: 'fn' }).name).toBe('fn');
    expect(stack.subscribeQueue(new sqs.Queue(stack, 'Q', { fifo: true }), { topic: 'orders', name: 'q' }).name).toBe('q');
    expect(stack.sluice.subscriptions).toHaveLength(2);
  });
});

describe('subscriptionTargets and webhooks', () => {
  it('grants the deliverer SendMessage on exactly the target queues and InvokeFunction on exactly the target functions', () => {
    const app = newApp();
    const stack = new Stack(app, 'Orders');
    const queue = new sqs.Queue(stack, 'Target', { fifo: true, enforceSSL: true });
    const fn = lambda.Function.fromFunctionArn(stack, 'TargetFn', 'arn:aws:lambda:us-east-1:111111111111:function:target');
    const sluice = new Sluice(stack, 'Events', { subscriptionTargets: { queues: [queue], functions: [fn] } });
    const template = Template.fromStack(stack);
    const deliverer = allowed(template, stack, sluice.functions.functions.deliverer.role!);
    expect(deliverer.get(logicalId(stack, queue))).toEqual(new Set(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']));
    const invoke = [...deliverer.entries()].filter(([, actions]) => actions.has('lambda:InvokeFunction'));
    expect(invoke.map(([resource]) => resource)).toEqual([JSON.stringify('arn:aws:lambda:us-east-1:111111111111:function:target')]);
    expect(Object.keys(template.findResources('AWS::Lambda::Permission')).filter((id) => id.includes('Target'))).toEqual([]);
    // No other function may send to the target queue or invoke the target function.
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      if (name === 'deliverer') continue;
      const other = allowed(template, stack, sluice.functions.functions[name].role!);
      expect(other.get(logicalId(stack, queue)), name).toBeUndefined();
      expect([...other.values()].some((a) => a.has('lambda:InvokeFunction')), name).toBe(false);
    }
  });

  it('refuses a standard queue as a target', () => {
    const stack = new Stack(newApp(), 'Orders');
    const queue = new sqs.Queue(stack, 'Standard');
    expect(() => new Sluice(stack, 'Events', { subscriptionTargets: { queues: [queue] } })).toThrow(/Orders\/Standard is not a FIFO queue/);
  });

  it('sets SLUICE_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true on the deliverer and subscriptions functions only when allowed', () => {
    const env = (props: SluiceProps) => {
      const stack = new Stack(newApp(), 'Orders');
      const sluice = new Sluice(stack, 'Events', props);
      const resources = Template.fromStack(stack).toJSON().Resources;
      return Object.fromEntries(
        (Object.keys(FUNCTIONS) as FunctionName[]).map((name) => [
          name,
          resources[logicalId(stack, sluice.functions.functions[name])].Properties.Environment.Variables[WEBHOOK_ALLOW_PRIVATE_NETWORKS_ENV],
        ]),
      );
    };
    const allowedEnv = env({ webhooks: { allowPrivateNetworks: true } });
    expect(Object.entries(allowedEnv).filter(([, v]) => v !== undefined)).toEqual([
      ['subscriptions', 'true'],
      ['deliverer', 'true'],
    ]);
    expect(Object.values(env({})).filter((v) => v !== undefined)).toEqual([]);
    expect(Object.values(env({ webhooks: { allowPrivateNetworks: false } })).filter((v) => v !== undefined)).toEqual([]);
  }, SYNTH_TIMEOUT);
});

describe.each(['http', 'rest'] as SluiceApiType[])('cdk-nag with subscriptions (%s API)', (api) => {
  it('reports nothing on Sluice\'s constructs, the subscriber queues and target grants included', () => {
    const app = newApp();
    const targets = new Stack(app, 'Targets');
    const targetQueue = new sqs.Queue(targets, 'TargetQueue', { fifo: true, enforceSSL: true });
    const targetFn = lambda.Function.fromFunctionArn(targets, 'TargetFn', 'arn:aws:lambda:us-east-1:111111111111:function:target');
    const { sluice, fn, audit } = userStack(
      { api, webhooks: { allowPrivateNetworks: true }, subscriptionTargets: { queues: [targetQueue], functions: [targetFn] } },
      app,
    );
    sluice.subscribeLambda(fn, { topic: 'orders' });
    sluice.subscribeQueue(audit, { topic: 'orders', name: 'audit' });
    applyNagChecks(app);
    const reportFile = join(app.outdir, 'validation-report.json');
    try {
      app.synth();
    } catch (error) {
      if (!existsSync(reportFile)) throw error;
    }
    const findings = JSON.parse(readFileSync(reportFile, 'utf8'))
      .pluginReports.filter((r: Json) => r.pluginName === 'AwsSolutions')
      .flatMap((r: Json) => r.violations)
      .flatMap((v: Json) => v.violatingConstructs.map((c: Json) => `${v.ruleName} ${c.constructPath}`));
    // The user's own function (its default role, its runtime) and queue are the user's business.
    expect(findings.filter((f: string) => f.includes('Orders/Events/'))).toEqual([]);
  }, SYNTH_TIMEOUT);
});

describe('declared ACLs and subscriptions together', () => {
  it('refuses, at synth, more than fits the subscriptions function\'s environment with ACLs on', () => {
    const { app, stack, sluice } = userStack({ authorization: 'acl' });
    const queue = sqs.Queue.fromQueueArn(stack, 'Shared', 'arn:aws:sqs:us-east-1:111111111111:shared.fifo');
    for (let i = 0; i < 12; i++) sluice.subscribeQueue(queue, { topic: `topic-${i}`, name: `subscription-${i}` });
    for (let i = 0; i < 12; i++) {
      sluice.addAcl({ principal: `arn:aws:iam::111111111111:role/consumer-${i}`, resourceType: 'topic', patternType: 'literal', resourceName: `topic-${i}`, operation: 'read', permission: 'allow' });
    }
    expect(() => app.synth()).toThrow(/ACLs and subscriptions declared in CDK take about \d+ bytes of the subscriptions function's environment/);
  }, SYNTH_TIMEOUT);
});
