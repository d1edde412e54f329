/**
 * Prebuilt Lambda handlers, as aws-cdk-lib ships its own: every function of
 * definitions/functions.ts bundled by esbuild into `dist/handlers/<function name>/index.mjs` (with
 * `index.mjs.map`), the directory `SluiceFunctions` deploys with `lambda.Code.fromAsset`.
 *
 *   npx tsx build/handlers.ts        # prints each bundle's size
 *
 * `npm run build` (build/package.ts) runs this for the package. In this repository nothing needs
 * to run it by hand: `SluiceFunctions`, loaded from its TypeScript source, runs it before using the
 * bundles (see `handlerBundlesDir` in lib/sluice-functions.ts). Files whose content did not change
 * are not rewritten, so concurrent builds (parallel test files) never see a half-written bundle.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { FUNCTIONS, type FunctionName } from '../definitions/functions';

/** The repository root: handler entries in definitions/ are relative to it. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the bundles go: `<dir>/<function name>/index.mjs`. */
export const HANDLERS_DIR = join(REPO_ROOT, 'dist', 'handlers');

/**
 * The Node.js version the bundles target: the oldest runtime `SluiceFunctions` accepts, so one
 * prebuilt bundle serves every allowed runtime (newer Node.js versions run it unchanged).
 */
export const HANDLER_NODE_TARGET = 'node22';

/**
 * esbuild options of every bundle: the ones `NodejsFunction` was given before the handlers were
 * prebuilt, so the deployed code is the same.
 */
export const HANDLER_BUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: HANDLER_NODE_TARGET,
  mainFields: ['module', 'main'],
  // Bundled CommonJS dependencies may call require() for Node built-ins; ESM has none.
  banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
  minify: true,
  // Errors take their name from their class (api/errors.ts: `new.target.name`); without this the
  // minifier renames the classes and logs show names like "Ts".
  keepNames: true,
  sourcemap: true,
  sourcesContent: false,
  // Bundle the AWS SDK too: the version the tests ran against, not whatever the runtime ships.
  external: [],
  logLevel: 'warning',
} as const satisfies BuildOptions;

export interface HandlerBundle {
  readonly function: FunctionName;
  /** The directory to deploy: index.mjs and index.mjs.map. */
  readonly dir: string;
  /** Size of index.mjs in bytes. */
  readonly bytes: number;
}

/** Bundle every handler into `outdir` (default dist/handlers), rewriting only files that changed. */
export async function buildHandlers(outdir: string = HANDLERS_DIR): Promise<HandlerBundle[]> {
  const startedAt = Date.now();
  const entries = handlerEntries();
  const result = await build({
    ...HANDLER_BUILD_OPTIONS,
    entryPoints: Object.entries(entries).map(([name, entry]) => ({ in: join(REPO_ROOT, entry), out: `${name}/index` })),
    outdir,
    outExtension: { '.js': '.mjs' },
    absWorkingDir: REPO_ROOT,
    metafile: true,
    write: false,
  });
  for (const file of result.outputFiles) writeIfChanged(file.path, file.contents, outdir);
  const info: BuildInfo = { startedAt, entries, inputs: Object.keys(result.metafile.inputs).sort() };
  writeIfChanged(join(outdir, BUILD_INFO), Buffer.from(`${JSON.stringify(info, null, 2)}\n`), outdir);
  return Object.keys(entries).map((name) => {
    const file = join(outdir, name, 'index.mjs');
    const bundle = result.outputFiles.find((f) => f.path === file);
    if (!bundle) throw new Error(`esbuild wrote no ${relative(REPO_ROOT, file)}`);
    return { function: name as FunctionName, dir: dirname(file), bytes: bundle.contents.byteLength };
  });
}

/**
 * What the last build in `outdir` was made from, beside (not inside) the per-function folders that
 * are deployed.
 */
interface BuildInfo {
  /** When that build started (ms since the epoch): an input changed later makes it stale. */
  readonly startedAt: number;
  /** Function name → handler module, relative to the repository root. */
  readonly entries: Readonly<Record<string, string>>;
  /** Every file esbuild read, relative to the repository root. */
  readonly inputs: readonly string[];
}
const BUILD_INFO = 'build-info.json';

/**
 * Files that change the bundles without being bundled: this module (the options), the lockfile
 * (npm gives files in node_modules their publish-time mtimes, so only the lockfile's mtime shows
 * that a dependency changed), and the tsconfig esbuild reads.
 */
const BUILD_CONFIG_FILES = ['build/handlers.ts', 'package-lock.json', 'tsconfig.json'];

function handlerEntries(): Record<string, string> {
  return Object.fromEntries(Object.values(FUNCTIONS).map((fn) => [fn.name, fn.entry]));
}

/**
 * True when `outdir` holds a bundle of every handler built after its inputs last changed: the
 * same functions and entries, every output present, no input or build setting modified since.
 */
export function handlersUpToDate(outdir: string = HANDLERS_DIR): boolean {
  let info: BuildInfo;
  try {
    info = JSON.parse(readFileSync(join(outdir, BUILD_INFO), 'utf8')) as BuildInfo;
  } catch {
    return false;
  }
  const entries = handlerEntries();
  if (JSON.stringify(info.entries) !== JSON.stringify(entries)) return false;
  for (const name of Object.keys(entries)) {
    if (!existsSync(join(outdir, name, 'index.mjs')) || !existsSync(join(outdir, name, 'index.mjs.map'))) return false;
  }
  for (const input of [...info.inputs, ...BUILD_CONFIG_FILES]) {
    const stat = statSync(join(REPO_ROOT, input), { throwIfNoEntry: false });
    if (!stat || stat.mtimeMs >= info.startedAt) return false;
  }
  return true;
}

/**
 * Write a file atomically (a temporary file in `tempDir`, outside the deployed per-function
 * folders, renamed into place), and not at all when its content is unchanged.
 */
function writeIfChanged(path: string, contents: Uint8Array, tempDir: string): void {
  try {
    if (Buffer.from(contents).equals(readFileSync(path))) return;
  } catch {
    // missing: write it
  }
  mkdirSync(dirname(path), { recursive: true });
  const temp = join(tempDir, `.${basename(path)}.${process.pid}.tmp`);
  try {
    writeFileSync(temp, contents);
    renameSync(temp, path);
  } finally {
    rmSync(temp, { force: true });
  }
}

// `tsx build/handlers.ts [--if-stale]`: build (with --if-stale only when something changed, and
// quietly), printing each bundle's size.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes('--if-stale');
  if (!ifStale || !handlersUpToDate()) {
    const started = performance.now();
    const bundles = await buildHandlers();
    if (!ifStale) {
      for (const b of bundles) console.log(`${relative(REPO_ROOT, b.dir)}/index.mjs  ${b.bytes} bytes`);
      console.log(`built ${bundles.length} handlers in ${Math.round(performance.now() - started)} ms`);
    }
  }
}
