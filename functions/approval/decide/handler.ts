/** The decision function behind the approval HTTP API. See `./core.ts`. */
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { AuditRecorder } from '#shared/audit';
import { makeClient } from '#shared/clients';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { ApprovalStore } from '../store.ts';
import { type DecideDeps, handleDecision } from './core.ts';

const config = readAuditConfig();
const doc = makeDocumentClient();
const deps: DecideDeps = {
  store: new ApprovalStore(doc, config.tableName),
  recorder: new AuditRecorder({ client: doc, tableName: config.tableName }),
  sfn: makeClient(SFNClient, { service: 'SFN' }),
  logger: createLogger('approval-decide'),
};

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler(
  async (event) => handleDecision(deps, event),
);
