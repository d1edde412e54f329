/** The Consumer's options, each documented once here with its default, and the rules they must meet. */
import { FETCH_LIMITS } from '../api/events';
import { hostname } from 'node:os';
import { clientIdSchema, GROUP_DEFAULTS, GROUP_LIMITS, groupNameSchema, type OffsetReset } from '../api/groups';
import type { RetryOptions } from '../api/retry';

export interface ConsumerOptions {
  /** The consumer group. */
  readonly groupId: string;
  /**
   * Kafka's `client.id`: names this process in the group's description (`GET /groups/{group}`,
   * `sluice groups describe`), next to its host (the IP the server saw). 1-128 printable ASCII
   * characters without spaces.
   * @default `sluice-<hostname>-<pid>` (trimmed to 128 characters), so two processes on one host tell apart
   */
  readonly clientId?: string;
  /**
   * How long the group waits without a heartbeat (or records call) before it removes the member,
   * in ms, 1000-1800000 (`GROUP_LIMITS`). @default 45000 (`GROUP_DEFAULTS.sessionTimeoutMs`)
   */
  readonly sessionTimeoutMs?: number;
  /** Time between background heartbeats, in ms; above 0, below `sessionTimeoutMs`. @default sessionTimeoutMs / 3 */
  readonly heartbeatIntervalMs?: number;
  /**
   * Where to start on a partition the group has no committed offset for (Kafka's
   * `auto.offset.reset`). @default 'latest' (`GROUP_DEFAULTS.offsetReset`)
   */
  readonly offsetReset?: OffsetReset;
  /**
   * Most records one records call returns, 1-1000. With exactly-once, one partition's batch and
   * its outputs are one transaction of at most 100 DynamoDB writes, hence the lower default there.
   * @default 500, or 40 with guarantee 'exactly-once'
   */
  readonly maxRecords?: number;
  /** Long poll of a records call when there is nothing new, in ms, 0-20000. @default 5000 */
  readonly waitMs?: number;
  /**
   * Adaptive polling: after a long poll came back empty, the consumer stops holding a server
   * function open and instead sleeps on its side between quick records calls (no server wait),
   * backing off from 250 ms up to this, in ms; the records calls then stand in for heartbeats. So an
   * idle member makes about one call per `idlePollMs` (cents a month rather than dollars), and a
   * record produced while it idles is fetched within about `idlePollMs`. The first records answer
   * that has records brings back long polls. 0: long polls back to back, always.
   * @default 90% of heartbeatIntervalMs (13.5 s with the default session timeout)
   */
  readonly idlePollMs?: number;
  /**
   * Backoff for a handler that throws (its records are delivered again) and for a records call
   * that fails retriably (the consumer rejoins, then polls again); `isRetriable` is not used.
   * @default RETRY_DEFAULTS of api/retry (10 retries, 250 ms doubling up to 8 s, full jitter: about 24 s on average)
   */
  readonly retry?: RetryOptions;
  /** Where the consumer reports problems it recovers from (a failed heartbeat). @default - none */
  readonly logger?: ConsumerLogger;
}

export interface ConsumerLogger {
  warn(message: string, details: Readonly<Record<string, unknown>>): void;
}

export const CONSUMER_DEFAULTS = {
  sessionTimeoutMs: GROUP_DEFAULTS.sessionTimeoutMs,
  offsetReset: GROUP_DEFAULTS.offsetReset,
  maxRecords: GROUP_DEFAULTS.maxRecords,
  exactlyOnceMaxRecords: 40,
  waitMs: 5000,
} as const;

export type ResolvedConsumerOptions = Required<Omit<ConsumerOptions, 'maxRecords' | 'logger'>> &
  Pick<ConsumerOptions, 'maxRecords' | 'logger'>;

const RULES: readonly { readonly condition: (o: ResolvedConsumerOptions) => boolean; readonly message: string }[] = [
  { condition: (o) => groupNameSchema.safeParse(o.groupId).success, message: 'groupId must be a valid group name' },
  {
    condition: (o) => clientIdSchema.safeParse(o.clientId).success,
    message: 'clientId must be 1-128 printable ASCII characters without spaces',
  },
  {
    condition: (o) => isIntIn(o.sessionTimeoutMs, GROUP_LIMITS.minSessionTimeoutMs, GROUP_LIMITS.maxSessionTimeoutMs),
    message: `sessionTimeoutMs must be an integer from ${GROUP_LIMITS.minSessionTimeoutMs} to ${GROUP_LIMITS.maxSessionTimeoutMs}`,
  },
  {
    condition: (o) => Number.isFinite(o.heartbeatIntervalMs) && o.heartbeatIntervalMs > 0 && o.heartbeatIntervalMs < o.sessionTimeoutMs,
    message: 'heartbeatIntervalMs must be above 0 and below sessionTimeoutMs',
  },
  {
    condition: (o) => o.offsetReset === 'earliest' || o.offsetReset === 'latest',
    message: 'offsetReset must be "earliest" or "latest"',
  },
  {
    condition: (o) => o.maxRecords === undefined || isIntIn(o.maxRecords, 1, GROUP_LIMITS.maxRecords),
    message: `maxRecords must be an integer from 1 to ${GROUP_LIMITS.maxRecords}`,
  },
  {
    condition: (o) => Number.isInteger(o.idlePollMs) && o.idlePollMs >= 0 && o.idlePollMs < o.sessionTimeoutMs,
    message: 'idlePollMs must be an integer from 0 to below sessionTimeoutMs',
  },
  {
    condition: (o) => isIntIn(o.waitMs, 0, FETCH_LIMITS.maxWaitMs),
    message: `waitMs must be an integer from 0 to ${FETCH_LIMITS.maxWaitMs}`,
  },
];

/**
 * The options with their defaults applied.
 * @throws TypeError listing every option that breaks its rule
 */
export function resolveConsumerOptions(options: ConsumerOptions): ResolvedConsumerOptions {
  const sessionTimeoutMs = options.sessionTimeoutMs ?? CONSUMER_DEFAULTS.sessionTimeoutMs;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? Math.floor(sessionTimeoutMs / 3);
  const resolved: ResolvedConsumerOptions = {
    groupId: options.groupId,
    clientId: options.clientId ?? defaultClientId(),
    sessionTimeoutMs,
    heartbeatIntervalMs,
    // Below the heartbeat interval, so an idle poll always comes before the heartbeat it replaces.
    idlePollMs: options.idlePollMs ?? Math.floor(heartbeatIntervalMs * 0.9),
    offsetReset: options.offsetReset ?? CONSUMER_DEFAULTS.offsetReset,
    maxRecords: options.maxRecords,
    waitMs: options.waitMs ?? CONSUMER_DEFAULTS.waitMs,
    retry: options.retry ?? {},
    logger: options.logger,
  };
  const broken = RULES.filter((rule) => !rule.condition(resolved)).map((rule) => rule.message);
  if (broken.length > 0) throw new TypeError(`Invalid consumer options: ${broken.join('; ')}`);
  return resolved;
}

/** `sluice-<hostname>-<pid>`, made to fit clientIdSchema (a hostname is normally ASCII already). */
export function defaultClientId(): string {
  return `sluice-${hostname()}-${process.pid}`.replace(/[^\x21-\x7e]/g, '_').slice(0, 128);
}

function isIntIn(value: number, min: number, max: number): boolean {
  return Number.isInteger(value) && value >= min && value <= max;
}
