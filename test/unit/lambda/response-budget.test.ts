/**
 * escapesIn counts what an event's JSON adds to Lambda's serialized result (where the body is a
 * JSON string, escaped once more) without serializing it twice: it must agree with doing exactly
 * that, for every kind of character JSON treats specially. toJson builds the answer from the JSON
 * the count made: it must equal JSON.stringify of the answer.
 */
import { describe, expect, it } from 'vitest';
import { ResponseBudget, escapesIn, toJson } from '../../../lambda/core/log/response-budget';

describe('escapesIn', () => {
  const values: [string, unknown][] = [
    ['plain ASCII', { id: 1, name: 'order' }],
    ['quotes and backslashes', 'say "hi" \\ C:\\path\\"quoted"'],
    ['control characters', '\u0000\u0001\b\f\n\r\t\u001f'],
    ['non-ASCII and emoji', 'ünïcødé — 日本語 🚀'],
    ['line and paragraph separators', '\u2028\u2029'],
    ['lone surrogates', '\ud800 and \udfff'],
    ['nested', { a: [{ b: 'x"y' }, null, true, 1.5e300], c: { '"k"': '\\' } }],
  ];
  it.each(values)('matches serializing twice: %s', (_, value) => {
    const event = { topic: 't', partition: 0, offset: 7, key: 'k"\\', value, headers: { 'h"': 'v\\' }, timestamp: 1, messageId: 'm' };
    const json = JSON.stringify(event);
    expect(escapesIn(json)).toBe(Buffer.byteLength(JSON.stringify(json), 'utf8') - 2 - Buffer.byteLength(json, 'utf8'));
  });
});

describe('toJson', () => {
  it('equals JSON.stringify, reusing the JSON of the events a budget took', () => {
    const budget = new ResponseBudget();
    const events = [1, 2, 3].map((offset) => ({ topic: 't', partition: 0, offset, key: null, value: { n: offset, s: 'a"b' }, headers: {}, timestamp: 1 }));
    for (const e of events) expect(budget.take(e)).toBe(true);
    const answer = { events, nextOffset: 4, highWatermark: 4, skipped: undefined, records: [{ topic: 't', events: [...events, { other: true }] }] };
    expect(toJson(answer)).toBe(JSON.stringify(answer));
    // The reused JSON is the one counted: a later change to a taken event (events are immutable by
    // contract) would not show, which is how we know the count's JSON is what is sent.
    (events[0]!.value as { n: number }).n = 99;
    expect(toJson({ events })).not.toBe(JSON.stringify({ events }));
  });

  it.each<[string, unknown]>([
    ['scalars', { a: 1, b: 'x', c: null, d: true, e: undefined }],
    ['arrays with holes and undefined', [1, undefined, () => 1, Symbol('s'), null]],
    ['nested objects', { a: { b: { c: [{ d: '\u2028' }] } } }],
    ['dates and toJSON', { at: new Date(0), custom: { toJSON: () => 'custom' } }],
    ['empty', { a: [], b: {} }],
  ])('equals JSON.stringify for %s', (_, value) => {
    expect(toJson(value)).toBe(JSON.stringify(value));
  });
});

describe('ResponseBudget', () => {
  /** The same decisions counted exactly for every event, as the budget did before it skipped escapes far from the limit. */
  const reference = (events: object[], maxBody: number, maxLambda: number) => {
    let body = 0;
    let lambda = 0;
    let taken = 0;
    for (const e of events) {
      const json = JSON.stringify(e);
      const b = Buffer.byteLength(json, 'utf8') + 1;
      const l = Buffer.byteLength(JSON.stringify(json), 'utf8') - 2 + 1;
      if (taken > 0 && (body + b > maxBody || lambda + l > maxLambda)) break;
      body += b;
      lambda += l;
      taken++;
    }
    return taken;
  };

  it.each([
    ['quote-heavy values, Lambda limit binds', '"\\"\\\\'.repeat(20), 4000, 3000],
    ['plain values, body limit binds', 'abcdefgh'.repeat(10), 2000, 3900],
    ['mixed, both limits close', 'a"b\\c'.repeat(12), 2600, 3000],
  ])('takes exactly the events that fit: %s', (_, text, maxBody, maxLambda) => {
    const events = Array.from({ length: 100 }, (_, i) => ({ offset: i, value: i % 3 === 0 ? text : 'x', headers: {} }));
    const budget = new ResponseBudget(maxBody, maxLambda);
    let taken = 0;
    while (taken < events.length && budget.take(events[taken]!)) taken++;
    expect(taken).toBe(reference(events, maxBody, maxLambda));
    expect(taken).toBeGreaterThan(1);
    expect(taken).toBeLessThan(events.length);
    expect(budget.full).toBe(true);
  });
});
