import { defineConfig } from 'vitest/config';

// Tests never reach AWS: fixed local credentials and region, and no instance metadata lookups.
const env: Record<string, string> = {
  AWS_ACCESS_KEY_ID: 'cordonlocal',
  AWS_SECRET_ACCESS_KEY: 'cordonlocal',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  CORDON_LOG_LEVEL: 'silent',
};

// The global setup runs in this process: it makes SDK clients too.
Object.assign(process.env, { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' });

export default defineConfig({
  test: {
    env,
    // Vitest's default is one worker fewer than the cores: one, on CI's two. Most integration tests wait on
    // other processes (DynamoDB Local, the cordon binary, Chromium), so two files at a time halve the wait.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          // The property-based suites run hundreds of cases each; on a loaded 2-core machine that can take
          // more than vitest's default 5 s.
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'infra',
          include: ['test/infra/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integ',
          include: ['test/integ/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/integ/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
