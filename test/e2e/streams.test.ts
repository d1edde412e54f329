/**
 * Stream processing as a new user tries it: the example's CDK app (examples/streams: a Sluice
 * installation and three StreamProcessors) synthesized as `cdk synth` would, run by `npm start
 * -- --assembly` in a process of its own, used through the client and the `sluice` CLI.
 *
 * - Clicks (keyed by user, out of order) are counted per page and minute: the processor re-keys
 *   them through its repartition topic. The test computes the counts itself; the output holds,
 *   per page and minute, exactly the updates 1, 2, …, n (so no click was lost or counted twice,
 *   and no update written twice), and a click later than the grace period is dropped and counted.
 * - Orders and payments are joined within 5 minutes: exactly the pairs the test finds within 5
 *   minutes of each other, each once.
 * - Orders are enriched from the customers table (known customers, and one that is not).
 * - `GET /processors` (`sluice processors list`) shows each processor with its lag back to 0, its
 *   positions at the high watermarks, and its counters.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchedEvent } from '../../api/events';
import type { ListProcessorsResponse } from '../../api/processors';
import { SluiceClient } from '../../client/sluice-client';
import { StreamsExampleStack } from '../../examples/streams/lib/streams-stack';
import { createTopics, TOPICS } from '../../examples/streams/lib/topics';
import type { Click, Customer, EnrichedOrder, Order, PaidOrder, Payment } from '../../examples/streams/processors/types';
import { applyNagChecks } from '../../lib';
import { waitFor } from '../../local/support';
import { ROOT, startPlatformProcess, type PlatformProcess } from '../support/platform-process';

const MINUTE = 60_000;
const PROCESSORS = ['clicks-per-minute', 'order-enrichment', 'order-payments'];

const between = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

/** `node bin/sluice.js --endpoint <endpoint> ...args`. */
function sluice(endpoint: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/sluice.js', '--endpoint', endpoint, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the streams example on npm start', () => {
  let assemblyDir: string;
  let platform: PlatformProcess;
  let client: SluiceClient;

  beforeAll(async () => {
    assemblyDir = await mkdtemp(join(tmpdir(), 'sluice-streams-'));
    // What `cdk synth` writes for the example's app (examples/streams/bin), cdk-nag included.
    const app = new App({
      outdir: assemblyDir,
      context: { 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:enable-path-metadata': true, 'aws:cdk:disable-version-reporting': true },
    });
    new StreamsExampleStack(app, 'StreamsExample');
    applyNagChecks(app);
    app.synth();
    platform = await startPlatformProcess({ assemblyDir });
    client = new SluiceClient({ endpoint: platform.endpoint });
    // The README's first step: the topics the processors read and write.
    await createTopics(client);
  }, 240_000);

  afterAll(async () => {
    const child = platform?.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    if (assemblyDir) await rm(assemblyDir, { recursive: true, force: true });
  }, 30_000);

  /** Until the processor has processed everything appended to its inputs so far. */
  const caughtUp = (name: string) =>
    waitFor(async () => ((await client.describeProcessor(name)).lag === 0 ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 250,
      what: `processor ${name} to catch up (lag 0)`,
    });

  /** Every event of a topic, partition by partition, in offset order. */
  async function readAll(topic: string): Promise<FetchedEvent[]> {
    const events: FetchedEvent[] = [];
    for (let partition = 0; partition < TOPICS.find((t) => t.name === topic)!.partitions; partition++) {
      let offset = 0;
      for (;;) {
        const page = await client.fetch(topic, partition, { offset });
        events.push(...page.events);
        if (page.nextOffset >= page.highWatermark) break;
        offset = page.nextOffset;
      }
    }
    return events;
  }

  it('counts clicks per page and minute, exactly, and drops a click later than the grace period', async () => {
    // Two whole minutes of event time, ten minutes ago; clicks in random order (within the grace).
    const start = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
    const pages = Array.from({ length: 8 }, (_, i) => `/page-${i}`);
    const clicks = Array.from({ length: 300 }, () => {
      const click: Click = { page: pages[between(0, pages.length - 1)]!, userId: `user-${between(1, 25)}` };
      return { key: click.userId, value: click, timestamp: start + between(0, 2 * MINUTE - 1) };
    });
    const expected = new Map<string, number>();
    for (const c of clicks) {
      const window = Math.floor(c.timestamp / MINUTE) * MINUTE;
      const id = `${c.value.page}@${window}`;
      expected.set(id, (expected.get(id) ?? 0) + 1);
    }
    // As the Producer batches (one atomic append holds at most 100 writes, a message ID each).
    for (let i = 0; i < clicks.length; i += 40) await client.produce('clicks', clicks.slice(i, i + 40));
    await caughtUp('clicks-per-minute');
    // Every page's partition has seen stream time past `start` now: a click of a window that
    // ended more than the grace (5 minutes) before it is late.
    await client.produce('clicks', [{ key: 'user-1', value: { page: pages[0]!, userId: 'user-1' }, timestamp: start - 10 * MINUTE }]);
    await caughtUp('clicks-per-minute');

    // Per page and window, the updates in the order written (one partition per page, offset order).
    const updates = new Map<string, number[]>();
    for (const e of await readAll('clicks-per-minute')) {
      const value = e.value as { key: string; window: { start: number; end: number }; value: number };
      expect(e.key).toBe(value.key);
      expect(value.window.end - value.window.start).toBe(MINUTE);
      const id = `${value.key}@${value.window.start}`;
      updates.set(id, [...(updates.get(id) ?? []), value.value]);
    }
    expect(new Map([...updates].map(([id, counts]) => [id, counts.at(-1)]))).toEqual(expected);
    for (const [id, counts] of updates) expect(counts, id).toEqual(Array.from({ length: expected.get(id)! }, (_, i) => i + 1));

    const processor = await client.describeProcessor('clicks-per-minute');
    expect(processor.counters.lateDropped).toBe(1);
    expect(processor.counters.deadLettered).toBe(0);
    // Each click once from `clicks`, once from the repartition topic (the late one too).
    expect(processor.counters.processed).toBe(2 * (clicks.length + 1));
  }, 180_000);

  it('joins orders with the payments made within 5 minutes of them, each pair once', async () => {
    const run = Date.now().toString(36);
    const start = Date.now() - 30 * MINUTE;
    const orders: { order: Order; timestamp: number }[] = Array.from({ length: 30 }, (_, i) => ({
      order: { orderId: `${run}-o${i}`, customerId: `${run}-c${i % 4}`, total: between(5, 500) },
      timestamp: start + i * 500,
    }));
    // 20 paid within 5 minutes (some paid before the order's timestamp), 5 too late, 5 never.
    // Every timestamp lies within 6 minutes (the window plus its grace), so none arrives too late
    // for the join, whichever partition or topic the processor reads first.
    const payments: { payment: Payment; timestamp: number }[] = orders.slice(0, 25).map(({ order, timestamp }, i) => ({
      payment: { paymentId: `${run}-p${i}`, orderId: order.orderId, amount: order.total },
      timestamp: i < 20 ? timestamp + between(-30_000, 4 * MINUTE) : timestamp + 5 * MINUTE + 10_000,
    }));
    const expected = new Map<string, PaidOrder>();
    for (const { payment, timestamp } of payments) {
      const order = orders.find((o) => o.order.orderId === payment.orderId)!;
      if (Math.abs(timestamp - order.timestamp) > 5 * MINUTE) continue;
      expected.set(order.order.orderId, { ...order.order, paymentId: payment.paymentId, amount: payment.amount });
    }
    expect(expected.size).toBe(20);

    await client.produce('orders', orders.map(({ order, timestamp }) => ({ key: order.orderId, value: order, timestamp })));
    await client.produce('payments', payments.map(({ payment, timestamp }) => ({ key: payment.orderId, value: payment, timestamp })));
    await caughtUp('order-payments');

    const joined = (await readAll('paid-orders')).map((e) => e.value as PaidOrder).filter((p) => p.orderId.startsWith(`${run}-`));
    expect(joined).toHaveLength(expected.size);
    expect(new Map(joined.map((p) => [p.orderId, p]))).toEqual(expected);
    expect((await client.describeProcessor('order-payments')).counters).toMatchObject({ lateDropped: 0, deadLettered: 0 });
  }, 180_000);

  it('enriches orders from the customers table, an unknown customer as null', async () => {
    const run = `${Date.now().toString(36)}x`;
    const customers: Customer[] = [
      { customerId: `${run}-c1`, name: 'Ada', tier: 'gold' },
      { customerId: `${run}-c2`, name: 'Grace', tier: 'silver' },
    ];
    await client.produce('customers', customers.map((c) => ({ key: c.customerId, value: c })));
    // A customer's later value replaces the earlier one.
    await client.produce('customers', [{ key: `${run}-c2`, value: { ...customers[1]!, tier: 'gold' } }]);
    await caughtUp('order-enrichment');
    const orders: Order[] = [
      { orderId: `${run}-o1`, customerId: `${run}-c1`, total: 10 },
      { orderId: `${run}-o2`, customerId: `${run}-c2`, total: 20 },
      { orderId: `${run}-o3`, customerId: `${run}-c9`, total: 30 },
    ];
    await client.produce('orders', orders.map((o) => ({ key: o.orderId, value: o })));
    await caughtUp('order-enrichment');

    const enriched = (await readAll('enriched-orders')).map((e) => ({ key: e.key, value: e.value as EnrichedOrder })).filter((e) => e.value.orderId.startsWith(`${run}-`));
    expect(enriched.sort((a, b) => a.value.orderId.localeCompare(b.value.orderId))).toEqual([
      { key: `${run}-c1`, value: { ...orders[0], customer: { name: 'Ada', tier: 'gold' } } },
      { key: `${run}-c2`, value: { ...orders[1], customer: { name: 'Grace', tier: 'gold' } } },
      { key: `${run}-c9`, value: { ...orders[2], customer: null } },
    ]);
  }, 180_000);

  it('sluice processors list shows every processor caught up, its positions at the high watermarks', async () => {
    for (const name of PROCESSORS) await caughtUp(name);
    const json = await sluice(platform.endpoint, ['processors', 'list', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const { processors } = JSON.parse(json.stdout) as ListProcessorsResponse;
    expect(processors.map((p) => p.name)).toEqual(PROCESSORS);
    for (const p of processors) {
      expect(p.lag, p.name).toBe(0);
      expect(p.counters.processed, p.name).toBeGreaterThan(0);
      expect(p.updatedAt, p.name).not.toBeNull();
      for (const partition of p.partitions) {
        for (const input of partition.inputs) {
          // Lag 0 means every event appended was processed: the position is the high watermark.
          expect(input.position ?? 0, `${p.name} ${input.topic}/${partition.partition}`).toBe(input.highWatermark);
        }
      }
    }
    // The internal topics exist now (created by the processors) and are read like any input.
    const clicks = processors.find((p) => p.name === 'clicks-per-minute')!;
    expect(clicks.inputs).toEqual(['clicks', 'clicks-per-minute-repartition-0']);
    expect(clicks.partitions.flatMap((p) => p.inputs.map((i) => i.topic))).toContain('clicks-per-minute-repartition-0');
    expect(clicks.state.items).toBeGreaterThan(0);

    const table = await sluice(platform.endpoint, ['processors', 'list']);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PROCESSOR\s+PARTITIONS\s+LAG\s+/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ['clicks-per-minute', '4', '0'],
      ['order-enrichment', '3', '0'],
      ['order-payments', '3', '0'],
    ]);
  }, 120_000);
});
