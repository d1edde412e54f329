/**
 * DynamoDB's size of an item, as it bills writes (one write unit per started KB), from the values
 * the document client marshals. Follows DynamoDB's published rules and rounds up where they are
 * approximate, so an item this calls 1 KB or less is never billed two units.
 */

/** The bytes one write unit covers. */
export const WRITE_UNIT_BYTES = 1024;

export function itemSize(item: Readonly<Record<string, unknown>>): number {
  let size = 0;
  for (const [name, value] of Object.entries(item)) {
    if (value === undefined) continue;
    size += Buffer.byteLength(name, 'utf8') + valueSize(value);
  }
  return size;
}

function valueSize(value: unknown): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (typeof value === 'number' || typeof value === 'bigint') return numberSize(value);
  if (typeof value === 'boolean' || value === null) return 1;
  if (value instanceof Uint8Array) return value.byteLength;
  // Lists and maps: 3 bytes, plus 1 per element (DynamoDB's documented overhead).
  if (Array.isArray(value)) return 3 + value.reduce((n: number, v) => n + 1 + valueSize(v), 0);
  if (typeof value === 'object') {
    let size = 3;
    for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
      if (v !== undefined) size += 1 + Buffer.byteLength(name, 'utf8') + valueSize(v);
    }
    return size;
  }
  throw new TypeError(`itemSize: no DynamoDB type for a ${typeof value}`);
}

/** One byte per two significant digits, plus one; leading and trailing zeros do not count. */
function numberSize(value: number | bigint): number {
  const digits = String(value).replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}
