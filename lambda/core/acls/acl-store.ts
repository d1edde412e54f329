/** Where ACLs created through the API live. The DynamoDB implementation is dynamodb-acl-store.ts. */
import { createHash } from 'node:crypto';
import type { AclBinding, StoredAcl } from '../../../api/acls';

export interface AclStore {
  /** Every stored ACL. */
  list(): Promise<StoredAcl[]>;
  /** Stores the ACLs (an ACL that exists already is kept as it is). */
  put(acls: readonly StoredAcl[]): Promise<void>;
  /** Removes the ACLs with these IDs. */
  delete(ids: readonly string[]): Promise<void>;
}

/**
 * The ID of an ACL: a hash of its fields, so the same ACL created twice is one ACL (as in Kafka,
 * where an ACL is identified by what it says).
 */
export function aclId(acl: AclBinding): string {
  const canonical = JSON.stringify([acl.principal, acl.resourceType, acl.patternType, acl.resourceName, acl.operation, acl.permission]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

export function stored(acl: AclBinding, source: StoredAcl['source']): StoredAcl {
  return {
    id: aclId(acl),
    principal: acl.principal,
    resourceType: acl.resourceType,
    patternType: acl.patternType,
    resourceName: acl.resourceName,
    operation: acl.operation,
    permission: acl.permission,
    source,
  };
}

/** An in-memory store, for tests. */
export class InMemoryAclStore implements AclStore {
  readonly items = new Map<string, StoredAcl>();
  async list(): Promise<StoredAcl[]> {
    return [...this.items.values()];
  }
  async put(acls: readonly StoredAcl[]): Promise<void> {
    for (const acl of acls) if (!this.items.has(acl.id)) this.items.set(acl.id, acl);
  }
  async delete(ids: readonly string[]): Promise<void> {
    for (const id of ids) this.items.delete(id);
  }
}
