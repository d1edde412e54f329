/**
 * DynamoDB orders string keys by their UTF-8 bytes; JavaScript compares UTF-16 code units. The two
 * differ only above U+D7FF, so comparing code points gives DynamoDB's order.
 */
export function compareUtf8(a: string, b: string): number {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}
