/** The ACLs declared in CDK, as the stack hands them to a function (definitions/authorization.ts). */
import { aclBindingSchema, type AclBinding } from '../../../api/acls';
import { AUTHORIZATION_ENV } from '../../../definitions/authorization';

/** The inverse of `encodeDeclaredAcls`; throws on anything else (a broken deployment must not start). */
export function decodeDeclaredAcls(json: string): AclBinding[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error(`${AUTHORIZATION_ENV.declaredAcls} is not JSON`);
  }
  if (!Array.isArray(parsed)) throw new Error(`${AUTHORIZATION_ENV.declaredAcls} must be a JSON array`);
  return parsed.map((entry, i) => {
    const fields = Array.isArray(entry) && entry.length === 6
      ? { principal: entry[0], resourceType: entry[1], patternType: entry[2], resourceName: entry[3], operation: entry[4], permission: entry[5] }
      : entry;
    const acl = aclBindingSchema.safeParse(fields);
    if (!acl.success) {
      throw new Error(`${AUTHORIZATION_ENV.declaredAcls}[${i}] is not an ACL: ${acl.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    }
    return acl.data;
  });
}
