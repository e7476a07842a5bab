/**
 * The router: EventBridge delivers GuardDuty findings, CloudWatch alarm state changes and Security Hub
 * findings here. A delivery that fails is retried by EventBridge and, past its retries, kept in the
 * dead-letter queue; an event that cannot be read is kept in the record with its reason.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { AuditQueries } from '#shared/audit-queries';
import { randomIds } from '#shared/clock';
import { requireEnv } from '#shared/config';
import { makeHandler } from '#shared/define-function';
import { ConfigError } from '#shared/errors';
import { type RouteOutcome, routeEvent } from './core.ts';

/** The environment variable holding `{ "<playbook id>": "<state machine ARN>" }`. */
export const PLAYBOOK_ARNS_ENV = 'CORDON_PLAYBOOK_ARNS';

function readPlaybookArns(): Record<string, string> {
  const raw = requireEnv(PLAYBOOK_ARNS_ENV);
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not an object');
    return Object.fromEntries(
      Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
  } catch (error) {
    throw new ConfigError(
      `${PLAYBOOK_ARNS_ENV} must be a JSON object of playbook ids to ARNs: ${(error as Error).message}`,
    );
  }
}

export const handler = makeHandler({
  name: 'router',
  clients: { sfn: SFNClient },
  deps: ({ config, documents, recorder, clients, settings, logger }) => {
    const playbookArns = readPlaybookArns();
    return {
      recorder,
      queries: new AuditQueries(documents, config.tableName),
      sfn: clients.sfn,
      settings,
      playbookArn: (playbook: string) => playbookArns[playbook],
      runtime: 'aws' as const,
      home: { account: requireEnv('CORDON_ACCOUNT'), region: requireEnv('AWS_REGION') },
      now: () => new Date(),
      ids: randomIds,
      logger,
    };
  },
  run: async (deps, event: unknown): Promise<RouteOutcome[]> => {
    const outcomes = await routeEvent(deps, event);
    for (const outcome of outcomes) deps.logger.info('routed', { ...outcome });
    return outcomes;
  },
});
