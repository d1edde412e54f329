/**
 * REST mode (`api: 'rest'`, for LocalStack's free plan): the synthesized stack holds a REST API and
 * no API Gateway v2 resource, every method needs IAM auth, every route of ROUTES has its method,
 * and everything else reaches the fallback function; cdk-nag passes with every acknowledgement
 * needed. One synthesized app serves the template tests and the nag report (bundling runs esbuild
 * per function; bundles are cached for the rest of the process).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FALLBACK_FUNCTION, FUNCTIONS, ROUTES, routeKey, type FunctionName } from '../../definitions/functions';
import { acknowledgeSluiceFindings, applyNagChecks } from '../../lib/nag';
import { SluiceStack } from '../../lib/sluice-stack';

const SYNTH_TIMEOUT = 120_000;
const CDK_CONTEXT = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;

// Synthesized CloudFormation, navigated by key.
type Json = Record<string, any>;

const outdirs: string[] = [];
const newApp = () => {
  outdirs.push(mkdtempSync(join(tmpdir(), 'sluice-cdk-rest-')));
  return new App({ context: CDK_CONTEXT, outdir: outdirs.at(-1) });
};
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

interface Finding {
  readonly rule: string;
  readonly path: string;
}

/** Synthesize an app, let validation fail if it must, and return what the AwsSolutions plugin reported. */
function nagFindings(app: App): Finding[] {
  const reportFile = join(app.outdir, 'validation-report.json');
  try {
    app.synth();
  } catch (error) {
    if (!existsSync(reportFile)) throw error;
  }
  return JSON.parse(readFileSync(reportFile, 'utf8'))
    .pluginReports.filter((r: Json) => r.pluginName === 'AwsSolutions')
    .flatMap((r: Json) => r.violations)
    .flatMap((v: Json) => v.violatingConstructs.map((c: Json) => ({ rule: v.ruleName, path: c.constructPath })));
}

describe("SluiceStack with api: 'rest'", () => {
  let stack: SluiceStack;
  let template: Template;
  let resources: Record<string, Json>;
  let findings: Finding[];
  const logicalId = (construct: IConstruct) => stack.getLogicalId(construct.node.defaultChild as CfnElement);
  const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

  /** Every resource's full path ("/topics/{topic}"), by logical ID; the root is "/". */
  let paths: Map<string, string>;
  const methods = () =>
    ofType('AWS::ApiGateway::Method').map(([id, m]) => ({
      id,
      method: m.Properties.HttpMethod as string,
      path: m.Properties.ResourceId['Fn::GetAtt'] ? '/' : paths.get(m.Properties.ResourceId.Ref)!,
      props: m.Properties,
    }));
  const integratedFunction = (props: Json): string => props.Integration.Uri['Fn::Join'][1].find((p: Json) => p['Fn::GetAtt'])['Fn::GetAtt'][0];
  const functionId = (name: FunctionName) => logicalId(stack.functions.functions[name]);

  beforeAll(() => {
    const app = newApp();
    stack = new SluiceStack(app, 'Sluice', { api: 'rest' });
    applyNagChecks(app);
    findings = nagFindings(app);
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources;
    paths = new Map();
    const resolve = (id: string): string => {
      const known = paths.get(id);
      if (known !== undefined) return known;
      const { ParentId, PathPart } = resources[id]!.Properties;
      const parent = ParentId['Fn::GetAtt'] ? '' : resolve(ParentId.Ref);
      paths.set(id, `${parent}/${PathPart}`);
      return paths.get(id)!;
    };
    for (const [id] of ofType('AWS::ApiGateway::Resource')) resolve(id);
  }, SYNTH_TIMEOUT);

  it('builds a REST API and no API Gateway v2 resource', () => {
    expect(stack.api.type).toBe('rest');
    expect(ofType('AWS::ApiGateway::RestApi')).toHaveLength(1);
    expect(Object.values(resources).filter((r) => r.Type.startsWith('AWS::ApiGatewayV2::'))).toEqual([]);
  });

  it('uses only resource types of LocalStack’s free plan', () => {
    const types = new Set(Object.values(resources).map((r) => r.Type as string));
    const free = /^AWS::(ApiGateway|Lambda|DynamoDB|SQS|IAM|Logs)::|^AWS::CDK::Metadata$/;
    expect([...types].filter((t) => !free.test(t))).toEqual([]);
  });

  it('requires IAM (SigV4) auth on every method, fallbacks included', () => {
    expect(methods().length).toBeGreaterThan(ROUTES.length);
    for (const m of methods()) expect(m.props.AuthorizationType, `${m.method} ${m.path}`).toBe('AWS_IAM');
  });

  it.each(ROUTES.map((r) => [routeKey(r), r] as const))('%s has its method, a Lambda proxy integration of its function', (_, route) => {
    const matches = methods().filter((m) => m.method === route.method && m.path === route.path);
    expect(matches).toHaveLength(1);
    expect(matches[0]!.props.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
    expect(integratedFunction(matches[0]!.props)).toBe(functionId(route.function));
  });

  it('sends ANY on every resource, root included, to the fallback function', () => {
    const withAny = new Set(methods().filter((m) => m.method === 'ANY').map((m) => m.path));
    for (const path of ['/', ...paths.values()]) expect(withAny, path).toContain(path);
    for (const m of methods().filter((x) => x.method === 'ANY')) expect(integratedFunction(m.props)).toBe(functionId(FALLBACK_FUNCTION));
  });

  it('gives every resource without a variable child a greedy {proxy+} child, and no other resource one', () => {
    const all = ['/', ...paths.values()].filter((p) => !p.endsWith('{proxy+}'));
    const childrenOf = (p: string) => [...paths.values()].filter((c) => c.startsWith(p === '/' ? '/' : `${p}/`) && !c.slice(p === '/' ? 1 : p.length + 1).includes('/'));
    for (const path of all) {
      const children = childrenOf(path).map((c) => c.split('/').at(-1)!);
      const variable = children.filter((c) => c.startsWith('{') && c !== '{proxy+}');
      expect(variable.length, path).toBeLessThanOrEqual(1);
      expect(children.includes('{proxy+}'), path).toBe(variable.length === 0);
    }
  });

  it('has the expected tree: the resources of ROUTES, their {proxy+} children, and the methods', () => {
    const routePaths = new Set(ROUTES.flatMap((r) => r.path.split('/').slice(1).map((_, i, parts) => `/${parts.slice(0, i + 1).join('/')}`)));
    const proxies = [...paths.values()].filter((p) => p.endsWith('/{proxy+}'));
    expect(paths.size).toBe(routePaths.size + proxies.length);
    // One method per route, ANY on every resource and on the root, ANY on every {proxy+}.
    expect(methods()).toHaveLength(ROUTES.length + routePaths.size + 1 + proxies.length);
  });

  it('lets only this API invoke the functions, one permission per function', () => {
    const permissions = ofType('AWS::Lambda::Permission').map(([, p]) => p.Properties);
    const apiFunctions = (Object.keys(FUNCTIONS) as FunctionName[]).filter((n) => n === FALLBACK_FUNCTION || ROUTES.some((r) => r.function === n));
    expect(permissions.map((p) => p.FunctionName['Fn::GetAtt'][0]).sort()).toEqual(apiFunctions.map(functionId).sort());
    for (const p of permissions) {
      expect(p.Principal).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(p.SourceArn)).toContain(logicalId(stack.api.restApi!));
    }
  });

  it('logs every request of the stage as JSON, caller identity included, and throttles it', () => {
    const stage = resources[logicalId(stack.api.stage)]!.Properties;
    expect(stage.AccessLogSetting.DestinationArn).toEqual({ 'Fn::GetAtt': [logicalId(stack.api.accessLogs), 'Arn'] });
    expect(JSON.parse(stage.AccessLogSetting.Format)).toMatchObject({
      requestId: '$context.requestId',
      status: '$context.status',
      resourcePath: '$context.resourcePath',
      userArn: '$context.identity.userArn',
      caller: '$context.identity.caller',
    });
    expect(stage.MethodSettings).toEqual([
      expect.objectContaining({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 }),
    ]);
  });

  it("sets API Gateway's CloudWatch role, which REST access logging needs, and keeps it when the stack goes", () => {
    const [[, account]] = ofType('AWS::ApiGateway::Account') as [[string, Json]];
    expect(account.DeletionPolicy).toBe('Retain');
    const role = resources[account.Properties.CloudWatchRoleArn['Fn::GetAtt'][0]]!;
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({ Principal: { Service: 'apigateway.amazonaws.com' } }),
    ]);
  });

  it('outputs the stage URL once', () => {
    expect(Object.keys(template.toJSON().Outputs).filter((k) => k.includes('Endpoint'))).toEqual([]);
    template.hasOutput('ApiUrl', {});
  });

  it('passes cdk-nag with no unacknowledged error or warning', () => {
    expect(findings).toEqual([]);
  });

  it('needs every acknowledgement it makes (none is stale)', () => {
    const app = newApp();
    const bare = new SluiceStack(app, 'Sluice', { api: 'rest' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const raw = nagFindings(app);
    acknowledgeSluiceFindings(bare);
    const acknowledged = bare.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
      .flatMap((m) => Object.keys(m.data as object).map((k) => k.replace(/^annotation::/i, '')));
    expect(new Set(acknowledged)).toEqual(new Set(raw.map((f) => f.rule)));
    // Each finding is acknowledged on its own construct or its parent construct, not the whole stack.
    expect(new Set(raw.map((f) => f.rule))).toEqual(
      new Set([
        'AwsSolutions-L1',
        'AwsSolutions-APIG2',
        'AwsSolutions-APIG3',
        'AwsSolutions-APIG6',
        'AwsSolutions-COG4',
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        // The queues function: message queues by prefix, and sqs:ListQueues (no resource-level permission).
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sqs:<AWS::Region>:<AWS::AccountId>:${bare.queues.messageQueuePrefix}*]`,
        'AwsSolutions-IAM5[Resource::*]',
      ]),
    );
  }, SYNTH_TIMEOUT);
});
