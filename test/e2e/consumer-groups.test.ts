/**
 * Consumer groups end to end, as a user would run them: `npm start`'s entry point in its own
 * process, and `sluice consume` processes in one group. One consumer is killed with SIGKILL (a
 * crash: no clean leave); the other takes over its partitions once its session times out. More
 * events are produced, a new consumer joins, and every event produced is printed by some consumer
 * (at-least-once: nothing skipped; repeats are allowed). The survivors stop on SIGTERM, leaving
 * the group cleanly.
 */
import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { FetchedEvent } from '../../api/events';
import { SluiceClient } from '../../client';
import { waitFor } from '../../local/support';
import { ROOT, startPlatformProcess } from '../support/platform-process';

const SESSION_TIMEOUT_MS = 3000;
const GROUP = 'e2e-group';
const children: ChildProcess[] = [];

interface ConsumerProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly events: FetchedEvent[];
  stderr: string;
  readonly exited: Promise<number | null>;
}

function startConsumer(endpoint: string): ConsumerProcess {
  const args = ['bin/sluice.js', '--endpoint', endpoint, 'consume', 'orders', '--group', GROUP, '--from-beginning', '--json'];
  const child = spawn(process.execPath, [...args, '--session-timeout-ms', String(SESSION_TIMEOUT_MS)], { cwd: ROOT });
  children.push(child);
  const consumer: ConsumerProcess = {
    child,
    events: [],
    stderr: '',
    exited: new Promise((r) => child.once('exit', (code) => r(code))),
  };
  let partial = '';
  child.stdout.on('data', (d: Buffer) => {
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) if (line) consumer.events.push(JSON.parse(line) as FetchedEvent);
  });
  child.stderr.on('data', (d: Buffer) => (consumer.stderr += d));
  return consumer;
}

async function produce(sluice: SluiceClient, count: number, from: number): Promise<string[]> {
  const producer = sluice.producer();
  const results = await producer.send({
    topic: 'orders',
    messages: Array.from({ length: count }, (_, i) => ({ key: `customer-${from + i}`, value: { order: from + i } })),
  });
  await producer.disconnect();
  return results.map((r) => r.messageId);
}

describe('sluice consume: a group of processes, a crash, a newcomer', () => {
  let endpoint: string;
  let sluice: SluiceClient;

  beforeAll(async () => {
    const platform = await startPlatformProcess({ assemblyDir: inject('assemblies').http });
    children.push(platform.child);
    endpoint = platform.endpoint;
    sluice = new SluiceClient({ endpoint });
  });

  afterAll(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });

  it('rebalances on a crash and a join, and prints every event produced', { timeout: 60_000 }, async () => {
    const members = async () => (await sluice.describeGroup(GROUP).catch(() => undefined))?.members ?? [];
    const split = (...counts: number[]) => async () => {
      const now = (await members()).map((m) => m.assignments.length).sort();
      return JSON.stringify(now) === JSON.stringify(counts) ? now : undefined;
    };
    const wait = <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000) =>
      waitFor(probe, { timeoutMs, intervalMs: 100, what });

    await sluice.createTopic({ name: 'orders', partitions: 4 });
    const a = startConsumer(endpoint);
    const b = startConsumer(endpoint);
    await wait('the partitions to split 2/2', split(2, 2));
    const consumers = [a, b];
    const printed = () => consumers.flatMap((consumer) => consumer.events.map((e) => e.messageId));
    const allPrinted = (ids: readonly string[]) => async () => {
      const seen = new Set(printed());
      return ids.every((id) => seen.has(id));
    };

    const produced = await produce(sluice, 100, 0);
    await wait('both consumers to print the first 100 events', async () => {
      return a.events.length > 0 && b.events.length > 0 && (await allPrinted(produced)());
    });

    // More events, and a crash while they are being consumed: no clean leave, nothing committed
    // for what it had read last. The group notices once the session timeout has passed.
    produced.push(...(await produce(sluice, 100, 100)));
    a.child.kill('SIGKILL');
    const killedAt = Date.now();
    await a.exited;
    // The bound is generous: speed is not asserted here, the takeover time is reported.
    // The group's record is not enough: the survivor must have seen its new assignment (on its next
    // heartbeat) before the newcomer joins, or the two rebalances merge into one.
    const FOUR = /^assigned: orders\/\d, orders\/\d, orders\/\d, orders\/\d$/m;
    await wait(
      'the survivor to own all 4 partitions, and to know it',
      async () => (await split(4)()) && FOUR.test(b.stderr),
      SESSION_TIMEOUT_MS + 20_000,
    );
    const takeoverMs = Date.now() - killedAt;

    const c = startConsumer(endpoint);
    consumers.push(c);
    await wait('the newcomer to get its share', split(2, 2));
    produced.push(...(await produce(sluice, 100, 200)));
    await wait('every produced event to be printed', allPrinted(produced));
    expect(c.events.length).toBeGreaterThan(0);
    const all = printed();
    expect(new Set(all)).toEqual(new Set(produced));
    expect(b.stderr).toMatch(FOUR);
    expect(c.stderr).toMatch(/^assigned: orders\/\d, orders\/\d$/m);

    // SIGTERM: each survivor commits, leaves the group at once and exits 0.
    b.child.kill('SIGTERM');
    c.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(await c.exited).toBe(0);
    const group = await sluice.describeGroup(GROUP);
    expect(group.members).toEqual([]);
    expect(group.partitions.map((p) => p.lag)).toEqual([0, 0, 0, 0]);

    console.info(
      `consumer-groups e2e: produced ${produced.length}; printed a=${a.events.length} b=${b.events.length} ` +
        `c=${c.events.length} (total ${all.length}, distinct ${new Set(all).size}, repeats ${all.length - new Set(all).size}); ` +
        `takeover after SIGKILL ${takeoverMs} ms (session timeout ${SESSION_TIMEOUT_MS} ms)`,
    );
  });
});
