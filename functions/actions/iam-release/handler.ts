/** `iam-release`: after approval, restores the IAM state that the incident's containment recorded. */
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
import { type RoleFacts, untouchableReason, untouchableRules } from '../iam-common/untouchable.ts';
import { RELEASE_ACTION, release } from './core.ts';

const config = readAuditConfig();
const rules = untouchableRules(readSettingsFromEnv());
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const iam = makeClient(IAMClient, { service: 'IAM' });
const logger = createLogger(RELEASE_ACTION);
const deps = { iam, recorder, untouchable: (role: RoleFacts) => untouchableReason(role, rules) };

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'recovery', action: RELEASE_ACTION, logger }))
  .handler(async (event) => release(deps, event));
