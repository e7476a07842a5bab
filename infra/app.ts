/** The CDK app that `cdk synth` and `cdk deploy` run (see cdk.json). */
import { buildApp } from './cordon-app.ts';

const { app } = buildApp({
  stack: {
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  },
});
app.synth();
