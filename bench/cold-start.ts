/**
 * `npm run bench:cold-start`: each function's bundle as it deploys (from the synthesized cloud
 * assembly): its size, and the time a fresh Node.js process takes to import it with only its
 * template environment (the part of a Lambda cold start the bundle decides). Median of 7 runs.
 *
 *   npx tsx bench/cold-start.ts [--api http|rest] [--assembly <cdk.out>]
 */
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { parseArgs, promisify } from 'node:util';
import { parseApiType } from '../local/platform';
import { readStack } from '../local/template/stack-template';
import { synthesizeStack } from '../local/template/synth';
import { resolveString } from '../local/template/intrinsics';

const run = promisify(execFile);
const RUNS = 7;

const IMPORT = `
const t = performance.now();
await import(process.argv[1]);
process.stdout.write(String(performance.now() - t));
`;

async function main() {
  const { values } = parseArgs({ options: { api: { type: 'string' }, assembly: { type: 'string' } } });
  const stack = values.assembly ? await readStack(values.assembly) : await synthesizeStack({ api: parseApiType(values.api) });
  const rows: string[][] = [];
  for (const [id, resource] of Object.entries(stack.template.Resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const file = `${stack.assemblyDir}/${String(resource.Metadata?.['aws:asset:path'])}/index.mjs`;
    const variables = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
    const env: Record<string, string> = { AWS_REGION: 'us-east-1', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
    // Names stand in for Refs: importing reads no AWS resource.
    const ctx = { region: 'us-east-1', accountId: '000000000000', stackName: stack.stackName, resource: (r: string) => ({ ref: r, attributes: { Arn: r } }) };
    for (const [k, v] of Object.entries(variables)) env[k] = resolveString(v, ctx, k);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', IMPORT, file], { env });
      times.push(Number(stdout));
    }
    times.sort((a, b) => a - b);
    const bytes = (await stat(file)).size;
    rows.push([id.replace(/^Functions/, '').replace(/[0-9A-F]{8}$/, ''), `${(bytes / 1024).toFixed(1)} KiB`, times[Math.floor(RUNS / 2)]!.toFixed(0), times[0]!.toFixed(0), times[RUNS - 1]!.toFixed(0)]);
  }
  const header = ['function', 'bundle (index.mjs)', 'import ms (median)', 'min', 'max'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ');
  process.stdout.write(`${line(header)}\n${rows.map(line).join('\n')}\n`);
  process.stdout.write(`\nNode ${process.version} on this machine; Lambda runs Node 22 on ARM64. ${RUNS} fresh processes per function.\n`);
}

await main();
