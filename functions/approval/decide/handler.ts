/** The decision function behind the approval HTTP API. See `./core.ts`. */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeHandler } from '#shared/define-function';
import { readApprovalConfig } from '../config.ts';
import { emailApprovers, refusalEmail } from '../email.ts';
import { ApprovalStore } from '../store.ts';
import { type DecideDeps, handleDecision } from './core.ts';

export const handler = makeHandler({
  name: 'approval-decide',
  config: readApprovalConfig,
  clients: { ses: SESv2Client, sfn: SFNClient },
  deps: ({ config, documents, recorder, clients, logger }): DecideDeps => ({
    store: new ApprovalStore(documents, config.tableName),
    recorder,
    sfn: clients.sfn,
    alert: async (request, why) => {
      await emailApprovers(clients.ses, config.sender, config.approvers, (to) =>
        refusalEmail(request, to, why),
      );
    },
    consolePrincipals: config.consolePrincipals,
    logger,
  }),
  run: (deps, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> =>
    handleDecision(deps, event),
});
