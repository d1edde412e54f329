/**
 * The `sluice` CLI. `run(argv, io)` parses, runs one command and returns the exit code (see
 * EXIT_CODES); everything it touches outside itself (input, output, environment, client) is in `io`.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ConnectionError, SluiceError, UnknownApiError } from '../api/errors';
import { RetriesExceededError } from '../api/retry';
import { defaultEndpoint, defaultRegion, parseEndpoint, type SluiceClientOptions } from '../client/options';
import { isLoopbackHost } from '../client/signing';
import { SluiceClient } from '../client/sluice-client';
import { UsageError, type Command, type SluiceApi, type Writer } from './command';
import { ACLS_COMMANDS } from './commands/acls';
import { bashCompletion, zshCompletion } from './completion';
import { consoleCommand } from './commands/console';
import { consume } from './commands/consume';
import { EVENT_COMMANDS } from './commands/events';
import { GROUPS_COMMANDS } from './commands/groups';
import { PROCESSORS_COMMANDS } from './commands/processors';
import { QUEUES_COMMANDS } from './commands/queues';
import { SUBSCRIPTIONS_COMMANDS } from './commands/subscriptions';
import { TOPICS_COMMANDS } from './commands/topics';
import { commandHelp, EXIT_CODES, groupHelp, mainHelp, synopsis } from './help';
import { parseCommandLine } from './parse';

export { EXIT_CODES } from './help';

export interface CliIo {
  readonly stdout: Writer;
  readonly stderr: Writer;
  /** Where `SLUICE_ENDPOINT` and `AWS_REGION` are read from. @default process.env */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** @default options => new SluiceClient(options) */
  readonly createClient: (options: SluiceClientOptions) => SluiceApi;
  /**
   * What `produce` reads: the whole input as a string, or its lines (without line endings).
   * @default the lines of process.stdin, read only when a command needs them
   */
  readonly stdin?: string | AsyncIterable<string>;
  /**
   * Ends the commands that run until interrupted (`fetch --follow`, `consume`: it leaves its group
   * first) with exit code 0 when aborted. `main` aborts it on SIGINT and SIGTERM.
   * @default - none
   */
  readonly signal?: AbortSignal;
}

const completion: Command = {
  path: ['completion'],
  args: ['shell'],
  summary: 'Print a completion script for bash or zsh.',
  details: [
    'bash: source <(sluice completion bash), in ~/.bashrc for every shell.',
    'zsh:  source <(sluice completion zsh), in ~/.zshrc after compinit; or save the script as _sluice',
    'in a directory of your $fpath.',
  ].join('\n'),
  options: {},
  async run({ args, stdout }) {
    const shell = args[0]!.toLowerCase();
    if (shell === 'bash') stdout.write(bashCompletion(COMMANDS));
    else if (shell === 'zsh') stdout.write(zshCompletion(COMMANDS));
    else throw new UsageError(`<shell> must be "bash" or "zsh", got "${args[0]}"`, completion.path);
  },
};

export const COMMANDS: readonly Command[] = [
  ...TOPICS_COMMANDS,
  ...EVENT_COMMANDS,
  consume,
  ...GROUPS_COMMANDS,
  ...ACLS_COMMANDS,
  ...SUBSCRIPTIONS_COMMANDS,
  ...QUEUES_COMMANDS,
  ...PROCESSORS_COMMANDS,
  consoleCommand,
  completion,
];

export async function run(argv: readonly string[], io: Partial<CliIo> = {}): Promise<number> {
  const { stdout, stderr, env, createClient, stdin, signal }: CliIo = {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    createClient: (options) => new SluiceClient(options),
    ...io,
  };
  let json = argv.includes('--json'); // until parsing succeeds
  let endpoint: string | undefined;
  try {
    const selection = parseCommandLine(argv, COMMANDS);
    const values = selection.values;
    json = values.json === true;
    if (selection.kind === 'version') {
      stdout.write(`${readVersion()}\n`);
      return EXIT_CODES.ok;
    }
    if (selection.kind === 'help') {
      const { command, group } = selection;
      stdout.write(command ? commandHelp(command) : group ? groupHelp(group, groupCommands(group)) : mainHelp(COMMANDS));
      return EXIT_CODES.ok;
    }
    const { command, args } = selection;
    checkRequired(command, values);

    const fromFlag = typeof values.endpoint === 'string';
    endpoint = fromFlag ? (values.endpoint as string) : defaultEndpoint(env);
    const client = createClient(clientOptions(endpoint, fromFlag ? '--endpoint' : 'SLUICE_ENDPOINT', env, command));
    const stdinLines = () => (stdin === undefined ? processStdinLines() : typeof stdin === 'string' ? stringLines(stdin) : stdin);
    await command.run({ client, args, options: values, json, stdout, stderr, stdinLines, signal });
    return EXIT_CODES.ok;
  } catch (err) {
    return report(err, { stderr, json, endpoint });
  }
}

/**
 * The executable's entry (bin/sluice.js): runs the command line and sets the exit code. For an
 * interruptible command (`fetch`, `consume`), the first SIGINT or SIGTERM aborts `io.signal`, so
 * it ends cleanly (a consumer leaves its group); a second one ends the process at once (130 or
 * 143), unless it came within RELAY_WINDOW_MS of the first. Other commands keep the default: a
 * signal ends the process.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  // `sluice … | head`: the reader went away. End quietly, as a Unix tool killed by SIGPIPE does
  // (Node ignores SIGPIPE and would otherwise throw EPIPE from the next write).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(EXIT_CODES.ok);
  });
  if (!isInterruptible(argv)) {
    process.exitCode = await run(argv);
    return;
  }
  const controller = new AbortController();
  let firstAt = 0;
  let ended = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (ended) return; // the command has ended: its exit code stands
    if (!controller.signal.aborted) {
      firstAt = Date.now();
      controller.abort();
    } else if (Date.now() - firstAt >= RELAY_WINDOW_MS) {
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    process.exitCode = await run(argv, { signal: controller.signal });
  } finally {
    ended = true;
    // After an interrupt, a relayed copy of it may still be on its way (the command can end
    // within a millisecond): keep ignoring it until the process exits. Signal listeners do not
    // keep the process alive.
    if (!controller.signal.aborted) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    } else {
      // As Node exits it gives the signals back their default action, so a copy landing then
      // would end the process by the signal (and npm, seeing that, kills itself with it): on a
      // busy machine npm's relay can be that late. Wait out the relay window before exiting.
      const left = firstAt + RELAY_WINDOW_MS - Date.now();
      if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    }
  }
}

/**
 * Ctrl-C reaches every process of the terminal's group, and npm (`npx sluice`, `npm run sluice`)
 * and tsx also pass the signal they got on to their child: one Ctrl-C can arrive two or three
 * times within milliseconds. Those are one interrupt; a person's second Ctrl-C comes later.
 */
const RELAY_WINDOW_MS = 500;

/** Whether the command line selects a command that watches the signal (false when it does not parse). */
export function isInterruptible(argv: readonly string[]): boolean {
  try {
    const selection = parseCommandLine(argv, COMMANDS);
    return selection.kind === 'run' && selection.command.interruptible === true;
  } catch {
    return false;
  }
}

function checkRequired(command: Command, values: Readonly<Record<string, unknown>>): void {
  for (const [name, spec] of Object.entries(command.options)) {
    if (spec.required && values[name] === undefined) throw new UsageError(`missing --${name}`, command.path);
  }
}

function clientOptions(endpoint: string, source: string, env: CliIo['env'], command: Command): SluiceClientOptions {
  let url: URL;
  try {
    url = parseEndpoint(endpoint);
  } catch (err) {
    throw new UsageError(`${source}: ${(err as Error).message}`, command.path);
  }
  // A one-shot command answers a person (or a script) at once: a short budget. Long-running ones
  // (consume, fetch --follow) keep the client's default, which rides through a platform restart.
  return { endpoint, region: defaultRegion(url, env), ...(command.interruptible ? {} : { retry: ONE_SHOT_RETRY }) };
}

/** Retries of one-shot commands: 3, over at most about 1.75 s. */
const ONE_SHOT_RETRY = { retries: 3, initialDelayMs: 250, maxDelayMs: 1000 } as const;

interface ReportContext {
  readonly stderr: Writer;
  readonly json: boolean;
  readonly endpoint: string | undefined;
}

/** Prints the error and picks the exit code. */
function report(err: unknown, { stderr, json, endpoint }: ReportContext): number {
  if (err instanceof UsageError) {
    const command = COMMANDS.find((c) => c.path.join(' ') === err.helpFor.join(' '));
    const usage = command ? synopsis(command) : `sluice ${err.helpFor.length ? `${err.helpFor.join(' ')} ` : ''}<command>`;
    const help = ['sluice', ...err.helpFor, '--help'].join(' ');
    stderr.write(`error: ${err.message}\nUsage: ${usage}\nRun '${help}' for details.\n`);
    return EXIT_CODES.usage;
  }
  const last = err instanceof RetriesExceededError ? err.cause : err;
  if (last instanceof ConnectionError) {
    if (json) {
      writeJson(stderr, errorBody(err));
    } else {
      const where = String(last.details.endpoint ?? endpoint);
      stderr.write(`error: ${err instanceof SluiceError ? err.code : 'ConnectionError'}: ${(err as Error).message}\n`);
      stderr.write(`${connectionHint(where)}\n`);
    }
    return EXIT_CODES.connection;
  }
  if (json) {
    writeJson(stderr, errorBody(err));
  } else {
    stderr.write(`error: ${errorCode(err)}: ${errorMessage(err)}\n`);
    if (errorCode(err) === 'CredentialsProviderError') {
      stderr.write(`Requests to ${endpoint} are signed (SigV4): configure AWS credentials (AWS_PROFILE, ...).\n`);
    }
  }
  return EXIT_CODES.apiError;
}

function connectionHint(endpoint: string): string {
  let local = false;
  try {
    local = isLoopbackHost(new URL(endpoint).hostname);
  } catch {
    // not a URL: no hint about the local platform
  }
  return local
    ? `Is the local platform running at ${endpoint}? Start it with \`npm start\`.`
    : `Check that ${endpoint} is the Sluice API endpoint (--endpoint or SLUICE_ENDPOINT).`;
}

function errorBody(err: unknown): unknown {
  if (err instanceof RetriesExceededError) {
    const body = err.toBody();
    return { error: { ...body.error, attempts: err.attempts, cause: errorBody(err.cause) } };
  }
  if (err instanceof SluiceError) return err.toBody();
  return { error: { code: errorCode(err), message: errorMessage(err) } };
}

function errorCode(err: unknown): string {
  if (err instanceof SluiceError) return err.code;
  return err instanceof Error ? err.name : 'Error';
}

/** API Gateway's own errors (403 without IAM auth) carry `{ message }` only: show it. */
function errorMessage(err: unknown): string {
  if (err instanceof UnknownApiError) {
    const gatewayMessage = (err.details.body as { message?: unknown } | undefined)?.message;
    if (typeof gatewayMessage === 'string') return `${err.message}: ${gatewayMessage}`;
  }
  return err instanceof Error ? err.message : String(err);
}

function writeJson(out: Writer, value: unknown): void {
  out.write(`${JSON.stringify(value)}\n`);
}

function groupCommands(group: string): Command[] {
  return COMMANDS.filter((c) => c.path[0] === group);
}

function processStdinLines(): AsyncIterable<string> {
  return createInterface({ input: process.stdin, crlfDelay: Infinity });
}

async function* stringLines(text: string): AsyncIterable<string> {
  for (const line of text.split(/\r?\n/)) yield line;
}

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function isMainModule(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

// `tsx cli/main.ts ...` (npm run sluice): run. Imported (bin/sluice.js, tests): do nothing.
if (isMainModule()) await main();
