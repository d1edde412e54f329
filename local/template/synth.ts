/**
 * Synthesizes the Sluice stack in-process, as `npx cdk synth` would, into a cloud assembly the
 * local platform then runs: the bundles that deploy, with the environment the template gives them.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SluiceApiType } from '../../lib/sluice-api';
import type { SluiceStackProps } from '../../lib/sluice-stack';
import { readStack, type SynthesizedStack } from './stack-template';

export const LOCAL_STACK_NAME = 'Sluice';
/** The stack output naming the local inbox queue. */
export const LOCAL_INBOX_OUTPUT = 'LocalInboxQueueUrl';

export interface SynthOptions {
  /** @default 'http' */
  readonly api?: SluiceApiType;
  /** @default a new temporary folder */
  readonly outdir?: string;
  /** More props of the stack (tests synthesize variants with these). @default none */
  readonly props?: Omit<SluiceStackProps, 'api'>;
}

export async function synthesizeStack(options: SynthOptions = {}): Promise<SynthesizedStack> {
  // aws-cdk-lib is large; load it only when a stack is synthesized.
  const [{ App, CfnOutput }, sqs, { SluiceStack }] = await Promise.all([
    import('aws-cdk-lib'),
    import('aws-cdk-lib/aws-sqs'),
    import('../../lib/sluice-stack'),
  ]);
  const outdir = options.outdir ?? (await mkdtemp(join(tmpdir(), 'sluice-assembly-')));
  // What the CDK CLI sets by default, so the assembly is the one `cdk synth` writes.
  const app = new App({
    outdir,
    context: { 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:enable-path-metadata': true, 'aws:cdk:disable-version-reporting': true },
  });
  // Webhooks on loopback are how one tries subscriptions on a laptop; a deployment keeps them off.
  const stack = new SluiceStack(app, LOCAL_STACK_NAME, {
    webhooks: { allowPrivateNetworks: true },
    ...options.props,
    api: options.api ?? 'http',
  });
  // A FIFO queue run-time subscriptions may deliver to, so a queue subscriber can be tried locally
  // (a deployment lists its own with `subscriptionTargets`).
  const inbox = new sqs.Queue(stack, 'LocalInbox', {
    fifo: true,
    enforceSSL: true,
    encryption: sqs.QueueEncryption.SQS_MANAGED,
  });
  stack.sluice.allowSubscriptionTargets({ queues: [inbox] });
  new CfnOutput(stack, LOCAL_INBOX_OUTPUT, { description: 'A FIFO queue subscriptions may target locally', value: inbox.queueUrl });
  app.synth();
  return readStack(outdir, LOCAL_STACK_NAME);
}
