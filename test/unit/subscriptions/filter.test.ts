import { describe, expect, it } from 'vitest';
import { createSubscriptionRequestSchema, subscriptionFilterSchema, type SubscriptionFilter } from '../../../api/subscriptions';
import { matchesFilter, type FilterableEvent } from '../../../lambda/core/subscriptions/filter';

const event = (e: Partial<FilterableEvent> = {}): FilterableEvent => ({ key: 'order-1', headers: {}, ...e });
const f = (filter: unknown): SubscriptionFilter => subscriptionFilterSchema.parse(filter);

describe('filters', () => {
  it('matches everything without a filter', () => {
    expect(matchesFilter(undefined, event())).toBe(true);
  });

  it('matches the key exactly, by prefix, anything-but and exists', () => {
    expect(matchesFilter(f({ key: ['order-1'] }), event())).toBe(true);
    expect(matchesFilter(f({ key: ['order-2'] }), event())).toBe(false);
    expect(matchesFilter(f({ key: [{ prefix: 'order-' }] }), event())).toBe(true);
    expect(matchesFilter(f({ key: [{ prefix: 'refund-' }] }), event())).toBe(false);
    expect(matchesFilter(f({ key: [{ 'anything-but': 'order-1' }] }), event())).toBe(false);
    expect(matchesFilter(f({ key: [{ 'anything-but': ['a', 'b'] }] }), event())).toBe(true);
    expect(matchesFilter(f({ key: [{ 'anything-but': { prefix: 'order' } }] }), event())).toBe(false);
    expect(matchesFilter(f({ key: [{ exists: false }] }), event({ key: null }))).toBe(true);
    expect(matchesFilter(f({ key: [{ exists: true }] }), event({ key: null }))).toBe(false);
    // anything-but needs the field to be there
    expect(matchesFilter(f({ key: [{ 'anything-but': 'x' }] }), event({ key: null }))).toBe(false);
  });

  it('matches headers, any rule of a field and every field', () => {
    const e = event({ headers: { type: 'created', region: 'eu-west-1' } });
    expect(matchesFilter(f({ headers: { type: ['created', 'updated'] } }), e)).toBe(true);
    expect(matchesFilter(f({ headers: { type: ['created'], region: [{ prefix: 'us-' }] } }), e)).toBe(false);
    expect(matchesFilter(f({ headers: { missing: [{ exists: false }] } }), e)).toBe(true);
    expect(matchesFilter(f({ headers: { missing: ['x'] } }), e)).toBe(false);
  });

  it('matches JSON value fields, nested fields, numeric ranges and arrays', () => {
    const e = event({ value: { amount: 120, currency: 'EUR', customer: { tier: 'gold', tags: ['vip', 'eu'] }, flag: true, none: null } });
    expect(matchesFilter(f({ value: { amount: [{ numeric: ['>', 100, '<=', 200] }] } }), e)).toBe(true);
    expect(matchesFilter(f({ value: { amount: [{ numeric: ['<', 100] }] } }), e)).toBe(false);
    expect(matchesFilter(f({ value: { amount: [{ numeric: ['=', 120] }] } }), e)).toBe(true);
    expect(matchesFilter(f({ value: { amount: ['120'] } }), e)).toBe(false); // a string does not equal a number
    expect(matchesFilter(f({ value: { customer: { tier: ['gold'] } } }), e)).toBe(true);
    expect(matchesFilter(f({ value: { customer: { tags: ['vip'] } } }), e)).toBe(true);
    expect(matchesFilter(f({ value: { customer: { tags: [{ 'anything-but': 'vip' }] } } }), e)).toBe(false);
    expect(matchesFilter(f({ value: { customer: { missing: [{ exists: false }] } } }), e)).toBe(true);
    expect(matchesFilter(f({ value: { flag: [true], none: [null] } }), e)).toBe(true);
    expect(matchesFilter(f({ value: { currency: ['EUR'], amount: [{ numeric: ['>', 500] }] } }), e)).toBe(false);
  });

  it('treats a value that is not an object (bytes, a string) as having no fields', () => {
    expect(matchesFilter(f({ value: { a: [{ exists: false }] } }), event({ value: 'text' }))).toBe(true);
    expect(matchesFilter(f({ value: { a: ['x'] } }), event({ value: undefined }))).toBe(false);
  });

  it('refuses malformed filters', () => {
    for (const bad of [
      { key: [] },
      { key: [{ numeric: ['>', 'x'] }] },
      { key: [{ numeric: ['~', 1] }] },
      { key: [{ prefix: '' }] },
      { key: [{ nope: 1 }] },
      { other: ['x'] },
      { value: { a: { b: { c: { d: { e: { f: ['deep'] } } } } } } },
    ]) {
      expect(subscriptionFilterSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('validates a create request', () => {
    expect(createSubscriptionRequestSchema.safeParse({ name: 'a', target: { type: 'webhook', url: 'https://example.com/x' } }).success).toBe(true);
    expect(createSubscriptionRequestSchema.safeParse({ name: 'a', target: { type: 'webhook', url: 'ftp://example.com/x' } }).success).toBe(false);
    expect(createSubscriptionRequestSchema.safeParse({ name: 'a', target: { type: 'lambda', functionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:f' } }).success).toBe(true);
    expect(createSubscriptionRequestSchema.safeParse({ name: 'a/b', target: { type: 'queue', queueUrl: 'https://sqs.x/1/q' } }).success).toBe(false);
    expect(createSubscriptionRequestSchema.safeParse({ name: 'a', target: { type: 'queue', queueUrl: 'https://sqs.x/1/q' }, maxAttempts: 0 }).success).toBe(false);
  });
});
