/** The CDK app that `cdk synth` and `cdk deploy` run (see cdk.json). */
import { fileURLToPath } from 'node:url';
import {
  PREPARED_FILE,
  preparedGroupsFor,
  withPreparedGroups,
} from '#functions/actions/ec2-isolate/prepared-file';
import settings from '../cordon.config.ts';
import { buildApp } from './cordon-app.ts';

const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
// The isolation groups `cordon prepare` made for the account and region deployed to (none when unknown).
const prepared =
  account && region
    ? preparedGroupsFor(fileURLToPath(new URL(`../${PREPARED_FILE}`, import.meta.url)), account, region)
    : {};
const { app } = buildApp({
  stack: { env: { account, region }, settings: withPreparedGroups(settings, prepared) },
});
app.synth();
