import { describe, expect, it } from 'vitest';
import { topicsTable } from '../../../cli/commands/topics';
import { formatDedupeWindow, formatDuration, formatEvent, formatFields, formatRetention, formatTable } from '../../../cli/format';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('Module: cli/format', () => {
  describe('Function: formatDuration', () => {
    it.each([
      [0, '0s'],
      [1, '1ms'],
      [999, '999ms'],
      [SECOND, '1s'],
      [1500, '1s500ms'],
      [90 * SECOND, '1m30s'],
      [HOUR, '1h'],
      [90 * MINUTE, '1h30m'],
      [DAY, '24h'],
      [36 * HOUR, '36h'],
      [2 * DAY, '2d'],
      [7 * DAY, '7d'],
      [7 * DAY + 3 * HOUR + 1, '7d3h1ms'],
      [365 * DAY, '365d'],
    ])('%i ms is %s', (ms, expected) => {
      expect(formatDuration(ms)).toBe(expected);
    });
  });

  it('shows retention -1 as forever and a dedupe window of 0 as off', () => {
    expect(formatRetention(-1)).toBe('forever');
    expect(formatRetention(7 * DAY)).toBe('7d');
    expect(formatDedupeWindow(0)).toBe('off');
    expect(formatDedupeWindow(DAY)).toBe('24h');
  });

  describe('Function: formatTable', () => {
    it('pads columns to the widest cell, right-aligns where asked, leaves no trailing spaces', () => {
      const table = formatTable(
        [{ header: 'NAME' }, { header: 'N', align: 'right' }, { header: 'NOTE' }],
        [
          ['a', '1', ''],
          ['long-name', '1000', 'x'],
        ],
      );
      expect(table).toBe(['NAME          N  NOTE', 'a             1', 'long-name  1000  x', ''].join('\n'));
    });

    it('prints only the header for no rows', () => {
      expect(formatTable([{ header: 'A' }, { header: 'B' }], [])).toBe('A  B\n');
    });
  });

  it('aligns field values', () => {
    expect(formatFields([['Name', 'orders'], ['Dedupe window', '24h']])).toBe('Name:           orders\nDedupe window:  24h\n');
  });

  it('renders the topic list as NAME PARTITIONS RETENTION DEDUPE-WINDOW', () => {
    const base = { topicId: 'id', createdAt: '2025-01-01T00:00:00.000Z' };
    const table = topicsTable([
      { ...base, name: 'orders', partitions: 12, retentionMs: 7 * DAY, dedupeWindowMs: DAY },
      { ...base, name: 'audit-log', partitions: 1, retentionMs: -1, dedupeWindowMs: 0 },
    ]);
    expect(table).toBe(
      [
        'NAME       PARTITIONS  RETENTION  DEDUPE-WINDOW',
        'orders             12  7d         24h',
        'audit-log           1  forever    off',
        '',
      ].join('\n'),
    );
  });

  describe('Function: formatEvent', () => {
    const base = { topic: 'orders', partition: 2, offset: 41, headers: {}, timestamp: 0, messageId: 'm' };

    it.each([
      ['a string value as is', { key: 'k1', value: 'hello world' }, '2/41 k1 hello world'],
      ['other JSON values as compact JSON', { key: 'k1', value: { total: 1, items: ['a'] } }, '2/41 k1 {"total":1,"items":["a"]}'],
      ['null as JSON', { key: 'k1', value: null }, '2/41 k1 null'],
      ['no key as -', { key: null, value: 42 }, '2/41 - 42'],
      ['no value as -', { key: 'k1' }, '2/41 k1 -'],
      ['bytes as base64:', { key: null, valueBase64: 'AAEC' }, '2/41 - base64:AAEC'],
      ['line breaks and tabs as a JSON string', { key: 'a\tb', value: 'two\nlines' }, '2/41 "a\\tb" "two\\nlines"'],
      ['an empty string as ""', { key: '', value: '' }, '2/41 "" ""'],
      ['a string that would parse as JSON as a JSON string', { key: 'k', value: '42' }, '2/41 k "42"'],
      ['a string that looks like JSON as a JSON string', { key: 'k', value: '{"a":1}' }, '2/41 k "{\\"a\\":1}"'],
      ['"-" and "base64:" strings as JSON strings', { key: '-', value: 'base64:AA' }, '2/41 "-" "base64:AA"'],
      ['a key with a space as a JSON string', { key: 'a b', value: 'x y' }, '2/41 "a b" x y'],
    ])('prints %s', (_label, fields, expected) => {
      expect(formatEvent({ ...base, ...fields })).toBe(expected);
    });
  });
});
