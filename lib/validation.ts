/**
 * Synth-time validation of construct props, as rules written as data: every failing rule is
 * reported together in one error scoped to the construct; minor problems become warnings that
 * `cdk synth` prints (and a user can acknowledge by id).
 */
import { Annotations, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { IConstruct } from 'constructs';

export interface ValidationRule {
  /** True when the problem is present. */
  readonly condition: boolean;
  readonly message: string;
  /** A warning does not stop synthesis. @default 'error' */
  readonly severity?: 'error' | 'warning';
  /** Id of the warning, to acknowledge it with `Validations.of(scope).acknowledge()`. @default '@sluice/props' */
  readonly id?: string;
}

/** Thrown at synth time when a construct is given props it cannot honour. */
export class SluicePropsError extends Error {
  override readonly name = 'SluicePropsError';

  constructor(
    /** Construct path of the construct whose props are wrong. */
    readonly path: string,
    /** Every problem found, one sentence each. */
    readonly problems: readonly string[],
  ) {
    super(`Invalid props for ${path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

export function validateProps(scope: IConstruct, rules: readonly ValidationRule[]): void {
  const failing = rules.filter((r) => r.condition);
  for (const w of failing.filter((r) => r.severity === 'warning')) {
    Annotations.of(scope).addWarningV2(w.id ?? '@sluice/props', w.message);
  }
  const errors = failing.filter((r) => (r.severity ?? 'error') === 'error').map((r) => r.message);
  if (errors.length > 0) throw new SluicePropsError(scope.node.path, errors);
}

const RETENTION_VALUES = new Set<number>(
  Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number'),
);

/** Rules for a `logRetention`-style prop: a CloudWatch Logs retention value, and not forever. */
export function logRetentionRules(prop: string, value: logs.RetentionDays): ValidationRule[] {
  return [
    {
      condition: !Token.isUnresolved(value) && !RETENTION_VALUES.has(value),
      message:
        `${prop} must be one of logs.RetentionDays (CloudWatch Logs accepts 1, 3, 5, 7, 14, 30, 60, 90, ` +
        `... days); got ${String(value)}`,
    },
    {
      condition: value === logs.RetentionDays.INFINITE,
      severity: 'warning',
      id: '@sluice/log-retention-infinite',
      message: `${prop} is INFINITE: logs are kept, and billed, forever`,
    },
  ];
}

/** Rules for a removal policy prop: one of the values CloudFormation understands for this resource. */
export function removalPolicyRules(
  prop: string,
  value: RemovalPolicy,
  allowed: readonly RemovalPolicy[],
): ValidationRule[] {
  return [
    {
      condition: !allowed.includes(value),
      message: `${prop} must be one of ${allowed.map(policyName).join(', ')}; got ${policyName(value)}`,
    },
  ];
}

function policyName(value: RemovalPolicy): string {
  const name = Object.entries(RemovalPolicy).find(([, v]) => v === value)?.[0];
  return name ? `RemovalPolicy.${name}` : String(value);
}
