/**
 * Orders joined with their payments within 5 minutes: a stream-stream join.
 *
 * Both topics are keyed by order ID and have the same partitions, so an order and its payments meet
 * on one processor partition. An order and a payment join when their timestamps are at most
 * 5 minutes apart, whichever comes first; each side waits in the processor's state for the other
 * until then (plus a minute of grace for late arrivals). Each pair is written to `paid-orders` once.
 */
// In your own app: `import { JoinWindows, sluiceProcessor, streams } from 'sluice/streams';`
import { JoinWindows, sluiceProcessor, streams } from '../../../lambda/streams';
import type { Order, PaidOrder, Payment } from './types';

export const app = streams('order-payments');

const orders = app.stream<Order>('orders');
const payments = app.stream<Payment>('payments');

orders
  .join(
    payments,
    (order, payment): PaidOrder => ({
      orderId: order.orderId,
      customerId: order.customerId,
      total: order.total,
      paymentId: payment.paymentId,
      amount: payment.amount,
    }),
    JoinWindows.ofTimeDifference(5 * 60_000).grace(60_000),
  )
  .to('paid-orders');

export const handler = sluiceProcessor(app);
