/**
 * ACL matching (Kafka's semantics), principal normalization, the authorizer's cache, the declared
 * ACLs' environment encoding, and the route → operation table.
 */
import { describe, expect, it } from 'vitest';
import type { AclBinding, ResourceOperation } from '../../../api/acls';
import { AuthorizationFailedError, errorFromBody } from '../../../api/errors';
import { ROUTE_AUTHORIZATION, encodeDeclaredAcls } from '../../../definitions/authorization';
import { ROUTES, routeKey } from '../../../definitions/functions';
import { InMemoryAclStore, aclId, stored } from '../../../lambda/core/acls/acl-store';
import { Authorizer } from '../../../lambda/core/acls/authorizer';
import { decodeDeclaredAcls } from '../../../lambda/core/acls/declared';
import { forPrincipal, isAllowed } from '../../../lambda/core/acls/matcher';
import { normalizePrincipal, principalMatches } from '../../../lambda/core/acls/principal';

const ROLE = 'arn:aws:iam::123456789012:role/Payments';
const SESSION = 'arn:aws:sts::123456789012:assumed-role/Payments/i-0abc';

const acl = (partial: Partial<AclBinding>): AclBinding => ({
  principal: ROLE,
  resourceType: 'topic',
  patternType: 'literal',
  resourceName: 'payments',
  operation: 'read',
  permission: 'allow',
  ...partial,
});
const topic = (name: string, operation: ResourceOperation['operation'] = 'read'): ResourceOperation => ({ resourceType: 'topic', resourceName: name, operation });

describe('principals', () => {
  it.each([
    [SESSION, ROLE],
    ['arn:aws:iam::123456789012:role/team/apps/Payments', ROLE],
    ['arn:aws:iam::123456789012:user/ops/alice', 'arn:aws:iam::123456789012:user/alice'],
    ['arn:aws-cn:sts::123456789012:assumed-role/R/s', 'arn:aws-cn:iam::123456789012:role/R'],
    ['arn:aws:iam::123456789012:root', 'arn:aws:iam::123456789012:root'],
    ['*', '*'],
  ])('%s is %s', (arn, canonical) => {
    expect(normalizePrincipal(arn)).toBe(canonical);
  });

  it('an assumed-role session matches ACLs for its role, with or without a path; not another account or role', () => {
    expect(principalMatches(ROLE, SESSION)).toBe(true);
    expect(principalMatches('arn:aws:iam::123456789012:role/apps/Payments', SESSION)).toBe(true);
    expect(principalMatches('arn:aws:iam::999999999999:role/Payments', SESSION)).toBe(false);
    expect(principalMatches('arn:aws:iam::123456789012:role/PaymentsAdmin', SESSION)).toBe(false);
    expect(principalMatches('*', undefined)).toBe(true);
    expect(principalMatches(ROLE, undefined)).toBe(false);
  });
});

describe('matching', () => {
  it('literal names match exactly; "*" matches every name', () => {
    expect(isAllowed([acl({})], topic('payments'))).toBe(true);
    expect(isAllowed([acl({})], topic('payments-eu'))).toBe(false);
    expect(isAllowed([acl({ resourceName: '*' })], topic('anything'))).toBe(true);
  });

  it('prefixed patterns match names starting with the prefix', () => {
    const prefixed = acl({ patternType: 'prefixed', resourceName: 'pay.' });
    expect(isAllowed([prefixed], topic('pay.eu'))).toBe(true);
    expect(isAllowed([prefixed], topic('pay'))).toBe(false);
    expect(isAllowed([prefixed], topic('other.pay.eu'))).toBe(false);
    // A prefixed "*" is a literal star prefix, not a wildcard.
    expect(isAllowed([acl({ patternType: 'prefixed', resourceName: '*' })], topic('payments'))).toBe(false);
  });

  it('resource types do not mix', () => {
    expect(isAllowed([acl({ resourceType: 'group' })], topic('payments'))).toBe(false);
  });

  it('"all" allows every operation; read, write, delete and alter imply describe; nothing else is implied', () => {
    expect(isAllowed([acl({ operation: 'all' })], topic('payments', 'delete'))).toBe(true);
    for (const op of ['read', 'write', 'delete', 'alter'] as const) expect(isAllowed([acl({ operation: op })], topic('payments', 'describe'))).toBe(true);
    expect(isAllowed([acl({ operation: 'create' })], topic('payments', 'describe'))).toBe(false);
    expect(isAllowed([acl({ operation: 'write' })], topic('payments', 'read'))).toBe(false);
    expect(isAllowed([acl({ operation: 'describe' })], topic('payments', 'read'))).toBe(false);
  });

  it('deny wins over allow, and a deny of "all" denies everything it matches', () => {
    const allow = acl({ operation: 'all' });
    expect(isAllowed([allow, acl({ permission: 'deny' })], topic('payments', 'read'))).toBe(false);
    expect(isAllowed([allow, acl({ permission: 'deny' })], topic('payments', 'write'))).toBe(true);
    expect(isAllowed([acl({ permission: 'deny', operation: 'all', patternType: 'prefixed', resourceName: 'pay' }), allow], topic('payments', 'describe'))).toBe(false);
    // A denied read does not deny the describe it would have implied.
    expect(isAllowed([acl({ operation: 'write' }), acl({ permission: 'deny' })], topic('payments', 'describe'))).toBe(true);
  });

  it('nothing is allowed without an ACL', () => {
    expect(isAllowed([], topic('payments'))).toBe(false);
  });

  it('applies the ACLs of the caller (normalized) and of "*"', () => {
    const acls = [acl({}), acl({ principal: '*', resourceName: 'public' }), acl({ principal: 'arn:aws:iam::123456789012:role/Other', resourceName: 'other' })];
    expect(forPrincipal(acls, SESSION).map((a) => a.resourceName)).toEqual(['payments', 'public']);
    expect(forPrincipal(acls, undefined).map((a) => a.resourceName)).toEqual(['public']);
  });
});

describe('Authorizer', () => {
  it('off, allows everything and reads nothing', async () => {
    const store = new InMemoryAclStore();
    store.list = () => Promise.reject(new Error('must not read'));
    const off = new Authorizer({ mode: 'iam-only', store });
    await expect(off.check(undefined, [[topic('x', 'write')]])).resolves.toBeUndefined();
    expect(await off.filter(undefined, ['a', 'b'], (n) => ({ resourceType: 'topic', resourceName: n }), 'describe')).toEqual(['a', 'b']);
  });

  it('throws a 403 naming the resource and operation; one alternative of a requirement suffices', async () => {
    const auth = new Authorizer({ mode: 'acl', declared: [acl({ resourceType: 'cluster', resourceName: 'sluice-cluster', operation: 'create' })] });
    const err = await auth.check(SESSION, [[topic('payments', 'write')]]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthorizationFailedError);
    expect(err).toMatchObject({ status: 403, retriable: false, details: { resourceType: 'topic', resourceName: 'payments', operation: 'write', principal: SESSION } });
    await expect(
      auth.check(SESSION, [[{ resourceType: 'cluster', resourceName: 'sluice-cluster', operation: 'create' }, topic('new', 'create')]]),
    ).resolves.toBeUndefined();
    // The client rebuilds the class from the body.
    expect(errorFromBody(403, (err as AuthorizationFailedError).toBody())).toBeInstanceOf(AuthorizationFailedError);
  });

  it("merges the stack's ACLs with the table's, and caches the table for its TTL", async () => {
    let now = 0;
    let reads = 0;
    const store = new InMemoryAclStore();
    const list = store.list.bind(store);
    store.list = () => {
      reads++;
      return list();
    };
    const auth = new Authorizer({ mode: 'acl', store, declared: [acl({ resourceName: 'declared' })], cacheTtlMs: 1000, now: () => now });
    expect(await auth.allows(ROLE, topic('declared'))).toBe(true);
    expect(await auth.allows(ROLE, topic('stored'))).toBe(false);
    await store.put([stored(acl({ resourceName: 'stored' }), 'api')]);
    expect(await auth.allows(ROLE, topic('stored'))).toBe(false); // still cached
    now = 1000;
    expect(await auth.allows(ROLE, topic('stored'))).toBe(true);
    expect(reads).toBe(2);
    await Promise.all([1, 2, 3].map(() => ((now = 5000), auth.allows(ROLE, topic('stored')))));
    expect(reads).toBe(3); // concurrent callers share one read
  });
});

describe('declared ACLs in the environment', () => {
  it('round-trip as compact tuples and ids are stable', () => {
    const acls = [acl({}), acl({ resourceType: 'cluster', resourceName: 'sluice-cluster', operation: 'all', permission: 'deny' })];
    expect(decodeDeclaredAcls(JSON.stringify(encodeDeclaredAcls(acls)))).toEqual(acls);
    expect(aclId(acls[0]!)).toBe(aclId({ ...acls[0]! }));
    expect(aclId(acls[0]!)).not.toBe(aclId(acls[1]!));
  });

  it('refuse anything else', () => {
    expect(() => decodeDeclaredAcls('{')).toThrow(/not JSON/);
    expect(() => decodeDeclaredAcls('[["x","topic","literal","t","read","allow"]]')).toThrow(/is not an ACL/);
  });
});

describe('ROUTE_AUTHORIZATION', () => {
  it('has a rule for every route, and none for a route that does not exist', () => {
    expect(Object.keys(ROUTE_AUTHORIZATION).sort()).toEqual(ROUTES.map(routeKey).sort());
  });

  it('every route that names a topic or group requires something of it (only listings require nothing)', () => {
    for (const route of ROUTES) {
      const rule = ROUTE_AUTHORIZATION[routeKey(route)];
      if ('filter' in rule && rule.requires({ pathParameters: {}, query: {}, body: undefined }).length === 0) continue;
      // The API's own description names no topic, group or queue: IAM alone guards it.
      if (routeKey(route) === 'GET /openapi.json') {
        expect(rule.requires({ pathParameters: {}, query: {}, body: undefined })).toEqual([]);
        continue;
      }
      expect(rule.requires({ pathParameters: { topic: 't', group: 'g', memberId: 'm', partition: '0' }, query: {}, body: { name: 't', topic: 't', topics: ['t'], produce: [{ topic: 't' }], offsets: [{ topic: 't' }] } }).length, routeKey(route)).toBeGreaterThan(0);
    }
  });

  it('finds every topic named in a body', () => {
    const names = (key: keyof typeof ROUTE_AUTHORIZATION, body: unknown) =>
      ROUTE_AUTHORIZATION[key].requires({ pathParameters: { group: 'g' }, query: {}, body }).map((alts) => alts.map((r) => `${r.resourceType}:${r.resourceName}:${r.operation}`).join('|'));
    expect(names('POST /transactions', {
      produce: [{ topic: 'a' }, { topic: 'b' }, { topic: 'a' }],
      commit: { group: 'g2', offsets: [{ topic: 'c' }, { topic: 7 }] },
    })).toEqual(['topic:a:write', 'topic:b:write', 'group:g2:read', 'topic:c:read']);
    expect(names('POST /groups/{group}/members', { topics: ['x', 'y'] })).toEqual(['group:g:read', 'topic:x:read', 'topic:y:read']);
    expect(names('POST /groups/{group}/seek', { topic: 'z' })).toEqual(['group:g:read', 'topic:z:read']);
    expect(names('POST /groups/{group}/offsets', { offsets: [{ topic: 'o' }] })).toEqual(['group:g:read', 'topic:o:read']);
    expect(names('POST /topics', { name: 'n' })).toEqual(['cluster:sluice-cluster:create|topic:n:create']);
    // A __proto__ key is data, not a way around the check.
    expect(names('POST /transactions', JSON.parse('{"produce":[{"topic":"p"}],"__proto__":{"commit":{"group":"x"}}}'))).toEqual(['topic:p:write']);
  });
});
