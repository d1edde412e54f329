/**
 * Finds the first object key that appears twice in one object of a JSON text. `JSON.parse` keeps
 * the last of two equal keys and says nothing, so `{"partition":0,"partition":5}` would mean
 * whatever the last writer of the body meant; Sluice refuses such bodies instead.
 *
 * Runs on text `JSON.parse` has accepted, so it trusts the grammar and only follows structure:
 * one pass, an explicit stack (never recursion, so any depth is fine), time linear in the text.
 * Keys are compared as `JSON.parse` decodes them: `"a"` and `"\u0061"` are the same key.
 */

/** Where the duplicate is: the path of keys and array indexes to it, the duplicate key last. */
export interface DuplicateKey {
  readonly key: string;
  readonly path: readonly (string | number)[];
}

interface Frame {
  /** Keys seen so far in this object; undefined for an array. */
  readonly keys: Set<string> | undefined;
  /** The current key (object) ... */
  key: string;
  /** ... or the current index (array). */
  index: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The first duplicate key of valid JSON `text`, or undefined when every object's keys are distinct. */
export function findDuplicateKey(text: string): DuplicateKey | undefined {
  const stack: Frame[] = [];
  let top: Frame | undefined;
  let expectKey = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      if (expectKey) {
        // A key: read it whole, noting escapes (rare) so plain keys are a slice.
        let j = i + 1;
        let escaped = false;
        for (;;) {
          if (j >= n) return undefined; // not JSON: JSON.parse refuses it first
          const d = text.charCodeAt(j);
          if (d === QUOTE) break;
          if (d === BACKSLASH) {
            escaped = true;
            j += 2;
          } else j++;
        }
        const key = escaped ? (JSON.parse(text.slice(i, j + 1)) as string) : text.slice(i + 1, j);
        const keys = top!.keys!;
        if (keys.has(key)) return { key, path: [...pathOf(stack), key] };
        keys.add(key);
        top!.key = key;
        expectKey = false;
        i = j + 1;
      } else {
        i = stringEnd(text, i) + 1;
      }
    } else if (c === OPEN_BRACE) {
      top = { keys: new Set(), key: '', index: 0 };
      stack.push(top);
      expectKey = true;
      i++;
    } else if (c === OPEN_BRACKET) {
      top = { keys: undefined, key: '', index: 0 };
      stack.push(top);
      i++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      stack.pop();
      top = stack[stack.length - 1];
      expectKey = false;
      i++;
    } else if (c === COMMA) {
      if (top!.keys) expectKey = true;
      else top!.index++;
      i++;
    } else {
      // whitespace, ':', numbers, true, false, null
      i++;
    }
  }
  return undefined;
}

/**
 * The index of the quote that closes the string opening at `start`. Each quote found is escaped
 * when an odd number of backslashes precede it; those backslashes lie after the previous quote
 * found, so every character is looked at a bounded number of times.
 */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return text.length; // not JSON: JSON.parse refuses it first
    let b = q - 1;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q;
    from = q + 1;
  }
}

/** The path to the current value: each object's current key, each array's current index. */
function pathOf(stack: readonly Frame[]): (string | number)[] {
  // The last frame is the object holding the duplicate: its key is the duplicate itself.
  return stack.slice(0, -1).map((f) => (f.keys ? f.key : f.index));
}
