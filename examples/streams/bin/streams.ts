/**
 * The example's CDK app. From examples/streams:
 *
 *   npx cdk synth      # cdk.out/, which `npm start -- --assembly examples/streams/cdk.out` runs locally
 *   npx cdk deploy     # to your AWS account
 */
import { App } from 'aws-cdk-lib';
// In your own app: `import { applyNagChecks } from 'sluice';`
import { applyNagChecks } from '../../../lib';
import { StreamsExampleStack } from '../lib/streams-stack';

const app = new App();
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
new StreamsExampleStack(app, 'StreamsExample', { env: account || region ? { account, region } : undefined });

applyNagChecks(app);
app.synth();
