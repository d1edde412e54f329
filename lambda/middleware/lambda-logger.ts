/**
 * Sluice's small Logger interface (lambda/core/logger.ts) on top of Powertools' Logger, for the
 * Lambda handlers. The core keeps its interface and knows nothing of Lambda; the handlers give it
 * this adapter, and `lambdaContext()` (Powertools' `injectLambdaContext` middy middleware) adds the
 * invocation's context to every line: function_request_id, cold_start, function_name, its ARN and
 * memory size, and the X-Ray trace ID.
 *
 * Level: AWS Lambda's advanced logging controls (AWS_LAMBDA_LOG_LEVEL) win, as Powertools applies
 * them itself; then POWERTOOLS_LOG_LEVEL (or LOG_LEVEL); then SLUICE_LOG_LEVEL, which the local
 * platform and the tests set; else INFO. Lines are JSON, one per call, printed with a
 * `node:console` Console on stdout/stderr (Powertools' choice), which Lambda's JSON log format
 * keeps as is.
 */
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { MiddlewareObj } from '@middy/core';
import type { Logger, LogLevel } from '../core/logger';

const LEVELS = new Set<string>(['debug', 'info', 'warn', 'error']);

/** SLUICE_LOG_LEVEL, unless a variable Powertools reads itself is set. */
function levelFromEnv(env: Readonly<Record<string, string | undefined>>): LogLevel | undefined {
  if (env.POWERTOOLS_LOG_LEVEL || env.LOG_LEVEL) return undefined;
  const level = env.SLUICE_LOG_LEVEL?.toLowerCase();
  return level && LEVELS.has(level) ? (level as LogLevel) : undefined;
}

/** A Logger that writes through one Powertools Logger; `component` is a field of every line. */
export class PowertoolsLoggerAdapter implements Logger {
  constructor(
    readonly powertools: PowertoolsLogger,
    readonly component: string,
  ) {}

  debug(message: string, fields: Record<string, unknown> = {}): void {
    this.powertools.debug(message, { component: this.component, ...fields });
  }

  info(message: string, fields: Record<string, unknown> = {}): void {
    this.powertools.info(message, { component: this.component, ...fields });
  }

  warn(message: string, fields: Record<string, unknown> = {}): void {
    this.powertools.warn(message, { component: this.component, ...fields });
  }

  error(message: string, fields: Record<string, unknown> = {}): void {
    this.powertools.error(message, { component: this.component, ...fields });
  }

  /** Same Powertools Logger, so a child's lines carry the Lambda context too. */
  child(name: string): Logger {
    return new PowertoolsLoggerAdapter(this.powertools, `${this.component}.${name}`);
  }
}

export interface LambdaLoggerOptions {
  /** @default from the environment, see the module comment */
  readonly level?: LogLevel;
  /** @default 'sluice' */
  readonly serviceName?: string;
}

/** A Logger for one Lambda function's handler. */
export function createLambdaLogger(component: string, options: LambdaLoggerOptions = {}): PowertoolsLoggerAdapter {
  const level = options.level ?? levelFromEnv(process.env);
  const powertools = new PowertoolsLogger({
    serviceName: options.serviceName ?? 'sluice',
    ...(level ? { logLevel: level.toUpperCase() as Uppercase<LogLevel> } : {}),
  });
  return new PowertoolsLoggerAdapter(powertools, component);
}

/**
 * Middy middleware that adds the Lambda context to every line of `logger` for this invocation,
 * when it is a Powertools-backed logger (a test's plain Logger is left alone).
 */
export function lambdaContext<E = unknown, R = unknown>(logger: Logger): MiddlewareObj<E, R> {
  // middy refuses a middleware without a hook, so a plain logger gets one that does nothing.
  if (!(logger instanceof PowertoolsLoggerAdapter)) return { before: () => {} };
  return injectLambdaContext(logger.powertools) as unknown as MiddlewareObj<E, R>;
}
