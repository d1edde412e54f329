/**
 * What survives a crash with `--data-dir`: DynamoDB Local's Java process is killed outright right
 * after the last acknowledged produce; the platform stops (exit 1), and a platform started again on
 * the same folder has every acknowledged event, and hands out the next offset, not a used one.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, inject, it } from 'vitest';
import { dynamoDbLocalPid, startPlatformProcess } from '../support/platform-process';

let dataDir: string | undefined;
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

it('keeps every acknowledged event when DynamoDB Local is killed, and reuses no offset', async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'sluice-data-'));
  const assemblyDir = inject('assemblies').http;
  const json = { 'content-type': 'application/json' };

  const first = await startPlatformProcess({ assemblyDir, dataDir });
  const created = await fetch(`${first.endpoint}/topics`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'durable', dedupeWindowMs: 0 }) });
  expect(created.status).toBe(201);
  const acknowledged: number[] = [];
  for (let i = 0; i < 30; i++) {
    const res = await fetch(`${first.endpoint}/topics/durable/events`, { method: 'POST', headers: json, body: JSON.stringify({ events: [{ value: i }] }) });
    expect(res.status).toBe(200);
    acknowledged.push(((await res.json()) as { results: { offset: number }[] }).results[0]!.offset);
  }
  const exited = new Promise<number | null>((r) => first.child.once('exit', (code) => r(code)));
  process.kill(dynamoDbLocalPid(first.dynamodbEndpoint), 'SIGKILL');
  expect(await exited).toBe(1);

  const second = await startPlatformProcess({ assemblyDir, dataDir });
  try {
    const fetched = await fetch(`${second.endpoint}/topics/durable/partitions/0/events?offset=earliest&limit=100`);
    const { events } = (await fetched.json()) as { events: { offset: number; value: number }[] };
    expect(events.map((e) => e.offset)).toEqual(acknowledged);
    expect(events.map((e) => e.value)).toEqual(acknowledged.map((_, i) => i));
    const next = await fetch(`${second.endpoint}/topics/durable/events`, { method: 'POST', headers: json, body: JSON.stringify({ events: [{ value: 'after' }] }) });
    expect(((await next.json()) as { results: { offset: number }[] }).results[0]!.offset).toBe(30);
  } finally {
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  }
});
