/** `record-note`: appends a note to an incident's record. */
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { recordNote } from './core.ts';

const config = readAuditConfig();
const recorder = makeRecorder(config, { client: makeDocumentClient() });
const logger = createLogger('record-note');

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'lessons-learned', action: 'record-note', logger }))
  .handler(async (event) => recordNote(event));
