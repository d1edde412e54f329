/**
 * Kafka's ACL semantics over a list of ACLs:
 * - an ACL applies when its principal matches the caller (principal.ts), its resource type is the
 *   resource's, and its pattern matches the name (`literal`: equal, or the literal `*`;
 *   `prefixed`: the name starts with it);
 * - its operation matches when it is the operation, or `all`; an `allow` of read, write, delete or
 *   alter also allows describe;
 * - a matching `deny` wins over every `allow`; with no matching `allow`, the answer is no.
 */
import { ANY_RESOURCE, type AclBinding, type Operation, type ResourceOperation } from '../../../api/acls';
import { normalizePrincipal } from './principal';

/** Operations whose `allow` implies `describe` (Kafka: READ, WRITE, DELETE, ALTER imply DESCRIBE). */
const IMPLIES_DESCRIBE: ReadonlySet<Operation> = new Set(['read', 'write', 'delete', 'alter']);

export function resourceMatches(acl: AclBinding, resource: Pick<ResourceOperation, 'resourceType' | 'resourceName'>): boolean {
  if (acl.resourceType !== resource.resourceType) return false;
  if (acl.patternType === 'prefixed') return resource.resourceName.startsWith(acl.resourceName);
  return acl.resourceName === ANY_RESOURCE || acl.resourceName === resource.resourceName;
}

/**
 * ACLs already reduced to one caller (see `forPrincipal`), asked about one operation on one
 * resource.
 */
export function isAllowed(acls: readonly AclBinding[], request: ResourceOperation): boolean {
  let allowed = false;
  for (const acl of acls) {
    if (!resourceMatches(acl, request)) continue;
    if (acl.permission === 'deny') {
      if (acl.operation === request.operation || acl.operation === 'all') return false;
    } else if (
      acl.operation === request.operation ||
      acl.operation === 'all' ||
      (request.operation === 'describe' && IMPLIES_DESCRIBE.has(acl.operation))
    ) {
      allowed = true;
    }
  }
  return allowed;
}

/** The ACLs that apply to a caller: its own (by normalized principal) and those for `*`. */
export function forPrincipal(acls: readonly AclBinding[], callerArn: string | undefined): AclBinding[] {
  const caller = callerArn === undefined ? undefined : normalizePrincipal(callerArn);
  return acls.filter((acl) => acl.principal === '*' || (caller !== undefined && normalizePrincipal(acl.principal) === caller));
}
