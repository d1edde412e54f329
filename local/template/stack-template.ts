/**
 * A synthesized stack as the local platform reads it: the CloudFormation template and the cloud
 * assembly folder its assets live in. `cdk synth` writes the same files.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, { readonly Value: unknown }>;
}

export interface SynthesizedStack {
  /** The cloud assembly folder (what `cdk synth` calls `cdk.out`). */
  readonly assemblyDir: string;
  readonly stackName: string;
  readonly template: CfnTemplate;
}

interface AssemblyManifest {
  readonly artifacts?: Record<string, { readonly type: string; readonly properties?: { readonly templateFile?: string; readonly stackName?: string } }>;
}

/**
 * Reads a stack from a cloud assembly folder: the one named, or the only stack in it.
 */
export async function readStack(assemblyDir: string, stackName?: string): Promise<SynthesizedStack> {
  const dir = resolve(assemblyDir);
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as AssemblyManifest;
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  const chosen = stackName
    ? stacks.filter(([id, a]) => id === stackName || a.properties?.stackName === stackName)
    : stacks;
  if (chosen.length !== 1) {
    const names = stacks.map(([id]) => id).join(', ') || 'none';
    throw new Error(
      stackName
        ? `Cloud assembly ${dir} has no stack "${stackName}" (stacks: ${names})`
        : `Cloud assembly ${dir} has ${chosen.length} stacks (${names}); name one`,
    );
  }
  const [id, artifact] = chosen[0]!;
  const templateFile = artifact.properties?.templateFile ?? `${id}.template.json`;
  const template = JSON.parse(await readFile(join(dir, templateFile), 'utf8')) as CfnTemplate;
  return { assemblyDir: dir, stackName: artifact.properties?.stackName ?? id, template };
}

/** The template's resources of one CloudFormation type, as [logicalId, resource] pairs. */
export function resourcesOfType(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}
