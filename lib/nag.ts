/**
 * cdk-nag (3.x) for Sluice apps: the AWS Solutions rule pack, run by CDK's policy validation at
 * synth time, and the findings Sluice deliberately accepts, each with its reason. The CDK app
 * (bin/sluice-app.ts) and the infrastructure tests share this, so what passes in tests passes in
 * `cdk synth`.
 *
 * Unacknowledged errors fail synthesis (warnings do not); unacknowledged findings are written to
 * `validation-report.json` in the cloud assembly. Acknowledged findings are left out of it: their
 * reasons live here, under code review, instead.
 */
import { Validations, type Stage } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { SluiceFunctions } from './sluice-functions';

export interface NagOptions {
  /** Add each rule's explanation to its findings. @default false */
  readonly verbose?: boolean;
}

/**
 * Register the AWS Solutions checks on an app (or stage) and acknowledge Sluice's accepted
 * findings on every Sluice construct in it. Call it after the stacks are built.
 */
export function applyNagChecks(app: Stage, options: NagOptions = {}): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: options.verbose ?? false }));
  acknowledgeSluiceFindings(app);
}

/** Acknowledge the findings Sluice accepts, each on the narrowest construct it applies to. */
export function acknowledgeSluiceFindings(scope: IConstruct): void {
  const functionSets = scope.node.findAll().filter((c): c is SluiceFunctions => c instanceof SluiceFunctions);
  for (const fn of functionSets.flatMap((set) => Object.values(set.functions))) {
    Validations.of(fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Node.js 22 is pinned on purpose: it is the LTS line the handlers and their bundled dependencies ' +
        '(middy 6, AWS SDK v3) are built and tested for, and Lambda supports it until 2027. Moving to the ' +
        'newest runtime is a deliberate, tested change through the runtime prop, not a side effect of ' +
        'upgrading aws-cdk-lib.',
    });
  }
}
