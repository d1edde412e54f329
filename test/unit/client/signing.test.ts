import { afterEach, describe, expect, it, vi } from 'vitest';
import { SluiceClient } from '../../../client';
import { isLoopbackHost, shouldSign } from '../../../client/signing';
import { fakeFetch } from './fake-fetch';

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const LIST_OK = { status: 200, body: { topics: [] } };

/** `AWS4-HMAC-SHA256 Credential=AKID/20251125/eu-west-1/execute-api/aws4_request, SignedHeaders=..., Signature=...` */
function parseAuthorization(header: string | undefined) {
  const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
    header ?? '',
  );
  if (!match) throw new Error(`not a SigV4 Authorization header: ${header}`);
  const [, accessKeyId, date, region, service, signedHeaders] = match;
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders!.split(';') };
}

describe('Module: client/signing', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  describe('Function: shouldSign', () => {
    it.each([
      ['auto', 'http://127.0.0.1:4545', false],
      ['auto', 'http://localhost:4545', false],
      ['auto', 'http://api.localhost:4545', false],
      ['auto', 'http://[::1]:4545', false],
      ['auto', 'http://127.9.9.9', false],
      ['auto', 'https://127.0.0.1:4545', true],
      ['auto', 'http://10.0.0.5:4545', true],
      ['auto', 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod', true],
      ['always', 'http://127.0.0.1:4545', true],
      ['never', 'https://abc123.execute-api.eu-west-1.amazonaws.com', false],
    ] as const)('%s signs %s: %s', (mode, endpoint, expected) => {
      expect(shouldSign(mode, new URL(endpoint))).toBe(expected);
    });

    it('does not take a host that merely starts with 127 or localhost for loopback', () => {
      expect(isLoopbackHost('127.0.0.1.example.com')).toBe(false);
      expect(isLoopbackHost('localhost.example.com')).toBe(false);
    });
  });

  describe('Class: SluiceClient (signing)', () => {
    it('signs for execute-api in the region of an execute-api endpoint, stage path included', async () => {
      // GIVEN
      const { fetch, requests } = fakeFetch(LIST_OK);
      const client = new SluiceClient({
        endpoint: 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod',
        credentials,
        fetch,
      });
      // WHEN
      await client.listTopics();
      // THEN
      const [request] = requests;
      expect(request?.url).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/prod/topics');
      const auth = parseAuthorization(request?.headers.authorization);
      expect(auth).toMatchObject({ accessKeyId: 'AKIDEXAMPLE', region: 'eu-west-1', service: 'execute-api' });
      expect(auth.signedHeaders).toEqual(expect.arrayContaining(['host', 'x-amz-date']));
      expect(request?.headers['x-amz-date']).toMatch(/^\d{8}T\d{6}Z$/);
      expect(request?.headers.host).toBeUndefined(); // fetch derives it from the URL
      expect(client.signed).toBe(true);
    });

    it('signs for AWS_REGION when the endpoint does not name a region', async () => {
      vi.stubEnv('AWS_REGION', 'ap-southeast-2');
      const { fetch, requests } = fakeFetch(LIST_OK);
      await new SluiceClient({ endpoint: 'https://sluice.example.com', credentials, fetch }).listTopics();
      expect(parseAuthorization(requests[0]?.headers.authorization).region).toBe('ap-southeast-2');
    });

    it('falls back to AWS_DEFAULT_REGION, then us-east-1', () => {
      vi.stubEnv('AWS_REGION', '');
      vi.stubEnv('AWS_DEFAULT_REGION', 'sa-east-1');
      expect(new SluiceClient({ endpoint: 'https://sluice.example.com' }).region).toBe('sa-east-1');
      vi.stubEnv('AWS_DEFAULT_REGION', '');
      expect(new SluiceClient({ endpoint: 'https://sluice.example.com' }).region).toBe('us-east-1');
    });

    it('uses an explicit region over every default', async () => {
      const { fetch, requests } = fakeFetch(LIST_OK);
      const endpoint = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
      await new SluiceClient({ endpoint, region: 'us-west-2', credentials, fetch }).listTopics();
      expect(parseAuthorization(requests[0]?.headers.authorization).region).toBe('us-west-2');
    });

    it('sends the session token of temporary credentials', async () => {
      const { fetch, requests } = fakeFetch(LIST_OK);
      const provider = async () => ({ ...credentials, sessionToken: 'TOKEN123' });
      await new SluiceClient({ endpoint: 'https://sluice.example.com', credentials: provider, fetch }).listTopics();
      expect(requests[0]?.headers['x-amz-security-token']).toBe('TOKEN123');
    });

    it('signs the JSON body of a create request with its content type', async () => {
      const { fetch, requests } = fakeFetch({ status: 201, body: {} });
      const client = new SluiceClient({ endpoint: 'https://sluice.example.com', credentials, fetch });
      await client.createTopic({ name: 'orders', partitions: 3 });
      const auth = parseAuthorization(requests[0]?.headers.authorization);
      expect(auth.signedHeaders).toContain('content-type');
      expect(requests[0]?.body).toBe('{"name":"orders","partitions":3}');
    });

    it('sends no Authorization for a loopback http endpoint in auto mode, without loading credentials', async () => {
      // GIVEN a provider that would fail the test if asked
      const provider = vi.fn(async () => credentials);
      const { fetch, requests } = fakeFetch(LIST_OK);
      const client = new SluiceClient({ endpoint: 'http://127.0.0.1:4545', credentials: provider, fetch });
      // WHEN
      await client.listTopics();
      // THEN
      expect(requests[0]?.url).toBe('http://127.0.0.1:4545/topics');
      expect(requests[0]?.headers.authorization).toBeUndefined();
      expect(requests[0]?.headers['x-amz-date']).toBeUndefined();
      expect(provider).not.toHaveBeenCalled();
      expect(client.signed).toBe(false);
    });

    it("signs a loopback endpoint with signing: 'always'", async () => {
      const { fetch, requests } = fakeFetch(LIST_OK);
      await new SluiceClient({ endpoint: 'http://localhost:4545', signing: 'always', credentials, fetch }).listTopics();
      expect(parseAuthorization(requests[0]?.headers.authorization).service).toBe('execute-api');
    });

    it("sends a remote endpoint unsigned with signing: 'never'", async () => {
      const { fetch, requests } = fakeFetch(LIST_OK);
      await new SluiceClient({ endpoint: 'https://sluice.example.com', signing: 'never', fetch }).listTopics();
      expect(requests[0]?.headers.authorization).toBeUndefined();
    });
  });
});
