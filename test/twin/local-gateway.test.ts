/**
 * The local API verifies no signatures, so it must not be reachable from a web page in the
 * developer's browser: cross-site requests and foreign Host names (DNS rebinding) are refused,
 * and refused requests change nothing.
 */
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Platform } from '../../local/platform';
import { startTestPlatform } from '../support/emulators';

let platform: Platform;
beforeAll(async () => {
  platform = await startTestPlatform('gateway');
});
afterAll(async () => {
  await platform?.stop();
});

/** A raw HTTP request, so that Host and Origin can be set the way a browser or an attacker does. */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  const url = new URL(platform.endpoint);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const topicNames = async () => {
  const res = await fetch(`${platform.endpoint}/topics`);
  return ((await res.json()) as { topics: { name: string }[] }).topics.map((t) => t.name);
};

describe('the local API refuses what a browser on the same machine could send', () => {
  const port = () => new URL(platform.endpoint).port;

  it.each([
    ['a cross-site text/plain POST', { origin: 'http://evil.example', 'content-type': 'text/plain' }],
    ['a cross-site JSON POST', { origin: 'http://evil.example', 'content-type': 'application/json' }],
    ['a request a browser marks cross-site', { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' }],
    ['a foreign Host name (DNS rebinding)', { host: 'evil.example', 'content-type': 'application/json' }],
    ['a foreign Host name on the right port', { host: 'evil.example:PORT', 'content-type': 'application/json' }],
  ])('%s: 403, and nothing is created', async (_what, headers) => {
    const h = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace('PORT', port())]));
    const name = `attack-${Math.random().toString(36).slice(2, 8)}`;
    const res = await send('POST', '/topics', { host: `127.0.0.1:${port()}`, ...h }, JSON.stringify({ name }));
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toHaveProperty('message');
    expect(await topicNames()).not.toContain(name);
  });

  it.each(['127.0.0.1', 'localhost'])('serves its own origin on %s', async (host) => {
    const name = `own-${host.replace(/\W/g, '')}`;
    const res = await send(
      'POST',
      '/topics',
      { host: `${host}:${port()}`, origin: `http://${host}:${port()}`, 'content-type': 'application/json' },
      JSON.stringify({ name }),
    );
    expect(res.status).toBe(201);
    expect(await topicNames()).toContain(name);
  });
});
