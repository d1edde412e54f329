/** The example's events (JSON values). Keys: clicks by user, orders and payments by order, customers by customer. */

export interface Click {
  readonly page: string;
  readonly userId: string;
}

export interface Order {
  readonly orderId: string;
  readonly customerId: string;
  readonly total: number;
}

export interface Payment {
  readonly paymentId: string;
  readonly orderId: string;
  readonly amount: number;
}

export interface Customer {
  readonly customerId: string;
  readonly name: string;
  readonly tier: 'gold' | 'silver' | 'bronze';
}

/** An order with the payment made for it within 5 minutes (paid-orders). */
export interface PaidOrder {
  readonly orderId: string;
  readonly customerId: string;
  readonly total: number;
  readonly paymentId: string;
  readonly amount: number;
}

/** An order with its customer as the customers topic last said (enriched-orders); null: not known (yet). */
export interface EnrichedOrder extends Order {
  readonly customer: { readonly name: string; readonly tier: Customer['tier'] } | null;
}
