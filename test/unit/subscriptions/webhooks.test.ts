import { describe, expect, it } from 'vitest';
import { parseDelivery } from '../../../api/subscriptions';
import { newWebhookSecret, signatureHeader, verifySignature } from '../../../lambda/core/subscriptions/signing';
import { checkWebhookUrl, isPrivateAddress, resolveWebhookAddress, type Resolver } from '../../../lambda/core/subscriptions/webhook-address';

describe('webhook signatures', () => {
  const secret = 'whsec_test_secret_1234';
  const body = JSON.stringify({ v: 1, events: [] });

  it('signs HMAC-SHA256 over "<t>.<body>" and verifies it', () => {
    const header = signatureHeader(secret, body, 1_700_000_000);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature(secret, body, header, { nowSeconds: 1_700_000_010 })).toBe(true);
  });

  it('refuses another body, another secret, an old timestamp or no header', () => {
    const header = signatureHeader(secret, body, 1_700_000_000);
    expect(verifySignature(secret, body + ' ', header, { nowSeconds: 1_700_000_000 })).toBe(false);
    expect(verifySignature('whsec_other_secret_00', body, header, { nowSeconds: 1_700_000_000 })).toBe(false);
    expect(verifySignature(secret, body, header, { nowSeconds: 1_700_000_000 + 301 })).toBe(false);
    expect(verifySignature(secret, body, undefined)).toBe(false);
    expect(verifySignature(secret, body, 't=abc,v1=00')).toBe(false);
  });

  it('generates distinct secrets', () => {
    expect(newWebhookSecret()).not.toBe(newWebhookSecret());
    expect(newWebhookSecret().length).toBeGreaterThan(40);
  });
});

describe('webhook addresses (SSRF)', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['169.254.169.254', true],
    ['10.0.0.1', true],
    ['172.16.5.4', true],
    ['172.31.255.255', true],
    ['172.32.0.1', false],
    ['192.168.1.1', true],
    ['0.0.0.0', true],
    ['100.64.0.1', true],
    ['8.8.8.8', false],
    ['::1', true],
    ['::', true],
    ['fe80::1', true],
    ['fc00::1', true],
    ['fd00:ec2::254', true],
    ['::ffff:127.0.0.1', true],
    ['::ffff:169.254.169.254', true],
    ['2606:4700::1111', false],
    ['not-an-ip', true],
  ])('%s is private: %s', (address, expected) => {
    expect(isPrivateAddress(address)).toBe(expected);
  });

  it('allows only https, unless private networks are allowed', () => {
    expect(() => checkWebhookUrl('http://example.com/hook', false)).toThrow(/https/);
    expect(checkWebhookUrl('https://example.com/hook', false).hostname).toBe('example.com');
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', true).port).toBe('8080');
    expect(() => checkWebhookUrl('https://user:pw@example.com/', false)).toThrow(/credentials/);
  });

  it.each(['https://127.0.0.1/x', 'https://169.254.169.254/latest/meta-data', 'https://10.0.0.1/', 'https://[::1]/', 'https://[fe80::1]/', 'https://localhost/'])(
    'refuses %s at creation',
    (url) => {
      expect(() => checkWebhookUrl(url, false)).toThrow();
      expect(() => checkWebhookUrl(url, true)).not.toThrow();
    },
  );

  const resolver =
    (addresses: Record<string, string[]>): Resolver =>
    async (host) =>
      (addresses[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));

  it('refuses a name when any address it resolves to is private', async () => {
    const dns = resolver({ 'good.example': ['93.184.216.34'], 'mixed.example': ['93.184.216.34', '10.0.0.1'], 'meta.example': ['169.254.169.254'] });
    await expect(resolveWebhookAddress('https://good.example/h', false, dns)).resolves.toMatchObject({ address: { address: '93.184.216.34' } });
    await expect(resolveWebhookAddress('https://mixed.example/h', false, dns)).rejects.toThrow(/10\.0\.0\.1/);
    await expect(resolveWebhookAddress('https://meta.example/h', false, dns)).rejects.toThrow(/169\.254/);
    await expect(resolveWebhookAddress('https://nothing.example/h', false, dns)).rejects.toThrow(/no address/);
    await expect(resolveWebhookAddress('https://meta.example/h', true, dns)).resolves.toMatchObject({ address: { address: '169.254.169.254' } });
  });

  it('resolves localhost with the real DNS and refuses it', async () => {
    await expect(resolveWebhookAddress('https://localhost.:8443/h', false)).rejects.toThrow(/loopback|localhost/);
    await expect(resolveWebhookAddress('http://127.0.0.1:1/h', true)).resolves.toMatchObject({ address: { address: '127.0.0.1', family: 4 } });
  });
});

describe('parseDelivery', () => {
  it('parses the wire format and refuses anything else', () => {
    const body = {
      v: 1,
      subscription: 's',
      topic: 't',
      partition: 0,
      events: [{ subscription: 's', topic: 't', partition: 0, offset: 3, key: null, value: { a: 1 }, headers: {}, timestamp: 1, messageId: 'm' }],
    };
    expect(parseDelivery(JSON.stringify(body)).events[0]!.offset).toBe(3);
    expect(() => parseDelivery('{"v":2}')).toThrow(/Not a Sluice delivery/);
  });
});
