/**
 * IAM policy evaluation for the local platform, enough to hold each function to the grants the
 * template gives its role: explicit Deny wins, then any Allow whose action and resource patterns
 * match; otherwise the call is denied (IAM's implicit deny). Conditions are not evaluated: the
 * stack uses none on its functions' roles.
 */
import type { TwinStatement } from '../template/twin';

export interface AccessRequest {
  /** `dynamodb:PutItem`, `sqs:SendMessage`, ... */
  readonly action: string;
  /** ARNs of every resource the call touches. */
  readonly resources: readonly string[];
}

export type Decision = { readonly allowed: true } | { readonly allowed: false; readonly resource: string; readonly explicit: boolean };

export function evaluate(statements: readonly TwinStatement[], request: AccessRequest): Decision {
  for (const resource of request.resources) {
    const matching = statements.filter((s) => s.actions.some((a) => wildcard(a, request.action, true)) && s.resources.some((r) => wildcard(r, resource, false)));
    if (matching.some((s) => s.effect === 'Deny')) return { allowed: false, resource, explicit: true };
    if (!matching.some((s) => s.effect === 'Allow')) return { allowed: false, resource, explicit: false };
  }
  return { allowed: true };
}

/** IAM's `*` and `?` patterns; actions compare case-insensitively, resources case-sensitively. */
export function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern.split(/([*?])/).map((part) => (part === '*' ? '.*' : part === '?' ? '.' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}
