import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FUNCTIONS, ROUTES, functionEnvironment, matchRoute, type FunctionDefinition } from '../../../definitions/functions';
import { MESSAGE_QUEUES, QUEUES } from '../../../definitions/queues';
import { TABLES } from '../../../definitions/tables';

const ROOT = resolve(import.meta.dirname, '../../..');

describe('matchRoute', () => {
  it.each([
    ['POST', '/topics', 'POST /topics', {}],
    ['GET', '/topics/', 'GET /topics', {}],
    ['get', '/topics/orders', 'GET /topics/{topic}', { topic: 'orders' }],
    ['DELETE', '/topics/a%2Eb', 'DELETE /topics/{topic}', { topic: 'a.b' }],
  ])('matches %s %s to %s', (method, path, key, params) => {
    const match = matchRoute(method, path);
    expect(match && 'route' in match && `${match.route.method} ${match.route.path}`).toBe(key);
    expect(match && 'route' in match && match.pathParameters).toEqual(params);
  });

  it('lists the allowed methods when only the method is wrong', () => {
    expect(matchRoute('PUT', '/topics/orders')).toEqual({ allowed: ['GET', 'PATCH', 'DELETE'] });
  });

  it.each([['/'], ['/topic'], ['/topics/a/b'], ['/topics/%E0%A4%A']])('finds nothing for %s', (path) => {
    expect(matchRoute('GET', path)).toBeUndefined();
  });
});

describe('FUNCTIONS', () => {
  it.each(Object.values(FUNCTIONS).map((fn) => [fn.name, fn.entry]))('%s has a handler module at %s', (_name, entry) => {
    expect(existsSync(resolve(ROOT, entry))).toBe(true);
  });

  it('routes every route to a defined function', () => {
    for (const route of ROUTES) expect(FUNCTIONS[route.function]).toBeDefined();
  });

  it('gives a function the names of exactly the tables and queues it was granted', () => {
    const physical = {
      tables: { topics: 'T', log: 'L', dedupe: 'D', groups: 'G', acls: 'A', subscriptions: 'S', processors: 'P' },
      queues: { topicPurge: 'Q', deliveries: 'DQ', dispatchFailures: 'F' },
      queuePrefix: 'sluice-abc123-',
    };
    expect(functionEnvironment(FUNCTIONS.topics, physical)).toEqual({
      [TABLES.topics.envVar]: 'T',
      [TABLES.log.envVar]: 'L',
      [TABLES.acls.envVar]: 'A',
      [QUEUES.topicPurge.envVar]: 'Q',
    });
    expect(functionEnvironment(FUNCTIONS.fallback, physical)).toEqual({});
    // The message-queue prefix goes only to functions that call SQS on message queues.
    expect(functionEnvironment(FUNCTIONS.queues, physical)).toEqual({
      [TABLES.dedupe.envVar]: 'D',
      [TABLES.acls.envVar]: 'A',
      [MESSAGE_QUEUES.prefixEnvVar]: 'sluice-abc123-',
    });
    const withPrefix = (Object.values(FUNCTIONS) as FunctionDefinition[]).filter((fn) => MESSAGE_QUEUES.prefixEnvVar in functionEnvironment(fn, physical));
    expect(withPrefix.map((fn) => fn.name).sort()).toEqual(['deliverer', 'queues', 'subscriptions']);
  });

  it('gives every SQS-triggered function a queue visibility timeout of at least 6 times its timeout', () => {
    let checked = 0;
    for (const fn of Object.values(FUNCTIONS) as FunctionDefinition[]) {
      if (!fn.trigger || !('queue' in fn.trigger)) continue;
      expect(QUEUES[fn.trigger.queue].visibilityTimeoutSeconds, fn.name).toBeGreaterThanOrEqual(6 * (fn.timeoutSeconds ?? 10));
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(2);
  });
});
