/** `recover-check-restore`: one look at the restore job, for the playbook's Wait-and-check loop (recovery). */
import { BackupClient } from '@aws-sdk/client-backup';
import { EC2Client } from '@aws-sdk/client-ec2';
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { makeClient } from '#shared/clients';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { checkRestore } from './core.ts';

const config = readAuditConfig();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const logger = createLogger('recover-check-restore');
const deps = {
  backup: makeClient(BackupClient, { service: 'BACKUP' }),
  ec2: makeClient(EC2Client, { service: 'EC2' }),
};

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'recovery', action: 'recover-check-restore', logger }))
  .handler(async (event) => checkRestore(deps, event));
