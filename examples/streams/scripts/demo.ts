/**
 * Tries the example: creates its topics (if missing), produces clicks, customers, orders and
 * payments, waits until every processor has caught up (`GET /processors`: lag 0), and prints what
 * they wrote. Against the local platform (`npm start -- --assembly examples/streams/cdk.out` prints
 * the endpoint):
 *
 *   npx tsx examples/streams/scripts/demo.ts --endpoint http://127.0.0.1:<port>
 *
 * Against a deployment: `--endpoint` = the stack's SluiceUrl output (requests are signed with the
 * AWS SDK's usual credentials). Run it again: each run uses IDs of its own.
 */
import { parseArgs } from 'node:util';
// In your own app: `import { SluiceClient, type FetchedEvent } from 'sluice/client';`
import type { FetchedEvent } from '../../../api/events';
import { SluiceClient } from '../../../client/sluice-client';
import { createTopics, TOPICS } from '../lib/topics';
import type { Click, Customer, EnrichedOrder, Order, PaidOrder, Payment } from '../processors/types';

// Lambda runs Node 22+; the AWS SDK's warning about an older local Node.js is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { values } = parseArgs({ options: { endpoint: { type: 'string' } } });
const client = new SluiceClient(values.endpoint ? { endpoint: values.endpoint } : {});
const run = Date.now().toString(36);
const print = (line = '') => process.stdout.write(`${line}\n`);

await createTopics(client);
const since = await highWatermarks(['clicks-per-minute', 'paid-orders', 'enriched-orders']);

// Clicks of the last two minutes, keyed by user, on four pages.
const now = Date.now();
const pages = ['/home', '/pricing', '/docs', '/blog'];
const clicks = Array.from({ length: 40 }, (_, i) => {
  const click: Click = { page: pages[i % pages.length]!, userId: `user-${i % 7}` };
  return { key: click.userId, value: click, timestamp: now - 120_000 + i * 3_000 };
});
await client.produce('clicks', clicks);

// Customers first (the table the orders are enriched from), then orders and their payments.
const customers: Customer[] = [
  { customerId: `${run}-c1`, name: 'Ada', tier: 'gold' },
  { customerId: `${run}-c2`, name: 'Grace', tier: 'silver' },
];
await client.produce('customers', customers.map((c) => ({ key: c.customerId, value: c })));
await waitForLag('order-enrichment');
const orders: Order[] = [
  { orderId: `${run}-o1`, customerId: `${run}-c1`, total: 120 },
  { orderId: `${run}-o2`, customerId: `${run}-c2`, total: 35 },
  { orderId: `${run}-o3`, customerId: `${run}-c9`, total: 60 }, // an unknown customer
];
const payments: Payment[] = [
  { paymentId: `${run}-p1`, orderId: `${run}-o1`, amount: 120 },
  { paymentId: `${run}-p2`, orderId: `${run}-o2`, amount: 35 },
];
await client.produce('orders', orders.map((o) => ({ key: o.orderId, value: o, timestamp: now })));
// Paid a minute later: within the 5-minute join window. Order o3 is never paid.
await client.produce('payments', payments.map((p) => ({ key: p.orderId, value: p, timestamp: now + 60_000 })));

for (const name of ['clicks-per-minute', 'order-payments', 'order-enrichment']) await waitForLag(name);

print('\nclicks-per-minute (the latest count per page and minute):');
const counts = new Map<string, { page: string; start: number; count: number }>();
for (const e of await readFrom('clicks-per-minute', since)) {
  const { key, window, value } = e.value as { key: string; window: { start: number }; value: number };
  counts.set(`${key}@${window.start}`, { page: key, start: window.start, count: value });
}
for (const c of [...counts.values()].sort((a, b) => a.start - b.start || a.page.localeCompare(b.page))) {
  print(`  ${new Date(c.start).toISOString()}  ${c.page.padEnd(10)} ${c.count}`);
}
print('\npaid-orders:');
for (const e of await readFrom('paid-orders', since)) {
  const p = e.value as PaidOrder;
  if (p.orderId.startsWith(run)) print(`  ${p.orderId} total ${p.total} paid by ${p.paymentId} (${p.amount})`);
}
print('\nenriched-orders:');
for (const e of await readFrom('enriched-orders', since)) {
  const o = e.value as EnrichedOrder;
  if (o.orderId.startsWith(run)) print(`  ${o.orderId} ${o.customer ? `${o.customer.name} (${o.customer.tier})` : 'unknown customer'}`);
}
print('\nnpx sluice processors list   # lag, counters and state of each processor');

/** Waits until the processor has processed everything appended to its inputs (lag 0). */
async function waitForLag(name: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const processor = await client.describeProcessor(name);
    if (processor.lag === 0) return;
    if (Date.now() > deadline) throw new Error(`processor ${name} still has a lag of ${processor.lag} after 2 minutes`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function highWatermarks(topics: readonly string[]): Promise<Map<string, number>> {
  const marks = new Map<string, number>();
  for (const topic of topics) {
    for (const p of (await client.describeTopic(topic)).partitionOffsets) marks.set(`${topic}/${p.partition}`, p.highWatermark);
  }
  return marks;
}

/** The events appended to `topic` since `marks`, partition by partition, in offset order. */
async function readFrom(topic: string, marks: Map<string, number>): Promise<FetchedEvent[]> {
  const partitions = TOPICS.find((t) => t.name === topic)!.partitions;
  const events: FetchedEvent[] = [];
  for (let partition = 0; partition < partitions; partition++) {
    let offset = marks.get(`${topic}/${partition}`) ?? 0;
    for (;;) {
      const page = await client.fetch(topic, partition, { offset });
      events.push(...page.events);
      if (page.nextOffset >= page.highWatermark) break;
      offset = page.nextOffset;
    }
  }
  return events;
}
