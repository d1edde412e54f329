/** `sluice acls create | list | delete`: Kafka-style ACLs (checked when the stack's `authorization` is `'acl'`). */
import {
  CLUSTER_RESOURCE_NAME,
  OPERATIONS,
  type AclFilter,
  type Operation,
  type ResourceType,
  type StoredAcl,
} from '../../api/acls';
import { UsageError, type Command, type CommandContext, type OptionSpec } from '../command';
import { formatTable } from '../format';

const RESOURCE_OPTIONS = {
  topic: { type: 'string', valueName: 'NAME', description: 'A topic (with --prefixed: every topic whose name starts with NAME; "*": every topic)' },
  group: { type: 'string', valueName: 'NAME', description: 'A consumer group (with --prefixed: every group starting with NAME; "*": every group)' },
  cluster: { type: 'boolean', description: 'The cluster: creating topics (create), managing ACLs (alter, describe)' },
  prefixed: { type: 'boolean', description: 'NAME is a prefix (pattern type "prefixed") instead of a literal name' },
} as const satisfies Record<string, OptionSpec>;

const create: Command = {
  path: ['acls', 'create'],
  args: [],
  summary: 'Allow (or deny) a principal operations on a topic, a group or the cluster.',
  details: [
    'Give the principal (an IAM ARN: a role ACL also matches its assumed-role sessions; "*": everyone), exactly',
    'one of --topic, --group, --cluster, and the operations: read, write, create, delete, describe, alter or',
    'all, comma-separated. An allowed read, write, delete or alter also allows describe. A deny wins over',
    'every allow. Needs cluster alter when ACLs are on; creating an ACL that exists changes nothing.',
  ].join('\n'),
  options: {
    principal: { type: 'string', valueName: 'ARN', description: 'Who: an IAM role or user ARN, or "*" (required)', required: true },
    ...RESOURCE_OPTIONS,
    operation: { type: 'string', valueName: 'OPS', description: `Comma-separated: ${OPERATIONS.join(', ')} (required)`, required: true },
    deny: { type: 'boolean', description: 'Deny instead of allow' },
  },
  async run({ client, options, json, stdout }) {
    const resource = resourceOf(create, options, true)!;
    const operations = String(options.operation)
      .split(',')
      .map((op) => op.trim())
      .filter((op) => op !== '');
    const unknown = operations.filter((op) => !(OPERATIONS as readonly string[]).includes(op));
    if (operations.length === 0 || unknown.length > 0) {
      throw new UsageError(`--operation must list operations among ${OPERATIONS.join(', ')}; got "${options.operation}"`, create.path);
    }
    const response = await client.createAcls(
      operations.map((operation) => ({
        principal: String(options.principal),
        ...resource,
        operation: operation as Operation,
        permission: options.deny === true ? 'deny' : 'allow',
      })),
    );
    if (json) return writeJson(stdout, response);
    stdout.write(aclTable(response.acls));
  },
};

const list: Command = {
  path: ['acls', 'list'],
  args: [],
  summary: 'List ACLs: those declared in the stack and those created here.',
  details: 'Filters narrow the list: every given one must match exactly. Needs cluster describe when ACLs are on.',
  options: {
    principal: { type: 'string', valueName: 'ARN', description: 'Only ACLs written for exactly this principal' },
    ...RESOURCE_OPTIONS,
    operation: { type: 'string', valueName: 'OP', description: 'Only ACLs of this operation' },
    deny: { type: 'boolean', description: 'Only deny ACLs' },
  },
  async run({ client, options, json, stdout }) {
    const response = await client.listAcls(filterOf(list, options));
    if (json) return writeJson(stdout, response);
    stdout.write(response.acls.length === 0 ? 'No ACLs.\n' : aclTable(response.acls));
  },
};

const remove: Command = {
  path: ['acls', 'delete'],
  args: [],
  summary: 'Delete the created ACLs that match every given filter (at least one).',
  details: 'ACLs declared in the stack (source "stack") are changed in CDK, not here. Needs cluster alter when ACLs are on.',
  options: {
    id: { type: 'string', valueName: 'ID', description: 'The ACL with this ID (see `sluice acls list`)' },
    principal: { type: 'string', valueName: 'ARN', description: 'ACLs written for exactly this principal' },
    ...RESOURCE_OPTIONS,
    operation: { type: 'string', valueName: 'OP', description: 'ACLs of this operation' },
    deny: { type: 'boolean', description: 'Deny ACLs only' },
  },
  async run({ client, options, json, stdout }) {
    const filter = filterOf(remove, options);
    if (Object.keys(filter).length === 0) {
      throw new UsageError('give at least one filter (--id, --principal, --topic, --group, --cluster, --operation, --deny)', remove.path);
    }
    const response = await client.deleteAcls(filter);
    if (json) return writeJson(stdout, response);
    stdout.write(response.deleted.length === 0 ? 'No ACLs deleted.\n' : `Deleted:\n${aclTable(response.deleted)}`);
  },
};

export const ACLS_COMMANDS: readonly Command[] = [create, list, remove];

type Options = CommandContext['options'];

/** The resource the flags name; with `required`, exactly one of --topic, --group, --cluster. */
function resourceOf(command: Command, options: Options, required: boolean) {
  const given: [ResourceType, string][] = [
    ...(typeof options.topic === 'string' ? [['topic', options.topic] as [ResourceType, string]] : []),
    ...(typeof options.group === 'string' ? [['group', options.group] as [ResourceType, string]] : []),
    ...(options.cluster === true ? [['cluster', CLUSTER_RESOURCE_NAME] as [ResourceType, string]] : []),
  ];
  if (given.length > 1 || (required && given.length === 0)) {
    throw new UsageError('give exactly one of --topic, --group, --cluster', command.path);
  }
  if (options.prefixed === true && (given.length === 0 || given[0]![0] === 'cluster')) {
    throw new UsageError('--prefixed needs --topic or --group', command.path);
  }
  if (given.length === 0) return undefined;
  const [resourceType, resourceName] = given[0]!;
  return { resourceType, resourceName, patternType: options.prefixed === true ? ('prefixed' as const) : ('literal' as const) };
}

function filterOf(command: Command, options: Options): AclFilter {
  const resource = resourceOf(command, options, false);
  const filter: Record<string, string> = {};
  if (typeof options.id === 'string') filter.id = options.id;
  if (typeof options.principal === 'string') filter.principal = options.principal;
  if (resource) {
    filter.resourceType = resource.resourceType;
    filter.resourceName = resource.resourceName;
    if (options.prefixed === true) filter.patternType = 'prefixed';
  }
  if (typeof options.operation === 'string') filter.operation = options.operation;
  if (options.deny === true) filter.permission = 'deny';
  return filter as AclFilter;
}

function aclTable(acls: readonly StoredAcl[]): string {
  return formatTable(
    [
      { header: 'ID' },
      { header: 'PRINCIPAL' },
      { header: 'PERMISSION' },
      { header: 'OPERATION' },
      { header: 'RESOURCE' },
      { header: 'PATTERN' },
      { header: 'NAME' },
      { header: 'SOURCE' },
    ],
    acls.map((a) => [a.id, a.principal, a.permission, a.operation, a.resourceType, a.patternType, a.resourceName, a.source]),
  );
}

function writeJson(out: { write(chunk: string): unknown }, value: unknown): void {
  out.write(`${JSON.stringify(value)}\n`);
}
