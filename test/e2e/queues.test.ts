/**
 * The acceptance of message queues, as a new user tries them: `npm start`'s entry point in its own
 * process (it synthesizes the stack, with its own DynamoDB Local and SQS server) and the `sluice`
 * CLI executable for everything. Create a queue; send 3 messages, one retried with the same ID
 * (a duplicate); receive 2 and ack them; let the third's visibility expire and see it again; nack
 * it past the queue's max receive count, so it lands in the dead-letter queue; redrive it back.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { QueueDescription, QueueMessage } from '../../api/queues';
import { waitFor } from '../../local/support';
import { ROOT, startPlatformProcess } from '../support/platform-process';

interface Exit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `node bin/sluice.js --endpoint <endpoint> ...args`, with `stdin` piped in. */
function sluice(endpoint: string, args: string[], stdin = ''): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/sluice.js', '--endpoint', endpoint, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** The receipt handles of `sluice queues receive`'s human output. */
const receiptHandles = (stdout: string) => [...stdout.matchAll(/^Receipt handle:\s+(\S+)$/gm)].map((m) => m[1]!);
const jsonLines = <T>(stdout: string): T[] => stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);

describe('message queues with npm start and the sluice CLI', () => {
  let platform: ChildProcessWithoutNullStreams;
  let endpoint: string;

  beforeAll(async () => {
    ({ child: platform, endpoint } = await startPlatformProcess());
  }, 180_000);

  afterAll(async () => {
    if (platform && platform.exitCode === null) {
      const exited = new Promise((resolve) => platform.once('exit', resolve));
      platform.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (platform.exitCode === null) platform.kill('SIGKILL');
    }
  }, 30_000);

  it('create, send with a retried ID, receive and ack, visibility expiry, dead letter after max receives, redrive', async () => {
    const run = async (args: string[], stdin?: string) => {
      const out = await sluice(endpoint, args, stdin);
      expect(out.code, `sluice ${args.join(' ')}: ${out.stderr}`).toBe(0);
      return out.stdout;
    };
    const describeQueue = async () => JSON.parse(await run(['queues', 'describe', 'orders-sync', '--json'])) as QueueDescription;

    expect(await run(['queues', 'create', 'orders-sync', '--visibility-timeout-ms', '2000', '--max-receive-count', '2'])).toBe(
      'Created queue "orders-sync": visibility timeout 2s, max receive count 2, retention 4d.\n',
    );
    expect(await run(['queues', 'list'])).toMatch(/^NAME\s+ORIGIN\norders-sync\s+api\n/);

    // Three messages; the second is sent again with its ID: nothing new is enqueued.
    expect(await run(['queues', 'send', 'orders-sync', '{"order":1,"status":"paid"}', '--id', 'order-1'])).toBe('order-1 sent\n');
    expect(await run(['queues', 'send', 'orders-sync', '{"order":2,"status":"paid"}', '--id', 'order-2'])).toBe('order-2 sent\n');
    expect(await run(['queues', 'send', 'orders-sync', '{"order":2,"status":"paid"}', '--id', 'order-2'])).toBe('order-2 duplicate\n');
    expect(await run(['queues', 'send', 'orders-sync', '--id', 'order-3'], '{"order":3,"status":"shipped"}\n')).toBe('order-3-1 sent\n');
    expect((await describeQueue()).messages.visible).toBe(3);

    // Receive 2 and ack them by their receipt handles.
    const two = await run(['queues', 'receive', 'orders-sync', '--max-messages', '2']);
    const handles = receiptHandles(two);
    expect(handles).toHaveLength(2);
    const firstIds = [...two.matchAll(/^Message ID:\s+(\S+)$/gm)].map((m) => m[1]!);
    expect(await run(['queues', 'ack', 'orders-sync', ...handles])).toBe('Acked 2 messages.\n');

    // The third, received but not acked, comes back once its visibility timeout (1 s) ends.
    const [third] = jsonLines<QueueMessage>(await run(['queues', 'receive', 'orders-sync', '--visibility-timeout-ms', '1000', '--json']));
    expect(third).toMatchObject({ receiveCount: 1 });
    expect([...firstIds, third!.messageId].sort()).toEqual(['order-1', 'order-2', 'order-3-1']);
    const again = await waitFor(
      async () => jsonLines<QueueMessage>(await run(['queues', 'receive', 'orders-sync', '--wait-ms', '1000', '--json']))[0],
      { timeoutMs: 15_000, what: 'the third message to be visible again', intervalMs: 0 },
    );
    expect(again).toMatchObject({ messageId: third!.messageId, body: third!.body, receiveCount: 2 });

    // Received twice (the max receive count) and nacked: the next receive moves it to the dead letters.
    expect(await run(['queues', 'nack', 'orders-sync', again.receiptHandle])).toBe('Nacked 1 message.\n');
    expect(await run(['queues', 'receive', 'orders-sync', '--wait-ms', '1000'])).toBe('No messages.\n');
    const dead = await describeQueue();
    expect(dead.deadLetters.visible).toBe(1);
    expect(dead.messages).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(await run(['queues', 'describe', 'orders-sync'])).toMatch(/^Dead letters:\s+1$/m);

    // Redrive brings it back, as it was, to be received (afresh) and resolved.
    expect(await run(['queues', 'redrive', 'orders-sync'])).toBe('Moved 1 dead letter back to "orders-sync"; about 0 left.\n');
    const back = await waitFor(
      async () => jsonLines<QueueMessage>(await run(['queues', 'receive', 'orders-sync', '--wait-ms', '1000', '--json', '--ack']))[0],
      { timeoutMs: 10_000, what: 'the redriven message', intervalMs: 0 },
    );
    expect(back).toMatchObject({ messageId: third!.messageId, body: third!.body, receiveCount: 1 });
    const done = await describeQueue();
    expect(done.messages).toEqual({ visible: 0, inFlight: 0, delayed: 0 });
    expect(done.deadLetters.visible).toBe(0);

    expect(await run(['queues', 'delete', 'orders-sync'])).toBe('Deleted queue "orders-sync".\n');
    const gone = await sluice(endpoint, ['queues', 'describe', 'orders-sync']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('QueueNotFound');
  }, 120_000); // some 20 CLI processes, each starting Node

  it('answers bad input with a usage error or a 400, sending nothing', async () => {
    const created = await sluice(endpoint, ['queues', 'create', 'emails']);
    expect(created.code).toBe(0);
    const badName = await sluice(endpoint, ['queues', 'create', 'bad.name']);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('InvalidRequest');
    const badGroup = await sluice(endpoint, ['queues', 'send', 'emails', 'hello', '--group', 'has space']);
    expect(badGroup.code).toBe(1);
    expect(badGroup.stderr).toContain('InvalidRequest');
    const noHandle = await sluice(endpoint, ['queues', 'ack', 'emails']);
    expect(noHandle.code).toBe(2);
    const described = JSON.parse((await sluice(endpoint, ['queues', 'describe', 'emails', '--json'])).stdout) as QueueDescription;
    expect(described.messages.visible).toBe(0);
  }, 60_000);

  it('ends quietly with 0 when the reader of its output goes away (sluice … | head -1)', async () => {
    await sluice(endpoint, ['queues', 'create', 'piped']);
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ n: i, pad: 'x'.repeat(500) })).join('\n');
    expect((await sluice(endpoint, ['queues', 'send', 'piped', '--id', 'p'], `${lines}\n`)).code).toBe(0);
    const piped = await new Promise<Exit>((resolve, reject) => {
      const child = spawn('bash', ['-o', 'pipefail', '-c', `node bin/sluice.js --endpoint ${endpoint} queues receive piped --max-messages 10 --ack | head -1`], { cwd: ROOT });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d));
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(piped.stderr).not.toContain('EPIPE');
    expect(piped.code).toBe(0);
    expect(piped.stdout).toMatch(/^Message ID:/);
  }, 60_000);
});
