/** `ec2-snapshot`: snapshots every volume and keeps the console output (evidence). */
import { EC2Client } from '@aws-sdk/client-ec2';
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { makeClient } from '#shared/clients';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { snapshotInstance } from './core.ts';

const config = readAuditConfig();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const logger = createLogger('ec2-snapshot');
const deps = { ec2: makeClient(EC2Client, { service: 'EC2' }) };

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'evidence', action: 'ec2-snapshot', logger }))
  .handler(async (event) => snapshotInstance(deps, event));
