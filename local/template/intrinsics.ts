/**
 * Resolves CloudFormation intrinsic functions in a template's properties, the way CloudFormation
 * does at deploy time, against the resources the local platform created. Anything it cannot
 * resolve fails loudly: the twin must never run a function with a value the stack would not give it.
 */

/** What a resource answers to `Ref` and `Fn::GetAtt` once it exists. */
export interface ResourceAttributes {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

export interface IntrinsicContext {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  /** The attributes of a resource, or undefined when it has none locally (yet). */
  resource(logicalId: string): ResourceAttributes | undefined;
}

export class UnresolvableError extends Error {
  override readonly name = 'UnresolvableError';
}

export function resolveValue(value: unknown, ctx: IntrinsicContext, path = '$'): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveValue(v, ctx, `${path}[${i}]`));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0]!;
    if (key === 'Ref' || key.startsWith('Fn::')) return resolveIntrinsic(key, arg, ctx, path);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) out[k] = resolveValue(v, ctx, `${path}.${k}`);
  return out;
}

/** Resolves a value that must end up a string (a name, an ARN, an environment variable). */
export function resolveString(value: unknown, ctx: IntrinsicContext, path: string): string {
  const resolved = resolveValue(value, ctx, path);
  if (typeof resolved === 'string') return resolved;
  if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
  throw new UnresolvableError(`${path}: expected a string, got ${JSON.stringify(resolved)}`);
}

function resolveIntrinsic(fn: string, arg: unknown, ctx: IntrinsicContext, path: string): unknown {
  switch (fn) {
    case 'Ref':
      return ref(String(arg), ctx, path);
    case 'Fn::GetAtt': {
      const [id, attr] = Array.isArray(arg) ? arg.map(String) : String(arg).split(/\.(.*)/);
      return getAtt(id!, attr!, ctx, path);
    }
    case 'Fn::Join': {
      const [sep, parts] = arg as [string, unknown[]];
      const list = resolveValue(parts, ctx, path) as unknown[];
      return list.map((p, i) => stringPart(p, `${path}.Fn::Join[${i}]`)).join(sep);
    }
    case 'Fn::Select': {
      const [index, list] = arg as [unknown, unknown];
      const items = resolveValue(list, ctx, path) as unknown[];
      const i = Number(resolveValue(index, ctx, path));
      if (!Array.isArray(items) || !(i >= 0 && i < items.length)) throw new UnresolvableError(`${path}: Fn::Select index ${i} out of range`);
      return items[i];
    }
    case 'Fn::Split': {
      const [sep, source] = arg as [string, unknown];
      return resolveString(source, ctx, path).split(sep);
    }
    case 'Fn::Sub': {
      const [template, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
      return template.replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
        if (name in vars) return resolveString(vars[name], ctx, `${path}.Fn::Sub.${name}`);
        const dot = name.indexOf('.');
        return dot > 0 && !name.startsWith('AWS::')
          ? getAtt(name.slice(0, dot), name.slice(dot + 1), ctx, path)
          : ref(name, ctx, path);
      });
    }
    default:
      throw new UnresolvableError(`${path}: ${fn} is not supported by the local template twin`);
  }
}

function stringPart(value: unknown, path: string): string {
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  throw new UnresolvableError(`${path}: expected a string, got ${JSON.stringify(value)}`);
}

function ref(id: string, ctx: IntrinsicContext, path: string): string {
  switch (id) {
    case 'AWS::Region':
      return ctx.region;
    case 'AWS::AccountId':
      return ctx.accountId;
    case 'AWS::Partition':
      return 'aws';
    case 'AWS::URLSuffix':
      return 'amazonaws.com';
    case 'AWS::StackName':
      return ctx.stackName;
  }
  const resource = ctx.resource(id);
  if (!resource) throw new UnresolvableError(`${path}: Ref to ${id}, which the local platform has not created`);
  return resource.ref;
}

function getAtt(id: string, attr: string, ctx: IntrinsicContext, path: string): string {
  const resource = ctx.resource(id);
  const value = resource?.attributes[attr];
  if (value === undefined) {
    throw new UnresolvableError(`${path}: Fn::GetAtt ${id}.${attr}, which the local platform does not provide`);
  }
  return value;
}
