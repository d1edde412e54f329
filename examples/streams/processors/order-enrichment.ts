/**
 * Orders enriched from a customers table: a stream-table join.
 *
 * `app.table('customers')` keeps the latest customer per customer ID (a null value deletes one).
 * Orders are keyed by order ID, so `selectKey` re-keys them by customer ID; the processor writes
 * them to its repartition topic (`order-enrichment-repartition-0`, with as many partitions as
 * `orders`) and joins them from there with the table, which must have as many partitions. An order
 * whose customer is not known (yet) is written with `customer: null` (a left join).
 */
// In your own app: `import { sluiceProcessor, streams } from 'sluice/streams';`
import { sluiceProcessor, streams } from '../../../lambda/streams';
import type { Customer, EnrichedOrder, Order } from './types';

export const app = streams('order-enrichment');

const customers = app.table<Customer>('customers');

app
  .stream<Order>('orders')
  .selectKey((order) => order.customerId)
  .leftJoin(customers, (order, customer): EnrichedOrder => ({
    ...order,
    customer: customer === null ? null : { name: customer.name, tier: customer.tier },
  }))
  .to('enriched-orders');

export const handler = sluiceProcessor(app);
