/**
 * bin/sluice.js in a checkout: runs a cached bundle of the sources, rebuilt whenever any source it
 * was built from changed (by content: an edit that keeps the size and the mtime counts too). Run
 * on a small fixture checkout, so that the real sources and cache are left alone.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../../..');
let root: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'sluice-bin-'));
  mkdirSync(join(root, 'bin'));
  mkdirSync(join(root, 'cli'));
  mkdirSync(join(root, 'node_modules'));
  cpSync(join(REPO, 'bin/sluice.js'), join(root, 'bin/sluice.js'));
  for (const pkg of ['esbuild', '@esbuild', 'tsx']) {
    symlinkSync(join(REPO, 'node_modules', pkg), join(root, 'node_modules', pkg));
  }
  writeFileSync(join(root, 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(root, 'tsconfig.json'), '{}\n');
  writeFileSync(join(root, 'cli/main.ts'), [
    "import { WORD } from './word';",
    'export async function main(argv: string[]): Promise<void> {',
    "  process.stdout.write(`${WORD} ${argv.join(' ')} ${new URL('.', import.meta.url).pathname}\\n`);",
    '}',
  ].join('\n'));
  writeFileSync(join(root, 'cli/word.ts'), "export const WORD: string = 'one';\n");
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

function sluice(...args: string[]) {
  const result = spawnSync(process.execPath, [join(root, 'bin/sluice.js'), ...args], { encoding: 'utf8', env: { ...process.env, SLUICE_CLI_TSX: '' } });
  expect(result.stderr).toBe('');
  return result.stdout;
}

const cache = () => join(root, 'node_modules/.cache/sluice-cli');
const bundles = () => readdirSync(cache()).filter((f) => f.endsWith('.mjs'));

describe('bin/sluice.js in a checkout', () => {
  it('builds a bundle of the sources, then reuses it while they are unchanged', () => {
    expect(sluice('a', 'b')).toBe(`one a b ${join(root, 'cli')}/\n`); // import.meta.url: the source file's own
    const [bundle] = bundles();
    expect(bundle).toMatch(/^main-.*\.mjs$/);
    const built = statSync(join(cache(), bundle!)).mtimeMs;
    const manifest = JSON.parse(readFileSync(join(cache(), 'manifest.json'), 'utf8')) as { inputs: Record<string, string> };
    expect(Object.keys(manifest.inputs).sort()).toEqual(['cli/main.ts', 'cli/word.ts', 'node_modules/esbuild/package.json', 'package.json', 'tsconfig.json']);

    expect(sluice('c')).toBe(`one c ${join(root, 'cli')}/\n`);
    expect(bundles()).toEqual([bundle]);
    expect(statSync(join(cache(), bundle!)).mtimeMs).toBe(built);
  });

  it('never runs a stale bundle: an edit of the same size under the old mtime is rebuilt', () => {
    sluice();
    const file = join(root, 'cli/word.ts');
    const before = statSync(file);
    writeFileSync(file, "export const WORD: string = 'two';\n");
    utimesSync(file, before.atime, before.mtime);
    expect(statSync(file).size).toBe(before.size);
    expect(sluice('x')).toBe(`two x ${join(root, 'cli')}/\n`);
    expect(bundles()).toHaveLength(1); // the old bundle is removed
  });

  it('runs the sources through tsx when the bundle cannot be built', () => {
    writeFileSync(join(root, 'cli/word.ts'), "export const WORD: string = 'three';\nexport const BROKEN = ;\n");
    const result = spawnSync(process.execPath, [join(root, 'bin/sluice.js')], { encoding: 'utf8' });
    // tsx cannot compile it either: the syntax error is reported, not a stale "two".
    expect(result.stdout).not.toContain('two');
    expect(result.status).not.toBe(0);
    writeFileSync(join(root, 'cli/word.ts'), "export const WORD: string = 'four';\n");
    expect(sluice()).toMatch(/^four /);
  });
});
