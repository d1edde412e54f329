/**
 * The CDK app: one Sluice stack, checked with cdk-nag at synth time. Synthesizes without AWS
 * credentials; the account and Region come from the CLI's profile when there is one.
 *
 *   CDK_DISABLE_CLI_TELEMETRY=true npx cdk synth
 */
import { App } from 'aws-cdk-lib';
import { applyNagChecks } from '../lib/nag';
import { SluiceStack } from '../lib/sluice-stack';

const app = new App();

const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
new SluiceStack(app, 'Sluice', {
  // Environment-agnostic when the CLI found no credentials.
  env: account || region ? { account, region } : undefined,
});

applyNagChecks(app);
app.synth();
