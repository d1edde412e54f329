/**
 * `npm run build` (and `npm pack`, through `prepack`): everything the published package ships, in
 * dist/ (git-ignored):
 *
 *   dist/handlers/<function>/index.mjs   every Lambda handler, prebuilt (build/handlers.ts)
 *   dist/lib/index.js                    the CDK constructs      (`import { Sluice } from 'sluice'`)
 *   dist/client/index.js                 the TypeScript client   (`import { SluiceClient } from 'sluice/client'`)
 *   dist/lambda/subscriber/index.js      the subscriber middleware (`import { sluiceSubscriber } from 'sluice/subscriber'`)
 *   dist/lambda/streams/index.js         the stream-processing DSL and runtime (`import { streams, sluiceProcessor } from 'sluice/streams'`)
 *   dist/cli/main.js                     the CLI, run by bin/sluice.js
 *   dist/**\/*.d.ts                       type declarations of lib/, definitions/, api/, client/, cli/, lambda/subscriber/, lambda/streams/
 *
 * The sources import each other without file extensions (tsconfig.json: `moduleResolution:
 * bundler`), which Node's ESM loader cannot resolve in emitted JavaScript. So esbuild bundles each
 * entry point into one file, with every npm package left external (they are the package's
 * dependencies and peer dependencies), and tsc (tsconfig.build.json) emits only the declarations,
 * whose relative imports then get explicit `.js` extensions so that `moduleResolution: node16`
 * and `nodenext` users resolve them too.
 */
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import { buildHandlers, REPO_ROOT } from './handlers';

const DIST = join(REPO_ROOT, 'dist');

/** Entry point → bundle, relative to the repository root and to dist/. */
const LIBRARY_ENTRIES = [
  { in: 'lib/index.ts', out: 'lib/index' },
  { in: 'client/index.ts', out: 'client/index' },
  { in: 'lambda/subscriber/index.ts', out: 'lambda/subscriber/index' },
  { in: 'lambda/streams/index.ts', out: 'lambda/streams/index' },
  { in: 'cli/main.ts', out: 'cli/main' },
];

async function buildPackage(): Promise<void> {
  const started = performance.now();
  mkdirSync(DIST, { recursive: true });
  // Keep dist/handlers (rebuilt in place, unchanged files untouched); drop everything else so no
  // file of an earlier layout lingers into the package.
  for (const entry of readdirSync(DIST, { withFileTypes: true, encoding: 'utf8' }).filter((e) => e.name !== 'handlers')) {
    rmSync(join(DIST, entry.name), { recursive: true, force: true });
  }

  const [handlers, library] = await Promise.all([
    buildHandlers(),
    build({
      entryPoints: LIBRARY_ENTRIES.map((e) => ({ in: join(REPO_ROOT, e.in), out: e.out })),
      outdir: DIST,
      absWorkingDir: REPO_ROOT,
      bundle: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
      metafile: true,
    }),
  ]);
  checkExternalImports(Object.values(library.metafile.outputs).flatMap((o) => o.imports));
  for (const h of handlers) console.log(`${relative(REPO_ROOT, h.dir)}/index.mjs  ${h.bytes} bytes`);

  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', join(REPO_ROOT, 'tsconfig.build.json')], { cwd: REPO_ROOT, stdio: 'inherit' });
  const rewritten = addDeclarationExtensions(DIST);

  // cli/main.ts reads its version from `../package.json`, relative to itself: dist/package.json for
  // the bundle. It also marks dist/ as ES modules, as the root package.json does.
  const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  writeFileSync(join(DIST, 'package.json'), `${JSON.stringify({ type: 'module', version }, null, 2)}\n`);
  // The web console's front end (console/server.ts finds it beside the CLI's bundle).
  cpSync(join(REPO_ROOT, 'console/public'), join(DIST, 'console-public'), { recursive: true });

  console.log(
    `built dist/: ${handlers.length} handlers, ${LIBRARY_ENTRIES.length} bundles, declarations ` +
      `(${rewritten} relative imports given extensions) in ${Math.round(performance.now() - started)} ms`,
  );
}

/**
 * Packages the Lambda Node.js runtime provides (it ships AWS SDK v3), which code meant to run in
 * the user's functions may import without the package depending on them: `sluice/subscriber`
 * loads the DynamoDB client only when idempotency is on; `sluice/streams` (its runtime) uses the
 * DynamoDB document client. `NodejsFunction` leaves `@aws-sdk/*` out of bundles for the same
 * reason. Outside Lambda (a user's own tests) they come from the user's dev dependencies, as
 * docs/streams.md says.
 */
const PROVIDED_BY_LAMBDA_RUNTIME = new Set(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb', '@aws-sdk/util-dynamodb', '@aws-sdk/client-sqs']);

/**
 * Every package the bundles import must be installed with the package: a dependency, a peer
 * dependency, a Node.js built-in, or (for the subscriber middleware) part of the Lambda runtime.
 * (The handlers' own dependencies are bundled into them, so they are devDependencies.)
 */
function checkExternalImports(imports: readonly { path: string; external?: boolean }[]): void {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
  };
  const installed = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...PROVIDED_BY_LAMBDA_RUNTIME]);
  const missing = new Set<string>();
  for (const { path, external } of imports) {
    if (!external || path.startsWith('node:')) continue;
    const name = path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0]!;
    if (!installed.has(name)) missing.add(name);
  }
  if (missing.size > 0) {
    throw new Error(`the package imports ${[...missing].join(', ')}: add to dependencies or peerDependencies in package.json`);
  }
}

/**
 * Give every relative import of the .d.ts files under `dir` its explicit extension
 * (`'./sluice'` → `'./sluice.js'`, `'./client'` → `'./client/index.js'`), as Node's ESM
 * resolution, and TypeScript's `node16`/`nodenext`, require. Returns how many it changed.
 */
function addDeclarationExtensions(dir: string): number {
  let changed = 0;
  for (const file of declarationFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    const next = text.replace(
      /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*)\2/g,
      (whole, lead: string, quote: string, specifier: string) => {
        const target = withExtension(dirname(file), specifier);
        if (target === specifier) return whole;
        changed++;
        return `${lead}${quote}${target}${quote}`;
      },
    );
    if (next !== text) writeFileSync(file, next);
  }
  return changed;
}

function withExtension(fromDir: string, specifier: string): string {
  if (/\.(c|m)?js$/.test(specifier)) return specifier;
  if (isFile(join(fromDir, `${specifier}.d.ts`))) return `${specifier}.js`;
  if (isFile(join(fromDir, specifier, 'index.d.ts'))) return `${specifier}/index.js`;
  throw new Error(`cannot resolve ${specifier} from ${relative(REPO_ROOT, fromDir)} among the declarations`);
}

function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

await buildPackage();
