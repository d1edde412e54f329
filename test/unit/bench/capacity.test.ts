import { describe, expect, it } from 'vitest';
import {
  CapacityMeter,
  computeUnits,
  itemSize,
  numberSize,
  readUnits,
  reportedUnits,
  writeUnits,
} from '../../../bench/capacity';

/** An item of exactly `bytes` bytes: "pk" = "p" (2 + 1) and "d" = n characters (1 + n). */
const itemOf = (bytes: number) => ({ pk: { S: 'p' }, d: { S: 'x'.repeat(bytes - 4) } });

describe('bench capacity', () => {
  describe('itemSize', () => {
    it('adds attribute-name bytes to value bytes', () => {
      expect(itemSize({ pk: { S: 'abc' } })).toBe(5);
      expect(itemSize({ name: { S: 'José' } })).toBe(4 + 5); // UTF-8, not UTF-16
      expect(itemSize({ data: { B: new Uint8Array(10) } })).toBe(14);
      expect(itemSize({ ok: { BOOL: true }, no: { NULL: true } })).toBe(3 + 3);
      expect(itemSize(itemOf(1024))).toBe(1024);
    });

    it('sizes numbers by significant digits', () => {
      expect(numberSize('123')).toBe(3); // ceil(3 / 2) + 1
      expect(numberSize('1000')).toBe(2); // trailing zeros trimmed
      expect(numberSize('0.001')).toBe(2); // leading zeros trimmed
      expect(numberSize('-12.5')).toBe(4); // 2 + 1, plus 1 for the sign
      expect(itemSize({ offset: { N: '1234567890123' } })).toBe(6 + 8);
    });

    it('counts 3 bytes for a map or list, plus its elements and 1 byte per element', () => {
      expect(itemSize({ m: { M: { a: { S: 'x' } } } })).toBe(1 + 3 + 2 + 1);
      expect(itemSize({ l: { L: [{ S: 'ab' }, { N: '1' }] } })).toBe(1 + 3 + 2 + 2 + 2);
      expect(itemSize({ e: { M: {} } })).toBe(4);
    });
  });

  describe('units', () => {
    it.each([
      [1, 1],
      [1024, 1],
      [1025, 2],
      [3000, 3],
    ])('writes an item of %i bytes for %i WCU, twice that in a transaction', (bytes, units) => {
      expect(writeUnits(bytes)).toBe(units);
      expect(writeUnits(bytes, { transactional: true })).toBe(2 * units);
    });

    it('reads 4 KB per unit when strongly consistent, half for eventual, and at least one', () => {
      expect(readUnits(4096, { consistent: true })).toBe(1);
      expect(readUnits(4097, { consistent: true })).toBe(2);
      expect(readUnits(4097)).toBe(1);
      expect(readUnits(0, { consistent: true })).toBe(1);
      expect(readUnits(100)).toBe(0.5);
    });
  });

  describe('computeUnits', () => {
    it('charges a transaction of a 1500 B and a 100 B item 2 × (2 + 1) WCU', () => {
      const input = { TransactItems: [{ Put: { Item: itemOf(1500) } }, { Put: { Item: itemOf(100) } }] };
      expect(computeUnits('TransactWriteItems', input, {})).toEqual({ write: 6, read: 0, unsized: 0 });
    });

    it('charges a BatchWriteItem per item, not for items handed back unprocessed', () => {
      const put = (bytes: number) => ({ PutRequest: { Item: itemOf(bytes) } });
      const input = { RequestItems: { t: [put(100), put(1100), put(2100)] } };
      expect(computeUnits('BatchWriteItem', input, {}).write).toBe(1 + 2 + 3);
      expect(computeUnits('BatchWriteItem', input, { UnprocessedItems: { t: [put(2100)] } }).write).toBe(3);
    });

    it('flags writes it cannot size from the call', () => {
      const input = { TransactItems: [{ Put: { Item: itemOf(100) } }, { Update: { Key: itemOf(10) } }] };
      expect(computeUnits('TransactWriteItems', input, {})).toEqual({ write: 2, read: 0, unsized: 1 });
      expect(computeUnits('UpdateItem', {}, {}).unsized).toBe(1);
    });

    it('rounds a Query over the total size of its items', () => {
      const output = { Items: [itemOf(2500), itemOf(2500)] };
      expect(computeUnits('Query', { ConsistentRead: true }, output).read).toBe(2);
      expect(computeUnits('Query', {}, output).read).toBe(1);
    });

    it('rounds a BatchGetItem per item and charges a miss the minimum', () => {
      const input = { RequestItems: { t: { Keys: [{}, {}], ConsistentRead: true } } };
      expect(computeUnits('BatchGetItem', input, { Responses: { t: [itemOf(5000)] } }).read).toBe(2 + 1);
    });
  });

  describe('reported units and the meter', () => {
    it('sums per-table ConsumedCapacity entries', () => {
      expect(reportedUnits([{ TableName: 'a', CapacityUnits: 4 }, { TableName: 'b', CapacityUnits: 12 }])).toBe(16);
      expect(reportedUnits({ TableName: 'a', CapacityUnits: 0.5 })).toBe(0.5);
      expect(reportedUnits(undefined)).toBeUndefined();
    });

    it('keeps computed and reported units apart and starts over on take()', () => {
      const meter = new CapacityMeter();
      meter.record('TransactWriteItems', { TransactItems: [{ Put: { Item: itemOf(100) } }] }, { ConsumedCapacity: [{ CapacityUnits: 4 }] });
      meter.record('GetItem', { ConsistentRead: true }, { Item: itemOf(100), ConsumedCapacity: { CapacityUnits: 1 } });
      expect(meter.take()).toEqual({
        computedWrite: 2,
        computedRead: 1,
        reportedWrite: 4,
        reportedRead: 1,
        reported: true,
        calls: { TransactWriteItems: 1, GetItem: 1 },
        unsized: 0,
      });
      expect(meter.take()).toMatchObject({ computedWrite: 0, reported: false, calls: {} });
    });
  });
});
