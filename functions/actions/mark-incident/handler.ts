/** `mark-incident`: records an incident's status and times as the playbook reaches them. */
import middy from '@middy/core';
import type { ActionEvent, ActionResult } from '#shared/action';
import { auditStep } from '#shared/audit-middleware';
import { readAuditConfig } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { emitMetrics, METRICS } from '#shared/metrics';
import { releaseOpenMarkers } from '#shared/open-markers';
import { makeRecorder } from '#shared/record';
import { markIncident } from './core.ts';

const config = readAuditConfig();
const documents = makeDocumentClient();
const recorder = makeRecorder(config, { client: documents });
const logger = createLogger('mark-incident');

export const handler = middy<ActionEvent, ActionResult>()
  .use(auditStep({ recorder, phase: 'lessons-learned', action: 'mark-incident', logger }))
  .handler(async (event) =>
    markIncident(
      {
        recorder,
        releaseOpen: (incidentId, resourceIds) =>
          releaseOpenMarkers(documents, config.tableName, incidentId, resourceIds),
        now: () => new Date(),
        emitTimeToContain: (seconds) =>
          emitMetrics({ [METRICS.timeToContainSeconds]: { value: seconds, unit: 'Seconds' } }),
      },
      event,
    ),
  );
