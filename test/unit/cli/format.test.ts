import { describe, expect, it } from 'vitest';
import { topicsTable } from '../../../cli/commands/topics';
import { formatDedupeWindow, formatDuration, formatFields, formatRetention, formatTable } from '../../../cli/format';

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
});
