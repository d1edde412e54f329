/**
 * One place that decides who a principal is. IAM names a role's caller by its session
 * (`arn:aws:sts::123456789012:assumed-role/RoleName/session`), while ACLs are written for the role
 * (`arn:aws:iam::123456789012:role/RoleName`, possibly with a path such as `role/team/RoleName`).
 * Role and user names are unique within an account whatever their path, so both sides are reduced
 * to `arn:<partition>:iam::<account>:role/<name>` (or `user/<name>`) and compared exactly.
 */
import { ANY_PRINCIPAL } from '../../../api/acls';

const ASSUMED_ROLE = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/;
const IAM_ROLE_OR_USER = /^arn:(aws[a-z-]*):iam::(\d{12}):(role|user)\/(?:.*\/)?([^/]+)$/;

/** The canonical form of a principal ARN; anything else (root, federated users, `*`) is kept as it is. */
export function normalizePrincipal(arn: string): string {
  if (arn === ANY_PRINCIPAL) return arn;
  const assumed = ASSUMED_ROLE.exec(arn);
  if (assumed) return `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}`;
  const named = IAM_ROLE_OR_USER.exec(arn);
  if (named) return `arn:${named[1]}:iam::${named[2]}:${named[3]}/${named[4]}`;
  return arn;
}

/** Whether an ACL written for `aclPrincipal` applies to a caller signed as `callerArn`. */
export function principalMatches(aclPrincipal: string, callerArn: string | undefined): boolean {
  if (aclPrincipal === ANY_PRINCIPAL) return true;
  return callerArn !== undefined && normalizePrincipal(aclPrincipal) === normalizePrincipal(callerArn);
}
