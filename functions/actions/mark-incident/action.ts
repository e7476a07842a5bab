/** `mark-incident`: records an incident's status and times as the playbook reaches them. */
import { defineAction } from '#shared/define-action';
import { emitMetrics, METRICS } from '#shared/metrics';
import { type OpenMarkerRef, releaseOpenMarkers } from '#shared/open-markers';
import { markIncident } from './core.ts';

export const action = defineAction({
  name: 'mark-incident',
  phase: 'lessons-learned',
  description: "Records an incident's status and times",
  clients: {},
  calls: {},
  deps: ({ recorder, documents, config }) => ({
    recorder,
    releaseOpen: (incidentId: string, markers: readonly OpenMarkerRef[]) =>
      releaseOpenMarkers(documents, config.tableName, incidentId, markers),
    now: () => new Date(),
    emitTimeToContain: (seconds: number) =>
      emitMetrics({ [METRICS.timeToContainSeconds]: { value: seconds, unit: 'Seconds' } }),
  }),
  core: markIncident,
});
