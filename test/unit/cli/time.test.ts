import { describe, expect, it } from 'vitest';
import { compileFormat } from '../../../cli/format';
import { parseDuration, parseTime } from '../../../cli/time';
import type { FetchedEvent } from '../../../api/events';

describe('Function: parseDuration', () => {
  it.each([
    ['PT10M', 600_000],
    ['-PT10M', 600_000],
    ['P1DT2H', 93_600_000],
    ['PT0.5S', 500],
    ['P2W', 1_209_600_000],
    ['15m', 900_000],
    ['-15m', 900_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['2d', 172_800_000],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'P', 'PT', 'P1M', 'P1Y', '10', '10 minutes', 'm', '1x'])('%j is not a duration', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('Function: parseTime', () => {
  const now = Date.parse('2026-11-30T12:00:00Z');
  it.each([
    ['1767225600000', 1_767_225_600_000],
    ['2026-11-30T11:00:00Z', Date.parse('2026-11-30T11:00:00Z')],
    ['2026-11-30T12:00:00+01:00', Date.parse('2026-11-30T11:00:00Z')],
    ['2026-11-30T11:30:00', Date.parse('2026-11-30T11:30:00Z')], // no zone: UTC
    ['2026-11-30', Date.parse('2026-11-30T00:00:00Z')],
    ['-15m', now - 900_000],
    ['PT10M', now - 600_000],
  ])('%s', (text, ms) => {
    expect(parseTime(text, now)).toBe(ms);
  });

  it.each(['yesterday', '2026-13-45T00:00:00Z', '+15m', '12:00'])('%j is not a time', (text) => {
    expect(parseTime(text, now)).toBeUndefined();
  });
});

describe('Function: compileFormat', () => {
  const event: FetchedEvent = {
    topic: 'orders',
    partition: 2,
    offset: 7,
    key: 'k€',
    value: { total: 42 },
    headers: { a: '1', b: 'x=y' },
    timestamp: 1_700_000_000_000,
    messageId: 'm',
  };

  it('prints every field, escapes and %%', () => {
    expect(compileFormat('%t|%p|%o|%k|%s|%h|%T|%K|%S|%%\\t\\n')(event)).toBe('orders|2|7|k€|{"total":42}|a=1,b=x=y|1700000000000|4|12|%\t\n');
  });

  it('prints an empty key and value when there are none, bytes as base64:', () => {
    const bare = compileFormat('[%k][%s][%S]');
    expect(bare({ ...event, key: null, value: undefined })).toBe('[][][0]');
    expect(bare({ ...event, value: undefined, valueBase64: 'AQID' })).toBe('[k€][base64:AQID][3]');
  });

  it('refuses an unknown sequence', () => {
    expect(() => compileFormat('%x')).toThrow(/unknown format sequence "%x"/);
  });
});
