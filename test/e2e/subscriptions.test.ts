/**
 * Push subscriptions as a new user tries them: `npm start`'s entry point in its own process (it
 * synthesizes the stack, with its own DynamoDB Local and SQS server), a small HTTP server on
 * loopback as the webhook, and the `sluice` CLI executable for everything else. The events arrive
 * filtered, in order and signed; a rewind with `sluice subscriptions seek` delivers them again.
 * A queue subscriber uses the FIFO queue `npm start` prints as its "Queue target" (the only
 * queue its stack lets run-time subscriptions send to).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS, LOCAL_REGION, waitFor } from '../../local/support';
import { ROOT, startPlatformProcess } from '../support/platform-process';
import { analyse, startWebhooks, type Webhooks } from '../support/subscribers';

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

/** What docs/api.md tells a receiver to do: HMAC-SHA256(secret, "<t>.<raw body>"), constant-time, recent t. */
function verify(secret: string, raw: string, header: string | undefined): boolean {
  const parts = Object.fromEntries((header ?? '').split(',').map((p) => p.split('=', 2) as [string, string]));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${raw}`).digest();
  const given = Buffer.from(parts.v1 ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('push subscriptions with npm start and the sluice CLI', () => {
  let platform: ChildProcessWithoutNullStreams;
  let endpoint: string;
  let hooks: Webhooks;
  let queueTarget: string;

  beforeAll(async () => {
    const started = await startPlatformProcess();
    ({ child: platform, endpoint } = started);
    queueTarget = /Queue target:\s+(\S+)/.exec(started.output())?.[1] ?? '';
    hooks = await startWebhooks();
  }, 180_000);

  afterAll(async () => {
    await hooks?.close();
    if (platform && platform.exitCode === null) {
      const exited = new Promise((resolve) => platform.once('exit', resolve));
      platform.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (platform.exitCode === null) platform.kill('SIGKILL');
    }
  }, 30_000);

  it('subscribes a webhook, delivers produced events filtered, in order and signed, and replays them after a seek', async () => {
    const run = async (args: string[], stdin?: string) => {
      const out = await sluice(endpoint, args, stdin);
      expect(out.code, `sluice ${args.join(' ')}: ${out.stderr}`).toBe(0);
      return out;
    };
    await run(['topics', 'create', 'orders', '--partitions', '3']);

    // A webhook on loopback (the local platform allows private networks), the secret generated.
    const url = `${hooks.baseUrl}/orders-hook`;
    const created = await run([
      'subscriptions', 'create', 'orders', 'new-orders',
      '--webhook', url,
      '--filter', JSON.stringify({ value: { type: ['order.created'] } }),
    ]);
    expect(created.stdout).toContain(`Created subscription new-orders on orders`);
    const secret = /Webhook secret \(shown once\): (\S+)/.exec(created.stdout)?.[1];
    expect(secret).toMatch(/^whsec_/);
    const listed = JSON.parse((await run(['subscriptions', 'list', 'orders', '--json'])).stdout) as { subscriptions: { name: string; signed?: boolean }[] };
    expect(listed.subscriptions).toEqual([expect.objectContaining({ name: 'new-orders', signed: true })]);
    expect(JSON.stringify(listed)).not.toContain(secret!);

    // Three customers, 20 events each, half of them order.created.
    const customers = ['customer-a', 'customer-b', 'customer-c'];
    const produced: { key: string; n: number; partition: number; offset: number; created: boolean }[] = [];
    for (const key of customers) {
      const lines = Array.from({ length: 20 }, (_, n) => JSON.stringify({ n, type: n % 2 === 0 ? 'order.created' : 'order.cancelled', amount: 10 * n }));
      const out = await run(['produce', 'orders', '--key', key], lines.join('\n') + '\n');
      const results = out.stdout.trim().split('\n');
      expect(results).toHaveLength(20);
      results.forEach((line, n) => {
        const [partition, offset] = line.split('/').map(Number);
        produced.push({ key, n, partition: partition!, offset: offset!, created: n % 2 === 0 });
      });
    }
    const matching = produced.filter((p) => p.created);

    const first = await waitFor(
      async () => {
        const a = analyse(hooks.accepted('/orders-hook'));
        return a.unique.length >= matching.length ? a : undefined;
      },
      { timeoutMs: 30_000, what: 'the webhook to get every order.created event' },
    );
    // Filtered: exactly the order.created events, each once.
    expect(first.unique).toHaveLength(matching.length);
    expect(first.duplicates).toBe(0);
    expect(first.unique.every((e) => (e.value as { type: string }).type === 'order.created')).toBe(true);
    expect(first.unique.map((e) => `${e.key}/${(e.value as { n: number }).n}`).sort()).toEqual(matching.map((p) => `${p.key}/${p.n}`).sort());
    // In order: per partition by offset, so per customer in the order produced.
    expect(first.outOfOrder).toEqual([]);
    expect(first.malformed).toEqual([]);
    for (const key of customers) {
      const ns = first.unique.filter((e) => e.key === key).map((e) => (e.value as { n: number }).n);
      expect(ns).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    }
    // Signed: every call, with the secret printed at create.
    const calls = hooks.calls.filter((c) => c.path === '/orders-hook');
    expect(calls.length).toBeGreaterThan(0);
    for (const c of calls) {
      expect(c.headers['sluice-subscription']).toBe('new-orders');
      expect(c.headers['sluice-delivery-id']).toMatch(/^[0-9a-f]{64}$/);
      expect(verify(secret!, c.raw, c.headers['sluice-signature'] as string | undefined)).toBe(true);
      expect(verify('whsec_not-the-secret', c.raw, c.headers['sluice-signature'] as string | undefined)).toBe(false);
    }

    const described = JSON.parse((await run(['subscriptions', 'describe', 'orders', 'new-orders', '--json'])).stdout) as { lag: number; deadLetters: number; failing: number };
    expect(described).toMatchObject({ lag: 0, deadLetters: 0, failing: 0 });
    const table = await run(['subscriptions', 'describe', 'orders', 'new-orders']);
    expect(table.stdout).toContain('new-orders');

    // Rewind to the earliest event: every matching event arrives again, in order.
    const before = hooks.accepted('/orders-hook').length;
    const sought = JSON.parse((await run(['subscriptions', 'seek', 'orders', 'new-orders', '--to', 'earliest', '--json'])).stdout) as {
      positions: { partition: number; position: number }[];
    };
    expect(sought.positions.every((p) => p.position === 0)).toBe(true);
    const replay = await waitFor(
      async () => {
        const a = analyse(hooks.accepted('/orders-hook').slice(before));
        return a.unique.length >= matching.length ? a : undefined;
      },
      { timeoutMs: 30_000, what: 'the rewound webhook subscription to get the events again' },
    );
    expect(replay.outOfOrder).toEqual([]);
    expect(replay.duplicates).toBe(0);
    expect(replay.unique.map((e) => `${e.partition}:${e.offset}`).sort()).toEqual(first.unique.map((e) => `${e.partition}:${e.offset}`).sort());
    for (const c of hooks.calls.filter((x) => x.path === '/orders-hook')) expect(verify(secret!, c.raw, c.headers['sluice-signature'] as string | undefined)).toBe(true);

    const deadLetters = JSON.parse((await run(['subscriptions', 'dead-letters', 'orders', 'new-orders', '--json'])).stdout) as { total: number };
    expect(deadLetters.total).toBe(0);
    await run(['subscriptions', 'delete', 'orders', 'new-orders']);
    const gone = await sluice(endpoint, ['subscriptions', 'describe', 'orders', 'new-orders']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('SubscriptionNotFound');
    console.log(
      `e2e subscriptions: ${produced.length} events produced with the CLI over ${new Set(produced.map((p) => p.partition)).size} partitions; ` +
        `${first.unique.length} matching delivered (${first.duplicates} duplicates) in ${first.deliveries} signed POSTs; ` +
        `after seek --to earliest: ${replay.unique.length} again (${replay.duplicates} duplicates)`,
    );
  }, 120_000);

  it('subscribes the local FIFO queue target and delivers every event to it, in order per partition', async () => {
    expect(queueTarget).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\d+\/.+\.fifo$/);
    const run = async (args: string[], stdin?: string) => {
      const out = await sluice(endpoint, args, stdin);
      expect(out.code, `sluice ${args.join(' ')}: ${out.stderr}`).toBe(0);
      return out;
    };
    await run(['topics', 'create', 'payments', '--partitions', '2']);
    await run(['subscriptions', 'create', 'payments', 'ledger', '--queue', queueTarget]);
    const lines = Array.from({ length: 30 }, (_, n) => JSON.stringify({ n }));
    await run(['produce', 'payments', '--key', 'account-1'], lines.slice(0, 15).join('\n') + '\n');
    await run(['produce', 'payments', '--key', 'account-2'], lines.slice(15).join('\n') + '\n');

    // The queue's URL names the local IAM; the account's own credentials pass it.
    const sqs = new SQSClient({ endpoint: new URL(queueTarget).origin, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const received: { partition: number; offset: number; value: { n: number } }[] = [];
    try {
      await waitFor(
        async () => {
          const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueTarget, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
          for (const m of out.Messages ?? []) {
            const body = JSON.parse(m.Body ?? '{}') as { events: { partition: number; offset: number; value: { n: number } }[] };
            received.push(...body.events);
            await sqs.send(new DeleteMessageCommand({ QueueUrl: queueTarget, ReceiptHandle: m.ReceiptHandle }));
          }
          return new Set(received.map((e) => e.value.n)).size === 30;
        },
        { timeoutMs: 30_000, what: 'the queue subscriber to receive all 30 events' },
      );
    } finally {
      sqs.destroy();
    }
    expect(received).toHaveLength(30);
    for (const partition of new Set(received.map((e) => e.partition))) {
      const offsets = received.filter((e) => e.partition === partition).map((e) => e.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
  }, 90_000);
});
