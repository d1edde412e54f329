/**
 * The example's CDK app. From examples/datastore-sync:
 *
 *   npx cdk synth                                # cdk.out/, which `npm start -- --assembly` runs locally
 *   npx cdk deploy                               # to your AWS account
 *   npx cdk synth -c visibilityTimeoutSeconds=12 -c workerTimeoutSeconds=2   # shorter redelivery
 */
import { App, Duration } from 'aws-cdk-lib';
// In your own app: `import { applyNagChecks } from 'sluice';`
import { applyNagChecks } from '../../../lib';
import { DatastoreSyncStack } from '../lib/datastore-sync-stack';

const app = new App();

/** A whole number from context (`-c name=value`), or undefined. */
function contextNumber(name: string): number | undefined {
  const value: unknown = app.node.tryGetContext(name);
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`Context value ${name} must be a whole number above 0; got ${JSON.stringify(value)}`);
  return n;
}

const visibility = contextNumber('visibilityTimeoutSeconds');
const workerTimeout = contextNumber('workerTimeoutSeconds');
const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
new DatastoreSyncStack(app, 'DatastoreSync', {
  env: account || region ? { account, region } : undefined,
  visibilityTimeout: visibility === undefined ? undefined : Duration.seconds(visibility),
  workerTimeout: workerTimeout === undefined ? undefined : Duration.seconds(workerTimeout),
  maxReceiveCount: contextNumber('maxReceiveCount'),
});

applyNagChecks(app);
app.synth();
