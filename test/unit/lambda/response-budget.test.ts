/**
 * eventResponseBytes counts an event's share of the response body and of Lambda's serialized
 * result (where the body is a JSON string, escaped once more) without serializing it twice: it
 * must agree with doing exactly that, for every kind of character JSON treats specially.
 */
import { describe, expect, it } from 'vitest';
import { eventResponseBytes } from '../../../lambda/core/log/response-budget';

const reference = (event: object) => {
  const json = JSON.stringify(event);
  return { body: Buffer.byteLength(json, 'utf8') + 1, lambda: Buffer.byteLength(JSON.stringify(json), 'utf8') - 2 + 1 };
};

describe('eventResponseBytes', () => {
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
    expect(eventResponseBytes(event)).toEqual(reference(event));
  });
});
