/**
 * Message queues in the CDK: `addQueue` (the FIFO high-throughput queue and its FIFO DLQ, named
 * from the installation's prefix, tagged `sluice:origin=stack`), `addConsumer` (an SQS event source
 * with partial batch responses), the grants for callers of the API (IAM per route, ACLs on resource
 * type `queue`), synth-time validation, the queues function's IAM and environment, and cdk-nag.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CfnElement, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_DEFAULTS } from '../../api/queues';
import { AUTHORIZATION_ENV } from '../../definitions/authorization';
import { FUNCTIONS, ROUTES, functionEnvironment, type FunctionDefinition, type FunctionName } from '../../definitions/functions';
import { MESSAGE_QUEUES, messageDeadLetterQueueName, messageQueueName, messageQueueNameOf } from '../../definitions/queues';
import { applyNagChecks } from '../../lib/nag';
import { Sluice, type SluiceProps } from '../../lib/sluice';
import { SluiceMessageQueue } from '../../lib/sluice-message-queue';
import { SluiceStack } from '../../lib/sluice-stack';

const SYNTH_TIMEOUT = 120_000;
const CDK_CONTEXT = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;
const outdirs: string[] = [];
const newApp = () => {
  outdirs.push(mkdtempSync(join(tmpdir(), 'sluice-cdk-queues-')));
  return new App({ context: CDK_CONTEXT, outdir: outdirs.at(-1) });
};
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A user's stack: Sluice, a worker function (20 s timeout) and a role calling the API. */
function userStack(props: SluiceProps = {}, app = newApp()) {
  const stack = new Stack(app, 'Orders');
  const sluice = new Sluice(stack, 'Events', props);
  const worker = new lambda.Function(stack, 'Worker', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
    timeout: Duration.seconds(20),
  });
  const role = (id: string) => new iam.Role(stack, id, { assumedBy: new iam.AccountRootPrincipal() });
  return { app, stack, sluice, worker, role };
}

const logicalId = (stack: Stack, construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);

const errorOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (error) {
    return String((error as Error).message);
  }
  return undefined;
};

/** The statements of the policies attached to a role. */
function statementsOf(json: Json, roleId: string): Json[] {
  return Object.values(json.Resources as Record<string, Json>)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Json[]).some((ref) => ref.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Json[]);
}

/** The `/{stage}/{method}{path}` tails of the execute-api ARNs a role may invoke. */
function invokeTails(json: Json, roleId: string): string[] {
  const resources = statementsOf(json, roleId)
    .filter((s) => s.Action === 'execute-api:Invoke')
    .flatMap((s) => [s.Resource].flat() as Json[]);
  return resources
    .map((r) => {
      const parts = r['Fn::Join'][1] as unknown[];
      return String(parts[parts.length - 1]);
    })
    .sort();
}

/** The ACLs declared to a function, role ARNs shown as `<logical ID>`. */
function declaredAcls(json: Json, fnId: string): string[][] {
  const declared = json.Resources[fnId].Properties.Environment.Variables[AUTHORIZATION_ENV.declaredAcls] as Json;
  const parts = declared['Fn::Join'][1] as unknown[];
  return JSON.parse(parts.map((p) => (typeof p === 'string' ? p : `<${(p as Json)['Fn::GetAtt'][0]}>`)).join('')) as string[][];
}

describe('addQueue', () => {
  let stack: Stack;
  let sluice: Sluice;
  let worker: lambda.Function;
  let orders: SluiceMessageQueue;
  let payments: SluiceMessageQueue;
  let template: Template;
  let resources: Record<string, Json>;
  let prefix: string;

  beforeAll(() => {
    ({ stack, sluice, worker } = userStack());
    orders = sluice.addQueue('order-changes', {
      visibilityTimeout: Duration.minutes(2),
      maxReceiveCount: 3,
      retentionPeriod: Duration.days(2),
      deliveryDelay: Duration.seconds(5),
    });
    orders.addConsumer(worker, { batchSize: 5, maxConcurrency: 4 });
    payments = sluice.addQueue('payments');
    prefix = sluice.queues.messageQueuePrefix;
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources;
  }, SYNTH_TIMEOUT);

  const props = (construct: IConstruct): Json => resources[logicalId(stack, construct)]!.Properties;

  it('returns the construct the example uses: the SQS queue and the Sluice name', () => {
    expect(orders.queue).toBeInstanceOf(sqs.Queue);
    expect(orders.queueName).toBe('order-changes');
    expect(orders.deadLetterQueue).toBeInstanceOf(sqs.Queue);
    expect(sluice.messageQueues).toEqual([orders, payments]);
    expect(sluice.queue('order-changes')).toBe(orders);
  });

  it('names the queue and its DLQ from the installation\'s prefix, as the API names and lists them', () => {
    expect(prefix).toMatch(/^sluice-[0-9a-f]{6}-$/);
    expect(props(orders.queue).QueueName).toBe(messageQueueName(prefix, 'order-changes'));
    expect(props(orders.queue).QueueName).toBe(`${prefix}q-order-changes.fifo`);
    expect(props(orders.deadLetterQueue).QueueName).toBe(messageDeadLetterQueueName(prefix, 'order-changes'));
    expect(messageQueueNameOf(prefix, props(orders.queue).QueueName)).toBe('order-changes');
    // A DLQ is never listed as a queue.
    expect(messageQueueNameOf(prefix, props(orders.deadLetterQueue).QueueName)).toBeUndefined();
  });

  it('makes a FIFO queue in high-throughput mode with the given properties, redriving to its DLQ', () => {
    expect(props(orders.queue)).toEqual({
      QueueName: `${prefix}q-order-changes.fifo`,
      FifoQueue: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      VisibilityTimeout: 120,
      MessageRetentionPeriod: 2 * 86_400,
      DelaySeconds: 5,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(stack, orders.deadLetterQueue), 'Arn'] }, maxReceiveCount: 3 },
      SqsManagedSseEnabled: true,
      Tags: [{ Key: MESSAGE_QUEUES.originTag, Value: 'stack' }],
    });
  });

  it('makes the DLQ FIFO and high-throughput too, keeping dead letters 14 days', () => {
    expect(props(orders.deadLetterQueue)).toEqual({
      QueueName: `${prefix}d-order-changes.fifo`,
      FifoQueue: true,
      DeduplicationScope: 'messageGroup',
      FifoThroughputLimit: 'perMessageGroupId',
      MessageRetentionPeriod: 14 * 86_400,
      SqsManagedSseEnabled: true,
      Tags: [{ Key: 'sluice:origin', Value: 'stack' }],
    });
  });

  it('has the API\'s defaults when no option is given', () => {
    expect(props(payments.queue)).toMatchObject({
      VisibilityTimeout: QUEUE_DEFAULTS.visibilityTimeoutMs / 1000,
      MessageRetentionPeriod: QUEUE_DEFAULTS.retentionMs / 1000,
      DelaySeconds: 0,
      RedrivePolicy: { maxReceiveCount: QUEUE_DEFAULTS.maxReceiveCount },
    });
    expect(props(payments.queue)).toMatchObject({ VisibilityTimeout: 30, MessageRetentionPeriod: 4 * 86_400, RedrivePolicy: { maxReceiveCount: 5 } });
  });

  it('refuses requests without TLS on both queues', () => {
    for (const queue of [orders.queue, orders.deadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(stack, queue) }],
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Deny',
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Resource: { 'Fn::GetAtt': [logicalId(stack, queue), 'Arn'] },
            },
          ],
        },
      });
    }
  });

  it('attaches the consumer with partial batch responses, its batch size and concurrency, and no batching window', () => {
    const mappings = Object.values(
      template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: logicalId(stack, worker) } } }),
    );
    expect(mappings.map((m) => m.Properties)).toEqual([
      {
        FunctionName: { Ref: logicalId(stack, worker) },
        EventSourceArn: { 'Fn::GetAtt': [logicalId(stack, orders.queue), 'Arn'] },
        BatchSize: 5,
        ScalingConfig: { MaximumConcurrency: 4 },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    ]);
  });

  it('lets the consumer consume its queue only (not the DLQ, not the other queue)', () => {
    const statements = statementsOf(template.toJSON(), logicalId(stack, worker.role!));
    const onQueue = (queue: sqs.Queue) =>
      statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify({ 'Fn::GetAtt': [logicalId(stack, queue), 'Arn'] })).flatMap((s) => [s.Action].flat());
    expect(new Set(onQueue(orders.queue))).toEqual(
      new Set(['sqs:ReceiveMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueUrl', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']),
    );
    expect(onQueue(orders.deadLetterQueue)).toEqual([]);
    expect(onQueue(payments.queue)).toEqual([]);
  });

  it('gives a consumer 10 messages per batch by default', () => {
    const { stack: s, sluice: sl, worker: w } = userStack();
    sl.addQueue('jobs').addConsumer(w);
    const mapping = Object.values(Template.fromStack(s).findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: logicalId(s, w) } } }));
    expect(mapping.map((m) => m.Properties.BatchSize)).toEqual([10]);
    expect(mapping[0]!.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });
});

describe('encryption and the queue name prefix', () => {
  it('encrypts both queues with the installation\'s key when it has one', () => {
    const app = newApp();
    const stack = new Stack(app, 'Keyed');
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const sluice = new Sluice(stack, 'Events', { encryptionKey: key });
    const q = sluice.addQueue('jobs');
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Json>;
    for (const queue of [q.queue, q.deadLetterQueue]) {
      const p = resources[logicalId(stack, queue)]!.Properties;
      expect(p.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [logicalId(stack, key), 'Arn'] });
      expect(p.SqsManagedSseEnabled).toBeUndefined();
    }
  });

  it('uses queueNamePrefix for the queues, the queues function\'s variable and its grant', () => {
    const { stack, sluice } = userStack({ queueNamePrefix: 'shop_1-' });
    const q = sluice.addQueue('jobs');
    const json = Template.fromStack(stack).toJSON() as Json;
    expect(json.Resources[logicalId(stack, q.queue)].Properties.QueueName).toBe('shop_1-q-jobs.fifo');
    expect(json.Resources[logicalId(stack, q.deadLetterQueue)].Properties.QueueName).toBe('shop_1-d-jobs.fifo');
    const fn = sluice.functions.functions.queues;
    expect(json.Resources[logicalId(stack, fn)].Properties.Environment.Variables[MESSAGE_QUEUES.prefixEnvVar]).toBe('shop_1-');
    const resources = statementsOf(json, logicalId(stack, fn.role!)).flatMap((s) => [s.Resource].flat());
    expect(JSON.stringify(resources)).toContain('":shop_1-*"');
  });

  it('derives different default prefixes for two installations in one app', () => {
    const app = newApp();
    const a = new Sluice(new Stack(app, 'A'), 'Events');
    const b = new Sluice(new Stack(app, 'B'), 'Events');
    expect(a.queues.messageQueuePrefix).not.toBe(b.queues.messageQueuePrefix);
  });

  it('refuses a prefix outside SQS\'s name rules', () => {
    expect(errorOf(() => userStack({ queueNamePrefix: 'has.dot-' }))).toMatch(/messageQueuePrefix must be 1 to 24 of \[a-zA-Z0-9_-\]/);
    expect(errorOf(() => userStack({ queueNamePrefix: 'x'.repeat(25) }))).toMatch(/messageQueuePrefix must be 1 to 24/);
  });
});

describe('the queues function', () => {
  let stack: SluiceStack;
  let json: Json;
  const queuesDef = FUNCTIONS.queues;

  beforeAll(() => {
    stack = new SluiceStack(newApp(), 'Sluice');
    json = Template.fromStack(stack).toJSON() as Json;
  }, SYNTH_TIMEOUT);

  const sqsStatements = (name: FunctionName) =>
    statementsOf(json, logicalId(stack, stack.functions.functions[name].role!)).filter((s) =>
      [s.Action].flat().some((a: string) => a.startsWith('sqs:')),
    );
  const prefixArn = () => ({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':sqs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${stack.queues.messageQueuePrefix}*`]],
  });

  it('may call exactly the SQS actions of its definition on the prefix\'s queues, and ListQueues alone on *', () => {
    const statements = sqsStatements('queues');
    const scoped = statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(prefixArn()));
    expect(scoped).toHaveLength(1);
    expect([scoped[0]!.Action].flat().sort()).toEqual(
      queuesDef.messageQueues.filter((a) => a !== 'ListQueues').map((a) => `sqs:${a}`).sort(),
    );
    const everywhere = statements.filter((s) => s.Resource === '*');
    expect(everywhere).toEqual([{ Action: 'sqs:ListQueues', Effect: 'Allow', Resource: '*' }]);
    expect(statements).toHaveLength(2);
  });

  it.each(Object.keys(FUNCTIONS) as FunctionName[])('%s: exactly its definition\'s message-queue actions on the prefix, ListQueues only if listed', (name) => {
    const actions = (FUNCTIONS[name] as FunctionDefinition).messageQueues ?? [];
    const statements = sqsStatements(name);
    const scoped = statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(prefixArn())).flatMap((s) => [s.Action].flat());
    expect(scoped.sort()).toEqual(actions.filter((a) => a !== 'ListQueues').map((a) => `sqs:${a}`).sort());
    const everywhere = statements.filter((s) => s.Resource === '*');
    expect(everywhere).toEqual(actions.includes('ListQueues') ? [{ Action: 'sqs:ListQueues', Effect: 'Allow', Resource: '*' }] : []);
    const variables = json.Resources[logicalId(stack, stack.functions.functions[name])].Properties.Environment.Variables as Json;
    expect(variables[MESSAGE_QUEUES.prefixEnvVar]).toBe(actions.length > 0 ? stack.queues.messageQueuePrefix : undefined);
  });

  it('gets the prefix and exactly the variables of its definition', () => {
    const variables = json.Resources[logicalId(stack, stack.functions.functions.queues)].Properties.Environment.Variables as Json;
    expect(variables[MESSAGE_QUEUES.prefixEnvVar]).toBe(stack.queues.messageQueuePrefix);
    const expected = functionEnvironment(queuesDef, {
      tables: stack.tables.tableNames,
      queues: stack.queues.queueUrls,
      queuePrefix: stack.queues.messageQueuePrefix,
    });
    expect(Object.keys(variables).sort()).toEqual([...Object.keys(expected), 'NODE_OPTIONS'].sort());
    expect(queuesDef.timeoutSeconds).toBeLessThan(30);
    expect(json.Resources[logicalId(stack, stack.functions.functions.queues)].Properties.Timeout).toBe(queuesDef.timeoutSeconds);
  });

  it('serves the queue routes', () => {
    const routes = ROUTES.filter((r) => r.function === 'queues').map((r) => `${r.method} ${r.path}`);
    expect(routes).toHaveLength(11);
    for (const key of routes) {
      const [route] = Object.values(json.Resources as Record<string, Json>).filter((r) => r.Type === 'AWS::ApiGatewayV2::Route' && r.Properties.RouteKey === key);
      expect(route, key).toBeDefined();
    }
  });

  it('forwards addQueue, queue and grantQueueAdmin from SluiceStack', () => {
    const own = new SluiceStack(newApp(), 'Own');
    const q = own.addQueue('jobs');
    expect(own.queue('jobs')).toBe(q);
    expect(own.sluice.messageQueues).toEqual([q]);
    const role = new iam.Role(own, 'Admin', { assumedBy: new iam.AccountRootPrincipal() });
    own.grantQueueAdmin(role);
    expect(invokeTails(Template.fromStack(own).toJSON(), logicalId(own, role))).toEqual(['/*/*/queues', '/*/*/queues/*']);
  }, SYNTH_TIMEOUT);
});

describe.each(['acl', 'iam-only'] as const)('grants for callers of the API (authorization %s)', (authorization) => {
  let json: Json;
  const ids: Record<string, string> = {};
  let sluice: Sluice;
  let stack: Stack;
  const acl = authorization === 'acl';

  beforeAll(() => {
    const built = userStack({ authorization });
    ({ stack, sluice } = built);
    const orders = sluice.addQueue('order-changes');
    const roles = Object.fromEntries(['Sender', 'Consumer', 'Admin', 'QueueAdmin', 'PrefixSender', 'DeclaredConsumer'].map((id) => [id, built.role(id)]));
    orders.grantSend(roles.Sender!);
    sluice.queue('jobs').grantConsume(roles.Consumer!); // created at run time, through the API
    sluice.queue('jobs').grantAdmin(roles.Admin!);
    sluice.grantQueueAdmin(roles.QueueAdmin!);
    sluice.grantQueueSend(roles.PrefixSender!, { prefix: 'orders-' });
    sluice.queue('order-changes').grantConsume(roles.DeclaredConsumer!);
    json = Template.fromStack(stack).toJSON() as Json;
    for (const [id, role] of Object.entries(roles)) ids[id] = logicalId(stack, role);
  }, SYNTH_TIMEOUT);

  it('grantSend allows only POST /queues/{queue}/messages', () => {
    expect(invokeTails(json, ids.Sender!)).toEqual(['/*/POST/queues/order-changes/messages']);
    expect(invokeTails(json, ids.PrefixSender!)).toEqual(['/*/POST/queues/orders-*/messages']);
  });

  it('grantConsume allows receive, ack, nack, extend and describe (and, with ACLs, the listing)', () => {
    const expected = [
      '/*/GET/queues/jobs',
      '/*/POST/queues/jobs/receive',
      '/*/POST/queues/jobs/ack',
      '/*/POST/queues/jobs/nack',
      '/*/POST/queues/jobs/extend',
      ...(acl ? ['/*/GET/queues'] : []),
    ];
    expect(invokeTails(json, ids.Consumer!)).toEqual(expected.sort());
    expect(invokeTails(json, ids.DeclaredConsumer!)).toEqual(expected.map((t) => t.replace('/jobs', '/order-changes')).sort());
  });

  it('grantAdmin on a queue allows every route of that queue (and, with ACLs, creating and listing)', () => {
    const routes = ROUTES.filter((r) => r.path.startsWith('/queues/{queue}')).map((r) => `/*/${r.method}${r.path.replace('{queue}', 'jobs')}`);
    expect(routes).toHaveLength(9);
    expect(invokeTails(json, ids.Admin!)).toEqual([...routes, ...(acl ? ['/*/POST/queues', '/*/GET/queues'] : [])].sort());
  });

  it('grantQueueAdmin allows every method on /queues and below, and nothing about topics, groups or ACLs', () => {
    expect(invokeTails(json, ids.QueueAdmin!)).toEqual(['/*/*/queues', '/*/*/queues/*']);
  });

  it(acl ? 'declares the ACLs on resource type queue to every routed function' : 'declares no ACL', () => {
    const fnId = logicalId(stack, sluice.functions.functions.queues);
    if (!acl) {
      expect(json.Resources[fnId].Properties.Environment.Variables[AUTHORIZATION_ENV.declaredAcls]).toBeUndefined();
      return;
    }
    const acls = declaredAcls(json, fnId);
    expect(acls).toEqual([
      [`<${ids.Sender}>`, 'queue', 'literal', 'order-changes', 'write', 'allow'],
      [`<${ids.Consumer}>`, 'queue', 'literal', 'jobs', 'read', 'allow'],
      [`<${ids.Admin}>`, 'queue', 'literal', 'jobs', 'all', 'allow'],
      [`<${ids.QueueAdmin}>`, 'queue', 'literal', '*', 'all', 'allow'],
      [`<${ids.PrefixSender}>`, 'queue', 'prefixed', 'orders-', 'write', 'allow'],
      [`<${ids.DeclaredConsumer}>`, 'queue', 'literal', 'order-changes', 'read', 'allow'],
    ]);
    expect(declaredAcls(json, logicalId(stack, sluice.functions.functions.topics))).toEqual(acls);
  });
});

describe('queue options are checked at synth time', () => {
  it.each([
    ['a name with a space', 'a b', {}, /queue name "a b" must be 1 to 48 of \[a-zA-Z0-9_-\]/],
    ['an empty name', '', {}, /queue name "" must be 1 to 48/],
    ['a name over 48 characters', 'x'.repeat(49), {}, /must be at most 48 characters/],
    ['a name with .fifo', 'jobs.fifo', {}, /queue name "jobs.fifo"/],
    ['a visibility timeout over 12 hours', 'q', { visibilityTimeout: Duration.hours(13) }, /visibilityTimeout must be a whole number of seconds from 0 seconds to 12 hours; got 13 hours/],
    ['a visibility timeout in fractions of a second', 'q', { visibilityTimeout: Duration.millis(1500) }, /visibilityTimeout must be a whole number of seconds/],
    ['maxReceiveCount 0', 'q', { maxReceiveCount: 0 }, /maxReceiveCount must be a whole number from 1 to 1000; got 0/],
    ['maxReceiveCount 1001', 'q', { maxReceiveCount: 1001 }, /maxReceiveCount must be a whole number from 1 to 1000; got 1001/],
    ['maxReceiveCount 2.5', 'q', { maxReceiveCount: 2.5 }, /maxReceiveCount must be a whole number/],
    ['a retention under a minute', 'q', { retentionPeriod: Duration.seconds(30) }, /retentionPeriod must be a whole number of seconds from 1 minute to 14 days; got 30 seconds/],
    ['a retention over 14 days', 'q', { retentionPeriod: Duration.days(15) }, /retentionPeriod must be .* to 14 days; got 15 days/],
    ['a delivery delay over 15 minutes', 'q', { deliveryDelay: Duration.minutes(16) }, /deliveryDelay must be a whole number of seconds from 0 seconds to 15 minutes; got 16 minutes/],
  ])('refuses %s', (_, name, options, message) => {
    const { sluice } = userStack();
    expect(errorOf(() => sluice.addQueue(name, options))).toMatch(message);
  });

  it('reports every problem of one queue together', () => {
    const { sluice } = userStack();
    const error = errorOf(() => sluice.addQueue('q', { maxReceiveCount: 0, deliveryDelay: Duration.hours(1) }));
    expect(error).toMatch(/Invalid props for Orders\/Events\/MessageQueues\/q/);
    expect(error).toMatch(/maxReceiveCount/);
    expect(error).toMatch(/deliveryDelay/);
  });

  it('accepts the limits themselves', () => {
    const { sluice } = userStack();
    expect(() =>
      sluice.addQueue('x'.repeat(48), {
        visibilityTimeout: Duration.hours(12),
        maxReceiveCount: 1000,
        retentionPeriod: Duration.days(14),
        deliveryDelay: Duration.minutes(15),
      }),
    ).not.toThrow();
    expect(() => sluice.addQueue('Min_1', { visibilityTimeout: Duration.seconds(0), maxReceiveCount: 1, retentionPeriod: Duration.minutes(1) })).not.toThrow();
  });

  it('refuses two queues of one name', () => {
    const { sluice } = userStack();
    sluice.addQueue('jobs');
    expect(errorOf(() => sluice.addQueue('jobs'))).toMatch(/a queue named jobs is already declared in this installation/);
  });

  it('refuses a bad name or prefix for grants on queues', () => {
    const { sluice, role } = userStack();
    expect(errorOf(() => sluice.queue('no/slash'))).toMatch(/queue name "no\/slash" must be 1 to 48/);
    expect(errorOf(() => sluice.grantQueueSend(role('R1'), { prefix: '' }))).toMatch(/queue prefix "" must be 1 to 48/);
    expect(errorOf(() => sluice.grantQueueConsume(role('R2'), { prefix: 'a*' }))).toMatch(/queue prefix "a\*"/);
  });

  describe('addConsumer', () => {
    it('refuses a visibility timeout shorter than the function\'s timeout, saying what to change', () => {
      const { sluice, worker } = userStack();
      const q = sluice.addQueue('jobs', { visibilityTimeout: Duration.seconds(10) });
      expect(errorOf(() => q.addConsumer(worker))).toMatch(
        /queue jobs has a visibility timeout of 10 s, less than the 20 s timeout of Orders\/Worker; Lambda refuses such an event source.*at least 20 s \(AWS recommends 6×, 120 s\)/,
      );
      // Nothing was attached.
      expect(Object.keys(Template.fromStack(q.queue.stack).findResources('AWS::Lambda::EventSourceMapping')).some((id) => id.startsWith('Worker'))).toBe(false);
    });

    it('warns below 6 times the function\'s timeout, and is quiet from there', () => {
      const { stack, sluice, worker } = userStack();
      sluice.addQueue('jobs', { visibilityTimeout: Duration.seconds(30) }).addConsumer(worker);
      sluice.addQueue('calm', { visibilityTimeout: Duration.seconds(120) }).addConsumer(worker);
      const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('6× the 20 s timeout'));
      expect(warnings.map((w) => w.id)).toEqual(['/Orders/Events/MessageQueues/jobs']);
      expect(String(warnings[0]!.entry.data)).toMatch(/queue jobs: a visibility timeout of 30 s is less than 6× the 20 s timeout of Orders\/Worker/);
    });

    it('does not check an imported function, whose timeout is unknown', () => {
      const { stack, sluice } = userStack();
      const imported = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:us-east-1:111111111111:function:elsewhere');
      expect(() => sluice.addQueue('jobs', { visibilityTimeout: Duration.seconds(0) }).addConsumer(imported)).not.toThrow();
    });

    it.each([
      ['a batch size over 10', { batchSize: 11 }, /batchSize must be a whole number from 1 to 10 \(an SQS FIFO event source\); got 11/],
      ['a batch size of 0', { batchSize: 0 }, /batchSize must be a whole number from 1 to 10/],
      ['a batching window', { maxBatchingWindow: Duration.seconds(1) }, /maxBatchingWindow must be zero: SQS FIFO event sources have no batching window \(got 1 second\)/],
      ['maxConcurrency 1', { maxConcurrency: 1 }, /maxConcurrency must be a whole number from 2 to 1000; got 1/],
      ['maxConcurrency 1001', { maxConcurrency: 1001 }, /maxConcurrency must be a whole number from 2 to 1000; got 1001/],
    ])('refuses %s', (_, options, message) => {
      const { sluice, worker } = userStack();
      const q = sluice.addQueue('jobs', { visibilityTimeout: Duration.minutes(2) });
      expect(errorOf(() => q.addConsumer(worker, options))).toMatch(message);
    });

    it('accepts a zero batching window (and sets none)', () => {
      const { stack, sluice, worker } = userStack();
      sluice.addQueue('jobs', { visibilityTimeout: Duration.minutes(2) }).addConsumer(worker, { maxBatchingWindow: Duration.seconds(0) });
      const [mapping] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: logicalId(stack, worker) } } }));
      expect(mapping!.Properties.MaximumBatchingWindowInSeconds).toBeUndefined();
    });

    it('refuses one function twice on one queue, and allows it on another', () => {
      const { sluice, worker } = userStack();
      const jobs = sluice.addQueue('jobs', { visibilityTimeout: Duration.minutes(2) });
      jobs.addConsumer(worker);
      expect(errorOf(() => jobs.addConsumer(worker))).toMatch(/addConsumer: Orders\/Worker already consumes queue jobs/);
      expect(() => sluice.addQueue('other', { visibilityTimeout: Duration.minutes(2) }).addConsumer(worker)).not.toThrow();
    });
  });
});

describe('cdk-nag with message queues', () => {
  it('reports nothing on Sluice\'s constructs, the declared queues, consumers and grants included', () => {
    const { app, sluice, worker, role } = userStack({ authorization: 'acl' });
    const q = sluice.addQueue('order-changes', { visibilityTimeout: Duration.minutes(2) });
    q.addConsumer(worker);
    q.grantSend(role('Sender'));
    sluice.queue('jobs').grantConsume(role('Consumer'));
    sluice.grantQueueAdmin(role('Admin'));
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
    // The user's own function (its default role, its runtime) and roles are the user's business.
    expect(findings.filter((f: string) => f.includes('Orders/Events/'))).toEqual([]);
  }, SYNTH_TIMEOUT);
});
