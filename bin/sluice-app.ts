/**
 * The CDK app: one Sluice stack, checked with cdk-nag at synth time. Synthesizes without AWS
 * credentials; the account and Region come from the CLI's profile when there is one.
 *
 *   CDK_DISABLE_CLI_TELEMETRY=true npx cdk synth            # HTTP API (default)
 *   CDK_DISABLE_CLI_TELEMETRY=true npx cdk synth -c api=rest  # REST API, e.g. for LocalStack's free plan
 */
import { App } from 'aws-cdk-lib';
import type { SluiceApiType } from '../lib/sluice-api';
import { applyNagChecks } from '../lib/nag';
import { SluiceStack } from '../lib/sluice-stack';

const API_TYPES: readonly SluiceApiType[] = ['http', 'rest'];

const app = new App();

/** Context `api` (`-c api=rest`): which API Gateway API fronts the functions. */
function apiType(value: unknown): SluiceApiType {
  if (value === undefined) return 'http';
  if (API_TYPES.includes(value as SluiceApiType)) return value as SluiceApiType;
  throw new Error(`Context value api must be one of ${API_TYPES.join(', ')} (e.g. -c api=rest); got ${JSON.stringify(value)}`);
}

const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
new SluiceStack(app, 'Sluice', {
  // Environment-agnostic when the CLI found no credentials.
  env: account || region ? { account, region } : undefined,
  api: apiType(app.node.tryGetContext('api')),
});

applyNagChecks(app);
app.synth();
