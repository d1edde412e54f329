/**
 * The package as a user gets it. `npm pack` (whose `prepack` runs `npm run build`) makes the
 * tarball; npm installs it into a fresh CDK app in a temporary folder outside this repository; the
 * app puts `new Sluice(this, 'Events', { api: 'http' })` into its own stack, subscribes its own
 * Lambda to a topic with `subscribeLambda`, and synthesizes it with plain node (no tsx, no
 * TypeScript sources); the template and the cloud assembly are checked.
 *
 * Installing offline: the npm cache that `npm ci` fills holds tarballs but not the registry
 * metadata npm needs to resolve a package by name, so `npm install --offline aws-cdk-lib@2.276.0`
 * fails with ENOTCACHED on a fresh machine (and would unpack ~50 MB). So the app declares
 * aws-cdk-lib, constructs and the package's own dependencies as `file:` links into this
 * repository's node_modules (the versions package-lock.json pins), and npm installs the tarball
 * itself, offline, as a real folder. The checks then allow repository paths only inside those
 * linked node_modules.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUNCTIONS, ROUTES } from '../../definitions/functions';
import { waitFor } from '../../local/support';

const REPO_ROOT = resolve(import.meta.dirname, '../..');
const USER_STACK = 'Orders';

type Json = Record<string, any>;

/** npm's script environment (npm_package_*, npm_config_local_prefix, ...) describes this repository; drop it. */
const cleanEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^npm_(package_|lifecycle_|config_(local_)?prefix)/i.test(key)),
);
const run = (command: string, args: string[], cwd: string): string =>
  execFileSync(command, args, { cwd, env: cleanEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** Every file under `dir` (following no symlinks), relative to it. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A path into this repository other than its node_modules (which the app links on purpose). */
const REPO_PATH = new RegExp(`${REPO_ROOT.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!/node_modules/)`);

const USER_APP = `
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Sluice, applyNagChecks } from 'sluice';

class OrdersStack extends Stack {
  constructor(scope, id, props) {
    super(scope, id, props);
    const events = new Sluice(this, 'Events', { api: 'http' });
    new CfnOutput(this, 'EventsUrl', { value: events.url });

    // The user's own subscriber, subscribed to a topic (its role without managed policies, so
    // that cdk-nag has nothing to say about the user's code either).
    const role = new iam.Role(this, 'OrderHandlerRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const orderHandler = new lambda.Function(this, 'OrderHandler', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({ batchItemFailures: [] });'),
      role,
    });
    events.topic('orders').subscribeLambda(orderHandler, { name: 'order-handler', filter: { key: [{ prefix: 'eu-' }] }, startAt: 'earliest' });
  }
}

const app = new App({ outdir: process.argv[2] });
new OrdersStack(app, '${USER_STACK}');
applyNagChecks(app);
app.synth();
`;

/** A TypeScript user of the package, type-checked as `moduleResolution: nodenext` resolves it. */
const USER_TS = `
import { App, Stack } from 'aws-cdk-lib';
import { Sluice, SluiceStack, type SluiceProps } from 'sluice';
import { SluiceClient } from 'sluice/client';
import { sluiceSubscriber, type SluiceBatch, type SluiceEvent } from 'sluice/subscriber';

const props: SluiceProps = { api: 'http', memorySize: 512 };
const stack = new Stack(new App(), 'Orders');
const events: Sluice = new Sluice(stack, 'Events', props);
const url: string = events.url;
const stackUrl: string = new SluiceStack(new App(), 'Sluice').api.url;
// @ts-expect-error: the declarations are real types, not \`any\`
const wrong: SluiceProps = { api: 'grpc' };
const middleware = sluiceSubscriber({ idempotent: { table: 'processed' } });
const each = async (batch: SluiceBatch) => batch.eachEvent((event: SluiceEvent) => console.log(event.topic, event.partition, event.offset));
export { url, stackUrl, wrong, SluiceClient, middleware, each };
`;

describe('the packed package in a fresh CDK app outside the repository', () => {
  let work: string;
  let appDir: string;
  let assemblyDir: string;
  let template: Json;
  const timings: Record<string, number> = {};
  const timed = <T>(name: string, fn: () => T): T => {
    const started = performance.now();
    try {
      return fn();
    } finally {
      timings[name] = Math.round(performance.now() - started);
    }
  };

  beforeAll(() => {
    work = realpathSync(mkdtempSync(join(tmpdir(), 'sluice-package-')));
    expect(work.startsWith(REPO_ROOT)).toBe(false);
    appDir = join(work, 'app');
    assemblyDir = join(work, 'cdk.out');

    timed('npm pack (prepack: npm run build)', () => run('npm', ['pack', '--pack-destination', work], REPO_ROOT));
    const tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);

    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as Json;
    const linked = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})];
    mkdirSync(appDir);
    writeFileSync(
      join(appDir, 'package.json'),
      JSON.stringify({
        name: 'orders-app',
        private: true,
        type: 'module',
        dependencies: Object.fromEntries(linked.map((name) => [name, `file:${join(REPO_ROOT, 'node_modules', name)}`])),
      }),
    );
    timed('npm install --offline (tarball)', () =>
      run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball], appDir),
    );

    writeFileSync(join(appDir, 'app.mjs'), USER_APP);
    timed('synth (node app.mjs)', () => run(process.execPath, ['app.mjs', assemblyDir], appDir));
    template = JSON.parse(readFileSync(join(assemblyDir, `${USER_STACK}.template.json`), 'utf8'));
  }, 180_000);

  afterAll(() => {
    console.log(`pack-and-use timings (ms): ${JSON.stringify(timings)}`);
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const resources = (type: string): Json[] => Object.values(template.Resources as Json).filter((r) => r.Type === type);
  const installed = () => join(appDir, 'node_modules', 'sluice');

  it('installs the tarball as a real folder, holding the build and no sources', () => {
    expect(lstatSync(installed()).isSymbolicLink()).toBe(false);
    const files = filesUnder(installed()).map((f) => f.slice(installed().length + 1));
    expect(files).toEqual(
      expect.arrayContaining([
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/client/index.js',
        'dist/lambda/subscriber/index.js',
        'dist/lambda/subscriber/index.d.ts',
        'dist/lambda/streams/index.js',
        'dist/lambda/streams/index.d.ts',
        'dist/cli/main.js',
        'bin/sluice.js',
      ]),
    );
    for (const fn of Object.values(FUNCTIONS)) {
      expect(files).toEqual(expect.arrayContaining([`dist/handlers/${fn.name}/index.mjs`, `dist/handlers/${fn.name}/index.mjs.map`]));
    }
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('ships type declarations for Sluice', () => {
    const index = readFileSync(join(installed(), 'dist/lib/index.d.ts'), 'utf8');
    expect(index).toMatch(/export \{ Sluice,[^}]*\btype SluiceProps\b[^}]*\} from '\.\/sluice\.js'/);
    expect(readFileSync(join(installed(), 'dist/lib/sluice.d.ts'), 'utf8')).toMatch(/export declare class Sluice extends Construct/);
  });

  it('type-checks a TypeScript user of the package with moduleResolution nodenext', () => {
    writeFileSync(join(appDir, 'app.ts'), USER_TS);
    writeFileSync(
      join(appDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: [] },
        files: ['app.ts'],
      }),
    );
    const tsc = join(REPO_ROOT, 'node_modules/typescript/bin/tsc');
    timed('tsc (user app)', () => run(process.execPath, [tsc, '-p', 'tsconfig.json'], appDir));
  }, 120_000);

  /** The resources of the Sluice construct (`Events`), not the user's own. */
  const sluiceResources = (type: string): Json[] =>
    Object.entries(template.Resources as Record<string, Json>)
      .filter(([id, r]) => r.Type === type && id.startsWith('Events'))
      .map(([, r]) => r);

  it('synthesizes one function per definition, each from a prebuilt bundle of the package', () => {
    const functions = sluiceResources('AWS::Lambda::Function');
    expect(functions).toHaveLength(Object.keys(FUNCTIONS).length);
    const shipped = new Set(Object.values(FUNCTIONS).map((fn) => sha256(join(installed(), 'dist/handlers', fn.name, 'index.mjs'))));
    const assets = JSON.parse(readFileSync(join(assemblyDir, `${USER_STACK}.assets.json`), 'utf8')).files as Json;
    const deployed = new Set<string>();
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Handler: 'index.handler', Runtime: 'nodejs22.x', Architectures: ['arm64'] });
      const asset = assets[String(fn.Properties.Code.S3Key).replace(/\.zip$/, '')];
      expect(asset.source.packaging).toBe('zip');
      const assetDir = join(assemblyDir, asset.source.path);
      expect(readdirSync(assetDir).sort()).toEqual(['index.mjs', 'index.mjs.map']);
      deployed.add(sha256(join(assetDir, 'index.mjs')));
    }
    expect(deployed).toEqual(shipped);
  });

  it('subscribes the user\'s Lambda: a FIFO queue with a DLQ, an event source with partial batch responses, the declared subscription', () => {
    const logical = (prefix: string) => Object.keys(template.Resources).filter((id) => id.startsWith(prefix));
    const [queueId] = logical('EventsSubscriptionsordersorderhandlerQueue').filter((id) => template.Resources[id].Type === 'AWS::SQS::Queue');
    expect(template.Resources[queueId!].Properties).toMatchObject({ FifoQueue: true, SqsManagedSseEnabled: true, RedrivePolicy: { maxReceiveCount: 10 } });
    const [mapping] = resources('AWS::Lambda::EventSourceMapping').filter((m) => m.Properties.EventSourceArn['Fn::GetAtt']?.[0] === queueId);
    expect(mapping!.Properties).toMatchObject({ FunctionResponseTypes: ['ReportBatchItemFailures'], BatchSize: 10 });
    const deliverer = sluiceResources('AWS::Lambda::Function').find((f) => /^Delivers/.test(f.Properties.Description));
    const declared = JSON.stringify(deliverer!.Properties.Environment.Variables.SLUICE_DECLARED_SUBSCRIPTIONS);
    expect(declared).toContain('order-handler');
    expect(declared).toContain(`"Ref":"${queueId}"`);
  });

  it('puts IAM auth on every route', () => {
    const routes = resources('AWS::ApiGatewayV2::Route');
    expect(routes).toHaveLength(ROUTES.length + 1); // + $default
    for (const route of routes) expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('resolves nothing into the repository: not the package, not the cloud assembly', () => {
    for (const file of [...filesUnder(installed()), ...filesUnder(assemblyDir)]) {
      expect(REPO_PATH.test(readFileSync(file, 'latin1')), file).toBe(false);
    }
    const resolved = run(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('sluice'))"], appDir);
    expect(resolved.trim()).toBe(`file://${join(installed(), 'dist/lib/index.js')}`);
  });

  it('serves the web console from the packed CLI: `sluice console` answers its page and every file the page loads', async () => {
    const shipped = readdirSync(join(installed(), 'dist/console-public')).sort();
    expect(shipped).toEqual(readdirSync(join(REPO_ROOT, 'console/public')).sort());
    const child = spawn(join(appDir, 'node_modules/.bin/sluice'), ['--endpoint', 'http://127.0.0.1:9', 'console', '--port', '0'], { cwd: appDir, env: cleanEnv });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.stderr.on('data', (d: Buffer) => (out += d));
      const url = await waitFor(async () => /http:\/\/127\.0\.0\.1:\d+\//.exec(out)?.[0], {
        timeoutMs: 20_000,
        what: 'sluice console to print its URL',
        fatal: () => child.exitCode !== null,
      });
      const index = await fetch(url);
      expect(index.status).toBe(200);
      const page = await index.text();
      expect(page).toContain('<div id="app">');
      // The page's own scripts and styles, and the libraries its import map names.
      const importMap = JSON.parse(/<script type="importmap">(.*?)<\/script>/s.exec(page)![1]!) as { imports: Record<string, string> };
      const files = [...page.matchAll(/(?:src|href)="(\/[^"]+)"/g)].map((m) => m[1]!).concat(Object.values(importMap.imports), '/common.js', '/ops.js', '/vendor/uplot.css');
      expect(files).toEqual(expect.arrayContaining(['/app.js', '/app.css', '/vendor/preact.mjs', '/vendor/uplot.mjs']));
      for (const file of new Set(files)) {
        const res = await fetch(new URL(file, url));
        expect(res.status, file).toBe(200);
        expect((await res.arrayBuffer()).byteLength, file).toBeGreaterThan(0);
      }
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
  }, 30_000);

  it('runs the compiled CLI and client, without tsx', () => {
    expect(run(join(appDir, 'node_modules/.bin/sluice'), ['--version'], appDir).trim()).toContain('0.1.0');
    const client = run(process.execPath, ['--input-type=module', '-e', "const m = await import('sluice/client'); console.log(typeof m.SluiceClient)"], appDir);
    expect(client.trim()).toBe('function');
    const subscriber = run(
      process.execPath,
      ['--input-type=module', '-e', "const m = await import('sluice/subscriber'); console.log(typeof m.sluiceSubscriber, typeof m.parseDelivery)"],
      appDir,
    );
    expect(subscriber.trim()).toBe('function function');
  });
});
