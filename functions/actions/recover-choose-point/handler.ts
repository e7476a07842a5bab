/** `recover-choose-point`: the newest completed recovery point before the incident's first-seen time (recovery). */
import { BackupClient } from '@aws-sdk/client-backup';
import { STSClient } from '@aws-sdk/client-sts';
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { makeClient } from '#shared/clients';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { type ChoosePointDeps, choosePoint } from './core.ts';

const config = readAuditConfig();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const logger = createLogger('recover-choose-point');
const region = process.env.AWS_REGION;
const deps: ChoosePointDeps = {
  backup: makeClient(BackupClient, { service: 'BACKUP' }),
  sts: makeClient(STSClient, { service: 'STS' }),
  ...(region ? { region } : {}),
};

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'recovery', action: 'recover-choose-point', logger }))
  .handler(async (event) => choosePoint(deps, event));
