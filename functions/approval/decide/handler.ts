/** The decision function behind the approval HTTP API. See `./core.ts`. */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeClient } from '#shared/clients';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { readApprovalConfig } from '../config.ts';
import { emailApprovers, refusalEmail } from '../email.ts';
import { ApprovalStore } from '../store.ts';
import { type DecideDeps, handleDecision } from './core.ts';

const config = readApprovalConfig();
const doc = makeDocumentClient();
const ses = makeClient(SESv2Client, { service: 'SESV2' });
const deps: DecideDeps = {
  store: new ApprovalStore(doc, config.tableName),
  recorder: makeRecorder(config, { client: doc }),
  sfn: makeClient(SFNClient, { service: 'SFN' }),
  alert: async (request, why) => {
    await emailApprovers(ses, config.sender, config.approvers, (to) => refusalEmail(request, to, why));
  },
  consolePrincipals: config.consolePrincipals,
  logger: createLogger('approval-decide'),
};

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler(
  async (event) => handleDecision(deps, event),
);
