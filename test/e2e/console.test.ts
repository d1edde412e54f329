/**
 * The web console in a real browser (Debian's headless Chromium, driven by playwright-core),
 * served by the local platform at /console as `npm start` serves it, plus `sluice console`'s own
 * server. Each page's screenshot is written to docs/images/ (README and docs link them).
 */
import { mkdirSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FetchedEvent } from '../../api/events';
import { run } from '../../cli/main';
import { SluiceClient, type Consumer } from '../../client';
import { CSRF_HEADER } from '../../console/server';
import { CONSOLE_PATH, type Platform } from '../../local/platform';
import { waitFor } from '../../local/support';
import { startTestPlatform } from '../support/emulators';
import { ROOT } from '../support/platform-process';
import { startWebhooks, type Webhooks } from '../support/subscribers';

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
let hooks: Webhooks | undefined;

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
  await hooks?.close();
  await browser?.close();
  await platform?.stop();
});

async function open(hash: string): Promise<void> {
  await page.goto(`${consoleUrl}#/${hash}`);
  await page.locator('main h2').first().waitFor();
}

/** Whether the element has the keyboard focus. */
function focused(locator: Locator): Promise<boolean> {
  return locator.evaluate((el) => el === (el.ownerDocument as unknown as { activeElement: unknown }).activeElement);
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
    // The newer routes check their input before any call: 400s with a code.
    const send = (path: string, body: unknown, method = 'POST', headers: Record<string, string> = { [CSRF_HEADER]: token }) =>
      fetch(new URL(path, consoleUrl), { method, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    for (const [path, body, method] of [
      ['api/queues/none/purge', {}, 'POST'],
      ['api/queues/none/redrive', { maxMessages: 0 }, 'POST'],
      ['api/topics/none/subscriptions/none/dead-letters/redrive', { partitions: [-1] }, 'POST'],
      ['api/topics/none', { retentionMs: 'long' }, 'PATCH'],
    ] as const) {
      const res = await send(path, body, method);
      expect(res.status, path).toBe(400);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('InvalidRequest');
    }
    expect((await send('api/topics/none', { retentionMs: 1000 }, 'PATCH', {})).status).toBe(403);
    expect((await fetch(new URL('api/topics/none/partitions/0?before=1&from=0', consoleUrl))).status).toBe(400);

    const started = Date.now();
    await open('topics');
    const firstPaint = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Infinity);
    expect(firstPaint).toBeLessThan(1000);
    expect(Date.now() - started).toBeLessThan(5000);

    // Keyboard: Tab starts at the page list; a page chosen with Enter takes the focus to its content.
    await page.keyboard.press('Tab');
    expect(await focused(page.getByRole('link', { name: 'Topics', exact: true }))).toBe(true);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Messages', level: 2 }).waitFor();
    await waitFor(async () => focused(page.locator('main')), { timeoutMs: 5000, what: 'focus on the new page' });
    expect(await page.title()).toBe('Messages · Sluice console');
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
  }, 90_000);

  it("shows a subscription's positions, failures and dead letters, and redrives them through the button", async () => {
    hooks = await startWebhooks();
    let failing = true;
    hooks.respond('/audit', () => (failing ? 500 : 204));
    await sluice.createTopic({ name: 'audit', partitions: 2 });
    await sluice.createSubscription('audit', {
      name: 'audit-hook',
      target: { type: 'webhook', url: `${hooks.baseUrl}/audit` },
      maxAttempts: 1,
      startAt: 'earliest',
    });
    await sluice.produce('audit', [
      { key: 'a', value: { n: 1, order: { lines: [{ sku: 'x', qty: 2 }] } } },
      { key: 'b', value: { n: 2 } },
      { key: 'c', value: { n: 3, note: '<img src=x onerror="window.__pwned = \'dead letter\'">' } },
    ]);
    await waitFor(async () => (await sluice.describeSubscription('audit', 'audit-hook')).deadLetters === 3, {
      timeoutMs: 30_000,
      what: 'the three failed deliveries to be dead letters',
    });

    await open('subscriptions/audit');
    const row = page.getByRole('row').filter({ hasText: 'audit-hook' });
    await row.waitFor();
    expect(await row.textContent()).toContain(`webhook: ${hooks.baseUrl}/audit`);
    await row.getByRole('link', { name: 'audit-hook' }).click();
    await waitFor(async () => (await page.getByTestId('dead-letter-count').textContent().catch(() => '')) === '3', { timeoutMs: 10_000, what: 'the dead-letter count' });
    const deadList = page.getByRole('list', { name: 'Dead letters' });
    await waitFor(async () => (await deadList.locator('li').count()) === 3, { timeoutMs: 10_000, what: 'three dead letters listed' });
    expect(await deadList.textContent()).toContain('500');
    const c = deadList.locator('li', { has: page.locator('code', { hasText: /^c$/ }) });
    await c.locator('summary').click();
    expect(await c.locator('pre.value').textContent()).toContain('"note": "<img src=x onerror=\\"window.__pwned');
    expect(await deadList.locator('img, script').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __pwned?: string }).__pwned)).toBeUndefined();
    // Positions: one row per partition, each at its high watermark (a dead letter is passed).
    const positions = await page.getByRole('region', { name: 'Positions' }).locator('tbody tr').count();
    expect(positions).toBe(2);
    await shoot('subscription');

    failing = false;
    await page.getByRole('button', { name: 'Redrive dead letters…' }).click();
    await page.getByRole('alertdialog').getByText('Deliver the 3 dead letters of audit-hook again').waitFor();
    await page.getByRole('button', { name: 'Confirm redrive' }).click();
    await page.getByRole('status').filter({ hasText: 'Redrive started for 3 dead letters' }).waitFor();
    await waitFor(async () => (await page.getByTestId('dead-letter-count').textContent()) === '0', { timeoutMs: 30_000, what: 'the dead letters to be redriven' });
    const delivered = hooks.accepted('/audit').flatMap((d) => d.events.map((e) => e.key));
    expect(delivered.sort()).toEqual(['a', 'b', 'c']);
    expect((await sluice.deadLetters('audit', 'audit-hook')).total).toBe(0);

    await open('subscriptions/audit');
    await row.waitFor();
    await shoot('subscriptions');
  }, 90_000);

  it("shows a queue's counts, redrives its dead letters and purges it, each after a confirmation", async () => {
    await sluice.createQueue({ name: 'invoices', maxReceiveCount: 1, visibilityTimeoutMs: 30_000 });
    const invoices = sluice.queue('invoices');
    await invoices.send([{ body: { invoice: 1 }, messageId: 'invoice-1' }]);
    const [first] = await invoices.receive({ waitMs: 1000 });
    expect(first).toBeDefined();
    await invoices.nack([first!]);
    // Received once (the max) and nacked: the next receive moves it to the dead letters.
    await waitFor(async () => (await invoices.receive({ waitMs: 500 })).length === 0 && (await sluice.describeQueue('invoices')).deadLetters.visible === 1, {
      timeoutMs: 15_000,
      what: 'the message to be a dead letter',
    });
    await invoices.send([{ body: { invoice: 2 }, messageId: 'invoice-2' }]);

    await open('queues');
    const row = page.locator('tr[data-queue="invoices"]');
    await row.waitFor();
    await waitFor(async () => (await row.getByTestId('dead-letters').textContent()) === '1' && (await row.getByTestId('visible').textContent()) === '1', {
      timeoutMs: 10_000,
      what: 'the counts in the page',
    });
    await shoot('queues');

    // Redrive asks first. By keyboard: Enter asks (focus on Confirm), Escape cancels (focus back), nothing changed.
    const redrive = row.getByRole('button', { name: 'Redrive the dead letters of invoices' });
    await redrive.focus();
    await page.keyboard.press('Enter');
    await waitFor(async () => focused(row.getByRole('button', { name: 'Confirm redrive' })), { timeoutMs: 5000, what: 'focus on Confirm' });
    await page.keyboard.press('Escape');
    await waitFor(async () => (await row.getByRole('alertdialog').count()) === 0 && (await focused(redrive)), {
      timeoutMs: 5000,
      what: 'the question gone and focus back on Redrive',
    });
    expect((await sluice.describeQueue('invoices')).deadLetters.visible).toBe(1);
    await row.getByRole('button', { name: 'Redrive the dead letters of invoices' }).click();
    await row.getByRole('button', { name: 'Confirm redrive' }).click();
    await row.getByRole('status').filter({ hasText: 'Moved 1 dead letter back' }).waitFor();
    await waitFor(async () => (await row.getByTestId('visible').textContent()) === '2' && (await row.getByTestId('dead-letters').textContent()) === '0', {
      timeoutMs: 10_000,
      what: 'the redriven message in the counts',
    });

    await row.getByRole('button', { name: 'Purge queue invoices' }).click();
    await row.getByRole('alertdialog').getByText('This cannot be undone').waitFor();
    await row.getByRole('button', { name: 'Confirm purge' }).click();
    await row.getByRole('status').filter({ hasText: 'Purged invoices' }).waitFor();
    await waitFor(async () => (await sluice.describeQueue('invoices')).messages.visible === 0, { timeoutMs: 10_000, what: 'the purge' });
    expect(await invoices.receive({ waitMs: 500 })).toEqual([]);
  }, 60_000);

  it('shows the processors page (this stack declares none)', async () => {
    await open('processors');
    await page.getByText('No stream processors in this stack').waitFor();
    expect((await (await fetch(new URL('api/processors', consoleUrl))).json()) as unknown).toEqual({ processors: [] });
  });

  it('browses a partition from a time and from an offset, and folds JSON values by keyboard', async () => {
    await sluice.createTopic({ name: 'timeline', partitions: 1 });
    for (let batch = 0; batch < 3; batch++) {
      await sluice.produce('timeline', Array.from({ length: 5 }, (_, i) => ({ key: `b${batch}`, value: { batch, i, tags: ['x', 'y'], meta: { deep: { n: i } } } })));
    }
    const all = (await sluice.fetch('timeline', 0, { offset: 0, limit: 100 })).events;
    // The datetime input has seconds: the page starts at the first event at or after that second.
    const target = all[7]!;
    const second = Math.floor(target.timestamp / 1000) * 1000;
    const expectedFirst = all.find((e) => e.timestamp >= second)!.offset;

    await open('messages/timeline/0');
    await page.locator('.events li').first().waitFor();
    const local = await page.evaluate((ms) => {
      const d = new Date(ms);
      return new Date(ms - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
    }, second);
    await page.getByLabel('From time (local)').fill(local);
    await page.getByRole('button', { name: 'Go to time' }).click();
    await waitFor(async () => (await page.locator('.events li').first().getAttribute('data-offset')) === String(expectedFirst), {
      timeoutMs: 10_000,
      what: 'the page to start at the time',
    });
    expect(await page.getByTestId('page-summary').textContent()).toContain(`showing ${expectedFirst} to 14, oldest first`);
    // Oldest first, up to the end.
    const offsets = (await page.locator('.events li').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-offset')))));
    expect(offsets).toEqual(Array.from({ length: 15 - expectedFirst }, (_, i) => expectedFirst + i));

    await page.getByLabel('From offset').fill('3');
    await page.getByRole('button', { name: 'Go to offset' }).click();
    await waitFor(async () => (await page.locator('.events li').first().getAttribute('data-offset')) === '3', { timeoutMs: 10_000, what: 'the page to start at offset 3' });

    // Folding: the value is pretty JSON; its brackets are buttons that fold and unfold.
    const value = page.locator('.events li[data-offset="3"] pre.value');
    const pretty = JSON.stringify(all[3]!.value, null, 2);
    expect(await value.textContent()).toBe(pretty);
    const meta = value.getByRole('button', { name: 'Fold object with 1 key' }).first();
    await meta.focus();
    await page.keyboard.press('Enter');
    await value.getByRole('button', { name: 'Unfold object with 1 key' }).first().waitFor();
    expect(await value.textContent()).not.toContain('"deep"');
    expect(await value.textContent()).toContain('{ … 1 key }');
    await page.keyboard.press('Space');
    await waitFor(async () => (await value.textContent()) === pretty, { timeoutMs: 5000, what: 'the value to unfold' });
    expect(await value.getByRole('button', { name: 'Fold array of 2 items' }).getAttribute('aria-expanded')).toBe('true');
  });

  it("alters a topic's retention, dedupe window and partitions after a confirmation", async () => {
    await sluice.createTopic({ name: 'ledger', partitions: 1, retentionMs: 48 * 3600_000, dedupeWindowMs: 60_000 });
    await open('topics/ledger');
    await page.getByLabel('Retention (hours; -1: forever)').fill('72');
    await page.getByLabel('Dedupe window (minutes; 0: off)').fill('5');
    await page.getByLabel('Partitions (only more)').fill('3');
    await page.getByRole('button', { name: 'Alter…' }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Confirm altering the topic' });
    expect(await dialog.textContent()).toContain('retention: 2 d → 3 d');
    expect(await dialog.textContent()).toContain('dedupe window: 1 min → 5 min');
    expect(await dialog.textContent()).toContain('partitions: 1 → 3');
    expect((await sluice.describeTopic('ledger')).retentionMs).toBe(48 * 3600_000);
    await shoot('topic-alter');
    await page.getByRole('button', { name: 'Confirm alter' }).click();
    await page.getByRole('status').filter({ hasText: 'Altered ledger: retention 3 d, dedupe window 5 min, 3 partition(s).' }).waitFor();
    expect(await sluice.describeTopic('ledger')).toMatchObject({ retentionMs: 72 * 3600_000, dedupeWindowMs: 300_000, partitions: 3 });
    // The new partitions show as bars.
    await page.getByRole('img', { name: /^partition 2: offsets 0 to 0$/ }).waitFor({ timeout: 10_000 });

    // Out of range: the API's 400 is shown, nothing changes.
    await page.getByLabel('Dedupe window (minutes; 0: off)').fill('20000');
    await page.getByLabel('Dedupe window (minutes; 0: off)').evaluate((el) => (el as unknown as { removeAttribute(name: string): void }).removeAttribute('max'));
    await page.getByRole('button', { name: 'Alter…' }).click();
    await page.getByRole('button', { name: 'Confirm alter' }).click();
    await page.getByRole('alert').filter({ hasText: 'InvalidRequest' }).waitFor();
    expect((await sluice.describeTopic('ledger')).dedupeWindowMs).toBe(300_000);
  });

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
