/** The approval timeout function: the gate's `Catch` on `States.Timeout`. See `./core.ts`. */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { makeHandler } from '#shared/define-function';
import { readApprovalConfig } from '../config.ts';
import { ApprovalStore } from '../store.ts';
import { applyTimeout, type TimeoutDeps, type TimeoutResult } from './core.ts';

export const handler = makeHandler({
  name: 'approval-timeout',
  config: readApprovalConfig,
  clients: { ses: SESv2Client },
  deps: ({ config, documents, recorder, clients, logger }): TimeoutDeps => ({
    store: new ApprovalStore(documents, config.tableName),
    recorder,
    ses: clients.ses,
    sender: config.sender,
    logger,
  }),
  run: (deps, event: unknown): Promise<TimeoutResult> => applyTimeout(deps, event),
});
