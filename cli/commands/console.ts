/** `sluice console`: the web console for one endpoint, on loopback, until Ctrl-C. */
import { defaultEndpoint } from '../../client/options';
import { isLoopbackHost } from '../../client/signing';
import { startConsoleServer, type ConsoleClient } from '../../console/server';
import { integerOption, UsageError, type Command } from '../command';

export const DEFAULT_CONSOLE_PORT = 4580;

export const consoleCommand: Command = {
  path: ['console'],
  args: [],
  summary: 'Serve the web console for the endpoint on loopback and print its URL (opens nothing).',
  details: [
    'The console shows topics, messages, consumer groups, subscriptions, queues and processors, and can',
    "create, alter and delete topics, produce, reset a group's offsets, redrive dead letters and purge",
    'queues. Requests to the endpoint are made by this process (signed with your AWS',
    'credentials when the endpoint is deployed); the browser never holds credentials. It listens on',
    '127.0.0.1 unless --host names another address: anyone who can reach that address can use the console.',
  ].join('\n'),
  options: {
    port: { type: 'string', valueName: 'PORT', description: `Port to listen on (default: ${DEFAULT_CONSOLE_PORT}; 0 picks a free one)` },
    host: { type: 'string', valueName: 'ADDRESS', description: 'Address to listen on (default: 127.0.0.1, loopback only)' },
  },
  interruptible: true,
  async run({ client, options, stdout, stderr, signal }) {
    const port = integerOption(consoleCommand, options, 'port', {}, 0) ?? DEFAULT_CONSOLE_PORT;
    if (port > 65535) throw new UsageError('--port must be at most 65535', consoleCommand.path);
    const host = typeof options.host === 'string' ? options.host : '127.0.0.1';
    // The CLI's client type leaves out `produce`; the real client (and the console) has it.
    const consoleClient = client as unknown as ConsoleClient;
    if (typeof consoleClient.produce !== 'function') throw new Error('this client cannot produce');
    const endpoint = typeof options.endpoint === 'string' ? options.endpoint : defaultEndpoint(process.env);
    const server = await startConsoleServer({ client: consoleClient, endpointLabel: endpoint, host, port });
    stdout.write(`Sluice console for ${endpoint} at ${server.url}\n`);
    if (!isLoopbackHost(host.includes(':') ? `[${host}]` : host)) stderr.write(`warning: listening on ${host}: the console is reachable from other machines\n`);
    stderr.write('Press Ctrl-C to stop.\n');
    await new Promise<void>((resolve) => {
      if (!signal) return; // run forever (the process ends on a signal)
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', () => resolve(), { once: true });
    });
    await server.close();
  },
};
