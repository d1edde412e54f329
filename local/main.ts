/**
 * `npm start`: runs the local platform until Ctrl-C or SIGTERM.
 *
 *   npm start [-- --port 4545] [-- --data-dir ./.sluice-data]
 */
import { parseArgs } from 'node:util';

// Lambda runs Node 22+; the AWS SDK's warning about running on Node 20 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
import { createJsonLogger } from '../lambda/core/logger';
import { JavaMissingError } from './dynamodb-local';
import { DEFAULT_PORT, startPlatform } from './platform';

const USAGE = `Usage: npm start [-- --port <port>] [-- --data-dir <dir>]

Runs Sluice locally: DynamoDB Local, the SQS server and the Lambda handlers behind
an HTTP API on 127.0.0.1 (no AWS account needed).

  --port <port>      HTTP port (default: SLUICE_PORT, else ${DEFAULT_PORT}; 0 picks a free one)
  --data-dir <dir>   keep tables on disk here (default: SLUICE_DATA_DIR, else in memory)
  -h, --help         show this help
`;

async function main(): Promise<number> {
  let values: { port?: string; 'data-dir'?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: { port: { type: 'string' }, 'data-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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

  const logger = createJsonLogger({ component: 'sluice.local' });
  const started = Date.now();
  process.stdout.write('Starting Sluice local platform (DynamoDB Local, SQS server, API)...\n');
  let platform;
  try {
    platform = await startPlatform({ port, dataDir: values['data-dir'], logger });
  } catch (err) {
    if (err instanceof JavaMissingError) process.stderr.write(`${err.message}\n`);
    else process.stderr.write(`Sluice could not start: ${(err as Error).message}\n`);
    return 1;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const storage = values['data-dir'] ?? process.env.SLUICE_DATA_DIR ?? 'memory';
  process.stdout.write(
    `Sluice is ready at ${platform.endpoint} (in ${seconds}s)\n` +
      `  DynamoDB Local: ${platform.dynamodbEndpoint} (data: ${storage})\n` +
      `  SQS server:     ${platform.sqsEndpoint}\n` +
      `  try: curl -X POST -H 'content-type: application/json' ${platform.endpoint}/topics -d '{"name":"orders","partitions":3}'\n` +
      'Press Ctrl-C to stop.\n',
  );

  await new Promise<void>((resolve) => {
    let stopping = false;
    // Ctrl-C reaches every process of the terminal's group (npm, tsx, this one) and tsx relays it
    // again: a second signal must not kill this process before it has stopped what it started.
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      process.stdout.write(`\n${signal}: stopping Sluice...\n`);
      resolve();
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });
  await platform.stop();
  process.stdout.write('Sluice stopped.\n');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
