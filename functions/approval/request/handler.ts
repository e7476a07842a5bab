/** The approval request function: the gate's `.waitForTaskToken` task. See `./core.ts`. */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import middy from '@middy/core';
import { makeClient } from '#shared/clients';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { readApprovalRequestConfig } from '../config.ts';
import { ApprovalStore } from '../store.ts';
import { type RequestResult, requestApproval } from './core.ts';

const config = readApprovalRequestConfig();
const doc = makeDocumentClient();
const deps = {
  store: new ApprovalStore(doc, config.tableName),
  recorder: makeRecorder(config, { client: doc }),
  ses: makeClient(SESv2Client, { service: 'SESV2' }),
  approvers: config.approvers,
  sender: config.sender,
  baseUrl: config.baseUrl,
  logger: createLogger('approval-request'),
};

export const handler = middy<unknown, RequestResult>().handler(async (event) => requestApproval(deps, event));
