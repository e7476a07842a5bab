/** `ec2-eradicate`: stops or terminates the instance once the evidence is complete (eradication, after approval). */
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
import { eradicateInstance } from './core.ts';

const config = readAuditConfig();
const settings = readSettingsFromEnv();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const logger = createLogger('ec2-eradicate');
const deps = { ec2: makeClient(EC2Client, { service: 'EC2' }), defaultMode: settings.ec2.eradication };

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'eradication', action: 'ec2-eradicate', logger }))
  .handler(async (event) => eradicateInstance(deps, event));
