/** What handlers need from ACLs beyond the check `httpHandler` makes for every route. */
import type { ResourceType } from '../../api/acls';
import { routeAuthorization } from '../../definitions/authorization';
import type { Authorizer } from '../core/acls/authorizer';
import type { JsonRequest } from '../middleware/http-handler';

/**
 * A listing's items the caller may see: those whose resource the route's `filter` rule allows
 * (e.g. GET /topics: topics the caller may describe). All of them when ACLs are off.
 */
export async function visibleTo<T>(
  authorizer: Authorizer,
  request: JsonRequest,
  items: readonly T[],
  nameOf: (item: T) => string,
): Promise<T[]> {
  if (!authorizer.enabled) return items as T[]; // off: exactly what the service answered
  const filter = routeAuthorization(request.routeKey)?.filter;
  if (!filter) throw new Error(`Route ${request.routeKey} has no filter rule (definitions/authorization.ts)`);
  return authorizer.filter(request.identity.principalArn, items, (item) => resource(filter.resourceType, nameOf(item)), filter.operation);
}

/** A check the service makes once it knows the resources (the route's `inService` rule). */
export function inServiceCheck(authorizer: Authorizer, request: JsonRequest): (names: string[]) => Promise<void> {
  const rule = routeAuthorization(request.routeKey)?.inService;
  if (!rule) throw new Error(`Route ${request.routeKey} has no inService rule (definitions/authorization.ts)`);
  return (names) =>
    authorizer.check(
      request.identity.principalArn,
      names.map((name) => [{ resourceType: rule.resourceType, resourceName: name, operation: rule.operation }]),
    );
}

const resource = (resourceType: ResourceType, resourceName: string) => ({ resourceType, resourceName });
