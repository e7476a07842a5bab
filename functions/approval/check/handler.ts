/** The approval check: the gate's state after an approval, before the approved branch. See `./core.ts`. */
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { PHASES, type Phase } from '#shared/domain';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { readApprovalConfig } from '../config.ts';
import { ApprovalStore } from '../store.ts';
import { checkApproval } from './core.ts';

const config = readApprovalConfig();
const documents = makeDocumentClient();
const recorder = makeRecorder(config, { client: documents });
const store = new ApprovalStore(documents, config.tableName);
const logger = createLogger('approval-check');

export const handler = middy<ActionEvent, ActionResult>()
  .use(
    auditStep({
      recorder,
      // The check belongs to the phase of the gate it checks.
      phase: (event) => (PHASES.includes(event.phase as Phase) ? (event.phase as Phase) : 'identification'),
      action: 'approval-check',
      logger,
    }),
  )
  .handler(async (event) =>
    checkApproval({ recorder, store, consolePrincipals: config.consolePrincipals }, event),
  );
