/**
 * Watches the emulators the platform started. If DynamoDB Local exits, or stops answering (a
 * paused or wedged JVM), the platform must not go on answering retriable 500s forever: it reports
 * a fatal error once, and `npm start` stops with a clear message and exit code 1. It does not
 * restart the emulator: an in-memory emulator would come back empty and hand out offsets again.
 */
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDbLocal } from './dynamodb-local';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './support';

export interface HealthOptions {
  readonly dynamodb: DynamoDbLocal;
  /** Called once, with what went wrong. */
  readonly onFatal: (error: Error) => void;
  /** @default 2000 */
  readonly intervalMs?: number;
  /** Consecutive unanswered checks before giving up. @default 3 */
  readonly failures?: number;
}

export interface HealthMonitor {
  stop(): Promise<void>;
}

export function watchEmulators(options: HealthOptions): HealthMonitor {
  const intervalMs = options.intervalMs ?? 2000;
  const allowed = options.failures ?? 3;
  let stopped = false;
  let reported = false;
  const fatal = (error: Error) => {
    if (stopped || reported) return;
    reported = true;
    options.onFatal(error);
  };
  void options.dynamodb.exited.then(({ code, output }) => {
    const last = output.trim().split('\n').slice(-3).join('\n');
    fatal(new Error(`DynamoDB Local exited unexpectedly (exit code ${code ?? 'none: killed by a signal'})${last ? `:\n${last}` : ''}`));
  });
  const client = new DynamoDBClient({
    endpoint: options.dynamodb.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  let misses = 0;
  const timer = setInterval(() => {
    client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(intervalMs) }).then(
      () => (misses = 0),
      (error: Error) => {
        misses++;
        if (misses >= allowed) {
          fatal(new Error(`DynamoDB Local at ${options.dynamodb.endpoint} has not answered for ${(misses * intervalMs) / 1000} s (${error.name}: ${error.message})`));
        }
      },
    );
  }, intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      client.destroy();
    },
  };
}
