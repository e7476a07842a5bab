/** The approval timeout function: the gate's `Catch` on `States.Timeout`. See `./core.ts`. */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import middy from '@middy/core';
import { makeClient } from '#shared/clients';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeRecorder } from '#shared/record';
import { readApprovalConfig } from '../config.ts';
import { ApprovalStore } from '../store.ts';
import { applyTimeout, type TimeoutDeps, type TimeoutResult } from './core.ts';

const config = readApprovalConfig();
const doc = makeDocumentClient();
const deps: TimeoutDeps = {
  store: new ApprovalStore(doc, config.tableName),
  recorder: makeRecorder(config, { client: doc }),
  ses: makeClient(SESv2Client, { service: 'SESV2' }),
  sender: config.sender,
  logger: createLogger('approval-timeout'),
};

export const handler = middy<unknown, TimeoutResult>().handler(async (event) => applyTimeout(deps, event));
