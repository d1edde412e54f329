/**
 * The console's processors pages in a real browser, against a stack that deploys a stream
 * processor: a Sluice installation and the streams example's clicks-per-minute processor,
 * synthesized as `cdk synth` would and run by the local platform. Clicks produced while the page
 * watches are processed; the page shows the processor caught up, its counters, and per partition
 * its input positions at the high watermarks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SluiceClient } from '../../client';
import { Sluice, StreamProcessor } from '../../lib';
import { CONSOLE_PATH, startPlatform, type Platform } from '../../local/platform';
import { waitFor } from '../../local/support';
import { uniqueMessageQueuePrefix, uniquePrefix } from '../support/emulators';
import { ROOT } from '../support/platform-process';

const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';
const IMAGES = join(ROOT, 'docs/images');

describe('web console: stream processors', () => {
  let assemblyDir: string;
  let platform: Platform;
  let sluice: SluiceClient;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    assemblyDir = await mkdtemp(join(tmpdir(), 'sluice-console-processors-'));
    const app = new App({ outdir: assemblyDir, context: { 'aws:cdk:disable-version-reporting': true } });
    const stack = new Stack(app, 'Clicks');
    const installation = new Sluice(stack, 'Sluice', { api: 'http', removalPolicy: RemovalPolicy.DESTROY });
    new StreamProcessor(stack, 'ClicksPerMinute', {
      sluice: installation,
      entry: fileURLToPath(new URL('../../examples/streams/processors/clicks-per-minute.ts', import.meta.url)),
    });
    app.synth();
    platform = await startPlatform({
      port: 0,
      prefix: uniquePrefix('console-proc'),
      messageQueuePrefix: uniqueMessageQueuePrefix(),
      emulators: inject('emulators'),
      assemblyDir,
    });
    sluice = new SluiceClient({ endpoint: platform.endpoint });
    await sluice.createTopic({ name: 'clicks', partitions: 2 });
    await sluice.createTopic({ name: 'clicks-per-minute', partitions: 2 });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    if (assemblyDir) await rm(assemblyDir, { recursive: true, force: true });
  });

  it('shows the processor catching up, its counters, and its positions per partition', async () => {
    const consoleUrl = new URL(`${CONSOLE_PATH}/`, platform.endpoint).href;
    await page.goto(`${consoleUrl}#/processors`);
    const row = page.getByRole('row').filter({ hasText: 'clicks-per-minute' });
    await row.waitFor();
    expect(await row.textContent()).toContain('clicks, clicks-per-minute-repartition-0');

    const pages = ['/home', '/pricing', '/docs'];
    await sluice.produce('clicks', Array.from({ length: 12 }, (_, i) => ({ key: `user-${i % 4}`, value: { page: pages[i % 3]!, userId: `user-${i % 4}` } })));
    // Processed twice: from clicks into the repartition topic, then counted from there.
    await waitFor(async () => /caught up/.test((await row.textContent()) ?? '') && /processed 24\b/.test((await row.textContent()) ?? ''), {
      timeoutMs: 90_000,
      intervalMs: 500,
      what: 'the page to show the processor caught up, 24 records processed',
    });
    await page.screenshot({ path: join(IMAGES, 'console-processors.png'), fullPage: true });

    await row.getByRole('link', { name: 'clicks-per-minute' }).click();
    await waitFor(async () => (await page.getByTestId('processor-lag').textContent().catch(() => '')) === '0', { timeoutMs: 10_000, what: 'the processor page' });
    const described = await sluice.describeProcessor('clicks-per-minute');
    const rows = page.getByRole('region', { name: 'Partitions' }).locator('tbody tr');
    expect(await rows.count()).toBe(described.partitions.length);
    for (const p of described.partitions) {
      const text = (await rows.nth(p.partition).textContent()) ?? '';
      for (const input of p.inputs) expect(text).toContain(`${input.topic} ${input.position ?? '-'} / ${input.highWatermark}`);
    }
    expect(await page.getByRole('link', { name: 'clicks-per-minute-dlq' }).count()).toBe(1);
    await page.screenshot({ path: join(IMAGES, 'console-processor.png'), fullPage: true });
  }, 120_000);
});
