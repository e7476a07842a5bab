/** `iam-contain-user-key`: deactivates an IAM user's compromised access key and revokes its sessions. */
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
import { CONTAIN_USER_KEY_ACTION, containUserKey } from './core.ts';

const config = readAuditConfig();
const settings = readSettingsFromEnv();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const iam = makeClient(IAMClient, { service: 'IAM' });
const logger = createLogger(CONTAIN_USER_KEY_ACTION);
const deps = {
  iam,
  now: () => new Date(),
  settings: settings.iam,
  protectedTag: settings.protectedTag,
  recorder,
};

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'containment', action: CONTAIN_USER_KEY_ACTION, logger }))
  .handler(async (event) => containUserKey(deps, event));
