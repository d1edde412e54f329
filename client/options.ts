/**
 * The client's options, each documented once here with its default, and the rules that resolve
 * the defaults from an environment (so the CLI resolves them the same way from its own).
 */
import type { SignatureV4Init } from '@smithy/signature-v4';
import type { RetryOptions } from '../api/retry';

/** AWS credentials, or a provider of them, as the AWS SDK accepts them (e.g. `defaultProvider()`). */
export type AwsCredentials = SignatureV4Init['credentials'];

/**
 * When requests are signed with SigV4 (service `execute-api`):
 * - `'auto'`: sign, unless the endpoint is plain `http:` on a loopback host (`localhost`,
 *   `*.localhost`, `127.0.0.0/8`, `[::1]`): the local platform serves the API unsigned there;
 * - `'always'`: sign every request;
 * - `'never'`: sign nothing (a local platform on another host, or a proxy that signs).
 */
export type SigningMode = 'auto' | 'always' | 'never';

export interface SluiceClientOptions {
  /**
   * Base URL of the Sluice HTTP API. A path is kept as a prefix, so an API Gateway stage URL
   * such as `https://abc123.execute-api.eu-west-1.amazonaws.com/prod` works as is.
   * @default process.env.SLUICE_ENDPOINT ?? 'http://127.0.0.1:4545' (the local platform)
   */
  readonly endpoint?: string;
  /**
   * AWS region the requests are signed for.
   * @default the region in an `*.execute-api.<region>.amazonaws.com` endpoint, else
   * `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `'us-east-1'`
   */
  readonly region?: string;
  /**
   * Credentials to sign with; used only when requests are signed (see `signing`).
   * @default `defaultProvider()` of `@aws-sdk/credential-provider-node` (the Node provider chain:
   * environment, SSO, web identity, shared files, process, ECS/EC2 metadata), loaded on first use
   */
  readonly credentials?: AwsCredentials;
  /**
   * Whether requests are signed; see {@link SigningMode} for the rule.
   * @default 'auto'
   */
  readonly signing?: SigningMode;
  /**
   * How retriable failures (429 Throttled, 500 InternalError, connection failures and timeouts)
   * are retried; the same request is sent again, re-signed. After the last attempt the call
   * fails with `RetriesExceededError` whose `cause` is the last error. Note that creating a topic
   * is not idempotent: if the response to a `createTopic` that succeeded is lost, the retry
   * answers `TopicAlreadyExistsError`. `produce` is: every event has a message ID before the
   * first attempt, so a retry of an append that succeeded answers `duplicate: true` (on topics
   * with a dedupe window). `{ retries: 0 }` turns retries off.
   * @default RETRY_DEFAULTS of api/retry (10 retries, 250 ms doubling up to 8 s, full jitter: about 24 s on average)
   */
  readonly retry?: RetryOptions;
  /**
   * Time allowed for one attempt (connect, send, read the whole response), in ms; an attempt that
   * takes longer fails with a retriable `ConnectionError`. A `fetch` that long-polls is allowed
   * this plus its `waitMs`.
   * @default 10000
   */
  readonly timeoutMs?: number;
  /**
   * The `fetch` implementation requests go through (inject one in tests).
   * @default globalThis.fetch
   */
  readonly fetch?: typeof globalThis.fetch;
}

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:4545';
export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_TIMEOUT_MS = 10_000;

type Env = Readonly<Record<string, string | undefined>>;

/** The endpoint when none is given: `SLUICE_ENDPOINT`, else the local platform. */
export function defaultEndpoint(env: Env = process.env): string {
  return nonEmpty(env.SLUICE_ENDPOINT) ?? DEFAULT_ENDPOINT;
}

/** The signing region when none is given; see {@link SluiceClientOptions.region}. */
export function defaultRegion(endpoint: URL, env: Env = process.env): string {
  const fromHost = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(endpoint.hostname)?.[1];
  return fromHost ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? DEFAULT_REGION;
}

/** Parses an endpoint URL; throws a `TypeError` naming the problem when it is not usable. */
export function parseEndpoint(endpoint: string): URL {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new TypeError(`Invalid Sluice endpoint "${endpoint}": not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`Invalid Sluice endpoint "${endpoint}": must be an http:// or https:// URL`);
  }
  if (url.search || url.hash) {
    throw new TypeError(`Invalid Sluice endpoint "${endpoint}": must not have a query or fragment`);
  }
  return url;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
