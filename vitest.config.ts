import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One DynamoDB Local and one SQS server for the whole run; each test file uses its own tables.
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    // The first run on a machine fetches DynamoDB Local (~55 MB) and CDK synth bundles functions.
    hookTimeout: 180_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      SLUICE_LOG_LEVEL: 'warn',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
    },
  },
});
