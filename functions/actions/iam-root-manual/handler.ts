/** `iam-root-manual`: records that a root credential finding needs a person, with the steps to take. */
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { readSettingsFromEnv } from '#shared/settings';
import { ROOT_MANUAL_ACTION, rootManual } from './core.ts';

const config = readAuditConfig();
readSettingsFromEnv();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const logger = createLogger(ROOT_MANUAL_ACTION);

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'containment', action: ROOT_MANUAL_ACTION, logger }))
  .handler(async (event) => rootManual({}, event));
