/**
 * Signals as a terminal and a process manager send them, to what the README runs: `npm start` and
 * `npx sluice`, each started as a job of its own (a process group, as a shell starts it). Ctrl-C
 * is SIGINT to the whole group; `kill PID` and process managers send SIGTERM to one process; some
 * send to the group. Whichever, `npm start` stops everything it started (its node process, DynamoDB
 * Local's Java) and exits 0, leaving its ports free; `npx sluice consume` and `fetch --follow` end
 * at once with the documented exit code 0.
 */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FETCH_LIMITS } from '../../api/events';
import { SluiceClient } from '../../client';
import { waitFor } from '../../local/support';
import { ROOT, dynamoDbLocalPid, startPlatformProcess, type PlatformProcess } from '../support/platform-process';

type Signal = 'SIGINT' | 'SIGTERM';
type Target = 'process' | 'group';

const CASES: readonly (readonly [Signal, Target])[] = [
  ['SIGTERM', 'process'],
  ['SIGTERM', 'group'],
  ['SIGINT', 'process'],
  ['SIGINT', 'group'],
];

interface Job {
  readonly child: ChildProcessWithoutNullStreams;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
}

/** Runs a command as a shell runs a job: in a process group of its own. */
function startJob(command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Job {
  const child = spawn(command, args, { cwd: ROOT, env: { ...process.env, ...env }, detached: true });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  jobs.push(child);
  return { child, exited, output: () => output };
}

function send(job: Job, signal: Signal, target: Target): void {
  process.kill(target === 'group' ? -job.child.pid! : job.child.pid!, signal);
}

/** Every live process: PID, process group and state. Zombies (exited, not reaped yet) are left out. */
function processes(): { pid: number; pgid: number }[] {
  return execFileSync('ps', ['-eo', 'pid=,pgid=,stat='])
    .toString()
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length === 3 && !fields[2]!.startsWith('Z'))
    .map(([pid, pgid]) => ({ pid: Number(pid), pgid: Number(pgid) }));
}

const groupMembers = (pgid: number) => processes().filter((p) => p.pgid === pgid).map((p) => p.pid);

const pgidOf = (pid: number) => processes().find((p) => p.pid === pid)!.pgid;

const refuses = async (url: string) => fetch(url).then(() => false, () => true);

const jobs: ChildProcessWithoutNullStreams[] = [];

afterAll(() => {
  // Whatever a failed test left in a job's group (npm may be gone, its children not).
  for (const child of jobs) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // nothing left
    }
  }
});

describe('npm start', () => {
  it.each(CASES)('stops everything it started on %s to the %s, and exits 0', async (signal, target) => {
    // The stack synthesized once for the run, as `npm start -- --assembly` runs it (faster than a synth).
    const job = startJob('npm', ['start', '--', '--quiet'], { SLUICE_PORT: '0', SLUICE_ASSEMBLY: inject('assemblies').http, SLUICE_DATA_DIR: '' });
    const ready = await waitFor(async () => /Sluice is ready at (\S+)/.exec(job.output()) ?? undefined, {
      timeoutMs: 120_000,
      what: 'npm start to print its endpoint',
      fatal: () => job.child.exitCode !== null,
    });
    const endpoint = ready[1]!;
    const dynamodbEndpoint = /DynamoDB Local: (\S+)/.exec(job.output())![1]!;
    // npm and the platform's node process; Java with its watchdog shell, in a process group of
    // their own, which no signal to npm's group reaches: only the platform stops them.
    const started = [...groupMembers(job.child.pid!), ...groupMembers(pgidOf(dynamoDbLocalPid(dynamodbEndpoint)))];
    expect(started.length).toBeGreaterThanOrEqual(4);

    send(job, signal, target);
    expect(await job.exited).toEqual({ code: 0, signal: null });
    expect(job.output()).toContain(`${signal}: stopping Sluice...`);
    expect(job.output()).toContain('Sluice stopped.');
    // Java has exited by then (the platform waits for it); its watchdog shell follows at once.
    const left = () => processes().filter((p) => started.includes(p.pid));
    await waitFor(async () => left().length === 0, { timeoutMs: 5000, what: `${JSON.stringify(left())} to exit` });
    expect(await refuses(endpoint)).toBe(true);
    expect(await refuses(dynamodbEndpoint)).toBe(true);
  });
});

describe('npx sluice, as the README runs it', () => {
  let platform: PlatformProcess;
  let client: SluiceClient;

  beforeAll(async () => {
    platform = await startPlatformProcess({ assemblyDir: inject('assemblies').http });
    client = new SluiceClient({ endpoint: platform.endpoint });
    await client.createTopic({ name: 'orders', partitions: 2 });
  });

  afterAll(() => {
    if (platform?.child.exitCode === null) platform.child.kill('SIGTERM');
  });

  const npxSluice = (...args: string[]) => startJob('npx', ['sluice', ...args], { SLUICE_ENDPOINT: platform.endpoint });

  it.each(CASES)('consume: %s to the %s leaves the group and exits 0', async (signal, target) => {
    const group = `billing-${signal}-${target}`;
    const job = npxSluice('consume', 'orders', '--group', group);
    await waitFor(async () => job.output().includes('assigned: orders/0, orders/1'), {
      timeoutMs: 60_000,
      what: 'the consumer to join',
      fatal: () => job.child.exitCode !== null,
    });
    send(job, signal, target);
    expect(await job.exited).toEqual({ code: 0, signal: null });
    expect((await client.describeGroup(group)).members).toEqual([]);
  });

  it.each(CASES)('fetch --follow: %s to the %s ends the waiting long poll at once and exits 0', async (signal, target) => {
    const job = npxSluice('fetch', 'orders', '--partition', '0', '--from', 'latest', '--follow');
    const printed = (value: string) =>
      waitFor(
        async () => {
          if (job.output().includes(value)) return true;
          await client.produce('orders', [{ partition: 0, value }]);
          return false;
        },
        { timeoutMs: 60_000, intervalMs: 1000, what: `fetch --follow to print "${value}"`, fatal: () => job.child.exitCode !== null },
      );
    await printed(`early-${signal}-${target}`);
    // A witness: a long poll as long as the CLI's, on a partition nothing is sent to, begun before
    // the CLI's next one. Once the CLI printed "late" it is in that next poll; had it waited that
    // out (as it once did, 13-16 s), it would end after the witness's.
    const witnessStop = new AbortController();
    const { highWatermark } = await client.fetch('orders', 1, { offset: 'latest' });
    const witness = client
      .fetch('orders', 1, { offset: highWatermark, waitMs: FETCH_LIMITS.maxWaitMs, signal: witnessStop.signal })
      .then((page) => `the witness's long poll ended first, with ${page.events.length} events`, () => 'the witness was aborted');
    await printed(`late-${signal}-${target}`);
    send(job, signal, target);
    const first = await Promise.race([job.exited.then((exit) => ({ exit })), witness]);
    witnessStop.abort();
    expect(first).toEqual({ exit: { code: 0, signal: null } });
    expect(await witness).toBe('the witness was aborted');
  });
});
