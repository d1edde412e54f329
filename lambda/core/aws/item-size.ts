/**
 * DynamoDB's size of an item, as it bills writes (one write unit per started KB) and reads (one
 * read unit per started 4 KB), by the documented rules
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
 * the sum over attributes of the UTF-8 length of the name plus the size of the value:
 * - S: UTF-8 bytes; B: raw bytes; N: about one byte per two significant digits, plus one;
 * - BOOL and NULL: 1 byte; L and M: 3 bytes, plus their elements, plus 1 byte per element (an M
 *   element's key counts like an attribute name); SS/NS/BS: the sum of their elements.
 * The one definition: the log store sizes its heads with it, the bench its calls.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';

/** The bytes one write unit covers. */
export const WRITE_UNIT_BYTES = 1024;
/** The bytes one strongly consistent read unit covers. */
export const READ_UNIT_BYTES = 4096;

type Item = Record<string, AttributeValue>;

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/** Bytes a DynamoDB number takes: one per two significant digits, plus one (plus one if negative). */
export function numberSize(text: string): number {
  const negative = text.trim().startsWith('-');
  const mantissa = text.trim().replace(/^[-+]/, '').split(/[eE]/)[0] ?? '';
  const digits = mantissa.replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1 + (negative ? 1 : 0);
}

/** Bytes of one attribute value (without its name). */
export function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.B !== undefined) return value.B.byteLength;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((n, s) => n + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((n, s) => n + numberSize(s), 0);
  if (value.BS !== undefined) return value.BS.reduce((n, b) => n + b.byteLength, 0);
  if (value.L !== undefined) return 3 + value.L.reduce((n, v) => n + 1 + valueSize(v), 0);
  if (value.M !== undefined) return 3 + Object.keys(value.M).length + itemSize(value.M);
  throw new Error(`Unknown attribute value type: ${Object.keys(value).join(',')}`);
}

/** Bytes of a marshalled item: attribute names plus values. */
export function itemSize(item: Item): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) size += utf8(name) + valueSize(value);
  return size;
}

/** Bytes of an item as the document client writes it (plain values, marshalled first). */
export function documentItemSize(item: Record<string, unknown>): number {
  return itemSize(marshall(item, { removeUndefinedValues: true }));
}
