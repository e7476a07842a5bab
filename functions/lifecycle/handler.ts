/** The console lifecycle behind the approval API's IAM-authorized routes. See `./core.ts`. */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { makeHandler } from '#shared/define-function';
import { releaseOpenMarkers } from '#shared/open-markers';
import { readApprovalConfig } from '../approval/config.ts';
import { handleLifecycle, type LifecycleHttpDeps } from './core.ts';

export const handler = makeHandler({
  name: 'incident-lifecycle',
  config: readApprovalConfig,
  deps: ({ config, documents, recorder, logger }): LifecycleHttpDeps => ({
    recorder,
    releaseOpen: (incidentId, markers) =>
      releaseOpenMarkers(documents, config.tableName, incidentId, markers),
    consolePrincipals: config.consolePrincipals,
    logger,
  }),
  run: (deps, event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> =>
    handleLifecycle(deps, event),
});
