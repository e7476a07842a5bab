/** The console lifecycle behind the approval API's IAM-authorized routes. See `./core.ts`. */
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { releaseOpenMarkers } from '#shared/open-markers';
import { makeRecorder } from '#shared/record';
import { readApprovalConfig } from '../approval/config.ts';
import { handleLifecycle, type LifecycleHttpDeps } from './core.ts';

const config = readApprovalConfig();
const documents = makeDocumentClient();
const deps: LifecycleHttpDeps = {
  recorder: makeRecorder(config, { client: documents }),
  releaseOpen: (incidentId, resourceIds) =>
    releaseOpenMarkers(documents, config.tableName, incidentId, resourceIds),
  consolePrincipals: config.consolePrincipals,
  logger: createLogger('incident-lifecycle'),
};

export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>().handler(
  async (event) => handleLifecycle(deps, event),
);
