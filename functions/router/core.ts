/**
 * The router's core: each finding of an event is deduplicated (a repeat delivery of a finding id starts
 * nothing), correlated (a finding on a resource with an open incident joins it), decided by the policy,
 * and its playbook started with an execution name derived from the incident, so that a repeat start is
 * idempotent. Every outcome is recorded; an event that cannot be read is kept whole with its reason. A
 * finding out of the organization's scope (scope.ts: its account and region) is recorded with why, and
 * nothing starts; in scope, its account's own modes and limit apply (the policy reads them).
 *
 * One resource flows from the policy's decision to everything that follows: the open-resource marker, the
 * incident (listed first), the triage step and the playbook's input. A finding that lists several (an ASFF
 * finding's `Resources`) is acted on where the policy chose, never on whichever it listed first.
 *
 * Round trips to the table, each a set of calls made together:
 * - a new finding: (1) the lock, with the reads the policy's mode needs beside it (the marker; the
 *   account's slots and the organization's when automatic); (2) one transaction: the incident, its triage
 *   step, the finding's link, the marker and the two slots (open.ts); then StartExecution; (3) the start
 *   step with the finding's status. 3 + 1.
 * - an identical repeat delivery: (1) the lock. One that reports a higher count or a later last-seen time
 *   raises them: (2) the finding's, with the incident's raise (one read of its head, (3) one write).
 * - a correlated finding: (1) the lock and the marker; (2) the holder's record verified (one Query);
 *   (3) the correlation step with the finding's link and status, raising the incident's last-seen time.
 * More only where a condition says so: a holder to judge, an expired slot's holder to read, a refusal.
 *
 * Concurrency: the finding item is the lock (of any number of deliveries exactly one finds it absent), the
 * open-resource marker decides correlation (one conditional write wins), and each automatic containment
 * takes one of its account's blast-radius slots and one of the organization's in the transaction that
 * records it automatic, so that both limits (a sliding window of 60 minutes, see
 * functions/shared/audit-slots.ts) hold under a storm. The finding and the marker are keyed by their
 * place: the same finding id, instance id or key id in two accounts never meet.
 *
 * The marker and the slots are coordination, not evidence: anyone who can write the table can point a
 * marker at any incident, or date a slot. So a finding joins the marker's holder only when the holder's
 * record verifies, is not finished, and names the resource; else the marker is taken over (conditionally,
 * from that holder) and a new incident opens, saying why. And an expired slot is taken over only when its
 * holder's record does not show it contained within the window.
 *
 * Whether a marker's or a slot's holder is believed is decided in holders.ts.
 */
import { ExecutionAlreadyExists, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { AuditRecorder, StoredIncident } from '#shared/audit';
import type { AccountSlots, AuditQueries } from '#shared/audit-queries';
import type { Place } from '#shared/audit-table';
import { awsCall } from '#shared/aws';
import type { IdSource } from '#shared/clock';
import type { Finding } from '#shared/domain';
import { ConditionsFailedError } from '#shared/errors';
import type { Logger } from '#shared/log';
import { describeError } from '#shared/log';
import { emitMetrics, METRICS } from '#shared/metrics';
import { executionName, playbookInput } from '#shared/playbook-input';
import type { PlaybookMode, Settings } from '#shared/settings';
import { normalizeEvent } from './normalize.ts';
import { openIncident } from './open.ts';
import { type Decision, decide, type PolicyContext } from './policy.ts';
import { type DuplicateOutcome, duplicateOf, repeated } from './repeat.ts';
import { type Scope, scopeOf } from './scope.ts';

export interface RouterDeps {
  readonly recorder: AuditRecorder;
  readonly queries: AuditQueries;
  readonly sfn: Pick<SFNClient, 'send'>;
  readonly settings: Settings;
  /** The state machine ARN of a playbook, or undefined when the stack has none by that id. */
  readonly playbookArn: (playbook: string) => string | undefined;
  readonly runtime: 'aws' | 'local';
  /**
   * The hub: the account and region Cordon is deployed in. A finding elsewhere is acted on only when the
   * organization's scope says so (scope.ts). Undefined (tests, the demo): no place is checked, only the
   * excluded accounts; the deployed router always gives it.
   */
  readonly home?: Place;
  /** The time of each decision, the blast-radius window included. */
  readonly now: () => Date;
  readonly ids: IdSource;
  readonly logger: Logger;
  /**
   * A delivery still `routing` after this long is taken to have died, and is taken over. Default 45 s:
   * longer than the router's 30 s timeout, shorter than Lambda's first asynchronous retry (about 1 minute),
   * so that the retry of a delivery that died finishes its work instead of being taken for a duplicate.
   */
  readonly staleAfterMs?: number;
}

export type RouteOutcome =
  | { outcome: 'rejected'; reason: string }
  | DuplicateOutcome
  | { outcome: 'no-action'; findingId: string; reasons: string[] }
  | { outcome: 'correlated'; findingId: string; incidentId: string }
  | {
      outcome: 'started';
      findingId: string;
      incidentId: string;
      playbook: string;
      mode: PlaybookMode;
      executionArn: string;
      reasons: string[];
    };

/** Routes one event; returns one outcome per finding (or one rejection). */
export async function routeEvent(deps: RouterDeps, event: unknown): Promise<RouteOutcome[]> {
  const result = normalizeEvent(event, deps.settings);
  if (result.kind === 'rejected') {
    await reject(deps, event, result.reason);
    return [{ outcome: 'rejected', reason: result.reason }];
  }
  const outcomes: RouteOutcome[] = [];
  for (const rejection of result.rejections) {
    const reason = `finding ${rejection.index}: ${rejection.reason}`;
    await reject(deps, event, reason);
    outcomes.push({ outcome: 'rejected', reason });
  }
  for (const finding of result.findings) outcomes.push(await routeFinding(deps, finding));
  return outcomes;
}

async function reject(deps: RouterDeps, event: unknown, reason: string): Promise<void> {
  await deps.queries.recordRejection(deps.ids(), deps.now().toISOString(), reason, event);
  deps.logger.warn('event rejected', { reason });
  // CloudWatch embedded metric format: counted without a PutMetricData call, whatever the log level.
  emitMetrics({ [METRICS.rejectedEvents]: { value: 1, unit: 'Count' } }, { timestamp: deps.now() });
}

/** A read made beside the lock: its value, or its error (which the routing fails closed on). */
type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

const settle = <T>(promise: Promise<T>): Promise<Settled<T>> =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

/** What the finding's record keeps of a decision. */
const decisionRecord = (decision: Decision) => ({
  playbook: decision.playbook,
  mode: decision.mode,
  reasons: decision.reasons,
});

/** The policy's decision; a finding out of scope sent to a person, with the policy's reasons and why. */
function decideIn(
  deps: RouterDeps,
  finding: Finding,
  scope: Scope,
  context: Omit<PolicyContext, 'runtime' | 'tags'>,
): Decision {
  const decision = decide(finding, { ...context, runtime: deps.runtime }, deps.settings);
  if (scope.inScope) return decision;
  return { playbook: null, resource: null, mode: 'none', reasons: [...decision.reasons, scope.reason] };
}

/** Routes one finding. */
export async function routeFinding(deps: RouterDeps, finding: Finding): Promise<RouteOutcome> {
  const { queries } = deps;
  const now = deps.now();
  const claimedAt = now.toISOString();
  // The scope and the policy first, on what the finding says (the limits not counted yet): its mode says
  // which reads the routing needs, so that only those are made, beside the lock. The limits only ever
  // lower `automatic`.
  const scope = scopeOf(finding, deps.settings, deps.home);
  const early = decideIn(deps, finding, scope, {
    automaticContainmentsLast60Minutes: 0,
    organizationContainmentsLast60Minutes: 0,
  });
  const acts = early.mode !== 'none' && early.playbook !== null && early.resource !== null;
  const automatic = early.mode === 'automatic';
  const candidate = deps.ids();
  const [claim, marker, slots, organizationSlots] = await Promise.all([
    queries.claimFinding({
      place: finding,
      findingId: finding.id,
      incidentId: candidate,
      count: finding.count ?? 1,
      lastSeen: finding.lastSeen,
      claimedAt,
      // Nothing to do: the lock records it routed, and a first delivery is done in one write.
      ...(acts ? {} : { routed: decisionRecord(early) }),
    }),
    acts && early.resource !== null ? settle(queries.openIncidentFor(finding, early.resource)) : undefined,
    automatic ? settle(queries.automaticSlots(finding.account, now)) : undefined,
    automatic ? settle(queries.organizationSlots(now)) : undefined,
  ]);
  let incidentId: string;
  if (claim.first) {
    if (!acts) return { outcome: 'no-action', findingId: finding.id, reasons: early.reasons };
    incidentId = candidate;
  } else {
    const repeat = await repeated(deps, finding, claim.earlier, now);
    if ('outcome' in repeat) return repeat.outcome;
    incidentId = repeat.incidentId;
  }
  try {
    return await routeClaimed(deps, finding, {
      incidentId,
      claimedAt,
      now,
      scope,
      early,
      marker,
      slots,
      organizationSlots,
    });
  } catch (error) {
    // Let the next delivery (EventBridge retries a failed target) take it over.
    await queries.setFindingStatus(finding, finding.id, 'failed').catch(() => undefined);
    throw error;
  }
}

/** A finding this delivery holds the claim of, with what was read beside the lock. */
interface Claimed {
  readonly incidentId: string;
  readonly claimedAt: string;
  readonly now: Date;
  readonly scope: Scope;
  /** The policy's decision before the limits were counted. */
  readonly early: Decision;
  readonly marker: Settled<string | undefined> | undefined;
  readonly slots: Settled<AccountSlots> | undefined;
  readonly organizationSlots: Settled<AccountSlots> | undefined;
}

async function routeClaimed(deps: RouterDeps, finding: Finding, claimed: Claimed): Promise<RouteOutcome> {
  const { queries, recorder } = deps;
  const { incidentId, claimedAt, now } = claimed;
  let decision = claimed.early;
  const slots = claimed.slots?.ok ? claimed.slots.value : undefined;
  const organizationSlots = claimed.organizationSlots?.ok ? claimed.organizationSlots.value : undefined;
  if (slots !== undefined && organizationSlots !== undefined) {
    // A take-over finishes the work of a delivery that may have taken its slots already: those are its own.
    const others = slots.holders.filter((holder) => holder.incidentId !== incidentId);
    const inOrganization = organizationSlots.holders.filter((holder) => holder.incidentId !== incidentId);
    decision = decideIn(deps, finding, claimed.scope, {
      automaticContainmentsLast60Minutes: others.length,
      automaticContainments: others,
      organizationContainmentsLast60Minutes: inOrganization.length,
      organizationContainments: inOrganization,
    });
  } else if (decision.mode === 'automatic') {
    // Fail closed: without the counts the blast-radius limits cannot be enforced.
    const failed = [claimed.slots, claimed.organizationSlots].flatMap((read) =>
      read !== undefined && !read.ok ? [describeError(read.error).message] : [],
    );
    decision = {
      ...decision,
      mode: 'approval-first',
      reasons: [...decision.reasons, `blast-radius count unavailable: ${failed.join('; ')}`],
    };
  }
  if (decision.mode === 'none' || decision.playbook === null || decision.resource === null) {
    await queries.setFindingStatus(finding, finding.id, 'routed', decisionRecord(decision));
    return { outcome: 'no-action', findingId: finding.id, reasons: decision.reasons };
  }
  const { playbook, resource } = decision;
  // Not a real incident: a dry run changes nothing, and the local runtime's is a rehearsal; else a sample
  // finding's is marked `sample` (incidentFrom's default).
  const rehearsal =
    decision.mode === 'dry-run' ? 'dry-run' : deps.runtime === 'local' ? 'rehearsal' : undefined;
  const opening = await openIncident(deps, {
    finding,
    incidentId,
    claimedAt,
    playbook,
    resource,
    mode: decision.mode,
    reasons: decision.reasons,
    ...(rehearsal === undefined ? {} : { rehearsal }),
    // A marker that could not be read is taken as none: the opening's condition says otherwise if so.
    marker: claimed.marker?.ok ? claimed.marker.value : undefined,
    slots,
    organizationSlots,
    now,
  });
  if (opening.kind === 'taken-over') return duplicateOf(finding, opening.finding, incidentId);
  if (opening.kind === 'joined') {
    return correlate(deps, finding, resource.id, opening, claimedAt);
  }
  const { mode, reasons } = opening;
  const target = { type: resource.type, id: resource.id };
  const routed = (more: readonly string[] = []) => ({
    label: 'finding',
    write: queries.findingWrite(finding, finding.id, {
      status: 'routed',
      decision: { playbook, resource: target, mode, reasons: [...reasons, ...more] },
    }),
  });

  const stateMachineArn = deps.playbookArn(playbook);
  if (!stateMachineArn) {
    const note = `no state machine for playbook ${playbook} in this deployment`;
    await recorder.appendStep(
      incidentId,
      { phase: 'identification', action: 'start-playbook', status: 'skipped', actor: 'automation', note },
      { alongside: [routed([note])] },
    );
    return { outcome: 'no-action', findingId: finding.id, reasons: [...reasons, note] };
  }
  const name = executionName(incidentId, playbook);
  const input = playbookInput(incidentId, finding, resource, mode, reasons);
  const executionOf = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  let executionArn: string;
  try {
    const started = await awsCall(`states:StartExecution ${name}`, () =>
      deps.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })),
    );
    executionArn = started.executionArn ?? executionOf;
  } catch (error) {
    if (
      !(
        error instanceof ExecutionAlreadyExists ||
        (error instanceof Error && error.name === 'ExecutionAlreadyExists')
      )
    ) {
      // What failed is recorded, with the finding `failed` for a later delivery to take over.
      await recorder
        .appendStep(
          incidentId,
          {
            phase: 'identification',
            action: 'start-playbook',
            status: 'failed',
            actor: 'automation',
            input: { playbook, mode, name },
            error: describeError(error),
            note: `${playbook} could not be started; a later delivery of the finding takes it over`,
          },
          {
            alongside: [
              { label: 'finding', write: queries.findingWrite(finding, finding.id, { status: 'failed' }) },
            ],
          },
        )
        .catch(() => undefined);
      throw error;
    }
    // Started by an earlier delivery of this finding.
    executionArn = executionOf;
  }
  await recorder.appendStep(
    incidentId,
    {
      phase: 'identification',
      action: 'start-playbook',
      status: 'succeeded',
      actor: 'automation',
      input: { playbook, mode, name },
      executionArn,
      note: `${playbook} started in ${mode} mode`,
    },
    { alongside: [routed()] },
  );
  return { outcome: 'started', findingId: finding.id, incidentId, playbook, mode, executionArn, reasons };
}

/**
 * Joins the finding to the open incident its marker names (verified just before, so the recorder knows
 * its head): one write, the correlation step with the finding's link and status beside it, raising the
 * incident's last-seen time when the finding's is later. Refused when another delivery took the finding
 * over meanwhile: that one joins it.
 */
async function correlate(
  deps: RouterDeps,
  finding: Finding,
  resourceId: string,
  joined: { readonly holder: string; readonly incident: StoredIncident },
  claimedAt: string,
): Promise<RouteOutcome> {
  const { holder, incident } = joined;
  try {
    await deps.recorder.appendStep(
      holder,
      {
        phase: 'identification',
        action: 'correlate-finding',
        status: 'noted',
        actor: 'automation',
        input: { findingId: finding.id, type: finding.type, severity: finding.severity },
        note: `finding ${finding.id} (${finding.type}) on ${resourceId} joined the open incident`,
      },
      {
        alongside: [
          {
            label: 'finding',
            write: deps.queries.findingWrite(finding, finding.id, {
              incidentId: holder,
              status: 'routed',
              claimedAt,
            }),
          },
        ],
        // A last-seen time is only ever raised: when the verified incident's is not earlier, nothing changes.
        ...(finding.lastSeen > incident.lastSeen ? { raiseLastSeen: finding.lastSeen } : {}),
      },
    );
  } catch (error) {
    const taken = error instanceof ConditionsFailedError && error.failed.find((f) => f.label === 'finding');
    if (taken) return duplicateOf(finding, taken.item, holder);
    throw error;
  }
  return { outcome: 'correlated', findingId: finding.id, incidentId: holder };
}
