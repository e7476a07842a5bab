/** The approval request function: the gate's `.waitForTaskToken` task. See `./core.ts`. */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { makeHandler } from '#shared/define-function';
import { readApprovalRequestConfig } from '../config.ts';
import { ApprovalStore } from '../store.ts';
import { type RequestResult, requestApproval } from './core.ts';

export const handler = makeHandler({
  name: 'approval-request',
  config: readApprovalRequestConfig,
  clients: { ses: SESv2Client },
  deps: ({ config, documents, recorder, clients, logger }) => ({
    store: new ApprovalStore(documents, config.tableName),
    recorder,
    ses: clients.ses,
    approvers: config.approvers,
    sender: config.sender,
    baseUrl: config.baseUrl,
    logger,
  }),
  run: (deps, event: unknown): Promise<RequestResult> => requestApproval(deps, event),
});
