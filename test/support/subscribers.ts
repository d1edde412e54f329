/**
 * Subscribers for push-subscription tests: a webhook receiver on loopback whose answers the test
 * controls, and the analysis of what a subscriber received (unique events, raw duplicates, order).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseDelivery, type DeliveredEvent, type DeliveryBody } from '../../api/subscriptions';

export interface WebhookCall {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly raw: string;
  readonly status: number;
}

/** Chooses the answer to a call: `n` counts the calls to this path so far (from 1). */
export type Responder = (n: number, call: { readonly path: string; readonly raw: string }) => number;

export interface Webhooks {
  readonly baseUrl: string;
  /** The answer of every call to `path` (default 204). */
  respond(path: string, responder: Responder): void;
  /** Every call so far, with the status it was answered. */
  readonly calls: WebhookCall[];
  /** Deliveries that were answered 2xx, per path, in the order they arrived. */
  accepted(path: string): DeliveryBody[];
  close(): Promise<void>;
}

/** One HTTP server on 127.0.0.1; each path is a subscriber of its own. */
export async function startWebhooks(): Promise<Webhooks> {
  const responders = new Map<string, Responder>();
  const counts = new Map<string, number>();
  const calls: WebhookCall[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const status = (responders.get(path) ?? (() => 204))(n, { path, raw });
      calls.push({ path, headers: req.headers, raw, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    baseUrl,
    calls,
    respond: (path, responder) => void responders.set(path, responder),
    accepted: (path) => calls.filter((c) => c.path === path && c.status >= 200 && c.status < 300).map((c) => parseDelivery(c.raw)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface ReceivedAnalysis {
  /** Each (subscription, partition, offset) once, in the order first received. */
  readonly unique: DeliveredEvent[];
  /** Events received again after their first receipt. */
  readonly duplicates: number;
  /** First receipts (outside redrives) whose offset is not above the partition's previous one. */
  readonly outOfOrder: string[];
  /** Deliveries mixing partitions or not in ascending offsets. */
  readonly malformed: string[];
  readonly deliveries: number;
}

/** De-duplicates by (subscription, partition, offset), counts raw duplicates and checks partition order. */
export function analyse(deliveries: readonly DeliveryBody[]): ReceivedAnalysis {
  const seen = new Set<string>();
  const unique: DeliveredEvent[] = [];
  const last = new Map<string, number>();
  const outOfOrder: string[] = [];
  const malformed: string[] = [];
  let duplicates = 0;
  for (const d of deliveries) {
    let previous = -1;
    for (const e of d.events) {
      if (e.partition !== d.partition || e.offset <= previous) malformed.push(`${d.subscription} p${d.partition}: event p${e.partition}@${e.offset} after ${previous}`);
      previous = e.offset;
      const id = `${e.subscription}|${e.partition}|${e.offset}`;
      if (seen.has(id)) {
        duplicates++;
        continue;
      }
      seen.add(id);
      unique.push(e);
      if (d.redrive) continue; // dead letters come back after their partition moved on, by design
      const lane = `${e.subscription}|${e.partition}`;
      const before = last.get(lane) ?? -1;
      if (e.offset <= before) outOfOrder.push(`${lane}: ${e.offset} after ${before}`);
      last.set(lane, e.offset);
    }
  }
  return { unique, duplicates, outOfOrder, malformed, deliveries: deliveries.length };
}

/** `p:o` of events, sorted by partition then offset: for comparing what arrived with what was produced. */
export const positions = (events: readonly { partition: number; offset: number }[]) =>
  events
    .map((e) => [e.partition, e.offset] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .map(([p, o]) => `${p}:${o}`);
