/**
 * The README's Quickstart, run as a reader runs it: `npm start`, then every snippet of the section
 * in order, on that one fresh platform (shell snippets with bash, the TypeScript one with tsx from
 * the repository's root). The only change made to them is the port: the platform listens on a
 * free one, which `localhost:4545` in the snippets and SLUICE_ENDPOINT point at.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, waitFor } from '../../local/support';
import { ROOT } from '../support/platform-process';

interface Snippet {
  readonly lang: string;
  readonly code: string;
}

/** The fenced code blocks of the README's "## Quickstart" section, in order. */
function quickstartSnippets(): Snippet[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n## Quickstart\n');
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end === -1 ? undefined : end);
  return [...section.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, code: m[2]! }));
}

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    // A snippet that never ends (a consumer without a way out) is a failure, not a hung test.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const snippets = quickstartSnippets();

/** The command that runs a snippet: a shell snippet with bash (stopping at the first failure), TypeScript with tsx. */
async function runSnippet(snippet: Snippet, index: number, env: NodeJS.ProcessEnv): Promise<Exit> {
  if (snippet.lang === 'sh') return run('bash', ['-euo', 'pipefail', '-c', snippet.code], env, 180_000);
  if (snippet.lang !== 'ts') throw new Error(`snippet ${index + 1}: no way to run a "${snippet.lang}" snippet`);
  // At the repository's root, as the README says, so that './client' resolves.
  const file = join(ROOT, `.readme-quickstart-${process.pid}-${index}.ts`);
  await writeFile(file, snippet.code);
  try {
    return await run(process.execPath, ['--import', 'tsx', file], env, 60_000);
  } finally {
    await rm(file, { force: true });
  }
}

describe('README Quickstart', () => {
  let port: number;
  let platform: ReturnType<typeof spawn>;
  let platformOutput = '';
  /** What each snippet printed, by its index. */
  const outputs: Exit[] = [];
  const outputOf = (marker: string) => outputs[snippets.findIndex((s) => s.code.includes(marker))];

  beforeAll(async () => {
    // The first snippet starts the platform; the rest of it runs "in another terminal".
    expect(snippets[0]!.code.split('\n').slice(0, 2)).toEqual(['npm start', '# in another terminal:']);
    port = await freePort();
    // `npm start`, as written; the stack synthesized once for the test run stands in for its synth
    // (npm start's --assembly), which is slower and otherwise the same.
    platform = spawn('npm', ['start'], {
      cwd: ROOT,
      env: { ...process.env, SLUICE_PORT: String(port), SLUICE_ASSEMBLY: inject('assemblies').http, SLUICE_DATA_DIR: '', SLUICE_API: 'http' },
      detached: true,
    });
    platform.stdout!.on('data', (d: Buffer) => (platformOutput += d));
    platform.stderr!.on('data', (d: Buffer) => (platformOutput += d));
    await waitFor(async () => platformOutput.includes('Sluice is ready at'), {
      timeoutMs: 120_000,
      what: 'npm start to be ready',
      fatal: () => platform.exitCode !== null,
    });
  });

  afterAll(async () => {
    if (platform?.exitCode !== null) return;
    const exited = new Promise((resolve) => platform.once('exit', resolve));
    process.kill(-platform.pid!, 'SIGTERM');
    await exited;
  });

  it.each(snippets.map((snippet, index) => [index + 1, snippet.lang, snippet, index] as const))(
    'runs snippet %i (%s) as written, after the ones before it, and it succeeds',
    async (_n, _lang, snippet, index) => {
      const code = index === 0 ? snippet.code.split('\n').slice(2).join('\n') : snippet.code;
      const onPort = code.replaceAll('localhost:4545', `localhost:${port}`).replaceAll('127.0.0.1:4545', `127.0.0.1:${port}`);
      const result = await runSnippet({ ...snippet, code: onPort }, index, { SLUICE_ENDPOINT: `http://127.0.0.1:${port}` });
      outputs[index] = result;
      expect(result.stderr).not.toMatch(/^error:|curl: \(\d+\)/m);
      expect(result.code).toBe(0);
      expect(result.stdout).not.toContain('"error"'); // curl prints an API error and exits 0
    },
    // A snippet runs several CLI processes; on a loaded CI machine that exceeds vitest's 30 s.
    200_000,
  );

  it('shows the snippets\' own events', () => {
    expect(outputOf('curl')?.stdout).toContain('"key":"customer-1"');
    const cli = outputOf('npx sluice produce payments')?.stdout;
    expect(cli).toContain('1/0\n'); // produce: the partition and offset its comment says
    expect(cli).toContain('1/0 customer-1 {"total":42}\n'); // fetch
    expect(cli).toContain('payments/1/0 customer-1 {"total":42}\n'); // consume
    // TypeScript: fetched, then consumed, then it exits by itself.
    expect(outputOf("from './client'")?.stdout).toBe('{ total: 42 }\n0 0 { total: 42 }\n');
  });
});
