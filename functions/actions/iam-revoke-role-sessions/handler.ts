/** `iam-revoke-role-sessions`: voids every session of a role issued before the time of containment. */
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
import { REVOKE_ROLE_SESSIONS_ACTION, revokeRoleSessions } from './core.ts';

const config = readAuditConfig();
const settings = readSettingsFromEnv();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const iam = makeClient(IAMClient, { service: 'IAM' });
const logger = createLogger(REVOKE_ROLE_SESSIONS_ACTION);
const deps = { iam, now: () => new Date(), ...untouchableRules(settings) };

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'containment', action: REVOKE_ROLE_SESSIONS_ACTION, logger }))
  .handler(async (event) => revokeRoleSessions(deps, event));
