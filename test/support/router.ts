/**
 * The router's dependencies on a test runtime: its table, its engine's playbooks, the settings a test
 * gives, and a silent logger. A test replaces what it watches (the recorder, the SFN client) by spreading.
 * And the finding the router tests route: the real GuardDuty EC2 finding, with its ids changed.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { AuditQueries } from '#shared/audit-queries';
import { makeClient } from '#shared/clients';
import { randomIds } from '#shared/clock';
import { createLogger } from '#shared/log';
import type { SettingsInput } from '#shared/settings';
import type { RouterDeps } from '../../functions/router/core.ts';
import { fixture, testSettings } from './fixtures.ts';
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

/**
 * The real GuardDuty EC2 finding (`guardduty/ec2-canary-stateless.detail.json`), the instance its actor,
 * with the finding id, instance, account and (when given) last-seen time given.
 */
export function ec2Finding(
  id: string,
  instanceId: string,
  account = '123456789012',
  lastSeen?: string,
): unknown {
  const finding = fixture('guardduty/ec2-canary-stateless.detail.json') as {
    id: string;
    accountId: string;
    resource: { instanceDetails: { instanceId: string } };
    service: { resourceRole: string; eventLastSeen: string };
  };
  finding.id = id;
  finding.accountId = account;
  finding.resource.instanceDetails.instanceId = instanceId;
  finding.service.resourceRole = 'ACTOR';
  if (lastSeen !== undefined) finding.service.eventLastSeen = lastSeen;
  return finding;
}
