/** Receives Step Functions' execution status changes for Cordon's playbooks (see core.ts). */
import middy from '@middy/core';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { releaseOpenMarkers } from '#shared/open-markers';
import { makeRecorder } from '#shared/record';
import { type PlaybookEndedOutcome, playbookEnded } from './core.ts';

const config = readAuditConfig();
const documents = makeDocumentClient();
const recorder = makeRecorder(config, { client: documents });
const logger = createLogger('playbook-ended');

export const handler = middy<unknown, PlaybookEndedOutcome>().handler(async (event) => {
  const outcome = await playbookEnded(
    {
      recorder,
      releaseOpen: (incidentId, resourceIds) =>
        releaseOpenMarkers(documents, config.tableName, incidentId, resourceIds),
      logger,
    },
    event,
  );
  logger.info('playbook ended', { ...outcome });
  return outcome;
});
