/**
 * Decides whether a caller may perform an operation on a resource, from the ACLs declared in the
 * stack (CDK grants, in the environment) and those in the `acls` table (POST /acls), the latter
 * read whole and kept for `cacheTtlMs` (so a change takes effect within that time in every warm
 * function, as ACL changes propagate to Kafka brokers). Off (`'iam-only'`), it allows everything:
 * IAM on the API is then the only check.
 */
import { type AclBinding, type ResourceOperation, type StoredAcl } from '../../../api/acls';
import { AuthorizationFailedError } from '../../../api/errors';
import type { AuthorizationMode, Requirement } from '../../../definitions/authorization';
import { stored, type AclStore } from './acl-store';
import { forPrincipal, isAllowed } from './matcher';

export const DEFAULT_ACL_CACHE_TTL_MS = 5_000;

export interface AuthorizerOptions {
  readonly mode: AuthorizationMode;
  /** The ACLs created through the API. @default none */
  readonly store?: AclStore;
  /** The ACLs declared in the stack. @default none */
  readonly declared?: readonly AclBinding[];
  /** @default DEFAULT_ACL_CACHE_TTL_MS */
  readonly cacheTtlMs?: number;
  readonly now?: () => number;
}

export class Authorizer {
  readonly mode: AuthorizationMode;
  private readonly store: AclStore | undefined;
  private readonly declared: readonly StoredAcl[];
  private readonly cacheTtlMs: number;
  private readonly now: () => number;
  private cached: { readonly acls: readonly StoredAcl[]; readonly until: number } | undefined;
  private loading: Promise<readonly StoredAcl[]> | undefined;

  constructor(options: AuthorizerOptions) {
    this.mode = options.mode;
    this.store = options.store;
    this.declared = (options.declared ?? []).map((acl) => stored(acl, 'stack'));
    this.cacheTtlMs = options.cacheTtlMs ?? DEFAULT_ACL_CACHE_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** An authorizer that allows everything (`'iam-only'`). */
  static off(): Authorizer {
    return new Authorizer({ mode: 'iam-only' });
  }

  get enabled(): boolean {
    return this.mode === 'acl';
  }

  /** The ACLs declared in the stack (read-only through the API). */
  get declaredAcls(): readonly StoredAcl[] {
    return this.declared;
  }

  /** Every ACL in force: the stack's, then the table's (as cached). */
  async acls(): Promise<readonly StoredAcl[]> {
    return [...this.declared, ...(await this.tableAcls())];
  }

  /** Forget the cached table content (after this function changed it). */
  invalidate(): void {
    this.cached = undefined;
  }

  /** Whether `principal` may do this (always, when off). */
  async allows(principal: string | undefined, request: ResourceOperation): Promise<boolean> {
    if (!this.enabled) return true;
    return isAllowed(forPrincipal(await this.acls(), principal), request);
  }

  /**
   * Throws AuthorizationFailedError (403) naming the first requirement none of whose alternatives
   * is allowed; resolves when every requirement is met.
   */
  async check(principal: string | undefined, requirements: readonly Requirement[]): Promise<void> {
    if (!this.enabled || requirements.length === 0) return;
    const mine = forPrincipal(await this.acls(), principal);
    for (const alternatives of requirements) {
      if (alternatives.some((request) => isAllowed(mine, request))) continue;
      throw denied(principal, alternatives);
    }
  }

  /** The items whose resource the caller may perform `operation` on (all of them, when off). */
  async filter<T>(
    principal: string | undefined,
    items: readonly T[],
    resourceOf: (item: T) => Omit<ResourceOperation, 'operation'>,
    operation: ResourceOperation['operation'],
  ): Promise<T[]> {
    if (!this.enabled) return [...items];
    const mine = forPrincipal(await this.acls(), principal);
    return items.filter((item) => isAllowed(mine, { ...resourceOf(item), operation }));
  }

  private async tableAcls(): Promise<readonly StoredAcl[]> {
    if (!this.store) return [];
    const cached = this.cached;
    if (cached && this.now() < cached.until) return cached.acls;
    // One read at a time: concurrent callers share it.
    this.loading ??= this.store
      .list()
      .then((acls) => {
        this.cached = { acls, until: this.now() + this.cacheTtlMs };
        return acls;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}

function denied(principal: string | undefined, alternatives: Requirement): AuthorizationFailedError {
  const first = alternatives[0]!;
  const what = alternatives.map((r) => `${r.operation} on ${r.resourceType} "${r.resourceName}"`).join(' or ');
  return new AuthorizationFailedError(`Principal ${principal ?? '(anonymous)'} is not authorized to ${what}`, {
    details: {
      principal: principal ?? null,
      resourceType: first.resourceType,
      resourceName: first.resourceName,
      operation: first.operation,
      ...(alternatives.length > 1 ? { alternatives } : {}),
    },
  });
}
