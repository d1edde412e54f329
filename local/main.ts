/**
 * `npm start`: runs the local platform until Ctrl-C or SIGTERM.
 *
 *   npm start [-- --port 4545] [-- --data-dir ./.sluice-data] [-- --api rest] [-- --assembly cdk.out]
 */
import { parseArgs } from 'node:util';

// Lambda runs Node 22+; the AWS SDK's warning about running on Node 20 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { createJsonLogger } from '../lambda/core/logger';
import { JavaMissingError } from './dynamodb-local';
import { CONSOLE_PATH, DEFAULT_PORT, parseApiType, startPlatform } from './platform';
import { LOCAL_INBOX_OUTPUT } from './template/synth';

const USAGE = `Usage: npm start [-- --port <port>] [-- --data-dir <dir>] [-- --api http|rest] [-- --assembly <dir>]

Runs Sluice locally, as synthesized for AWS: DynamoDB Local, the SQS server, and each
Lambda function's bundle in environments of its own behind a local API Gateway on
127.0.0.1 (no AWS account needed).

  --port <port>      HTTP port (default: SLUICE_PORT, else ${DEFAULT_PORT}; 0 picks a free one)
  --data-dir <dir>   keep tables on disk here (default: SLUICE_DATA_DIR, else in memory)
  --api http|rest    the API the stack is synthesized with (default: SLUICE_API, else http)
  --assembly <dir>   run the stack of this cloud assembly (cdk synth's output) instead
                     (default: SLUICE_ASSEMBLY, else Sluice's own stack, synthesized now)
  --quiet            do not print the functions' log lines
  -h, --help         show this help
`;

async function main(): Promise<number> {
  let values: { port?: string; 'data-dir'?: string; api?: string; assembly?: string; quiet?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        port: { type: 'string' },
        'data-dir': { type: 'string' },
        api: { type: 'string' },
        assembly: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write(`--port must be an integer from 0 to 65535, got "${values.port}"\n`);
    return 2;
  }

  let api;
  try {
    api = parseApiType(values.api ?? process.env.SLUICE_API);
  } catch (err) {
    process.stderr.write(`${(err as Error).message.replace('SLUICE_API', '--api (or SLUICE_API)')}\n`);
    return 2;
  }

  const logger = createJsonLogger({ component: 'sluice.local' });
  const started = Date.now();
  process.stdout.write('Starting Sluice local platform (DynamoDB Local, SQS server, API)...\n');
  // Listen before starting anything: a signal during start-up stops what has started by then.
  // Ctrl-C reaches every process of the terminal's group (npm, this one) and npm passes it on
  // again: a second signal must not kill this process before it has stopped what it started.
  // `npm start` runs this file with node itself (no tsx CLI in between, which kills a child that
  // does not acknowledge a signal within 30 ms) and through bash (.npmrc), which execs it: a
  // signal to npm alone reaches it. DynamoDB Local runs in a process group of its own
  // (dynamodb-local.ts), so no signal to this group stops it before this process does.
  const stopRequested = new Promise<string>((resolve) => {
    process.on('SIGINT', () => resolve('SIGINT'));
    process.on('SIGTERM', () => resolve('SIGTERM'));
  });
  let fatal: ((error: Error) => void) | undefined;
  const failed = new Promise<Error>((resolve) => (fatal = resolve));
  let platform;
  try {
    platform = await startPlatform({
      port,
      api,
      assemblyDir: values.assembly,
      dataDir: values['data-dir'],
      logger,
      functionLogs: values.quiet ? undefined : (_fn, line) => process.stdout.write(`${line}\n`),
      onFatal: (error) => fatal?.(error),
    });
  } catch (err) {
    if (err instanceof JavaMissingError) process.stderr.write(`${err.message}\n`);
    else process.stderr.write(`Sluice could not start: ${(err as Error).message}\n`);
    return 1;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const storage = values['data-dir'] ?? process.env.SLUICE_DATA_DIR ?? 'memory';
  process.stdout.write(
    `Sluice is ready at ${platform.endpoint} (in ${seconds}s)\n` +
      `  API:            ${platform.twin.api.type === 'rest' ? 'REST API (payload 1.0)' : 'HTTP API (payload 2.0)'}, ${platform.twin.functions.size} functions from ${platform.twin.stack.assemblyDir}\n` +
      `  DynamoDB Local: ${platform.dynamodbEndpoint} (data: ${storage})\n` +
      `  SQS server:     ${platform.sqsEndpoint}\n` +
      `  Web console:    ${new URL(CONSOLE_PATH, platform.endpoint).href}\n` +
      (platform.twin.outputs[LOCAL_INBOX_OUTPUT] ? `  Queue target:   ${platform.twin.outputs[LOCAL_INBOX_OUTPUT]} (FIFO; subscriptions may deliver to it)\n` : '') +
      (values.assembly || process.env.SLUICE_ASSEMBLY ? stackOutputs(platform.twin.outputs, platform.endpoint) : '') +
      `  try: curl -X POST -H 'content-type: application/json' ${platform.endpoint}/topics -d '{"name":"orders","partitions":3}'\n` +
      'Press Ctrl-C to stop.\n',
  );

  const outcome = await Promise.race([stopRequested.then((signal) => ({ signal })), failed.then((error) => ({ error }))]);
  if ('error' in outcome) {
    process.stderr.write(`\nSluice is stopping: ${outcome.error.message}\n`);
    await platform.stop();
    process.stderr.write('Sluice stopped. Start it again with npm start.\n');
    return 1;
  }
  process.stdout.write(`\n${outcome.signal}: stopping Sluice...\n`);
  await platform.stop();
  process.stdout.write('Sluice stopped.\n');
  return 0;
}

/**
 * The outputs of a user's stack (`--assembly`), as resolved here (its table names, say), so they
 * can be used against the local emulators. The deployed API's URL is the local API's here.
 */
function stackOutputs(outputs: Readonly<Record<string, string>>, endpoint: string): string {
  const lines = Object.entries(outputs).map(
    ([name, value]) => `    ${name} = ${/^https:\/\/[^/]+\.execute-api\./.test(value) ? endpoint : value}\n`,
  );
  return lines.length > 0 ? `  Stack outputs:\n${lines.join('')}` : '';
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
