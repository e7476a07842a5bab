/**
 * What the organization tests share: the real GuardDuty findings of test/fixtures/events normalized as the
 * router normalizes them and placed in another account and region (the fixture files unchanged), the
 * sandbox seed that holds what each names, the hub's router on the local runtime (as the demo drives it:
 * `home` the hub, `runtime: 'local'`), and a started playbook run to its end with its approvals answered.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { AuditQueries } from '#shared/audit-queries';
import type { Place } from '#shared/audit-table';
import { makeClient } from '#shared/clients';
import { randomIds } from '#shared/clock';
import type { Finding } from '#shared/domain';
import { createLogger } from '#shared/log';
import { parseSettings, type Settings } from '#shared/settings';
import settingsFile from '../../../cordon.config.ts';
import { type RouteOutcome, type RouterDeps, routeFinding } from '../../../functions/router/core.ts';
import { normalizeEvent } from '../../../functions/router/normalize.ts';
import type { ExecutionResult } from '../../../local/engine/types.ts';
import { LOCAL_ACCOUNT } from '../../../local/runtime.ts';
import type { AccountSeed } from '../../../local/sandbox/index.ts';
import { accountSeedForEvent } from '../../../local/seed-from-finding.ts';
import { LOCAL_REGION } from '../../../local/store.ts';
import { fixture } from '../../support/fixtures.ts';
import { answerApprovals } from '../../support/playbook.ts';
import type { TestRuntime } from '../../support/runtime.ts';

/** The real EC2 finding on instance `i-99999999` (a sample, the instance its target: approval first). */
export const EC2_EVENT = 'guardduty/ec2-backdoor-c2-dns.eventbridge.json';
/** The real IAM finding on the IAM user's key `GeneratedFindingAccessKeyId` (contained automatically). */
export const IAM_EVENT = 'guardduty/iam-tor-ip-caller.eventbridge.json';

export const HUB: Place = { account: LOCAL_ACCOUNT, region: LOCAL_REGION };
export const EU = 'eu-west-1';
export const responderArn = (account: string) => `arn:aws:iam::${account}:role/cordon-responder`;

let made = 0;

/** A fixture's first normalized finding, as the router reads it. */
function normalized(event: string, settings: Settings): Finding {
  const result = normalizeEvent(fixture(event), settings);
  const [finding] = result.kind === 'findings' ? result.findings : [];
  if (!finding) throw new Error(`${event} gives no finding: ${JSON.stringify(result)}`);
  return finding;
}

/**
 * The fixture's finding as the router would have it from `place`: a new finding id (so that it is not a
 * repeat of an earlier test's), and, when given, another id for its resource.
 */
export function findingAt(
  event: string,
  place: Place,
  settings: Settings,
  options: { readonly resourceId?: string } = {},
): Finding {
  const finding = normalized(event, settings);
  const [resource, ...rest] = finding.resources;
  if (!resource) throw new Error(`${event} names no resource`);
  return {
    ...finding,
    id: `${finding.id}-${++made}-${Date.now()}`,
    account: place.account,
    region: place.region,
    resources: [{ ...resource, id: options.resourceId ?? resource.id }, ...rest],
  };
}

/** The settings of cordon.config.ts, which the runtime's stack is built from (before its organization). */
export const configSettings = (): Settings => parseSettings(settingsFile);

/** An account seed holding what the fixture's finding names (local/seed-from-finding.ts, as `cordon run`). */
export function seedOf(event: string, settings: Settings): AccountSeed {
  return accountSeedForEvent(fixture(event), normalized(event, settings).resources);
}

/**
 * The seeds of the two fixtures' resources (the instance, and the key with its user), as `cordon run` makes
 * them: `both` for an account that holds them all, `instance` for one that holds the instance alone.
 */
export function fixtureSeeds(settings: Settings = configSettings()): {
  both: AccountSeed;
  instance: AccountSeed;
} {
  const instance = seedOf(EC2_EVENT, settings);
  return { both: { ...instance, ...seedOf(IAM_EVENT, settings) }, instance };
}

/** The hub's router on the local runtime, as the demo drives it, with the runtime's stack settings by default. */
export function hubRouter(t: TestRuntime, settings?: Settings): RouterDeps {
  const arns = new Map(t.runtime.engine.playbooks().map((p) => [p.id, p.arn]));
  const stack = t.runtime.settings;
  if (!stack) throw new Error('the runtime has no stack settings');
  return {
    recorder: t.runtime.recorder,
    queries: new AuditQueries(t.table.doc, t.table.tableName),
    sfn: makeClient(SFNClient, { service: 'SFN' }),
    settings: settings ?? stack,
    playbookArn: (id) => arns.get(id),
    runtime: 'local',
    home: HUB,
    now: () => new Date(),
    ids: randomIds,
    logger: createLogger('organization-test', { level: 'silent' }),
  };
}

export type Started = Extract<RouteOutcome, { outcome: 'started' }>;

export function started(outcome: RouteOutcome): Started {
  if (outcome.outcome !== 'started') throw new Error(`not started: ${JSON.stringify(outcome)}`);
  return outcome;
}

/** Routes the finding and expects a start. */
export async function route(deps: RouterDeps, finding: Finding): Promise<Started> {
  return started(await routeFinding(deps, finding));
}

/**
 * Runs a started playbook to its end, answering its approval emails in order with `decisions` (as an
 * approver's browser does), and waits until its end is recorded.
 */
export async function runToEnd(
  t: TestRuntime,
  outcome: Started,
  decisions: readonly ('approve' | 'reject')[] = [],
  emailsBefore = 0,
): Promise<ExecutionResult> {
  const stop = answerApprovals(t.runtime, outcome.incidentId, decisions, emailsBefore);
  try {
    const result = await t.runtime.engine.execution(outcome.executionArn).done;
    await t.runtime.settled();
    return result;
  } finally {
    stop();
  }
}
