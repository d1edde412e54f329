/**
 * Validation messages that say what is allowed. zod answers a value that matches no option of a
 * union with "Invalid input", and a wrong enum value with `expected one of "a"|"b"`; the HTTP layer
 * parses every request with `allowedValuesError` so that both list the accepted values instead:
 * `?offset=earliset` answers `query.offset: must be one of "earliest", "latest" or a non-negative
 * integer of at most 16 digits`. Messages a schema sets itself win over this map (zod's precedence).
 */
import type { z } from 'zod';

type Issue = z.core.$ZodRawIssue;

/** A zod error map (`schema.safeParse(value, { error: allowedValuesError })`). */
export function allowedValuesError(issue: Issue): string | undefined {
  if (issue.code === 'invalid_value' && issue.values.length > 1) return `must be ${oneOf(issue.values.map(quote))}`;
  if (issue.code === 'invalid_union' && !('note' in issue && issue.note)) {
    const options = (issue.inst?._zod.def as { options?: readonly z.core.$ZodType[] } | undefined)?.options ?? [];
    const branches = (issue.errors as z.core.$ZodIssue[][]).flatMap((branch, i) => describeBranch(branch, options[i]));
    const unique = [...new Set(branches)];
    if (unique.length > 0) return `must be ${oneOf(unique)}`;
  }
  return undefined;
}

/** What one option of a union accepts, from the issues it raised (and its schema for objects). */
function describeBranch(issues: readonly z.core.$ZodIssue[], option: z.core.$ZodType | undefined): string[] {
  const first = issues[0];
  if (!first) return [];
  const def = option?._zod.def as { type?: string; shape?: Record<string, unknown> } | undefined;
  if (def?.type === 'object' && def.shape) return [`an object { ${Object.keys(def.shape).join(', ')} }`];
  if (first.path.length > 0) return [];
  switch (first.code) {
    case 'invalid_value':
      return first.values.map(quote);
    case 'invalid_type':
      return [first.expected === 'object' ? 'an object' : first.expected === 'array' ? 'an array' : `a ${first.expected}`];
    default:
      // Schema messages read "must be a non-negative integer ...": keep what follows "must be".
      return [first.message.startsWith('must be ') ? first.message.slice('must be '.length) : `a value that ${first.message}`];
  }
}

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function oneOf(items: readonly string[]): string {
  if (items.length === 1) return items[0]!;
  return `one of ${items.slice(0, -1).join(', ')} or ${items.at(-1)!}`;
}
