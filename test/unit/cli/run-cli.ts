/** Runs the CLI in-process against a real SluiceClient whose requests a fake `fetch` answers. */
import { run, type CliIo } from '../../../cli/main';
import { SluiceClient, type SluiceClientOptions } from '../../../client';
import { noWait } from '../client/fake-fetch';

function output() {
  let text = '';
  return { writer: { write: (chunk: string) => (text += chunk) }, text: () => text };
}

export async function sluice(argv: string[], fetch: typeof globalThis.fetch, io: Partial<CliIo> = {}) {
  const stdout = output();
  const stderr = output();
  const createClient = (options: SluiceClientOptions) =>
    new SluiceClient({ ...options, fetch, retry: { ...noWait().retry, retries: 1 } });
  const code = await run(argv, { stdout: stdout.writer, stderr: stderr.writer, env: {}, createClient, ...io });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
