/** Small helpers shared by the local platform's pieces. */
import { createServer } from 'node:net';

/**
 * Region and credentials for the local emulators. Any will do, but the SDK insists on some, and
 * DynamoDB Local (since 1.23) rejects access keys with anything but letters and digits.
 */
export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'sluicelocal', secretAccessKey: 'sluicelocal' } as const;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface WaitForOptions {
  readonly timeoutMs: number;
  /** Named in the timeout error. */
  readonly what: string;
  /** @default 100 */
  readonly intervalMs?: number;
  /** When this returns true, the last error is rethrown at once instead of retried. */
  readonly fatal?: () => boolean;
}

/** Polls `probe` until it returns a value other than undefined/false, or the timeout passes. */
export async function waitFor<T>(probe: () => Promise<T | undefined | false>, options: WaitForOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (options.fatal?.()) throw err;
      lastError = err;
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${options.what}${reason}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
}
