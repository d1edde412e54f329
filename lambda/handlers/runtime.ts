/** What every handler module needs at cold start, without pulling in the AWS SDK. */
import type { Context } from 'aws-lambda';
import { createJsonLogger, type Logger } from '../core/logger';

export function loggerFor(component: string): Logger {
  return createJsonLogger({ component: `sluice.${component}` });
}

/** Defers building a handler until its first invocation, so importing the module has no side effects. */
export function lazy<E, R>(build: () => (event: E, context: Context) => Promise<R>) {
  let built: ((event: E, context: Context) => Promise<R>) | undefined;
  return (event: E, context: Context): Promise<R> => (built ??= build())(event, context);
}
