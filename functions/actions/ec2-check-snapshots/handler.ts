/** `ec2-check-snapshots`: reports whether the incident's snapshots are complete (evidence). */
import { EC2Client } from '@aws-sdk/client-ec2';
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { makeClient } from '#shared/clients';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { checkSnapshots } from './core.ts';

const config = readAuditConfig();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const logger = createLogger('ec2-check-snapshots');
const deps = { ec2: makeClient(EC2Client, { service: 'EC2' }) };

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'evidence', action: 'ec2-check-snapshots', logger }))
  .handler(async (event) => checkSnapshots(deps, event));
