/**
 * The web console's server: static assets plus a small JSON API over the Sluice client. The
 * browser talks only to this server (same origin, strict CSP); this server talks only to the one
 * endpoint its client was made for, and signs there with the user's credentials when the endpoint
 * is deployed. The browser never sees a credential.
 *
 * Mounted by `sluice console` (console/start.ts) at `/`, and by the local platform's gateway at
 * `/console`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidRequestError, RouteNotFoundError, SluiceError } from '../api/errors';
import type { SeekRequest } from '../api/groups';
import type { SluiceClient } from '../client/sluice-client';
import type { SluiceApi } from '../cli/command';
import { committedOffsets, planReset } from '../cli/commands/groups';

/** What the console uses of the client (a subset, so the CLI's fake-friendly type fits). */
export type ConsoleClient = Pick<
  SluiceClient,
  | 'listTopics'
  | 'describeTopic'
  | 'createTopic'
  | 'updateTopic'
  | 'deleteTopic'
  | 'produce'
  | 'fetch'
  | 'listGroups'
  | 'describeGroup'
  | 'seek'
  | 'listSubscriptions'
  | 'describeSubscription'
  | 'deadLetters'
  | 'redriveDeadLetters'
  | 'listQueues'
  | 'describeQueue'
  | 'redriveQueue'
  | 'purgeQueue'
  | 'listProcessors'
  | 'describeProcessor'
>;

export interface ConsoleOptions {
  /** Path prefix the console is served under: '' (its own server) or '/console'. */
  readonly basePath: string;
  /** The client, or a function that makes it on first use (the gateway knows its port only once listening). */
  readonly client: ConsoleClient | (() => ConsoleClient);
  /** Shown in the header: which endpoint the console looks at. */
  readonly endpointLabel: string | (() => string);
}

export type ConsoleHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Header a mutating call must carry: the token of the page this server served. */
export const CSRF_HEADER = 'x-sluice-csrf';
const MAX_BODY_BYTES = 1024 * 1024;
/**
 * The front end's files: console/public beside this source file, or dist/console-public beside
 * the CLI's bundle (dist/cli/main.js) in the published package (build/package.ts copies it).
 */
const PUBLIC_DIR = [join(dirname(fileURLToPath(import.meta.url)), 'public'), join(dirname(fileURLToPath(import.meta.url)), '../console-public')].find(
  (dir) => existsSync(join(dir, 'index.html')),
);

export function createConsoleHandler(options: ConsoleOptions): ConsoleHandler {
  const base = options.basePath;
  // A new token per server: a page from another origin cannot read it (same-origin policy), so
  // it cannot forge a mutating call even where a cookie-less POST would otherwise get through.
  const csrf = randomBytes(24).toString('base64url');
  let loaded: ReturnType<typeof loadAssets> | undefined;
  let client: ConsoleClient | undefined;
  const getClient = () => (client ??= typeof options.client === 'function' ? options.client() : options.client);
  const label = () => (typeof options.endpointLabel === 'function' ? options.endpointLabel() : options.endpointLabel);

  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://console');
    const path = url.pathname.slice(base.length) || '/';
    const method = (req.method ?? 'GET').toUpperCase();
    try {
      if (!path.startsWith('/api/')) {
        const assets = (loaded ??= loadAssets(base));
        if (method !== 'GET' && method !== 'HEAD') throw new RouteNotFoundError(`No ${method} ${url.pathname}`);
        if (path === '/' || path === '/index.html') return sendHtml(res, assets.html(csrf, label()), assets.csp);
        const asset = assets.files.get(path);
        if (!asset) throw new RouteNotFoundError(`No such console asset: ${path}`);
        return sendAsset(res, asset, assets.csp);
      }
      if (method !== 'GET' && !validCsrf(req.headers[CSRF_HEADER], csrf)) {
        return sendJson(res, 403, { error: { code: 'CsrfTokenInvalid', message: `Mutating calls need the page's ${CSRF_HEADER} header` } });
      }
      const body = method === 'POST' || method === 'PATCH' ? await readJson(req) : undefined;
      const result = await api(getClient(), method, path.slice('/api'.length), url.searchParams, body);
      sendJson(res, result === undefined ? 204 : 200, result);
    } catch (err) {
      if (err instanceof SluiceError) return sendJson(res, err.status, err.toBody());
      sendJson(res, 500, { error: { code: 'InternalError', message: (err as Error).message } });
    }
  };
}

/** The JSON API: one function per route, each a thin call (or two) on the client. */
async function api(client: ConsoleClient, method: string, path: string, query: URLSearchParams, body: unknown): Promise<unknown> {
  let parts: string[];
  try {
    parts = path.split('/').slice(1).map(decodeURIComponent);
  } catch {
    throw invalid(`the path ${path} is not valid percent-encoding`);
  }
  const route = `${method} /${parts.map((p, i) => (i % 2 === 1 ? ':' : p)).join('/')}`;
  switch (route) {
    case 'GET /topics': {
      const { topics } = await client.listTopics();
      // One describe per topic: the list holds no offsets. A handful of topics is the case here.
      const described = await Promise.all(topics.map((t) => client.describeTopic(t.name)));
      return {
        topics: described.map((t) => ({
          ...t,
          events: t.partitionOffsets.reduce((sum, p) => sum + p.highWatermark - p.logStartOffset, 0),
        })),
      };
    }
    case 'POST /topics': {
      const b = object(body);
      return client.createTopic({
        name: string(b.name, 'name'),
        partitions: int(b.partitions, 'partitions', 1),
        ...(b.retentionMs === undefined ? {} : { retentionMs: int(b.retentionMs, 'retentionMs', -1) }),
        ...(b.dedupeWindowMs === undefined ? {} : { dedupeWindowMs: int(b.dedupeWindowMs, 'dedupeWindowMs', 0) }),
      });
    }
    case 'GET /topics/:':
      return client.describeTopic(parts[1]!);
    case 'PATCH /topics/:': {
      // Only the fields the page sent; the API checks their ranges (and that one is given).
      const b = object(body);
      const changes: Record<string, number> = {};
      if (b.retentionMs !== undefined) changes.retentionMs = int(b.retentionMs, 'retentionMs', -1);
      if (b.dedupeWindowMs !== undefined) changes.dedupeWindowMs = int(b.dedupeWindowMs, 'dedupeWindowMs', 0);
      if (b.partitions !== undefined) changes.partitions = int(b.partitions, 'partitions', 1);
      return client.updateTopic(parts[1]!, changes as Parameters<ConsoleClient['updateTopic']>[1]);
    }
    case 'DELETE /topics/:':
      await client.deleteTopic(parts[1]!);
      return undefined;
    case 'GET /topics/:/partitions/:': {
      const topic = parts[1]!;
      const partition = int(parts[3], 'partition', 0);
      const limit = query.has('limit') ? int(query.get('limit'), 'limit', 1) : 50;
      if (limit > 500) throw invalid('limit must be at most 500');
      const modes = ['before', 'from', 'timestamp'].filter((m) => query.has(m));
      if (modes.length > 1) throw invalid(`give one of before, from and timestamp, not ${modes.join(' and ')}`);
      if (query.has('from') || query.has('timestamp')) {
        // Oldest first: the page starting at an offset, or at the first event at or after a time.
        const start = query.has('from') ? { offset: int(query.get('from'), 'from', 0) } : { timestamp: int(query.get('timestamp'), 'timestamp', 0) };
        const page = await client.fetch(topic, partition, { ...start, limit });
        return {
          order: 'oldest-first',
          events: page.events,
          logStartOffset: page.logStartOffset,
          highWatermark: page.highWatermark,
          from: page.events[0]?.offset ?? page.nextOffset,
          nextOffset: page.nextOffset,
        };
      }
      // Newest first: the page ending at `before` (default: the high watermark).
      const head = await client.fetch(topic, partition, { offset: 'latest', limit: 1 });
      const before = query.has('before') ? Math.min(int(query.get('before'), 'before', 0), head.highWatermark) : head.highWatermark;
      const from = Math.max(head.logStartOffset, before - limit);
      const page = before > from ? await client.fetch(topic, partition, { offset: from, limit: before - from }) : { events: [] };
      return {
        order: 'newest-first',
        events: [...page.events].reverse(),
        logStartOffset: head.logStartOffset,
        highWatermark: head.highWatermark,
        from,
        before,
      };
    }
    case 'POST /topics/:/events': {
      const b = object(body);
      const headers = b.headers === undefined ? undefined : stringRecord(b.headers, 'headers');
      const key = b.key === undefined || b.key === null || b.key === '' ? undefined : string(b.key, 'key');
      const results = await client.produce(parts[1]!, [{ ...(key ? { key } : {}), value: b.value, ...(headers ? { headers } : {}) }]);
      return { results };
    }
    case 'GET /groups': {
      const { groups } = await client.listGroups();
      return { groups };
    }
    case 'GET /groups/:':
      return client.describeGroup(parts[1]!);
    case 'POST /groups/:/reset': {
      const b = object(body);
      const to = b.to;
      const target: SeekRequest['to'] =
        to === 'earliest' || to === 'latest' ? to : { offset: int(object(to, 'to').offset, 'to.offset', 0) };
      const request: SeekRequest = {
        topic: string(b.topic, 'topic'),
        ...(b.partition === undefined || b.partition === null ? {} : { partitions: [int(b.partition, 'partition', 0)] }),
        to: target,
      };
      const group = parts[1]!;
      if (b.execute !== true) {
        // The CLI's dry run, so both preview alike; it calls only describeGroup, describeTopic and fetch.
        const planner = client as unknown as SluiceApi;
        const current = await committedOffsets(planner, group, request.topic, false);
        return { dryRun: true, offsets: await planReset(planner, request, current) };
      }
      return { dryRun: false, ...(await client.seek(group, request)) };
    }
    case 'GET /topics/:/subscriptions': {
      // With each one's status: the list alone holds no positions. A topic has a handful.
      const topic = parts[1]!;
      const subscriptions = await client.listSubscriptions(topic);
      return { subscriptions: await Promise.all(subscriptions.map((s) => client.describeSubscription(topic, s.name))) };
    }
    case 'GET /topics/:/subscriptions/:':
      return client.describeSubscription(parts[1]!, parts[3]!);
    case 'GET /topics/:/subscriptions/:/dead-letters': {
      const partition = query.has('partition') ? int(query.get('partition'), 'partition', 0) : undefined;
      const limit = query.has('limit') ? int(query.get('limit'), 'limit', 1) : 50;
      return client.deadLetters(parts[1]!, parts[3]!, { ...(partition === undefined ? {} : { partition }), limit });
    }
    case 'POST /topics/:/subscriptions/:/dead-letters/:': {
      if (parts[5] !== 'redrive') break;
      const b = body === undefined ? {} : object(body);
      const partitions = b.partitions === undefined ? undefined : intArray(b.partitions, 'partitions');
      return client.redriveDeadLetters(parts[1]!, parts[3]!, partitions);
    }
    case 'GET /queues': {
      // With each queue's counts (one describe per queue, as for topics).
      const { queues } = await client.listQueues();
      return { queues: await Promise.all(queues.map((q) => client.describeQueue(q.name))) };
    }
    case 'GET /queues/:':
      return client.describeQueue(parts[1]!);
    case 'POST /queues/:/redrive': {
      const b = body === undefined ? {} : object(body);
      return client.redriveQueue(parts[1]!, b.maxMessages === undefined ? {} : { maxMessages: int(b.maxMessages, 'maxMessages', 1) });
    }
    case 'POST /queues/:/purge': {
      const b = object(body);
      if (b.target !== 'queue' && b.target !== 'dead-letters') throw invalid("target must be 'queue' or 'dead-letters'");
      return client.purgeQueue(parts[1]!, { target: b.target });
    }
    case 'GET /processors':
      return client.listProcessors();
    case 'GET /processors/:':
      return client.describeProcessor(parts[1]!);
    default:
      break;
  }
  throw new RouteNotFoundError(`No console API route ${method} ${path}`);
}

function object(value: unknown, name = 'body'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`${name} must be a JSON object`);
  return value as Record<string, unknown>;
}
function string(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(`${name} must be a non-empty string`);
  return value;
}
function int(value: unknown, name: string, min: number): number {
  const n = typeof value === 'string' && /^-?\d{1,16}$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) throw invalid(`${name} must be an integer of at least ${min}`);
  return n;
}
function intArray(value: unknown, name: string): number[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid(`${name} must be a non-empty array of integers`);
  return value.map((v, i) => int(v, `${name}[${i}]`, 0));
}
function stringRecord(value: unknown, name: string): Record<string, string> {
  const o = object(value, name);
  for (const [k, v] of Object.entries(o)) if (typeof v !== 'string') throw invalid(`${name}.${k} must be a string`);
  return o as Record<string, string>;
}
function invalid(message: string): InvalidRequestError {
  return new InvalidRequestError(message, { details: { issues: [message] } });
}

function validCsrf(header: string | string[] | undefined, token: string): boolean {
  if (typeof header !== 'string' || header.length !== token.length) return false;
  return timingSafeEqual(Buffer.from(header), Buffer.from(token));
}

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return reject(invalid(`the body must be at most ${MAX_BODY_BYTES} bytes`));
      try {
        resolve(size === 0 ? undefined : JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(invalid('the body must be JSON'));
      }
    });
    req.on('error', reject);
  });
}

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/**
 * The page, the app's modules and the pinned libraries it imports (through an import map, so no
 * build step). Loaded once: the console serves files from memory, never a path from a request.
 */
function loadAssets(base: string) {
  if (!PUBLIC_DIR) throw new Error('the console\'s files (console/public) are missing');
  const require = createRequire(import.meta.url);
  // A package's folder: up from its main file (not every package exports its package.json).
  const pkg = (name: string) => {
    let dir = dirname(require.resolve(name));
    while (!existsSync(join(dir, 'package.json')) || JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== name) dir = dirname(dir);
    return dir;
  };
  const js = 'text/javascript; charset=utf-8';
  const own = readdirSync(PUBLIC_DIR)
    .filter((f) => /^[\w-]+\.(js|css)$/.test(f))
    .map((f): [string, Asset] => [`/${f}`, { type: f.endsWith('.js') ? js : 'text/css; charset=utf-8', body: readFileSync(join(PUBLIC_DIR, f)) }]);
  const files = new Map<string, Asset>([
    ...own,
    ['/vendor/preact.mjs', { type: js, body: readFileSync(join(pkg('preact'), 'dist/preact.mjs')) }],
    ['/vendor/hooks.mjs', { type: js, body: readFileSync(join(pkg('preact'), 'hooks/dist/hooks.mjs')) }],
    ['/vendor/htm.mjs', { type: js, body: readFileSync(join(pkg('htm'), 'dist/htm.mjs')) }],
    ['/vendor/uplot.mjs', { type: js, body: readFileSync(join(pkg('uplot'), 'dist/uPlot.esm.js')) }],
    ['/vendor/uplot.css', { type: 'text/css; charset=utf-8', body: readFileSync(join(pkg('uplot'), 'dist/uPlot.min.css')) }],
  ]);
  const importMap = JSON.stringify({
    imports: {
      preact: `${base}/vendor/preact.mjs`,
      'preact/hooks': `${base}/vendor/hooks.mjs`,
      htm: `${base}/vendor/htm.mjs`,
      uplot: `${base}/vendor/uplot.mjs`,
    },
  });
  const mapHash = createHash('sha256').update(importMap).digest('base64');
  // Only this server's own files run or load; the one inline script (the import map) by its hash.
  const csp = [
    "default-src 'none'",
    `script-src 'self' 'sha256-${mapHash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const template = readFileSync(join(PUBLIC_DIR, 'index.html'), 'utf8');
  const html = (token: string, endpoint: string) =>
    template
      .replaceAll('{{BASE}}', base)
      .replace('{{IMPORT_MAP}}', importMap)
      .replace('{{CSRF}}', escapeAttr(token))
      .replace('{{ENDPOINT}}', escapeAttr(endpoint));
  return { files, csp, html };
}

function escapeAttr(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

function sendHtml(res: ServerResponse, html: string, csp: string): void {
  const body = Buffer.from(html);
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp, 'cache-control': 'no-store', 'content-length': body.length });
  res.end(body);
}

function sendAsset(res: ServerResponse, asset: Asset, csp: string): void {
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.type, 'content-security-policy': csp, 'cache-control': 'no-cache', 'content-length': asset.body.length });
  res.end(asset.body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(value === undefined ? '' : JSON.stringify(value));
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': body.length });
  res.end(body);
}

export interface ConsoleServer {
  readonly url: string;
  readonly server: Server;
  close(): Promise<void>;
}

/**
 * The console on a server of its own (`sluice console`). Requests whose Host or Origin is not
 * this server's are refused: a foreign page must not drive it, nor reach it by DNS rebinding.
 */
export async function startConsoleServer(options: {
  readonly client: ConsoleClient;
  readonly endpointLabel: string;
  readonly host: string;
  readonly port: number;
}): Promise<ConsoleServer> {
  const handler = createConsoleHandler({ basePath: '', client: options.client, endpointLabel: options.endpointLabel });
  let allowed = new Set<string>();
  const server = createServer((req, res) => {
    const host = (req.headers.host ?? '').toLowerCase();
    const origin = req.headers.origin?.replace(/^https?:\/\//, '').toLowerCase();
    if (!allowed.has(host) || (origin !== undefined && !allowed.has(origin)) || req.headers['sec-fetch-site'] === 'cross-site') {
      return sendJson(res, 403, { error: { code: 'Forbidden', message: 'Requests from another site or host are refused' } });
    }
    handler(req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'InternalError', message: 'console failed' } });
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const hostPart = options.host.includes(':') ? `[${options.host}]` : options.host;
  allowed = new Set([`${hostPart}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]);
  return {
    url: `http://${hostPart}:${port}/`,
    server,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
