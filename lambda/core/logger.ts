/**
 * A minimal structured logger: one JSON object per line, namespaced per component. Library code
 * takes a Logger instead of calling console.* so callers decide where logs go (CloudWatch via
 * stdout in Lambda, a quiet sink in tests).
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export interface JsonLoggerOptions {
  /** @default 'sluice' */
  readonly component?: string;
  /** Lowest level written. @default the SLUICE_LOG_LEVEL environment variable, else 'info' */
  readonly level?: LogLevel;
  /** Where each line goes. @default process.stdout */
  readonly write?: (line: string) => void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const component = options.component ?? 'sluice';
  const envLevel = process.env.SLUICE_LOG_LEVEL as LogLevel | undefined;
  const level = options.level ?? (envLevel && envLevel in RANK ? envLevel : 'info');
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const log = (lvl: LogLevel) => (message: string, fields: Record<string, unknown> = {}) => {
    if (RANK[lvl] < RANK[level]) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, component, message, ...serialize(fields) })}\n`);
  };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (name) => createJsonLogger({ ...options, level, write, component: `${component}.${name}` }),
  };
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};

function serialize(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    out[k] = v instanceof Error ? { name: v.name, message: v.message, stack: v.stack, cause: describeCause(v.cause) } : v;
  }
  return out;
}

function describeCause(cause: unknown): unknown {
  return cause instanceof Error ? { name: cause.name, message: cause.message } : cause;
}
