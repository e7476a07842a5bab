/** Receives Step Functions' execution status changes for Cordon's playbooks (see core.ts). */
import { makeHandler } from '#shared/define-function';
import { type OpenMarkerRef, releaseOpenMarkers } from '#shared/open-markers';
import { type PlaybookEndedOutcome, playbookEnded } from './core.ts';

export const handler = makeHandler({
  name: 'playbook-ended',
  deps: ({ config, documents, recorder, logger }) => ({
    recorder,
    releaseOpen: (incidentId: string, markers: readonly OpenMarkerRef[]) =>
      releaseOpenMarkers(documents, config.tableName, incidentId, markers),
    logger,
  }),
  run: async (deps, event: unknown): Promise<PlaybookEndedOutcome> => {
    const outcome = await playbookEnded(deps, event);
    deps.logger.info('playbook ended', { ...outcome });
    return outcome;
  },
});
