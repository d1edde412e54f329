/**
 * Subscription filters (SNS filter policies in spirit): rules on the key, on headers and on fields
 * of JSON object values. A field matches when any of its rules does; a filter when all its fields
 * do. The dispatcher evaluates them before enqueuing anything, the deliverer again on what it reads.
 */
import type { FilterRule, SubscriptionFilter, ValueFilter } from '../../../api/subscriptions';

/** What a filter looks at in an event. */
export interface FilterableEvent {
  readonly key: string | null;
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON value (undefined for a bytes value or none). */
  readonly value?: unknown;
}

const ABSENT = Symbol('absent');
type Field = unknown | typeof ABSENT;

export function matchesFilter(filter: SubscriptionFilter | undefined, event: FilterableEvent): boolean {
  if (!filter) return true;
  if (filter.key && !matchesRules(filter.key, event.key === null ? ABSENT : event.key)) return false;
  if (filter.headers) {
    for (const [name, rules] of Object.entries(filter.headers)) {
      const value = Object.hasOwn(event.headers, name) ? event.headers[name] : ABSENT;
      if (!matchesRules(rules, value)) return false;
    }
  }
  if (filter.value && !matchesValue(filter.value, event.value)) return false;
  return true;
}

function matchesValue(filter: ValueFilter, value: unknown): boolean {
  for (const [name, rulesOrNested] of Object.entries(filter)) {
    const field: Field = isObject(value) && Object.hasOwn(value, name) ? (value as Record<string, unknown>)[name] : ABSENT;
    if (Array.isArray(rulesOrNested)) {
      if (!matchesRules(rulesOrNested as readonly FilterRule[], field)) return false;
    } else if (!matchesValue(rulesOrNested as ValueFilter, field === ABSENT ? undefined : field)) {
      return false;
    }
  }
  return true;
}

/** A field matches when any rule matches; an array field, when any rule matches any element (as SNS). */
function matchesRules(rules: readonly FilterRule[], field: Field): boolean {
  return rules.some((rule) => matchesRule(rule, field));
}

function matchesRule(rule: FilterRule, field: Field): boolean {
  if (isObject(rule) && 'exists' in rule) return rule.exists === (field !== ABSENT);
  if (field === ABSENT) return false;
  if (Array.isArray(field)) {
    if (isObject(rule) && 'anything-but' in rule) return field.length > 0 && field.every((f) => matchesScalarRule(rule, f));
    return field.some((f) => matchesScalarRule(rule, f));
  }
  return matchesScalarRule(rule, field);
}

function matchesScalarRule(rule: FilterRule, value: unknown): boolean {
  if (rule === null || typeof rule !== 'object') return value === rule;
  if ('prefix' in rule) return typeof value === 'string' && value.startsWith(rule.prefix);
  if ('anything-but' in rule) {
    const but = rule['anything-but'];
    if (isObject(but) && 'prefix' in but) return typeof value === 'string' && !value.startsWith((but as { prefix: string }).prefix);
    const list = Array.isArray(but) ? but : [but];
    return value !== undefined && !list.includes(value as string | number);
  }
  if ('numeric' in rule) return typeof value === 'number' && matchesNumeric(rule.numeric, value);
  return false;
}

function matchesNumeric(terms: readonly (string | number)[], n: number): boolean {
  for (let i = 0; i + 1 < terms.length; i += 2) {
    const op = terms[i];
    const bound = terms[i + 1] as number;
    const ok =
      op === '<' ? n < bound : op === '<=' ? n <= bound : op === '=' ? n === bound : op === '>=' ? n >= bound : op === '>' ? n > bound : false;
    if (!ok) return false;
  }
  return true;
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
