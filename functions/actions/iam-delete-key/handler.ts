/** `iam-delete-key`: after approval, deletes the compromised access key. */
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
import { DELETE_KEY_ACTION, deleteKey } from './core.ts';

const config = readAuditConfig();
readSettingsFromEnv();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const iam = makeClient(IAMClient, { service: 'IAM' });
const logger = createLogger(DELETE_KEY_ACTION);
const deps = { iam, recorder };

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'eradication', action: DELETE_KEY_ACTION, logger }))
  .handler(async (event) => deleteKey(deps, event));
