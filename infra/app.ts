/** The CDK app that `cdk synth` and `cdk deploy` run (see cdk.json). */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  PREPARED_FILE,
  preparedGroupsFor,
  withPreparedGroups,
} from '#functions/actions/ec2-isolate/prepared-file';
import settings from '../cordon.config.ts';
import { buildApp } from './cordon-app.ts';
import { preparedUnitAccounts, withUnitAccounts } from './prepared-units.ts';

/** Where the responder template is copied to in the cloud assembly, for deploying it by hand (README, "Deploy"). */
export const RESPONDER_TEMPLATE_FILE = 'cordon-responder.template.json';

const account = process.env.CDK_DEFAULT_ACCOUNT;
const region = process.env.CDK_DEFAULT_REGION;
const preparedFile = fileURLToPath(new URL(`../${PREPARED_FILE}`, import.meta.url));
// The isolation groups `cordon prepare` made for the account and region deployed to (none when unknown),
// and the accounts of the organizational units it read from Organizations.
const prepared = account && region ? preparedGroupsFor(preparedFile, account, region) : {};
const { app, stack } = buildApp({
  stack: {
    env: { account, region },
    settings: withUnitAccounts(withPreparedGroups(settings, prepared), preparedUnitAccounts(preparedFile)),
  },
});
const assembly = app.synth();
const responders = stack.responders;
if (responders)
  copyFileSync(responders.stage.templateFile(), join(assembly.directory, RESPONDER_TEMPLATE_FILE));
