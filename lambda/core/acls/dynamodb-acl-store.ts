/**
 * ACLs in the `acls` table: one item per ACL, keyed by its ID. The authorizer reads the whole
 * table (a Scan; ACLs are few, as in Kafka, where every broker holds all of them in memory) and
 * caches it (cached-acls.ts).
 */
import { ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { OPERATIONS, PATTERN_TYPES, PERMISSIONS, RESOURCE_TYPES, type StoredAcl } from '../../../api/acls';
import { batchWriteAll } from '../aws/batch';
import { toSluiceError } from '../aws/errors';
import type { AclStore } from './acl-store';

export interface DynamoDbAclStoreOptions {
  readonly client: DynamoDBDocumentClient;
  readonly table: string;
}

export class DynamoDbAclStore implements AclStore {
  private readonly client: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoDbAclStoreOptions) {
    this.client = options.client;
    this.table = options.table;
  }

  async list(): Promise<StoredAcl[]> {
    const acls: StoredAcl[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const out = await this.client.send(new ScanCommand({ TableName: this.table, ConsistentRead: true, ExclusiveStartKey: start }));
        for (const item of out.Items ?? []) {
          const acl = toAcl(item);
          if (acl) acls.push(acl);
        }
        start = out.LastEvaluatedKey;
      } while (start);
    } catch (err) {
      throw toSluiceError(err, 'ListAcls');
    }
    return acls;
  }

  async put(acls: readonly StoredAcl[]): Promise<void> {
    // Puts of an ID that exists write the same fields again: an ACL's ID is a hash of them.
    await batchWriteAll(
      this.client,
      this.table,
      acls.map((acl) => ({ PutRequest: { Item: { ...acl, source: 'api' } } })),
      'PutAcls',
    );
  }

  async delete(ids: readonly string[]): Promise<void> {
    await batchWriteAll(this.client, this.table, ids.map((id) => ({ DeleteRequest: { Key: { id } } })), 'DeleteAcls');
  }
}

/** An item as an ACL; an item that is not one (written by hand, say) is ignored rather than trusted. */
function toAcl(item: Record<string, unknown>): StoredAcl | undefined {
  const { id, principal, resourceType, patternType, resourceName, operation, permission } = item;
  const oneOf = <T extends string>(values: readonly T[], v: unknown): v is T => typeof v === 'string' && (values as readonly string[]).includes(v);
  if (typeof id !== 'string' || typeof principal !== 'string' || typeof resourceName !== 'string') return undefined;
  if (!oneOf(RESOURCE_TYPES, resourceType) || !oneOf(PATTERN_TYPES, patternType)) return undefined;
  if (!oneOf(OPERATIONS, operation) || !oneOf(PERMISSIONS, permission)) return undefined;
  return { id, principal, resourceType, patternType, resourceName, operation, permission, source: 'api' };
}
