/** ACLs: who may do what to which topic, group or the cluster (Kafka's model). */
export { aclId, InMemoryAclStore, stored, type AclStore } from './acl-store';
export { Authorizer, DEFAULT_ACL_CACHE_TTL_MS, type AuthorizerOptions } from './authorizer';
export { decodeDeclaredAcls } from './declared';
export { DynamoDbAclStore } from './dynamodb-acl-store';
export { forPrincipal, isAllowed, resourceMatches } from './matcher';
export { normalizePrincipal, principalMatches } from './principal';
export { AclService } from './acl-service';
