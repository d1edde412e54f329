/**
 * Every function builds its services from exactly the environment the stack gives it
 * (`functionEnvironment` of its definition, plus what Lambda sets), and reads every variable it is
 * given while doing so: a builder that needed a table or queue its definition does not list would
 * throw here, as it would at cold start on AWS.
 */
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, functionEnvironment, type FunctionName } from '../../../definitions/functions';
import { QUEUES, type QueueName } from '../../../definitions/queues';
import { TABLES, type TableName } from '../../../definitions/tables';
import type { LazyHandler } from '../../../lambda/handlers/runtime';

const REPO_ROOT = resolve(import.meta.dirname, '../../..');

const fakePhysicalNames = {
  tables: Object.fromEntries(Object.keys(TABLES).map((t) => [t, `stack-${t}-ABC123`])) as Record<TableName, string>,
  queues: Object.fromEntries(
    Object.keys(QUEUES).map((q) => [q, `https://sqs.eu-west-1.amazonaws.com/123456789012/stack-${q}-ABC123`]),
  ) as Record<QueueName, string>,
  queuePrefix: 'stack-abc123-',
};

/** What Lambda itself puts in every function's environment (the part the services may read). */
const LAMBDA_ENV = { AWS_REGION: 'eu-west-1' };

async function handlerOf(name: FunctionName): Promise<LazyHandler<unknown, unknown>> {
  const mod = (await import(resolve(REPO_ROOT, FUNCTIONS[name].entry))) as { handler?: LazyHandler<unknown, unknown> };
  expect(typeof mod.handler).toBe('function');
  expect(typeof mod.handler!.build, `${FUNCTIONS[name].entry}: handler must be lazy(...)`).toBe('function');
  return mod.handler!;
}

const names = Object.keys(FUNCTIONS) as FunctionName[];

describe.each(names)('function %s', (name) => {
  const granted = functionEnvironment(FUNCTIONS[name], fakePhysicalNames);

  it('builds its handler from exactly its definition environment', async () => {
    const handler = await handlerOf(name);
    expect(() => handler.build({ ...granted, ...LAMBDA_ENV })).not.toThrow();
  });

  it.each(Object.keys(granted).length > 0 ? Object.keys(granted) : ['(none)'])(
    'reads %s while building (so the test above proves the build read its configuration)',
    async (variable) => {
      const handler = await handlerOf(name);
      if (variable === '(none)') return;
      const { [variable]: _dropped, ...rest } = granted;
      expect(() => handler.build({ ...rest, ...LAMBDA_ENV })).toThrow(variable);
    },
  );
});
