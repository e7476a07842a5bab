/**
 * The router's dependencies on a test runtime: its table, its engine's playbooks, the settings a test
 * gives, and a silent logger. A test replaces what it watches (the recorder, the SFN client, the hub) by
 * spreading. And the findings the router tests route: the real GuardDuty EC2 and IAM findings, with their
 * ids and places changed.
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

/**
 * The organization's limit unless a test gives one. Every test of a file routes into one table, and so
 * into one organization's slots: a test of an account's limit, or of correlation, is not to be limited by
 * the containments of the file's other tests. The tests of the organization's limit give theirs.
 */
export const TEST_ORGANIZATION_LIMIT = 1000;

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
    settings: testSettings({
      ...settings,
      organization: { maxAutomaticContainmentsPerHour: TEST_ORGANIZATION_LIMIT, ...settings.organization },
    }),
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
  region?: string,
): unknown {
  const finding = fixture('guardduty/ec2-canary-stateless.detail.json') as {
    id: string;
    accountId: string;
    region: string;
    resource: { instanceDetails: { instanceId: string } };
    service: { resourceRole: string; eventLastSeen: string };
  };
  finding.id = id;
  finding.accountId = account;
  if (region !== undefined) finding.region = region;
  finding.resource.instanceDetails.instanceId = instanceId;
  finding.service.resourceRole = 'ACTOR';
  if (lastSeen !== undefined) finding.service.eventLastSeen = lastSeen;
  return finding;
}

/**
 * The real GuardDuty IAM finding (`guardduty/iam-tor-ip-caller.eventbridge.json`), not a sample, with the
 * finding id, access key, account and region given: an IAM user's key, contained automatically.
 */
export function iamFinding(id: string, accessKeyId: string, account: string, region: string): unknown {
  const event = fixture('guardduty/iam-tor-ip-caller.eventbridge.json') as {
    account: string;
    region: string;
    detail: {
      id: string;
      accountId: string;
      region: string;
      resource: { accessKeyDetails: { accessKeyId: string } };
      service: { additionalInfo: { sample?: boolean } };
    };
  };
  event.account = account;
  event.region = region;
  event.detail.id = id;
  event.detail.accountId = account;
  event.detail.region = region;
  event.detail.resource.accessKeyDetails.accessKeyId = accessKeyId;
  delete event.detail.service.additionalInfo.sample;
  return event;
}

/** A finding's place, as the record's keys take it. */
export function placeOf(account: string, region = 'us-east-1'): { account: string; region: string } {
  return { account, region };
}
