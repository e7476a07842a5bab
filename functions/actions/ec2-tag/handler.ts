/** `ec2-tag`: tags the instance with the incident and its status (containment). */
import { EC2Client } from '@aws-sdk/client-ec2';
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { makeClient } from '#shared/clients';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { readSettingsFromEnv } from '#shared/settings';
import { tagInstance } from './core.ts';

const config = readAuditConfig();
const settings = readSettingsFromEnv();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const logger = createLogger('ec2-tag');
const deps = { ec2: makeClient(EC2Client, { service: 'EC2' }), protectedTag: settings.protectedTag };

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'containment', action: 'ec2-tag', logger }))
  .handler(async (event) => tagInstance(deps, event));
