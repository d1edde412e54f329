/**
 * Lambda event filtering (the EventBridge pattern syntax Lambda's event source mappings take):
 * a record is handed to the function when any pattern matches it. Supported, as AWS documents:
 * literal values (a list: any of them), `prefix`, `suffix`, `anything-but` (a value, a list, or a
 * prefix), `numeric` comparisons (also on DynamoDB's number strings), `exists`, nested objects.
 * Anything else in a pattern is refused at start-up, not ignored.
 */

type Pattern = Record<string, unknown>;

export function validatePattern(pattern: unknown, path = '$'): void {
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) throw new Error(`${path}: a filter pattern is an object`);
  for (const [key, rule] of Object.entries(pattern)) {
    const here = `${path}.${key}`;
    if (Array.isArray(rule)) {
      for (const r of rule) {
        if (r !== null && typeof r === 'object') {
          const [op] = Object.keys(r as object);
          if (!['prefix', 'suffix', 'anything-but', 'numeric', 'exists'].includes(op ?? '')) {
            throw new Error(`${here}: the local platform does not support the filter rule ${JSON.stringify(r)}`);
          }
        }
      }
    } else {
      validatePattern(rule, here);
    }
  }
}

export function matchesAny(patterns: readonly Pattern[], record: unknown): boolean {
  return patterns.length === 0 || patterns.some((p) => matches(p, record));
}

function matches(pattern: Pattern, value: unknown): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    const field = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(rule)) {
      if (!rule.some((r) => matchesRule(r, field))) return false;
    } else if (!matches(rule as Pattern, field)) {
      return false;
    }
  }
  return true;
}

function matchesRule(rule: unknown, field: unknown): boolean {
  if (rule === null || typeof rule !== 'object') {
    // A literal matches the field's value, or any element of an array field.
    return Array.isArray(field) ? field.some((f) => f === rule) : field === rule;
  }
  const [op, arg] = Object.entries(rule as Record<string, unknown>)[0]!;
  switch (op) {
    case 'exists':
      return (field !== undefined) === Boolean(arg);
    case 'prefix':
      return typeof field === 'string' && field.startsWith(String(arg));
    case 'suffix':
      return typeof field === 'string' && field.endsWith(String(arg));
    case 'anything-but': {
      if (field === undefined) return false;
      if (arg !== null && typeof arg === 'object' && !Array.isArray(arg) && 'prefix' in arg) {
        return typeof field === 'string' && !field.startsWith(String((arg as { prefix: unknown }).prefix));
      }
      const excluded = Array.isArray(arg) ? arg : [arg];
      return !excluded.includes(field);
    }
    case 'numeric': {
      const n = typeof field === 'number' ? field : typeof field === 'string' && field.trim() !== '' ? Number(field) : NaN;
      if (Number.isNaN(n)) return false;
      const terms = arg as (string | number)[];
      for (let i = 0; i < terms.length; i += 2) {
        const bound = Number(terms[i + 1]);
        const ok = { '=': n === bound, '<': n < bound, '<=': n <= bound, '>': n > bound, '>=': n >= bound }[String(terms[i])];
        if (!ok) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
