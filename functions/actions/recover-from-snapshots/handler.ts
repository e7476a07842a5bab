/** `recover-from-snapshots`: volumes from the last snapshots before first-seen, when no recovery point exists (recovery). */
import { EC2Client } from '@aws-sdk/client-ec2';
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { makeClient } from '#shared/clients';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { recoverFromSnapshots } from './core.ts';

const config = readAuditConfig();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const logger = createLogger('recover-from-snapshots');
const deps = { ec2: makeClient(EC2Client, { service: 'EC2' }) };

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'recovery', action: 'recover-from-snapshots', logger }))
  .handler(async (event) => recoverFromSnapshots(deps, event));
