/**
 * The router's dependencies on a test runtime: its table, its engine's playbooks, the settings a test
 * gives, and a silent logger. A test replaces what it watches (the recorder, the SFN client) by spreading.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { AuditQueries } from '#shared/audit-queries';
import { makeClient } from '#shared/clients';
import { randomIds } from '#shared/clock';
import { createLogger } from '#shared/log';
import type { SettingsInput } from '#shared/settings';
import type { RouterDeps } from '../../functions/router/core.ts';
import { testSettings } from './fixtures.ts';
import type { TestRuntime } from './runtime.ts';

export function routerDeps(
  t: TestRuntime,
  settings: Partial<SettingsInput> = {},
  now: () => Date = () => new Date(),
): RouterDeps {
  const arns = new Map(t.runtime.engine.playbooks().map((p) => [p.id, p.arn]));
  return {
    recorder: t.runtime.recorder,
    queries: new AuditQueries(t.table.doc, t.table.tableName),
    sfn: makeClient(SFNClient, { service: 'SFN' }),
    settings: testSettings(settings),
    playbookArn: (id) => arns.get(id),
    runtime: 'aws',
    now,
    ids: randomIds,
    logger: createLogger('router-test', { level: 'silent' }),
  };
}
