/**
 * Retries with exponential backoff and full jitter, in one place (after KafkaJS's retrier). Used
 * by the client for retriable API errors and by the service to pace re-sending DynamoDB's
 * unprocessed items. The service never retries AWS errors with it: the SDK's retry strategy does
 * that, once (lambda/core/aws/clients.ts).
 */
import { SluiceError } from './errors';

export interface RetryOptions {
  /** Attempts after the first. @default 10 */
  readonly retries?: number;
  /** Delay before the first retry, in ms. @default 250 */
  readonly initialDelayMs?: number;
  /** Each delay is the previous one times this. @default 2 */
  readonly multiplier?: number;
  /** Upper bound of one delay, in ms. @default 8000 */
  readonly maxDelayMs?: number;
  /** Decides whether an error is worth another attempt. @default retriable SluiceErrors */
  readonly isRetriable?: (err: unknown) => boolean;
  /** Injected for tests. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injected for tests. @default Math.random */
  readonly random?: () => number;
}

/**
 * The client's defaults ride through a restart of the local platform (6–10 s) or a regional blip,
 * as KafkaJS's do: the delays' caps add up to about 48 s, so with full jitter a caller keeps
 * trying for about 24 s on average before giving up (it was about 1.5 s, and gave up mid-restart).
 * Server-side loops pass their own, much shorter, options.
 */
export const RETRY_DEFAULTS = {
  retries: 10,
  initialDelayMs: 250,
  multiplier: 2,
  maxDelayMs: 8000,
  isRetriable: (err: unknown) => err instanceof SluiceError && err.retriable,
  sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  random: Math.random,
} satisfies Required<RetryOptions>;

/** Thrown when every attempt failed with a retriable error; `cause` is the last one. */
export class RetriesExceededError extends SluiceError {
  override readonly code = 'RetriesExceeded';
  readonly attempts: number;
  constructor(attempts: number, cause: unknown) {
    super(`Gave up after ${attempts} attempts: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.attempts = attempts;
  }
}

/** Delay before retry number `retry` (0-based): full jitter over an exponentially growing cap. */
export function backoffDelay(retry: number, options: RetryOptions = {}): number {
  const o = { ...RETRY_DEFAULTS, ...options };
  const cap = Math.min(o.maxDelayMs, o.initialDelayMs * o.multiplier ** retry);
  return Math.round(o.random() * cap);
}

export async function withRetries<T>(operation: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const o = { ...RETRY_DEFAULTS, ...options };
  for (let attempt = 0; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (err) {
      if (!o.isRetriable(err)) throw err;
      if (attempt >= o.retries) throw new RetriesExceededError(attempt + 1, err);
      await o.sleep(backoffDelay(attempt, o));
    }
  }
}
