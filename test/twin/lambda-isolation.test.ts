/**
 * The local platform runs each function as Lambda does: its own execution environments, exactly
 * the environment the template sets (plus the runtime's own variables), its timeout and memory
 * size enforced, several requests at once, and Lambda's and API Gateway's payload limits and
 * integration timeout. Driven through a probe function in a hand-written cloud assembly.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { startPlatform, type Platform } from '../../local/platform';
import { LOCAL_CREDENTIALS } from '../../local/support';
import { uniquePrefix } from '../support/emulators';

const PROBE = `
const envId = globalThis.crypto.randomUUID();
export const handler = async (event, context) => {
  const q = event.queryStringParameters ?? {};
  switch (event.rawPath) {
    case '/env':
      return { statusCode: 200, body: JSON.stringify({ env: process.env, envId, remaining: context.getRemainingTimeInMillis() }) };
    case '/sleep':
      await new Promise((resolve) => setTimeout(resolve, Number(q.ms)));
      return { statusCode: 200, body: JSON.stringify({ envId }) };
    case '/spin':
      for (;;) {}
    case '/oom': {
      const hog = [];
      for (;;) hog.push(new Array(1e6).fill(Math.random()));
    }
    case '/quotes':
      // Lambda escapes the body once more inside its JSON envelope: n quotes cost 2n bytes.
      return { statusCode: 200, body: '"'.repeat(Number(q.n)) };
    case '/size':
      return { statusCode: 200, body: String((event.body ?? '').length) };
    default:
      return { statusCode: 404, body: 'probe' };
  }
};
`;

const template = {
  Resources: {
    ProbeRole: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
    Probe: {
      Type: 'AWS::Lambda::Function',
      Metadata: { 'aws:asset:path': 'asset.probe' },
      Properties: {
        Handler: 'index.handler',
        Runtime: 'nodejs22.x',
        Timeout: 2,
        MemorySize: 128,
        Role: { 'Fn::GetAtt': ['ProbeRole', 'Arn'] },
        Environment: { Variables: { PROBE_VARIABLE: 'from the template', PROBE_ROLE: { 'Fn::GetAtt': ['ProbeRole', 'Arn'] } } },
      },
    },
    Api: { Type: 'AWS::ApiGatewayV2::Api', Properties: { ProtocolType: 'HTTP' } },
    Integration: {
      Type: 'AWS::ApiGatewayV2::Integration',
      Properties: { ApiId: { Ref: 'Api' }, IntegrationType: 'AWS_PROXY', IntegrationUri: { 'Fn::GetAtt': ['Probe', 'Arn'] }, PayloadFormatVersion: '2.0' },
    },
    Route: {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: {
        ApiId: { Ref: 'Api' },
        RouteKey: 'ANY /{proxy+}',
        AuthorizationType: 'AWS_IAM',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: 'Integration' }]] },
      },
    },
  },
};

let assemblyDir: string;
let platform: Platform;

beforeAll(async () => {
  assemblyDir = await mkdtemp(join(tmpdir(), 'sluice-probe-assembly-'));
  await mkdir(join(assemblyDir, 'asset.probe'));
  await writeFile(join(assemblyDir, 'asset.probe', 'index.mjs'), PROBE);
  await writeFile(join(assemblyDir, 'Probe.template.json'), JSON.stringify(template));
  await writeFile(
    join(assemblyDir, 'manifest.json'),
    JSON.stringify({ artifacts: { Probe: { type: 'aws:cloudformation:stack', properties: { templateFile: 'Probe.template.json' } } } }),
  );
  process.env.SLUICE_TEST_PARENT_ONLY = 'must not leak into functions';
  platform = await startPlatform({ port: 0, prefix: uniquePrefix('probe'), emulators: inject('emulators'), assemblyDir });
});

afterAll(async () => {
  delete process.env.SLUICE_TEST_PARENT_ONLY;
  await platform?.stop();
  await rm(assemblyDir, { recursive: true, force: true });
});

const call = (path: string, init?: RequestInit) => globalThis.fetch(`${platform.endpoint}${path}`, init);

describe('a function’s execution environment', () => {
  it('sees exactly its template variables and what Lambda’s runtime sets, nothing of the platform’s process', async () => {
    const { env, remaining } = (await (await call('/env')).json()) as { env: Record<string, string>; remaining: number };
    expect(env.PROBE_VARIABLE).toBe('from the template');
    expect(env.PROBE_ROLE).toMatch(/^arn:aws:iam::000000000000:role\/t-probe-[0-9a-f]{8}-ProbeRole$/);
    expect(env.SLUICE_TEST_PARENT_ONLY).toBeUndefined();
    expect(env.HOME).toBeUndefined();
    expect(Object.keys(env).sort()).toEqual(
      [
        'PROBE_VARIABLE',
        'PROBE_ROLE',
        'AWS_REGION',
        'AWS_DEFAULT_REGION',
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_ENDPOINT_URL_DYNAMODB',
        'AWS_ENDPOINT_URL_SQS',
        'AWS_ENDPOINT_URL_LAMBDA',
        'AWS_EXECUTION_ENV',
        'AWS_LAMBDA_FUNCTION_NAME',
        'AWS_LAMBDA_FUNCTION_MEMORY_SIZE',
        'AWS_LAMBDA_FUNCTION_VERSION',
        'AWS_LAMBDA_INITIALIZATION_TYPE',
        'AWS_LAMBDA_LOG_GROUP_NAME',
        'AWS_LAMBDA_LOG_STREAM_NAME',
        'LAMBDA_TASK_ROOT',
        'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
        '_HANDLER',
        'LANG',
        'TZ',
        'PATH',
      ].sort(),
    );
    expect(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE).toBe('128');
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(2000);
  });

  it('is ended at the function’s timeout, and the next request gets a new one', async () => {
    const before = (await (await call('/env')).json()) as { envId: string };
    const spun = await call('/spin');
    expect(spun.status).toBe(500);
    expect(await spun.json()).toEqual({ message: 'Internal Server Error' });
    const after = (await (await call('/env')).json()) as { envId: string };
    expect(after.envId).not.toBe(before.envId);
  });

  it('cannot grow its heap past the function’s memory size', async () => {
    const res = await call('/oom');
    expect(res.status).toBe(500);
    expect((await call('/env')).status).toBe(200);
  });

  it('serves one request at a time, so concurrent requests run in environments of their own', async () => {
    const answers = await Promise.all(Array.from({ length: 4 }, () => call('/sleep?ms=400').then((r) => r.json() as Promise<{ envId: string }>)));
    expect(new Set(answers.map((a) => a.envId)).size).toBe(4);
  });
});

describe('payload limits', () => {
  it('refuses a response over 6 MB as Lambda serializes it, counting the second JSON escaping', async () => {
    const ok = await call('/quotes?n=2500000'); // 5 MB once escaped
    expect(ok.status).toBe(200);
    expect((await ok.text()).length).toBe(2_500_000);
    const tooLarge = await call('/quotes?n=3200000'); // 3.2 MB of body, 6.4 MB in Lambda's envelope
    expect(tooLarge.status).toBe(500);
  });

  it('refuses requests over Lambda’s 6 MB with 413, and over API Gateway’s 10 MB too', async () => {
    const post = (bytes: number) => call('/size', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(bytes) });
    const fits = await post(5 * 1024 * 1024);
    expect(fits.status).toBe(200);
    expect(await fits.text()).toBe(String(5 * 1024 * 1024));
    expect((await post(7 * 1024 * 1024)).status).toBe(413);
    expect((await post(11 * 1024 * 1024)).status).toBe(413);
  });
});

describe('API Gateway’s integration timeout', () => {
  it('answers 503 when the function takes longer, while the function runs on', async () => {
    const short = await startPlatform({
      port: 0,
      prefix: uniquePrefix('probe-timeout'),
      emulators: inject('emulators'),
      assemblyDir,
      integrationTimeoutMs: 100,
    });
    try {
      const res = await globalThis.fetch(`${short.endpoint}/sleep?ms=600`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ message: 'Service Unavailable' });
    } finally {
      await short.stop();
    }
  });
});

describe('Lambda’s Invoke API on the local platform', () => {
  let probeEnv: Record<string, string>;

  beforeAll(async () => {
    probeEnv = ((await (await call('/env')).json()) as { env: Record<string, string> }).env;
  });

  it('invokes a function of the stack by name, as the account', async () => {
    const client = new LambdaClient({ endpoint: probeEnv.AWS_ENDPOINT_URL_LAMBDA, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
    const name = platform.twin.functions.get('Probe')!.functionName;
    const out = await client.send(new InvokeCommand({ FunctionName: name, Payload: Buffer.from(JSON.stringify({ rawPath: '/size', body: 'abc' })) }));
    expect(out.FunctionError).toBeUndefined();
    expect(JSON.parse(Buffer.from(out.Payload!).toString())).toMatchObject({ statusCode: 200, body: '3' });
    client.destroy();
  });

  it('refuses a role that is not granted lambda:InvokeFunction', async () => {
    const client = new LambdaClient({ endpoint: probeEnv.AWS_ENDPOINT_URL_LAMBDA, region: 'us-east-1', credentials: { accessKeyId: probeEnv.AWS_ACCESS_KEY_ID!, secretAccessKey: 'x' } });
    const name = platform.twin.functions.get('Probe')!.functionName;
    await expect(client.send(new InvokeCommand({ FunctionName: name }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(platform.deniedCalls).toContainEqual(expect.objectContaining({ action: 'lambda:InvokeFunction' }));
    client.destroy();
  });
});
