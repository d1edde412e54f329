/**
 * End to end, as a user would: `npm start`'s entry point in its own process (its own DynamoDB
 * Local and SQS server), driven by the `sluice` CLI executable, then stopped with SIGTERM.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../../local/support';
import { ROOT, dynamoDbLocalPid, startPlatformProcess } from '../support/platform-process';

const TSX = ['--import', 'tsx'];

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runProcess(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Exit> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
  });
}

const sluice = (endpoint: string, ...args: string[]) => runProcess(['bin/sluice.js', '--endpoint', endpoint, ...args]);

// As a user runs it: `npm start` (or `SLUICE_API=rest npm start`) synthesizes the stack itself.
describe.each(['http', 'rest'] as const)('npm start with the %s API + sluice CLI', (api) => {
  let platform: ChildProcessWithoutNullStreams;
  let output: () => string;
  let endpoint: string;
  let dynamodbEndpoint: string;

  beforeAll(async () => {
    const started = await startPlatformProcess({ api });
    ({ child: platform, output, endpoint, dynamodbEndpoint } = started);
  });

  afterAll(() => {
    if (platform.exitCode === null) platform.kill('SIGKILL');
  });

  it('creates, lists, describes and deletes topics, with exit codes scripts can rely on', async () => {
    const created = await sluice(endpoint, 'topics', 'create', 'orders', '--partitions', '3', '--json');
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'orders', partitions: 3 });

    const list = await sluice(endpoint, 'topics', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/NAME\s+PARTITIONS/);
    expect(list.stdout).toMatch(/orders\s+3\s/);

    const listJson = JSON.parse((await sluice(endpoint, 'topics', 'list', '--json')).stdout);
    expect(listJson.topics.map((t: { name: string }) => t.name)).toEqual(['orders']);

    const described = await sluice(endpoint, 'topics', 'describe', 'orders');
    expect(described.code).toBe(0);
    expect(described.stdout).toMatch(/PARTITION\s+LOG-START\s+HIGH-WATERMARK/);

    const duplicate = await sluice(endpoint, 'topics', 'create', 'orders');
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('TopicAlreadyExists');

    const badName = await sluice(endpoint, 'topics', 'create', 'bad name!');
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('InvalidRequest');

    expect((await sluice(endpoint, 'topics', 'delete', 'orders')).code).toBe(0);
    const missing = await sluice(endpoint, 'topics', 'describe', 'orders');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('TopicNotFound');
  });

  it('answers plain HTTP as the README shows (curl-style JSON POST)', async () => {
    const res = await fetch(`${endpoint}/topics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'payments', partitions: 3 }),
    });
    expect(res.status).toBe(201);
  });

  it('exits 2 on a usage error without calling the API', async () => {
    const res = await sluice(endpoint, 'topics', 'create', 'x', '--partitions', 'three');
    expect(res.code).toBe(2);
  });

  it('stops everything it started on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => platform.once('exit', (code) => r(code)));
    platform.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output()).toContain('Sluice stopped.');
    // DynamoDB Local (a Java child process) is gone too.
    await expect(fetch(dynamodbEndpoint)).rejects.toThrow();
    // ...and the CLI now reports a connection error.
    const res = await sluice(endpoint, 'topics', 'list');
    expect(res.code).toBe(3);
    expect(res.stderr).toContain(endpoint);
  });
});

describe('npm start leaves nothing behind', () => {
  const start = async () => {
    const { child, dynamodbEndpoint: ddb, output } = await startPlatformProcess({ assemblyDir: inject('assemblies').http });
    return { child, ddb, output };
  };
  const refuses = (endpoint: string) =>
    waitFor(async () => fetch(endpoint).then(() => false, () => true), { timeoutMs: 15_000, what: `${endpoint} to stop` });

  it('stops cleanly when Ctrl-C arrives twice (the terminal sends it, npm passes it on)', async () => {
    const { child, ddb, output } = await start();
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGINT');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output()).toContain('Sluice stopped.');
    expect(await refuses(ddb)).toBe(true);
  });

  it('takes DynamoDB Local down with it even when killed outright (SIGKILL)', async () => {
    const { child, ddb } = await start();
    child.kill('SIGKILL');
    expect(await refuses(ddb)).toBe(true);
  });
});

describe('npm start without Java', () => {
  it('exits 1 and says what to install', async () => {
    // A PATH holding only node: `java` cannot be found.
    const bin = await mkdtemp(join(tmpdir(), 'sluice-nojava-'));
    await symlink(process.execPath, join(bin, 'node'));
    const res = await runProcess([...TSX, 'local/main.ts'], { ...process.env, PATH: bin, SLUICE_PORT: '0' });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('default-jre-headless');
    expect(res.stderr).toContain('java');
  });
});

describe('npm start when DynamoDB Local fails', () => {
  it.each([
    ['is killed', 'SIGKILL', /DynamoDB Local exited unexpectedly/],
    ['stops answering (a paused JVM)', 'SIGSTOP', /DynamoDB Local at \S+ has not answered for \d+ s/],
  ] as const)('stops with exit code 1 and says why when the emulator %s', async (_what, signal, message) => {
    const { child, dynamodbEndpoint: ddb, endpoint, output } = await startPlatformProcess({ assemblyDir: inject('assemblies').http });
    const pid = dynamoDbLocalPid(ddb);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    process.kill(pid, signal);
    try {
      expect(await exited).toBe(1);
      expect(output()).toMatch(message);
      expect(output()).toContain('Sluice stopped.');
      await expect(fetch(endpoint)).rejects.toThrow();
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});
