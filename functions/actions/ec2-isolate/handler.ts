/** `ec2-isolate`: takes an instance off the network (containment). */
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
import { isolateInstance } from './core.ts';

const config = readAuditConfig();
const settings = readSettingsFromEnv();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const logger = createLogger('ec2-isolate');
const deps = {
  ec2: makeClient(EC2Client, { service: 'EC2' }),
  now: () => new Date(),
  protectedTag: settings.protectedTag,
  defaultStrategy: settings.ec2.isolation,
};

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'containment', action: 'ec2-isolate', logger }))
  .handler(async (event) => isolateInstance(deps, event));
