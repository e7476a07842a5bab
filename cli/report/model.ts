/**
 * The post-incident report's model, built from the verified record: the summary, time to detect, contain
 * and recover, each action with the state before and after, each approval with who and when, each piece of
 * evidence once, the failures and the questions for the review. `markdown.ts` and `html.ts` render it.
 */
import type { StoredIncident, VerifyResult } from '#shared/audit';
import type { Step } from '#shared/domain';
import { plannedCalls, stepChanges } from '../step-detail.ts';
import { between, formatDuration } from '../time.ts';

/** What `verify` said of the record the report is made from, or why it could not be checked. */
export type ReportVerification = VerifyResult | { readonly unchecked: string };

/** One piece of evidence, listed once: the step that first recorded it and the later steps that name it again. */
export interface ReportEvidence {
  readonly id: string;
  readonly seq: number;
  readonly action: string;
  /** Later steps naming the same evidence (a check of the snapshots, the eradication keeping them). */
  readonly alsoIn: readonly { seq: number; action: string }[];
}

/** One action the playbook took: the finished step, with the resource's state before and what changed. */
export interface ReportAction {
  readonly seq: number;
  readonly phase: string;
  readonly action: string;
  readonly status: string;
  readonly actor: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly dryRun: boolean;
  readonly before: unknown;
  readonly after: unknown;
  readonly note?: string;
  /** What it changed (or would change), in words: cli/step-detail.ts. */
  readonly changed: readonly string[];
  /** The AWS calls a dry run would have made. */
  readonly calls: readonly string[];
}

/** One approval: what was asked, who decided what and when, and how long the decision took. */
export interface ReportApproval {
  readonly seq: number;
  readonly action: string;
  readonly resource: string;
  readonly decision: string;
  readonly decidedBy: string;
  readonly decidedAt: string;
  readonly requestedAt?: string;
  readonly responseMs?: number;
  readonly via?: string;
  readonly reason?: string;
}

/** What the report says, computed once for every format. */
export interface ReportModel {
  readonly incident: StoredIncident;
  readonly steps: readonly Step[];
  /** First seen to incident opened. */
  readonly timeToDetectMs?: number;
  /** Incident opened to contained. */
  readonly timeToContainMs?: number;
  /** Incident opened to recovered. */
  readonly timeToRecoverMs?: number;
  readonly actions: readonly ReportAction[];
  readonly approvals: readonly ReportApproval[];
  /** Each piece of evidence once, in the order it was first recorded. */
  readonly evidence: readonly ReportEvidence[];
  /** Whether the record verified; absent when no verification was run. */
  readonly verification?: ReportVerification;
  /** False when the time to detect was measured on a sample finding or a rehearsal's replayed one. */
  readonly timeToDetectMeaningful: boolean;
  readonly failures: readonly { seq: number; action: string; at: string; name: string; message: string }[];
  readonly questions: readonly string[];
}

const APPROVAL_STEPS = new Set(['approval-request', 'approval-email', 'approval-decision']);

export function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** The approvals of an incident's steps: each `approval-decision`, matched to its `approval-request`. */
export function approvalsOf(steps: readonly Step[]): ReportApproval[] {
  const requested = new Map<string, string>();
  for (const s of steps) {
    const requestId = str(record(s.input).requestId);
    if (s.action === 'approval-request' && requestId) requested.set(requestId, s.startedAt);
  }
  return steps
    .filter((s) => s.action === 'approval-decision')
    .map((s) => {
      const input = record(s.input);
      const changes = record(s.changes);
      const requestedAt = requested.get(str(input.requestId) ?? '');
      const responseMs = between(requestedAt, s.startedAt);
      const via = str(input.via);
      const reason = str(changes.reason);
      return {
        seq: s.seq,
        action: str(input.action) ?? '?',
        resource: str(record(input.resource).id) ?? '?',
        decision: str(changes.decision) ?? '?',
        decidedBy: s.actor,
        decidedAt: s.startedAt,
        ...(requestedAt ? { requestedAt } : {}),
        ...(responseMs !== undefined ? { responseMs } : {}),
        ...(via ? { via } : {}),
        ...(reason ? { reason } : {}),
      };
    });
}

/**
 * Each piece of evidence once: steps name the same snapshots again (each snapshot check, the eradication
 * that keeps them), so the list keeps the first step that recorded it and the later ones that named it.
 */
export function evidenceOf(steps: readonly Step[]): ReportEvidence[] {
  const byId = new Map<
    string,
    { id: string; seq: number; action: string; alsoIn: { seq: number; action: string }[] }
  >();
  for (const s of steps) {
    for (const id of new Set(s.evidence ?? [])) {
      const seen = byId.get(id);
      if (seen) seen.alsoIn.push({ seq: s.seq, action: s.action });
      else byId.set(id, { id, seq: s.seq, action: s.action, alsoIn: [] });
    }
  }
  return [...byId.values()];
}

/** The verification in one line: `verified: N steps, anchored` or `NOT verified: <kind> at step N`. */
export function verificationLine(verification: ReportVerification | undefined): string {
  if (verification === undefined) return 'NOT verified: no verification was run';
  if ('unchecked' in verification)
    return `NOT verified: the record could not be checked (${verification.unchecked})`;
  if (!verification.ok) {
    return `NOT verified: ${verification.kind} at step ${verification.brokenSeq} (${verification.reason})`;
  }
  const n = `${verification.steps} step${verification.steps === 1 ? '' : 's'}`;
  if (verification.unconfirmed.length === 0) return `verified: ${n}, anchored`;
  return `verified: ${n}, anchored through step ${verification.anchoredThrough}; steps ${verification.unconfirmed.join(', ')} carry a valid MAC, their anchor not yet written`;
}

/** What the report says of a time to detect measured on a sample finding. */
export const SAMPLE_DETECT_NOTE = 'time to detect measured on a sample finding: not meaningful';
/** What it says of one measured on a rehearsal: the finding was replayed from a file, not detected. */
export const REHEARSAL_DETECT_NOTE =
  "time to detect measured on a rehearsal's replayed finding: not meaningful";

/** Why the time to detect means nothing, or undefined when it is a real one. */
export function detectCaveat(incident: StoredIncident): string | undefined {
  if (incident.rehearsal === 'sample') return SAMPLE_DETECT_NOTE;
  if (incident.rehearsal === 'rehearsal') return REHEARSAL_DETECT_NOTE;
  return undefined;
}

/** Computes the report of an incident from its record, and what `verify` said of that record. */
export function buildReport(
  incident: StoredIncident,
  steps: readonly Step[],
  verification?: ReportVerification,
): ReportModel {
  const finished = steps.filter((s) => s.status !== 'started' && !APPROVAL_STEPS.has(s.action));
  const actions: ReportAction[] = finished.map((s) => ({
    seq: s.seq,
    phase: s.phase,
    action: s.action,
    status: s.status,
    actor: s.actor,
    startedAt: s.startedAt,
    finishedAt: s.recordedAt,
    dryRun: s.dryRun === true,
    before: s.before,
    after: s.changes,
    ...(s.note ? { note: s.note } : {}),
    changed: stepChanges(s),
    calls: s.dryRun === true ? plannedCalls(s) : [],
  }));
  const approvals = approvalsOf(steps);
  const evidence = evidenceOf(steps);
  const caveat = detectCaveat(incident);
  const timeToDetectMeaningful = caveat === undefined;
  const failures = steps
    .filter((s) => s.status === 'failed')
    .map((s) => ({
      seq: s.seq,
      action: s.action,
      at: s.recordedAt,
      name: s.error?.name ?? 'Error',
      message: s.error?.message ?? s.note ?? '',
    }));
  const timeToDetectMs = between(incident.firstSeen, incident.openedAt);
  const timeToContainMs = between(incident.openedAt, incident.containedAt);
  const timeToRecoverMs = between(incident.openedAt, incident.recoveredAt);
  const resources = incident.resources.map((r) => `${r.type} ${r.id}`).join(', ');
  const questions = [
    `What let it happen: how did ${incident.findingType} come about on ${resources} in account ${incident.account}, and what weakness made it possible?`,
    timeToDetectMeaningful
      ? `What would have caught it sooner: it was first seen at ${incident.firstSeen} and the incident opened ${formatDuration(timeToDetectMs)} later; which signal or alarm would have shown it earlier?`
      : `What would have caught it sooner: ${caveat}; which signal or alarm would show a real one first?`,
    `What to change in the playbook${incident.playbook ? ` ${incident.playbook}` : ''}: which step was slow, manual or wrong, and what should run automatically next time?`,
    ...(incident.containedAt
      ? []
      : ['The incident was never marked contained: what stopped containment, and who followed up by hand?']),
    ...failures.map(
      (f) =>
        `Step ${f.seq} (${f.action}) failed with ${f.name}: should the playbook prevent, retry or handle this failure differently?`,
    ),
    ...approvals
      .filter((a) => a.decision !== 'approve')
      .map(
        (a) =>
          `${a.decidedBy} decided ${a.decision} on ${a.action} (${a.resource}): was the request clear and right?`,
      ),
    ...approvals
      .filter((a) => (a.responseMs ?? 0) > 15 * 60_000)
      .map(
        (a) =>
          `The approval of ${a.action} took ${formatDuration(a.responseMs)}: were the right approvers asked, and did the email reach them?`,
      ),
  ];
  return {
    incident,
    steps,
    ...(timeToDetectMs !== undefined ? { timeToDetectMs } : {}),
    ...(timeToContainMs !== undefined ? { timeToContainMs } : {}),
    ...(timeToRecoverMs !== undefined ? { timeToRecoverMs } : {}),
    actions,
    approvals,
    evidence,
    ...(verification !== undefined ? { verification } : {}),
    timeToDetectMeaningful,
    failures,
    questions,
  };
}
