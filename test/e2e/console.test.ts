/**
 * The web console in a real browser (Debian's headless Chromium, driven by playwright-core),
 * served by the local platform at /console as `npm start` serves it, plus `sluice console`'s own
 * server. Each page's screenshot is written to docs/images/ (README and docs link them).
 */
import { mkdirSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchedEvent } from '../../api/events';
import { run } from '../../cli/main';
import { SluiceClient, type Consumer } from '../../client';
import { CSRF_HEADER } from '../../console/server';
import { CONSOLE_PATH, type Platform } from '../../local/platform';
import { waitFor } from '../../local/support';
import { startTestPlatform } from '../support/emulators';
import { ROOT } from '../support/platform-process';

const CHROMIUM = process.env.SLUICE_CHROMIUM ?? '/usr/bin/chromium';
const IMAGES = join(ROOT, 'docs/images');

let platform: Platform;
let sluice: SluiceClient;
let browser: Browser;
let page: Page;
let consoleUrl: string;
/** Every URL the page asked for: none may leave the console's origin. */
const requested: string[] = [];
const pageErrors: string[] = [];
const consumers: Consumer[] = [];

beforeAll(async () => {
  platform = await startTestPlatform('console');
  sluice = new SluiceClient({ endpoint: platform.endpoint });
  consoleUrl = new URL(`${CONSOLE_PATH}/`, platform.endpoint).href;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('request', (r) => requested.push(r.url()));
  page.on('pageerror', (e) => pageErrors.push(e.message));
  mkdirSync(IMAGES, { recursive: true });
}, 120_000);

afterAll(async () => {
  await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)));
  await browser?.close();
  await platform?.stop();
});

async function open(hash: string): Promise<void> {
  await page.goto(`${consoleUrl}#/${hash}`);
  await page.locator('main h2').first().waitFor();
}

async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: join(IMAGES, `console-${name}.png`), fullPage: true });
}

describe('web console', () => {
  it('serves its page with a strict CSP, paints fast, and refuses mutating calls without the CSRF token', async () => {
    const res = await fetch(consoleUrl);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'self' 'sha256-[^']+'(;|$)/);
    expect(csp).not.toContain('unsafe-inline');

    const forged = await fetch(new URL('api/topics', consoleUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'forged', partitions: 1 }),
    });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('CsrfTokenInvalid');
    await expect(sluice.describeTopic('forged')).rejects.toThrow(/forged/);

    const bad = await fetch(new URL('api/topics', consoleUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CSRF_HEADER]: 'x'.repeat(32) },
      body: '{}',
    });
    expect(bad.status).toBe(403);

    // With the page's token: bad input is a 400 with a code, and creates nothing.
    const token = /name="sluice-csrf" content="([^"]+)"/.exec(await (await fetch(consoleUrl)).text())![1]!;
    const invalid = await fetch(new URL('api/topics', consoleUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json', [CSRF_HEADER]: token },
      body: JSON.stringify({ name: 'half', partitions: 'many' }),
    });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { code: string } }).error.code).toBe('InvalidRequest');
    await expect(sluice.describeTopic('half')).rejects.toThrow(/half/);
    const page404 = await fetch(new URL('api/nothing', consoleUrl));
    expect(page404.status).toBe(404);

    const started = Date.now();
    await open('topics');
    const firstPaint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Infinity);
    expect(firstPaint).toBeLessThan(1000);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('creates a topic through the form, produces through the form, and shows the message', async () => {
    await open('topics');
    await page.getByLabel('Name').fill('web-orders');
    await page.getByLabel('Partitions').fill('1');
    await page.getByRole('button', { name: 'Create…' }).click();
    await page.getByRole('button', { name: 'Confirm create' }).click();
    await page.getByRole('link', { name: 'web-orders' }).waitFor();
    expect((await sluice.describeTopic('web-orders')).partitions).toBe(1);

    await open('messages/web-orders/0');
    await page.getByLabel('Key (optional)').fill('customer-7');
    await page.getByLabel('Value (JSON, or text)').fill('{"order": 7, "total": 12.5}');
    await page.getByLabel('Headers (one name=value a line)').fill('source=console');
    await page.getByRole('button', { name: 'Produce' }).click();
    await page.getByRole('status').filter({ hasText: 'Produced to partition 0 at offset 0' }).waitFor();
    const event = page.locator('.events li[data-offset="0"]');
    await event.waitFor();
    expect(await event.locator('pre.value').textContent()).toBe(JSON.stringify({ order: 7, total: 12.5 }, null, 2));
    expect(await event.textContent()).toContain('customer-7');
    expect(await event.textContent()).toContain('source=console');

    // Live tail: an event produced elsewhere shows up without a reload.
    await sluice.produce('web-orders', [{ key: 'customer-8', value: { order: 8 } }]);
    await page.locator('.events li[data-offset="1"]').waitFor();
    // Newest first.
    expect(await page.locator('.events li').first().getAttribute('data-offset')).toBe('1');
    await page.getByLabel('Search this page').fill('customer-7');
    await waitFor(async () => (await page.locator('.events li').count()) === 1, { timeoutMs: 5000, what: 'search to filter' });
    await page.getByLabel('Search this page').fill('');
    await shoot('messages');

    // A topic with skew, for the topic pages' bars.
    await sluice.createTopic({ name: 'clicks', partitions: 3 });
    await sluice.produce('clicks', Array.from({ length: 30 }, (_, i) => ({ key: i % 5 === 0 ? `k${i}` : 'hot', value: { i } })));
    await open('topics');
    await page.getByRole('link', { name: 'clicks' }).waitFor();
    // Events appended while the page watches show in the topic's produce-rate sparkline.
    await sluice.produce('clicks', Array.from({ length: 30 }, (_, i) => ({ key: 'hot', value: { i } })));
    await page.getByRole('img', { name: /^clicks produce rate: (?!0\.0 )[\d.]+ events per second now$/ }).waitFor({ timeout: 10_000 });
    await shoot('topics');
    await open('topics/clicks');
    await page.getByRole('img', { name: /partition 2/ }).waitFor();
    await shoot('topic');

    // Delete, with its confirmation.
    await open('topics');
    await page.getByRole('button', { name: 'Delete topic clicks' }).click();
    await page.getByRole('button', { name: 'Confirm delete' }).click();
    await waitFor(async () => (await page.getByRole('link', { name: 'clicks', exact: true }).count()) === 0, { timeoutMs: 10_000, what: 'clicks to go' });
    await expect(sluice.describeTopic('clicks')).rejects.toThrow();
  }, 60_000);

  it("shows a group's lag going up, then back to 0, and resets its offsets after a preview", async () => {
    await sluice.createTopic({ name: 'payments', partitions: 2 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const seen: FetchedEvent[] = [];
    const consumer = sluice.consumer({ groupId: 'billing', sessionTimeoutMs: 10_000, heartbeatIntervalMs: 200, waitMs: 200, offsetReset: 'earliest' });
    consumers.push(consumer);
    consumer.subscribe({ topic: 'payments' });
    void consumer.run({
      eachMessage: async ({ message }) => {
        await gate; // holds the group back until the page has shown its lag
        seen.push(message);
      },
    });
    await waitFor(async () => (await sluice.describeGroup('billing').catch(() => undefined))?.members[0]?.assignments.length === 2, {
      timeoutMs: 20_000,
      what: 'the consumer to be assigned both partitions',
    });
    await sluice.produce('payments', Array.from({ length: 20 }, (_, i) => ({ key: `c${i}`, value: { amount: i } })));

    await open('groups/billing');
    const lag = page.getByTestId('total-lag');
    await waitFor(async () => Number(await lag.textContent()) >= 19, { timeoutMs: 15_000, what: 'lag to go up in the page' });
    expect(await page.getByRole('row').filter({ hasText: consumer.memberId }).count()).toBeGreaterThan(0);
    release();
    await waitFor(async () => (await lag.textContent()) === '0', { timeoutMs: 30_000, what: 'lag to go back to 0 in the page' });
    expect(seen).toHaveLength(20);
    await page.locator('.uplot').waitFor();
    await shoot('group');

    await consumer.disconnect();
    await page.getByRole('combobox', { name: /^Reset to/ }).selectOption('earliest');
    await page.getByRole('button', { name: 'Preview (dry run)' }).click();
    const preview = page.getByLabel('Reset preview');
    await preview.waitFor();
    const rows = await preview.locator('tbody tr').allTextContents();
    expect(rows).toHaveLength(2);
    const committed = (await sluice.describeGroup('billing')).partitions;
    for (const p of committed) {
      expect(rows).toContainEqual(`payments/${p.partition}${p.committedOffset}0`);
    }
    // A dry run changes nothing.
    expect((await sluice.describeGroup('billing')).partitions.reduce((s, p) => s + p.lag, 0)).toBe(0);
    await shoot('reset-preview');
    await page.getByRole('button', { name: 'Execute reset' }).click();
    await page.getByRole('status').filter({ hasText: 'Offsets reset' }).waitFor();
    expect((await sluice.describeGroup('billing')).partitions.map((p) => p.committedOffset)).toEqual([0, 0]);
    await waitFor(async () => (await lag.textContent()) === '20', { timeoutMs: 10_000, what: 'lag to show the reset' });

    await open('groups');
    await page.getByRole('link', { name: 'billing' }).waitFor();
    await shoot('groups');
    await open('subscriptions');
    await shoot('subscriptions');
  }, 90_000);

  it('renders <script> and <img onerror> payloads as text: nothing runs', async () => {
    await sluice.createTopic({ name: 'xss', partitions: 1 });
    const payloads = ['<script>window.__pwned = "script"</script>', '<img src=x onerror="window.__pwned = \'img\'">'] as const;
    await sluice.produce('xss', [
      { key: payloads[1], value: payloads[0], headers: { [payloads[0]]: payloads[1] } },
      { key: payloads[0], value: { html: payloads[1] } },
    ]);
    await open('messages/xss/0');
    // And through the form (the value is not JSON: sent as a string).
    await page.getByLabel('Value (JSON, or text)').fill(payloads[1]);
    await page.getByRole('button', { name: 'Produce' }).click();
    await page.locator('.events li[data-offset="2"]').waitFor();
    expect(await page.locator('.events li[data-offset="2"] pre.value').textContent()).toBe(JSON.stringify(payloads[1]));
    expect(await page.locator('.events li[data-offset="0"]').textContent()).toContain(payloads[1]);
    expect(await page.locator('.events img, .events script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: string }).__pwned)).toBeUndefined();
    await open('topics');
    expect(await page.evaluate(() => (globalThis as { __pwned?: string }).__pwned)).toBeUndefined();
    expect(pageErrors).toEqual([]);
    // No data left the machine: every request went to the console's own origin.
    const origin = new URL(consoleUrl).origin;
    expect(requested.filter((u) => !u.startsWith(origin) && !u.startsWith('data:'))).toEqual([]);
  }, 60_000);

  it('`sluice console` serves the same console on loopback for an endpoint and stops on Ctrl-C', async () => {
    const controller = new AbortController();
    let out = '';
    let err = '';
    const exit = run(['--endpoint', platform.endpoint, 'console', '--port', '0'], {
      stdout: { write: (s: string) => (out += s) },
      stderr: { write: (s: string) => (err += s) },
      signal: controller.signal,
    });
    await waitFor(async () => /http:\/\/127\.0\.0\.1:\d+\//.test(out), { timeoutMs: 10_000, what: 'the console URL' });
    const url = out.match(/http:\/\/127\.0\.0\.1:\d+\//)![0];
    await page.goto(`${url}#/topics`);
    await page.getByRole('link', { name: 'web-orders' }).waitFor();
    expect(await page.locator('header .endpoint').textContent()).toContain(platform.endpoint);
    // A foreign Host (DNS rebinding) is refused.
    const rebound = await new Promise<number | undefined>((resolve, reject) => {
      get(`${url}api/topics`, { headers: { host: 'evil.example' } }, (res) => resolve(res.resume().statusCode)).on('error', reject);
    });
    expect(rebound).toBe(403);
    controller.abort();
    expect(await exit).toBe(0);
    expect(err).toContain('Ctrl-C');
    await expect(fetch(url)).rejects.toThrow();
  }, 30_000);
});
