#!/usr/bin/env node
// The `sluice` executable.
// - Installed from the package: runs the compiled CLI, dist/cli/main.js (built by `npm run build`).
// - In a checkout of this repository, where the TypeScript sources sit beside it: runs a bundle
//   of the current sources, cached in node_modules/.cache/sluice-cli/. The bundle is used only
//   while every source file it was built from has the content it had then (a SHA-256 per file,
//   checked on every call); otherwise it is rebuilt with esbuild first (about a second, once).
//   So `npx sluice` never runs a stale build, and skips tsx's per-call TypeScript compile.
//   Without esbuild (or with SLUICE_CLI_TSX=1), it runs the sources through tsx as before.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'cli', 'main.ts');
let cli;
if (!existsSync(source)) {
  cli = await import('../dist/cli/main.js');
} else if (process.env.SLUICE_CLI_TSX === '1') {
  cli = await viaTsx();
} else {
  const bundle = (await currentBundle()) ?? (await rebuild().catch(() => undefined));
  // A bundle another call has just replaced (and removed) is not worth failing for: tsx runs the sources.
  cli = bundle ? await import(pathToFileURL(bundle).href).catch(viaTsx) : await viaTsx();
}
await cli.main(process.argv.slice(2));

async function viaTsx() {
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(source).href);
}

function cacheDir() {
  return join(root, 'node_modules', '.cache', 'sluice-cli');
}

function digest(file) {
  return createHash('sha256').update(readFileSync(file)).digest('base64url');
}

/** The cached bundle's path when every file it was built from is unchanged; else undefined. */
async function currentBundle() {
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(join(cacheDir(), 'manifest.json'), 'utf8'));
    for (const [file, hash] of Object.entries(manifest.inputs)) {
      if (digest(join(root, file)) !== hash) return undefined;
    }
  } catch {
    return undefined; // no cache yet, or an input is gone
  }
  const bundle = join(cacheDir(), manifest.bundle);
  return existsSync(bundle) ? bundle : undefined;
}

/**
 * Bundles cli/main.ts (npm packages left external, resolved from node_modules as tsx would) and
 * records its inputs' hashes. Each module keeps its own `import.meta.url`, so paths it resolves
 * against itself (package.json, the console's assets) are the same as from the sources.
 */
async function rebuild() {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [source],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: root,
    plugins: [ownImportMeta()],
  });
  const inputs = {};
  // Also what shapes the output besides the sources: the compiler options and esbuild's version.
  for (const file of [...Object.keys(result.metafile.inputs), 'tsconfig.json', 'package.json', 'node_modules/esbuild/package.json']) {
    inputs[file] = digest(join(root, file));
  }
  const name = `main-${createHash('sha256').update(JSON.stringify(inputs)).digest('base64url').slice(0, 16)}.mjs`;
  mkdirSync(cacheDir(), { recursive: true });
  // Written under temporary names, then renamed: a CLI call running meanwhile sees the old files or the new ones.
  const bundle = join(cacheDir(), name);
  const temporary = `${bundle}.${process.pid}.tmp`;
  writeFileSync(temporary, result.outputFiles[0].contents);
  renameSync(temporary, bundle);
  const manifestFile = join(cacheDir(), 'manifest.json');
  writeFileSync(`${manifestFile}.${process.pid}.tmp`, JSON.stringify({ bundle: name, inputs }));
  renameSync(`${manifestFile}.${process.pid}.tmp`, manifestFile);
  for (const old of readdirSync(cacheDir()).filter((f) => f.startsWith('main-') && f !== name)) rmSync(join(cacheDir(), old), { force: true });
  return bundle;
}

/** esbuild plugin: `import.meta.url` and `.dirname` in each source file become that file's own. */
function ownImportMeta() {
  return {
    name: 'own-import-meta',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?ts$/ }, (args) => {
        if (relative(root, args.path).startsWith('node_modules')) return undefined;
        const contents = readFileSync(args.path, 'utf8')
          .replace(/\bimport\.meta\.url\b/g, JSON.stringify(pathToFileURL(args.path).href))
          .replace(/\bimport\.meta\.dirname\b/g, JSON.stringify(dirname(args.path)));
        return { contents, loader: 'ts' };
      });
    },
  };
}
