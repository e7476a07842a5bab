/**
 * The router's core: each finding of an event is deduplicated (a repeat delivery of a finding id starts
 * nothing), correlated (a finding on a resource with an open incident joins it), decided by the policy,
 * and its playbook started with an execution name derived from the incident, so that a repeat start is
 * idempotent. Every outcome is recorded; an event that cannot be read is kept whole with its reason.
 *
 * One resource flows from the policy's decision to everything that follows: the open-resource marker, the
 * incident (listed first), the triage step and the playbook's input. A finding that lists several (an ASFF
 * finding's `Resources`) is acted on where the policy chose, never on whichever it listed first.
 *
 * Concurrency: the finding item is the lock (one conditional put wins among any number of deliveries),
 * the open-resource marker decides correlation (one conditional put wins), and each automatic containment
 * takes one of its account's blast-radius slots with a conditional update, so the limit (a sliding window
 * of 60 minutes, see `AuditQueries.reserveAutomatic`) holds under a storm.
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
import type { AuditRecorder } from '#shared/audit';
import { type AccountSlots, type AuditQueries, datedInTheFuture } from '#shared/audit-queries';
import { awsCall } from '#shared/aws';
import type { IdSource } from '#shared/clock';
import type { Finding } from '#shared/domain';
import { ValidationError } from '#shared/errors';
import { incidentFrom } from '#shared/incident-from';
import type { Logger } from '#shared/log';
import { describeError } from '#shared/log';
import { emitMetrics, METRICS } from '#shared/metrics';
import { executionName, playbookInput } from '#shared/playbook-input';
import type { PlaybookMode, Settings } from '#shared/settings';
import { claimResource, slotStillHeld } from './holders.ts';
import { normalizeEvent } from './normalize.ts';
import { blastRadiusReason, type Decision, decide } from './policy.ts';

export interface RouterDeps {
  readonly recorder: AuditRecorder;
  readonly queries: AuditQueries;
  readonly sfn: Pick<SFNClient, 'send'>;
  readonly settings: Settings;
  /** The state machine ARN of a playbook, or undefined when the stack has none by that id. */
  readonly playbookArn: (playbook: string) => string | undefined;
  readonly runtime: 'aws' | 'local';
  /**
   * The account and region Cordon's actions run in. A finding elsewhere (a member account, another region
   * through aggregation) is not acted on: the actions would change same-named resources here.
   */
  readonly home?: { readonly account: string; readonly region: string };
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
  | { outcome: 'duplicate'; findingId: string; incidentId: string; deliveries: number }
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

/** Routes one finding. */
export async function routeFinding(deps: RouterDeps, finding: Finding): Promise<RouteOutcome> {
  const { queries } = deps;
  const now = deps.now();
  let incidentId = deps.ids();
  const first = await queries.recordFinding(
    finding.id,
    incidentId,
    finding.count ?? 1,
    finding.lastSeen,
    now.toISOString(),
  );
  if (!first) {
    const staleBefore = new Date(now.getTime() - (deps.staleAfterMs ?? 45_000)).toISOString();
    const record = await queries.recordRepeat(finding.id, finding.count ?? 1, finding.lastSeen);
    if (!(await queries.takeOverFinding(finding.id, staleBefore, now.toISOString()))) {
      await deps.recorder.raiseLastSeen(record.incidentId, record.lastSeen).catch(() => undefined);
      return {
        outcome: 'duplicate',
        findingId: finding.id,
        incidentId: record.incidentId,
        deliveries: record.deliveries,
      };
    }
    // An earlier delivery failed or died part way: finish its work, with its incident id.
    incidentId = record.incidentId;
  }
  try {
    const outcome = await routeClaimed(deps, finding, incidentId);
    return outcome;
  } catch (error) {
    // Let the next delivery (EventBridge retries a failed target) take it over.
    await queries.setFindingStatus(finding.id, 'failed').catch(() => undefined);
    throw error;
  }
}

async function routeClaimed(deps: RouterDeps, finding: Finding, candidateId: string): Promise<RouteOutcome> {
  const { queries, recorder, settings } = deps;
  const now = deps.now();
  let slots: AccountSlots | undefined;
  let countError: string | undefined;
  try {
    slots = await queries.automaticSlots(finding.account, now);
  } catch (error) {
    countError = describeError(error).message;
  }
  // A take-over finishes the work of a delivery that may have taken a slot already: that slot is its own.
  const others = slots?.holders.filter((holder) => holder.incidentId !== candidateId);
  let decision: Decision = decide(
    finding,
    {
      automaticContainmentsLast60Minutes: others?.length ?? 0,
      ...(others === undefined ? {} : { automaticContainments: others }),
      runtime: deps.runtime,
    },
    settings,
  );
  if (
    deps.home &&
    decision.mode !== 'none' &&
    (finding.account !== deps.home.account || finding.region !== deps.home.region)
  ) {
    decision = {
      playbook: null,
      resource: null,
      mode: 'none',
      reasons: [
        ...decision.reasons,
        `the finding is in ${finding.account}/${finding.region}; Cordon acts only in ${deps.home.account}/${deps.home.region} (no responder role in other accounts yet): a person must respond`,
      ],
    };
  }
  if (countError !== undefined && decision.mode === 'automatic') {
    // Fail closed: without the count the blast-radius limit cannot be enforced.
    decision = {
      ...decision,
      mode: 'approval-first',
      reasons: [...decision.reasons, `blast-radius count unavailable: ${countError}`],
    };
  }
  if (decision.mode === 'none' || decision.playbook === null || decision.resource === null) {
    await queries.setFindingStatus(finding.id, 'routed', {
      playbook: decision.playbook,
      mode: decision.mode,
      reasons: decision.reasons,
    });
    return { outcome: 'no-action', findingId: finding.id, reasons: decision.reasons };
  }
  const { playbook, resource } = decision;
  const target = { type: resource.type, id: resource.id };

  const claim = await claimResource(deps, resource.id, candidateId);
  if (claim.kind === 'joined') {
    const { holder, incident } = claim;
    await queries.linkFinding(finding.id, holder);
    await recorder.appendStep(holder, {
      phase: 'identification',
      action: 'correlate-finding',
      status: 'noted',
      actor: 'automation',
      input: { findingId: finding.id, type: finding.type, severity: finding.severity },
      note: `finding ${finding.id} (${finding.type}) on ${resource.id} joined the open incident`,
    });
    // A last-seen time is only ever raised: when the verified incident's is not earlier, nothing is read.
    if (finding.lastSeen > incident.lastSeen) await recorder.raiseLastSeen(holder, finding.lastSeen);
    await queries.setFindingStatus(finding.id, 'routed');
    return { outcome: 'correlated', findingId: finding.id, incidentId: holder };
  }

  const incidentId = candidateId;
  try {
    // Not a real incident: a dry run changes nothing, and the local runtime's is a rehearsal; else a
    // sample finding's is marked `sample` (incidentFrom's default).
    const rehearsal =
      decision.mode === 'dry-run' ? 'dry-run' : deps.runtime === 'local' ? 'rehearsal' : undefined;
    await recorder.openIncident(incidentFrom(finding, playbook, resource, incidentId, rehearsal));
    emitMetrics({ [METRICS.incidentsOpened]: { value: 1, unit: 'Count' } }, { timestamp: now });
  } catch (error) {
    // A take-over finds the incident an earlier delivery opened: carry on with it.
    if (!(error instanceof ValidationError && /already exists/.test(error.message))) throw error;
  }

  let mode: PlaybookMode = decision.mode;
  const reasons = [...decision.reasons, ...claim.notes];
  for (const forged of (others ?? []).filter((holder) => datedInTheFuture(holder, now))) {
    const note = `blast-radius slot ${forged.slot} of ${finding.account} says ${forged.incidentId} took it at ${forged.takenAt}, later than now: no router wrote that, and it counts against the limit until a person removes it`;
    deps.logger.warn('a blast-radius slot is dated in the future', { ...forged, account: finding.account });
    reasons.push(note);
  }
  if (mode === 'automatic') {
    const limit = settings.maxAutomaticContainmentsPerHour;
    let reserved = false;
    try {
      const reservation = await queries.reserveAutomatic({
        account: finding.account,
        incidentId,
        resourceId: resource.id,
        limit,
        now,
        ...(slots === undefined ? {} : { known: slots }),
        stillHeld: (expired) => slotStillHeld(deps, finding.account, expired, now),
      });
      reserved = reservation.reserved;
      if (!reservation.reserved)
        reasons.push(
          blastRadiusReason(finding.account, limit, reservation.holders.length, reservation.holders),
          ...reservation.kept,
        );
    } catch (error) {
      reasons.push(`blast-radius counter unavailable (${describeError(error).message}): sent to a person`);
    }
    if (!reserved) mode = 'approval-first';
  }
  await recorder.appendStep(incidentId, {
    phase: 'identification',
    action: 'triage',
    status: 'succeeded',
    actor: 'automation',
    input: { findingId: finding.id, source: finding.source, type: finding.type, severity: finding.severity },
    changes: { playbook, mode, resource: target },
    note: reasons.join('; '),
  });

  const stateMachineArn = deps.playbookArn(playbook);
  if (!stateMachineArn) {
    const note = `no state machine for playbook ${playbook} in this deployment`;
    await recorder.appendStep(incidentId, {
      phase: 'identification',
      action: 'start-playbook',
      status: 'skipped',
      actor: 'automation',
      note,
    });
    await queries.setFindingStatus(finding.id, 'routed', {
      playbook,
      resource: target,
      mode,
      reasons: [...reasons, note],
    });
    return { outcome: 'no-action', findingId: finding.id, reasons: [...reasons, note] };
  }
  const name = executionName(incidentId, playbook);
  const input = playbookInput(incidentId, finding, resource, mode, reasons);
  let executionArn: string;
  try {
    const started = await awsCall(`states:StartExecution ${name}`, () =>
      deps.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })),
    );
    executionArn =
      started.executionArn ?? `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  } catch (error) {
    if (
      !(
        error instanceof ExecutionAlreadyExists ||
        (error instanceof Error && error.name === 'ExecutionAlreadyExists')
      )
    ) {
      throw error;
    }
    // Started by an earlier delivery of this finding.
    executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
  }
  await recorder.appendStep(incidentId, {
    phase: 'identification',
    action: 'start-playbook',
    status: 'succeeded',
    actor: 'automation',
    input: { playbook, mode, name },
    executionArn,
    note: `${playbook} started in ${mode} mode`,
  });
  await queries.setFindingStatus(finding.id, 'routed', { playbook, resource: target, mode, reasons });
  return { outcome: 'started', findingId: finding.id, incidentId, playbook, mode, executionArn, reasons };
}
