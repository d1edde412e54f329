/** What every handler module needs at cold start, without pulling in the AWS SDK. */
import type { Context } from 'aws-lambda';
import type { Logger } from '../core/logger';
import { createLambdaLogger } from '../middleware/lambda-logger';

/**
 * A logger for one function's handler: Powertools' Logger behind Sluice's small Logger interface,
 * so every line carries the Lambda context once the handler's middleware has injected it.
 */
export function loggerFor(component: string): Logger {
  return createLambdaLogger(`sluice.${component}`);
}

/** The environment a handler is built from: `process.env` in Lambda. */
export type HandlerEnv = Readonly<Record<string, string | undefined>>;

export interface LazyHandler<E, R> {
  (event: E, context: Context): Promise<R>;
  /**
   * Builds the handler from `env` now, reading every variable it needs (what the first invocation
   * does with `process.env`), and returns it without keeping it. For tests and pre-warming.
   */
  build(env?: HandlerEnv): (event: E, context: Context) => Promise<R>;
}

/**
 * Defers building a handler until its first invocation, so importing the module has no side
 * effects. `build` reads its configuration from the environment it is given, all at once.
 */
export function lazy<E, R>(build: (env: HandlerEnv) => (event: E, context: Context) => Promise<R>): LazyHandler<E, R> {
  let built: ((event: E, context: Context) => Promise<R>) | undefined;
  const handler = (event: E, context: Context): Promise<R> => (built ??= build(process.env))(event, context);
  return Object.assign(handler, { build: (env: HandlerEnv = process.env) => build(env) });
}
