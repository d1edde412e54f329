/** `npm start`'s entry point in a process of its own, for end-to-end tests. */
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';
import { waitFor } from '../../local/support';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface PlatformProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** The HTTP API, as printed when ready. */
  readonly endpoint: string;
  readonly dynamodbEndpoint: string;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
}

export interface PlatformProcessOptions {
  /** SLUICE_API: the API type `npm start` synthesizes the stack with. @default 'http' */
  readonly api?: 'http' | 'rest';
  /**
   * SLUICE_ASSEMBLY: run this already synthesized cloud assembly (faster) instead of synthesizing.
   * @default synthesize, as a user's `npm start` does
   */
  readonly assemblyDir?: string;
  /** SLUICE_DATA_DIR: keep DynamoDB's tables in this folder. @default in memory */
  readonly dataDir?: string;
}

/** Starts the platform on a free port and resolves once it printed that it is ready. */
export async function startPlatformProcess(options: PlatformProcessOptions = {}): Promise<PlatformProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/main.ts', '--quiet'], {
    cwd: ROOT,
    env: {
      ...process.env,
      SLUICE_PORT: '0',
      SLUICE_LOG_LEVEL: 'warn',
      SLUICE_API: options.api ?? 'http',
      SLUICE_ASSEMBLY: options.assemblyDir ?? '',
      SLUICE_DATA_DIR: options.dataDir ?? '',
    },
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  const ready = await waitFor(async () => /Sluice is ready at (\S+)/.exec(output) ?? undefined, {
    timeoutMs: 120_000,
    what: 'the local platform to print its endpoint',
    fatal: () => child.exitCode !== null,
  });
  return {
    child,
    endpoint: ready[1]!,
    dynamodbEndpoint: /DynamoDB Local: (\S+)/.exec(output)![1]!,
    output: () => output,
  };
}

/** The PID of the Java process serving the DynamoDB Local at this endpoint (not its `sh` watchdog). */
export function dynamoDbLocalPid(endpoint: string): number {
  const port = new URL(endpoint).port;
  const pids = execFileSync('ps', ['-eo', 'pid=,args='])
    .toString()
    .split('\n')
    .filter((l) => l.includes('DynamoDBLocal.jar') && l.includes(`-port ${port}`) && !l.includes(' sh -c '))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
  if (pids.length !== 1) throw new Error(`expected one DynamoDB Local on port ${port}, found ${pids.length}`);
  return pids[0]!;
}
