/** POST/GET/DELETE /acls: ACLs in the table, next to the read-only ones declared in the stack. */
import type { AclBinding, AclFilter, StoredAcl } from '../../../api/acls';
import { stored, type AclStore } from './acl-store';
import type { Authorizer } from './authorizer';

export class AclService {
  constructor(
    private readonly store: AclStore,
    private readonly authorizer: Authorizer,
  ) {}

  /** Stores the ACLs (one per distinct ACL; creating an existing one changes nothing) and answers them with their IDs. */
  async create(acls: readonly AclBinding[]): Promise<StoredAcl[]> {
    const unique = new Map(acls.map((acl) => stored(acl, 'api')).map((acl) => [acl.id, acl]));
    await this.store.put([...unique.values()]);
    this.authorizer.invalidate();
    return [...unique.values()];
  }

  /** The ACLs matching every given field: the stack's and the table's, read now (not cached). */
  async list(filter: AclFilter = {}): Promise<StoredAcl[]> {
    const all = [...this.authorizer.declaredAcls, ...(await this.store.list())];
    return all.filter((acl) => matchesFilter(acl, filter)).sort(byResourceThenPrincipal);
  }

  /** Removes the table's ACLs matching every given field; the stack's stay (change them in CDK). */
  async delete(filter: AclFilter): Promise<StoredAcl[]> {
    const doomed = (await this.store.list()).filter((acl) => matchesFilter(acl, filter));
    if (doomed.length > 0) await this.store.delete(doomed.map((acl) => acl.id));
    this.authorizer.invalidate();
    return doomed.sort(byResourceThenPrincipal);
  }
}

function matchesFilter(acl: StoredAcl, filter: AclFilter): boolean {
  return (Object.entries(filter) as [keyof AclFilter, string | undefined][]).every(([key, value]) => value === undefined || acl[key] === value);
}

function byResourceThenPrincipal(a: StoredAcl, b: StoredAcl): number {
  const ka = `${a.resourceType}\0${a.resourceName}\0${a.principal}\0${a.operation}\0${a.permission}`;
  const kb = `${b.resourceType}\0${b.resourceName}\0${b.principal}\0${b.operation}\0${b.permission}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
