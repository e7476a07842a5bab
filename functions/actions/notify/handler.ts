/** `notify`: emails the approvers a playbook's failure, or a step a person must take by hand. */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { makeClient } from '#shared/clients';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { readSettingsFromEnv } from '#shared/settings';
import { notify } from './core.ts';

const config = readAuditConfig();
const settings = readSettingsFromEnv();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const ses = makeClient(SESv2Client, { service: 'SESV2' });
const logger = createLogger('notify');

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'lessons-learned', action: 'notify', logger }))
  .handler(async (event) => notify({ ses, sender: settings.sender, approvers: settings.approvers }, event));
