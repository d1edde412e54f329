/**
 * The SQS server: fauxqs 1.9.2, in-process (FIFO with message-group locking, dedupe, long polling,
 * visibility, redrive to a DLQ).
 *
 * fauxqs's own startFauxqs() listens on 0.0.0.0 and names queues `sqs.<region>.<host>:<port>`,
 * which is not a valid URL for an IP host. We build its app ourselves instead: we listen on
 * loopback only, and leave the store's host empty so queue URLs use the request's own Host
 * header (`http://127.0.0.1:<port>/000000000000/<name>`). The store classes are not in the
 * package's exports map, so they are imported by file path; fauxqs is pinned for that reason.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildApp } from 'fauxqs';
import { freePort } from './support';

export interface SqsServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

type StoreModule<K extends string> = Record<K, new () => Record<string, unknown>>;

/** fauxqs's dist folder: the nearest node_modules/fauxqs above this file, as Node resolves it. */
function fauxqsDist(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', 'fauxqs', 'dist');
    if (existsSync(join(candidate, 'app.js'))) return candidate;
    if (dirname(dir) === dir) throw new Error('fauxqs is not installed; run npm ci');
  }
}

async function loadStores() {
  const dist = fauxqsDist();
  const load = <K extends string>(path: string) => import(pathToFileURL(join(dist, path)).href) as Promise<StoreModule<K>>;
  const [{ SqsStore }, { SnsStore }, { S3Store }] = await Promise.all([
    load<'SqsStore'>('sqs/sqsStore.js'),
    load<'SnsStore'>('sns/snsStore.js'),
    load<'S3Store'>('s3/s3Store.js'),
  ]);
  const sqsStore = new SqsStore();
  sqsStore.host = ''; // empty: queue URLs take the request's Host header
  return { sqsStore, snsStore: new SnsStore(), s3Store: new S3Store() };
}

export async function startSqsServer(options: { port?: number } = {}): Promise<SqsServer> {
  const port = options.port ?? (await freePort());
  const stores = await loadStores();
  const app = buildApp({ logger: false, stores: stores as never });
  await app.listen({ port, host: '127.0.0.1' });
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => app.close() };
}
