/** The approval check: the gate's state after an approval, before the approved branch. See `./core.ts`. */
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { makeHandler } from '#shared/define-function';
import { PHASES, type Phase } from '#shared/domain';
import { readApprovalConfig } from '../config.ts';
import { ApprovalStore } from '../store.ts';
import { checkApproval } from './core.ts';

export const handler = makeHandler({
  name: 'approval-check',
  config: readApprovalConfig,
  deps: ({ config, documents, recorder }) => ({
    recorder,
    store: new ApprovalStore(documents, config.tableName),
    consolePrincipals: config.consolePrincipals,
  }),
  use: ({ recorder, logger }) => [
    auditStep<ActionEvent, ActionResult>({
      recorder,
      // The check belongs to the phase of the gate it checks.
      phase: (event) => (PHASES.includes(event.phase as Phase) ? (event.phase as Phase) : 'identification'),
      action: 'approval-check',
      logger,
    }),
  ],
  run: (deps, event: ActionEvent) => checkApproval(deps, event),
});
