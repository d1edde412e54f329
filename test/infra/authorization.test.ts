/**
 * The `authorization` prop and the CDK grants: `grantProduce`, `grantConsume` and `grantAdmin` write
 * the IAM permission to call exactly the routes a role needs AND the ACL, named after the role by
 * a token that resolves at deploy time; ACLs off leaves the functions' environment as before.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZATION_ENV } from '../../definitions/authorization';
import { FUNCTIONS, type FunctionName } from '../../definitions/functions';
import { TABLES } from '../../definitions/tables';
import { Sluice } from '../../lib/sluice';
import { SluiceStack } from '../../lib/sluice-stack';
import type { SluiceApiType } from '../../lib/sluice-api';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function build(api: SluiceApiType, authorization: 'acl' | 'iam-only' = 'acl') {
  const app = new App();
  const stack = new SluiceStack(app, 'Sluice', { api, authorization, aclCacheTtl: Duration.seconds(2) });
  const producer = new iam.Role(stack, 'Producer', { assumedBy: new iam.AccountRootPrincipal() });
  const consumer = new iam.Role(stack, 'Consumer', { assumedBy: new iam.AccountRootPrincipal(), path: '/apps/' });
  const admin = new iam.Role(stack, 'Admin', { assumedBy: new iam.AccountRootPrincipal() });
  stack.grantProduce(producer, 'payments');
  stack.grantConsume(consumer, { topic: { prefix: 'payments.' }, group: 'billing' });
  stack.grantAdmin(admin);
  const template = Template.fromStack(stack);
  return { stack, template, json: template.toJSON() as Json, ids: { producer: stack.getLogicalId(producer.node.defaultChild as iam.CfnRole), consumer: stack.getLogicalId(consumer.node.defaultChild as iam.CfnRole), admin: stack.getLogicalId(admin.node.defaultChild as iam.CfnRole) } };
}

/** The statements of the policies attached to a role. */
function statementsOf(json: Json, roleId: string): Json[] {
  return Object.values(json.Resources as Record<string, Json>)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && (r.Properties.Roles as Json[]).some((ref) => ref.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement as Json[]);
}

/** The `{method}{path}` tail of each execute-api ARN (an Fn::Join whose last part is `/*\/GET/topics/...`). */
function invokeTails(json: Json, roleId: string): string[] {
  const statements = statementsOf(json, roleId).filter((s) => s.Action === 'execute-api:Invoke');
  expect(statements).toHaveLength(1);
  const resources = [statements[0]!.Resource].flat() as Json[];
  return resources.map((r) => {
    const parts = r['Fn::Join'][1] as unknown[];
    return String(parts[parts.length - 1]);
  }).sort();
}

function functionVariables(json: Json, name: FunctionName): Json {
  const fn = Object.values(json.Resources as Record<string, Json>).find(
    (r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Description === FUNCTIONS[name].description,
  )!;
  return fn.Properties.Environment.Variables as Json;
}

describe.each(['http', 'rest'] as const)('grants on the %s API', (api) => {
  let built: ReturnType<typeof build>;
  beforeAll(() => {
    built = build(api);
  });

  it('grantProduce allows invoking exactly the produce routes of its topic (plus the ACL-checked ones)', () => {
    expect(invokeTails(built.json, built.ids.producer)).toEqual(
      ['/*/GET/topics', '/*/GET/topics/payments', '/*/POST/topics/payments/events', '/*/POST/transactions'].sort(),
    );
  });

  it('grantConsume allows the topic reads and every route of its group', () => {
    expect(invokeTails(built.json, built.ids.consumer)).toEqual(
      [
        '/*/GET/topics',
        '/*/GET/groups',
        '/*/POST/transactions',
        '/*/GET/topics/payments.*',
        '/*/GET/topics/payments.*/partitions/*/events',
        '/*/GET/groups/billing',
        '/*/POST/groups/billing/members',
        '/*/POST/groups/billing/members/*/heartbeat',
        '/*/DELETE/groups/billing/members/*',
        '/*/GET/groups/billing/members/*/records',
        '/*/POST/groups/billing/offsets',
        '/*/POST/groups/billing/seek',
      ].sort(),
    );
  });

  it('grantAdmin allows every route', () => {
    expect(invokeTails(built.json, built.ids.admin)).toEqual(['/*/*/*']);
  });

  it('writes the ACLs into every routed function, named by role ARN tokens resolved at deploy time', () => {
    for (const name of ['topics', 'produce', 'fetch', 'groups', 'transactions', 'acls', 'queues'] as const) {
      const vars = functionVariables(built.json, name);
      expect(vars[AUTHORIZATION_ENV.mode]).toBe('acl');
      expect(vars[AUTHORIZATION_ENV.cacheTtlMs]).toBe('2000');
      const declared = vars[AUTHORIZATION_ENV.declaredAcls] as Json;
      // A join of literal JSON and the roles' Arn attributes.
      const parts = declared['Fn::Join'][1] as unknown[];
      const text = parts.map((p) => (typeof p === 'string' ? p : `<${(p as Json)['Fn::GetAtt'][0]}>`)).join('');
      const acls = JSON.parse(text) as string[][];
      expect(acls).toContainEqual([`<${built.ids.producer}>`, 'topic', 'literal', 'payments', 'write', 'allow']);
      expect(acls).toContainEqual([`<${built.ids.consumer}>`, 'topic', 'prefixed', 'payments.', 'read', 'allow']);
      expect(acls).toContainEqual([`<${built.ids.consumer}>`, 'group', 'literal', 'billing', 'read', 'allow']);
      expect(acls).toContainEqual([`<${built.ids.admin}>`, 'cluster', 'literal', 'sluice-cluster', 'all', 'allow']);
      expect(acls).toContainEqual([`<${built.ids.admin}>`, 'topic', 'literal', '*', 'all', 'allow']);
      expect(acls).toContainEqual([`<${built.ids.admin}>`, 'queue', 'literal', '*', 'all', 'allow']);
      expect(acls).toHaveLength(7);
    }
    // The fallback answers 404/405 and checks nothing.
    expect(functionVariables(built.json, 'fallback')?.[AUTHORIZATION_ENV.mode]).toBeUndefined();
  });

  it('gives the acls function read-write on the acls table, and the other routed functions read', () => {
    const aclsTable = Object.entries(built.json.Resources as Record<string, Json>).find(
      ([, r]) => r.Type === 'AWS::DynamoDB::Table' && (r.Properties.KeySchema as Json[])[0]!.AttributeName === TABLES.acls.partitionKey.name && !r.Properties.StreamSpecification && !(r.Properties.TimeToLiveSpecification),
    );
    expect(aclsTable).toBeDefined();
    expect(functionVariables(built.json, 'acls')[TABLES.acls.envVar]).toEqual({ Ref: aclsTable![0] });
    expect(functionVariables(built.json, 'produce')[TABLES.acls.envVar]).toEqual({ Ref: aclsTable![0] });
  });
});

describe("authorization 'iam-only' (the default)", () => {
  it('sets no authorization variable, and grants no route whose body or answer only ACLs can scope', () => {
    const { json, ids } = build('http', 'iam-only');
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      const vars = functionVariables(json, name) ?? {};
      for (const variable of Object.values(AUTHORIZATION_ENV)) expect(vars[variable]).toBeUndefined();
    }
    expect(invokeTails(json, ids.producer)).toEqual(['/*/GET/topics/payments', '/*/POST/topics/payments/events']);
    expect(invokeTails(json, ids.consumer)).not.toContain('/*/POST/transactions');
  });

  it('is the default', () => {
    const stack = new Stack(new App(), 'S');
    expect(new Sluice(stack, 'Events').authorization).toBe('iam-only');
  });
});

describe('props', () => {
  it('rejects an unknown authorization mode and a cache TTL out of range', () => {
    expect(() => new Sluice(new Stack(new App(), 'S'), 'E', { authorization: 'on' as never })).toThrow(/authorization must be 'iam-only' or 'acl'/);
    expect(() => new Sluice(new Stack(new App(), 'S'), 'E', { authorization: 'acl', aclCacheTtl: Duration.hours(1) })).toThrow(/aclCacheTtl/);
  });

  it('refuses, at synth time, more declared ACLs than fit in a function environment', () => {
    const stack = new Stack(new App(), 'S');
    const sluice = new Sluice(stack, 'E', { authorization: 'acl' });
    const role = new iam.Role(stack, 'R', { assumedBy: new iam.AccountRootPrincipal() });
    expect(() => {
      for (let i = 0; i < 60; i++) sluice.grantProduce(role, `topic-number-${i}`);
    }).toThrow(/take about \d+ bytes of every function's environment, more than 3000/);
  });
});
