/** SigV4 signing for API Gateway (`execute-api`), and the rule deciding when it applies. */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentials, SigningMode } from './options';

export const SIGNING_SERVICE = 'execute-api';

/** `localhost`, `*.localhost`, `127.0.0.0/8` and `[::1]`. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/** Applies the rule documented on {@link SigningMode}. */
export function shouldSign(mode: SigningMode, endpoint: URL): boolean {
  if (mode === 'always') return true;
  if (mode === 'never') return false;
  return !(endpoint.protocol === 'http:' && isLoopbackHost(endpoint.hostname));
}

export interface SignableRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** Returns the headers to send: the given ones plus `host`, `x-amz-date`, `authorization`, ... */
export type RequestSigner = (request: SignableRequest) => Promise<Record<string, string>>;

export function createSigner(region: string, credentials: AwsCredentials | undefined): RequestSigner {
  let signer: Promise<SignatureV4> | undefined;
  const getSigner = () =>
    (signer ??= (async () =>
      new SignatureV4({
        service: SIGNING_SERVICE,
        region,
        credentials: credentials ?? (await defaultCredentials()),
        sha256: Sha256,
      }))());

  return async function sign({ method, url, headers, body }) {
    const signed = await (await getSigner()).sign({
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      // `host` is signed; fetch sends the same value, taken from the URL.
      headers: { ...headers, host: url.host },
      body,
    });
    return signed.headers as Record<string, string>;
  };
}

/** Loaded on first use, so unsigned (local) clients never load the AWS provider chain. */
async function defaultCredentials(): Promise<AwsCredentials> {
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  return defaultProvider();
}
