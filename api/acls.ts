/**
 * The ACL contract (Kafka's authorization model): who may do what to which topic, group or the
 * cluster. Request schemas for POST/GET/DELETE /acls and the types the server's authorizer and
 * the client share. docs/api.md describes them.
 */
import { z } from 'zod';

/** What an ACL is about: a topic, a consumer group, a message queue, or the cluster (creating topics and queues, managing ACLs). */
export const RESOURCE_TYPES = ['topic', 'group', 'cluster', 'queue'] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** `literal`: the name exactly (`*` is every name); `prefixed`: every name that starts with it. */
export const PATTERN_TYPES = ['literal', 'prefixed'] as const;
export type PatternType = (typeof PATTERN_TYPES)[number];

/**
 * Kafka's operations. `all` is every operation; an allowed `read`, `write`, `delete` or `alter`
 * implies `describe` (as in Kafka).
 */
export const OPERATIONS = ['read', 'write', 'create', 'delete', 'describe', 'alter', 'all'] as const;
export type Operation = (typeof OPERATIONS)[number];

/** `deny` wins over any `allow`. */
export const PERMISSIONS = ['allow', 'deny'] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** The name of the one cluster resource (Kafka's `kafka-cluster`). */
export const CLUSTER_RESOURCE_NAME = 'sluice-cluster';

/** Any principal: an ACL with this principal applies to every caller. */
export const ANY_PRINCIPAL = '*';

/** A literal resource name that matches every resource of its type. */
export const ANY_RESOURCE = '*';

export const ACL_LIMITS = {
  /** Longest principal: an IAM ARN with a path. */
  maxPrincipalLength: 2048,
  maxResourceNameLength: 249,
} as const;

/** An IAM ARN (`arn:aws:iam::123456789012:role/Name`, an `sts` assumed-role ARN, ...) or `*`. */
export const principalSchema = z
  .string()
  .min(1)
  .max(ACL_LIMITS.maxPrincipalLength)
  .refine((p) => p === ANY_PRINCIPAL || /^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:[\x21-\x7e]+$/.test(p), {
    message: 'must be an IAM or STS ARN (arn:aws:iam::123456789012:role/Name) or "*"',
  });

const resourceNameSchema = z
  .string()
  .min(1)
  .max(ACL_LIMITS.maxResourceNameLength)
  .regex(/^[a-zA-Z0-9._*-]+$/, 'may contain only ASCII letters, digits, ".", "_", "-" and "*"');

/** One ACL: (principal, resource pattern, operation, permission). */
export interface AclBinding {
  readonly principal: string;
  readonly resourceType: ResourceType;
  readonly patternType: PatternType;
  readonly resourceName: string;
  readonly operation: Operation;
  readonly permission: Permission;
}

/** An ACL as stored and listed: with its ID (derived from the binding, so creating it twice is one ACL). */
export interface StoredAcl extends AclBinding {
  readonly id: string;
  /** Where it comes from: `api` (POST /acls) or `stack` (declared in CDK, read-only through the API). */
  readonly source: 'api' | 'stack';
}

export const aclBindingSchema = z
  .strictObject({
    principal: principalSchema,
    resourceType: z.enum(RESOURCE_TYPES),
    patternType: z.enum(PATTERN_TYPES).default('literal'),
    /** For `cluster` it may be left out (it is always CLUSTER_RESOURCE_NAME). */
    resourceName: resourceNameSchema.optional(),
    operation: z.enum(OPERATIONS),
    permission: z.enum(PERMISSIONS).default('allow'),
  })
  .transform((acl, ctx): AclBinding => {
    const resourceName = acl.resourceType === 'cluster' ? (acl.resourceName ?? CLUSTER_RESOURCE_NAME) : acl.resourceName;
    if (resourceName === undefined) {
      ctx.addIssue({ code: 'custom', path: ['resourceName'], message: `is required for resourceType "${acl.resourceType}"` });
      return z.NEVER;
    }
    if (acl.resourceType === 'cluster' && resourceName !== CLUSTER_RESOURCE_NAME) {
      ctx.addIssue({ code: 'custom', path: ['resourceName'], message: `must be "${CLUSTER_RESOURCE_NAME}" for the cluster` });
      return z.NEVER;
    }
    return { ...acl, resourceName };
  });

export const createAclsRequestSchema = z.strictObject({
  acls: z.array(aclBindingSchema).min(1).max(100),
});
export type CreateAclsRequest = z.input<typeof createAclsRequestSchema>;

/** Filters of GET /acls and DELETE /acls: every given field must match exactly. */
export const aclFilterSchema = z.strictObject({
  id: z.string().regex(/^[0-9a-f]{32}$/, 'must be an ACL id (32 hex digits)').optional(),
  principal: principalSchema.optional(),
  resourceType: z.enum(RESOURCE_TYPES).optional(),
  patternType: z.enum(PATTERN_TYPES).optional(),
  resourceName: resourceNameSchema.optional(),
  operation: z.enum(OPERATIONS).optional(),
  permission: z.enum(PERMISSIONS).optional(),
});
export type AclFilter = z.infer<typeof aclFilterSchema>;

/** DELETE /acls needs at least one filter, so no request deletes every ACL by accident. */
export const deleteAclsQuerySchema = aclFilterSchema.refine((f) => Object.values(f).some((v) => v !== undefined), {
  message: 'give at least one filter (id, principal, resourceType, patternType, resourceName, operation, permission)',
});

export interface CreateAclsResponse {
  readonly acls: readonly StoredAcl[];
}

export interface ListAclsResponse {
  readonly acls: readonly StoredAcl[];
}

export interface DeleteAclsResponse {
  /** The ACLs removed (ACLs declared in the stack cannot be removed through the API). */
  readonly deleted: readonly StoredAcl[];
}

/** One thing a request needs: an operation on a resource. */
export interface ResourceOperation {
  readonly resourceType: ResourceType;
  readonly resourceName: string;
  readonly operation: Exclude<Operation, 'all'>;
}

// ---- response schemas (the OpenAPI document's, docs/openapi.json; typed against the interfaces above) ----

export const storedAclSchema = z.object({
  id: z.string(),
  source: z.enum(['api', 'stack']),
  principal: z.string(),
  resourceType: z.enum(RESOURCE_TYPES),
  patternType: z.enum(PATTERN_TYPES),
  resourceName: z.string(),
  operation: z.enum(OPERATIONS),
  permission: z.enum(PERMISSIONS),
}) satisfies z.ZodType<StoredAcl>;

export const createAclsResponseSchema = z.object({ acls: z.array(storedAclSchema) }) satisfies z.ZodType<CreateAclsResponse>;
export const listAclsResponseSchema = z.object({ acls: z.array(storedAclSchema) }) satisfies z.ZodType<ListAclsResponse>;
export const deleteAclsResponseSchema = z.object({ deleted: z.array(storedAclSchema) }) satisfies z.ZodType<DeleteAclsResponse>;
