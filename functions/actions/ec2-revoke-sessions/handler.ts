/** `ec2-revoke-sessions`: revokes the instance role's sessions and disassociates the profile (containment). */
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { makeClient } from '#shared/clients';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { readSettingsFromEnv } from '#shared/settings';
import { untouchableRules } from '../iam-common/untouchable.ts';
import { revokeSessions } from './core.ts';

const config = readAuditConfig();
const settings = readSettingsFromEnv();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const logger = createLogger('ec2-revoke-sessions');
const deps = {
  ec2: makeClient(EC2Client, { service: 'EC2' }),
  iam: makeClient(IAMClient, { service: 'IAM' }),
  now: () => new Date(),
  ...untouchableRules(settings),
};

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'containment', action: 'ec2-revoke-sessions', logger }))
  .handler(async (event) => revokeSessions(deps, event));
