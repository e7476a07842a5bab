/**
 * The post-incident report (lessons learned): the summary, the timeline, time to detect, contain and
 * recover, each action with the state before and after, each approval with who and when, the evidence,
 * the failures and the questions for the review. Markdown for the repository or the ticket; HTML with an
 * inline SVG timeline (no script) for a person to read at a glance.
 */
import type { StoredIncident, VerifyResult } from '#shared/audit';
import { PHASES, type Step } from '#shared/domain';
import { rehearsalLabel, statusLabel } from './format.ts';
import { describeStep, plannedCalls, stepChanges } from './step-detail.ts';
import { between, formatDuration } from './time.ts';

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

function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function str(value: unknown): string | undefined {
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
function detectCaveat(incident: StoredIncident): string | undefined {
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

function stepDetail(step: Step): string {
  return describeStep(step);
}

function evidenceSource(e: ReportEvidence): string {
  const also = e.alsoIn.map((a) => `${a.seq} (${a.action})`);
  return `step ${e.seq}, ${e.action}${also.length > 0 ? `; named again by step${also.length === 1 ? '' : 's'} ${also.join(', ')}` : ''}`;
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}

function mdTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

function jsonBlock(value: unknown): string[] {
  if (value === undefined) return ['_(not recorded)_'];
  return ['```json', JSON.stringify(value, null, 2), '```'];
}

function summaryRows(model: ReportModel): [string, string][] {
  const i = model.incident;
  return [
    ['Incident', i.id],
    ['Title', i.title],
    ['Finding type', i.findingType],
    ['Severity', String(i.severity)],
    ['Account / region', `${i.account} / ${i.region}`],
    ['Resources', i.resources.map((r) => `${r.type} ${r.id}`).join(', ')],
    ['Playbook', i.playbook ?? 'none'],
    ['Rehearsal', rehearsalLabel(i.rehearsal) ?? 'no: a real incident'],
    ['Status', statusLabel(i.status)],
    ['Assignee', i.assignee ?? 'nobody'],
    ['Record', verificationLine(model.verification)],
    ['First seen', i.firstSeen],
    ['Opened', i.openedAt],
    ['Contained', i.containedAt ?? 'not contained'],
    ['Recovered', i.recoveredAt ?? 'not recovered'],
    ['Closed', i.closedAt ?? 'not closed'],
    ['Steps recorded', String(model.steps.length)],
  ];
}

function timingRows(model: ReportModel): [string, string, string][] {
  return [
    model.timeToDetectMeaningful
      ? ['Time to detect', formatDuration(model.timeToDetectMs), 'first seen to incident opened']
      : [
          'Time to detect',
          'not meaningful',
          `${detectCaveat(model.incident) ?? ''} (${formatDuration(model.timeToDetectMs)} from the finding's first-seen date)`,
        ],
    ['Time to contain', formatDuration(model.timeToContainMs), 'incident opened to contained'],
    ['Time to recover', formatDuration(model.timeToRecoverMs), 'incident opened to recovered'],
  ];
}

/** The report in Markdown. */
export function renderMarkdown(model: ReportModel): string {
  const i = model.incident;
  const mark = rehearsalLabel(i.rehearsal);
  const lines: string[] = [
    `# Post-incident report: ${i.title}`,
    '',
    ...(mark ? [`> **${mark}**`, ''] : []),
    `**Record ${verificationLine(model.verification)}.**`,
    '',
    '## Summary',
    '',
  ];
  lines.push(...mdTable(['', ''], summaryRows(model)), '');
  lines.push('## Times', '', ...mdTable(['measure', 'value', 'from / to'], timingRows(model)), '');
  lines.push(
    '## Timeline',
    '',
    ...mdTable(
      ['#', 'time', 'phase', 'action', 'status', 'actor', 'detail'],
      model.steps.map((s) => [
        String(s.seq),
        s.startedAt === s.recordedAt ? s.recordedAt : `${s.startedAt} to ${s.recordedAt}`,
        s.phase,
        s.action,
        s.dryRun ? `${s.status} (dry run)` : s.status,
        s.actor,
        stepDetail(s),
      ]),
    ),
    '',
  );
  lines.push('## Actions', '');
  if (model.actions.length === 0) lines.push('No action finished.', '');
  for (const a of model.actions) {
    lines.push(
      `### ${a.seq}. ${a.action}: ${a.status}${a.dryRun ? ' (dry run)' : ''}`,
      '',
      `${a.phase}, by ${a.actor}, ${a.startedAt} to ${a.finishedAt}.${a.note ? ` ${a.note}` : ''}`,
      '',
      ...(a.changed.length > 0
        ? [`${a.dryRun ? 'What it would change' : 'What it changed'}: ${a.changed.join('; ')}.`, '']
        : []),
      ...(a.dryRun
        ? [`Calls it would have made: ${a.calls.length > 0 ? a.calls.join(', ') : 'none'}.`, '']
        : []),
      'State before:',
      '',
      ...jsonBlock(a.before),
      '',
      `${a.dryRun ? 'What it would change' : 'State after (what changed)'}:`,
      '',
      ...jsonBlock(a.after),
      '',
    );
  }
  lines.push('## Approvals', '');
  if (model.approvals.length === 0) lines.push('No approval was asked.', '');
  else
    lines.push(
      ...mdTable(
        ['#', 'action', 'resource', 'decision', 'who', 'when', 'asked at', 'response', 'via', 'reason'],
        model.approvals.map((a) => [
          String(a.seq),
          a.action,
          a.resource,
          a.decision,
          a.decidedBy,
          a.decidedAt,
          a.requestedAt ?? '',
          formatDuration(a.responseMs),
          a.via ?? '',
          a.reason ?? '',
        ]),
      ),
      '',
    );
  lines.push('## Evidence', '');
  if (model.evidence.length === 0) lines.push('No evidence was recorded.', '');
  else lines.push(...model.evidence.map((e) => `- \`${e.id}\` (${evidenceSource(e)})`), '');
  lines.push('## Failures', '');
  if (model.failures.length === 0) lines.push('No step failed.', '');
  else
    lines.push(
      ...mdTable(
        ['#', 'action', 'at', 'error', 'message'],
        model.failures.map((f) => [String(f.seq), f.action, f.at, f.name, f.message]),
      ),
      '',
    );
  lines.push('## Questions for the review', '', ...model.questions.map((q, n) => `${n + 1}. ${q}`), '');
  return lines.join('\n');
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** One mark of the timeline: a bar from a step's start to its end, or a point for a step with no duration. */
interface Mark {
  readonly step: Step;
  readonly from: number;
  readonly to: number;
  readonly kind: 'bar' | 'point' | 'decision';
  /** The mark's own label: how it ended (and how long it took). */
  readonly label: string;
  /** The label of its row: the step's number and action. */
  readonly row: string;
}

const TICK_STEPS_MS = [
  1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 172_800_000, 604_800_000,
];

/** Ticks at a round interval, about `count` of them over [start, end]. */
export function ticks(start: number, end: number, count = 8): number[] {
  const step = TICK_STEPS_MS.find((s) => (end - start) / s <= count) ?? TICK_STEPS_MS.at(-1) ?? 86_400_000;
  const out: number[] = [];
  for (let t = Math.ceil(start / step) * step; t <= end; t += step) out.push(t);
  return out;
}

/** A tick's label in UTC: the clock time (with seconds when the interval is under a minute), and the day when the span crosses one. */
function tickLabel(t: number, start: number, end: number, step: number): string {
  const iso = new Date(t).toISOString();
  const time = step < 60_000 ? iso.slice(11, 19) : iso.slice(11, 16);
  const days = new Date(start).toISOString().slice(0, 10) !== new Date(end).toISOString().slice(0, 10);
  return days ? `${iso.slice(5, 10)} ${time}` : time;
}

function marksOf(model: ReportModel): Mark[] {
  const steps = model.steps;
  const finishedSeqs = new Set(steps.map((s) => s.startedSeq).filter((n): n is number => n !== undefined));
  const decidedAt = new Map<string, string>();
  for (const s of steps) {
    const requestId = str(record(s.input).requestId);
    if (s.action === 'approval-decision' && requestId) decidedAt.set(requestId, s.startedAt);
  }
  const end = Math.max(...steps.map((s) => Date.parse(s.recordedAt)).filter(Number.isFinite));
  const marks: Mark[] = [];
  for (const s of steps) {
    if (s.status === 'started' && finishedSeqs.has(s.seq)) continue;
    const from = Date.parse(s.startedAt);
    const status = `${s.status}${s.dryRun ? ' (dry run)' : ''}`;
    const row = `#${s.seq} ${s.action}`;
    if (s.action === 'approval-request') {
      const decided = decidedAt.get(str(record(s.input).requestId) ?? '');
      const to = decided ? Date.parse(decided) : end;
      marks.push({
        step: s,
        from,
        to,
        kind: 'bar',
        label: decided
          ? `waited ${formatDuration(to - from)} for a decision`
          : 'waiting, no decision recorded',
        row: `${row} (${str(record(s.input).action) ?? 'approval'})`,
      });
      continue;
    }
    if (s.status === 'started') {
      marks.push({ step: s, from, to: end, kind: 'bar', label: 'started, no outcome recorded', row });
      continue;
    }
    const to = Date.parse(s.recordedAt);
    if (s.action === 'approval-decision') {
      const decision = str(record(s.changes).decision) ?? s.status;
      marks.push({ step: s, from, to: from, kind: 'decision', label: `${decision} by ${s.actor}`, row });
    } else if (to - from <= 0 || s.status === 'noted') {
      marks.push({ step: s, from: to, to, kind: 'point', label: status, row });
    } else {
      marks.push({
        step: s,
        from,
        to,
        kind: 'bar',
        label: `${s.status === 'failed' ? 'FAILED' : status}, ${formatDuration(to - from)}`,
        row,
      });
    }
  }
  return marks;
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The fill of a bar by how its step ended: shades and patterns, so that print in black and white tells them apart. */
function barStyle(step: Step): string {
  if (step.status === 'failed') return 'fill="url(#hatch)" stroke="#000" stroke-width="1.5"';
  if (step.status === 'started') return 'fill="#fff" stroke="#000" stroke-dasharray="2 2"';
  if (step.status === 'skipped') return 'fill="#fff" stroke="#555" stroke-dasharray="4 2"';
  if (step.status === 'already-done') return 'fill="#fff" stroke="#000"';
  if (step.action === 'approval-request') return 'fill="url(#dots)" stroke="#000"';
  return 'fill="#222" stroke="#000"';
}

/**
 * The timeline as an SVG that reads in print: one band per phase in the order of the six phases (and
 * preparation), each with a row per step labelled with its number and action; time from left to right with
 * ticks labelled in UTC; each mark labelled with how its step ended, its shape and fill saying the same
 * without colour (solid: succeeded, hollow: already done, dashed: skipped or unfinished, hatched: failed,
 * diamond: an approval decision, circle: a point in time); dashed lines, labelled, at opened, contained,
 * recovered and closed. Each mark keeps a `<title>` with the step's whole detail.
 */
export function timelineSvg(model: ReportModel): string {
  const i = model.incident;
  const marks = marksOf(model);
  const milestones: [string, string, string][] = [];
  for (const [name, at, dash] of [
    ['opened', i.openedAt, ''],
    ['contained', i.containedAt, '6 3'],
    ['recovered', i.recoveredAt, '2 3'],
    ['closed', i.closedAt, '8 2 2 2'],
  ] as const) {
    if (at !== undefined && Number.isFinite(Date.parse(at))) milestones.push([name, at, dash]);
  }
  const times = [...marks.flatMap((m) => [m.from, m.to]), ...milestones.map((m) => Date.parse(m[1]))].filter(
    Number.isFinite,
  );
  const start = times.length > 0 ? Math.min(...times) : Date.parse(i.openedAt);
  const end = Math.max(...times, start + 1000);
  const width = 980;
  const left = 300;
  const right = width - 130;
  const x = (t: number) => left + ((t - start) / (end - start)) * (right - left);
  const rowHeight = 18;
  const bandHeader = 20;
  const milestoneRows = 4;
  const top = 30 + milestoneRows * 13;
  const byPhase = PHASES.map((phase) => ({ phase, marks: marks.filter((m) => m.step.phase === phase) }));
  const bandsHeight = byPhase.reduce((h, b) => h + bandHeader + Math.max(1, b.marks.length) * rowHeight, 0);
  const axisY = top + bandsHeight + 6;
  const legendY = axisY + 44;
  const height = legendY + 24;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Timeline of incident ${esc(i.id)}" font-family="sans-serif" font-size="11" fill="#000">`,
    '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#fff"/><line x1="0" y1="0" x2="0" y2="6" stroke="#000" stroke-width="2"/></pattern><pattern id="dots" width="4" height="4" patternUnits="userSpaceOnUse"><rect width="4" height="4" fill="#fff"/><circle cx="2" cy="2" r="0.9" fill="#000"/></pattern></defs>',
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="8" y="16" font-weight="bold">Timeline of incident ${esc(i.id)}${
      rehearsalLabel(i.rehearsal) ? ` (${esc(rehearsalLabel(i.rehearsal) ?? '')})` : ''
    }; times in UTC</text>`,
  ];
  // The ticks: a light line through the bands, the label under the axis.
  const tickTimes = ticks(start, end);
  const tickStep = tickTimes.length > 1 ? (tickTimes[1] ?? 0) - (tickTimes[0] ?? 0) : end - start;
  parts.push(`<line x1="${left}" y1="${axisY}" x2="${right}" y2="${axisY}" stroke="#000"/>`);
  for (const t of tickTimes) {
    const px = x(t).toFixed(1);
    parts.push(
      `<line x1="${px}" y1="${top}" x2="${px}" y2="${axisY}" stroke="#ccc" stroke-width="0.5"/>`,
      `<line x1="${px}" y1="${axisY}" x2="${px}" y2="${axisY + 5}" stroke="#000"/>`,
      `<text class="tick" x="${px}" y="${axisY + 17}" text-anchor="middle">${esc(tickLabel(t, start, end, tickStep))}</text>`,
    );
  }
  parts.push(
    `<text x="${left}" y="${axisY + 32}">${esc(`from ${new Date(start).toISOString()} to ${new Date(end).toISOString()} (${formatDuration(end - start)}), ticks every ${formatDuration(tickStep)}`)}</text>`,
  );
  // The bands, one per phase in order, and a row per mark.
  let y = top;
  for (const band of byPhase) {
    parts.push(`<g class="phase" data-phase="${band.phase}">`);
    parts.push(
      `<rect x="0" y="${y}" width="${width}" height="${bandHeader}" fill="#eee"/>`,
      `<text class="phase-label" x="8" y="${y + 14}" font-weight="bold">${esc(band.phase)}</text>`,
    );
    y += bandHeader;
    if (band.marks.length === 0) {
      parts.push(`<text x="20" y="${y + 13}" font-style="italic" fill="#555">no step in this phase</text>`);
      y += rowHeight;
    }
    for (const m of band.marks) {
      const mid = y + rowHeight / 2;
      const title = `<title>${esc(`#${m.step.seq} ${m.step.action}: ${m.step.status}${m.step.dryRun ? ' (dry run)' : ''} by ${m.step.actor}, ${m.step.startedAt} to ${m.step.recordedAt}${stepDetail(m.step) ? ` (${stepDetail(m.step)})` : ''}`)}</title>`;
      parts.push(`<text class="row-label" x="20" y="${mid + 4}">${esc(clip(m.row, 46))}</text>`);
      const x1 = x(m.from);
      let labelAt = x1 + 8;
      if (m.kind === 'decision') {
        parts.push(
          `<path class="mark" d="M${(x1 - 6).toFixed(1)} ${mid} L${x1.toFixed(1)} ${mid - 6} L${(x1 + 6).toFixed(1)} ${mid} L${x1.toFixed(1)} ${mid + 6} Z" fill="#fff" stroke="#000" stroke-width="1.5">${title}</path>`,
        );
      } else if (m.kind === 'point') {
        parts.push(
          `<circle class="mark" cx="${x1.toFixed(1)}" cy="${mid}" r="4" fill="${m.step.status === 'failed' ? 'url(#hatch)' : '#000'}" stroke="#000">${title}</circle>`,
        );
      } else {
        const x2 = Math.max(x(m.to), x1 + 3);
        labelAt = x2 + 4;
        parts.push(
          `<rect class="mark" x="${x1.toFixed(1)}" y="${y + 4}" width="${(x2 - x1).toFixed(1)}" height="${rowHeight - 8}" ${barStyle(m.step)}>${title}</rect>`,
        );
      }
      // The mark's label after it, or before it when it would run off the right edge.
      const text = clip(m.label, 40);
      const before = labelAt + text.length * 5.5 > width - 4;
      parts.push(
        `<text class="mark-label" x="${(before ? x1 - 8 : labelAt).toFixed(1)}" y="${mid + 4}"${before ? ' text-anchor="end"' : ''}>${esc(text)}</text>`,
      );
      y += rowHeight;
    }
    parts.push('</g>');
  }
  // The milestones: a dashed line each, its label on its own row above the bands so that labels never overlap.
  const taken: number[][] = Array.from({ length: milestoneRows }, () => []);
  for (const [name, at, dash] of milestones) {
    const px = x(Date.parse(at));
    const label = `${name} ${at.slice(11, 19)}`;
    const half = (label.length * 5.5) / 2 + 4;
    const rowIndex = Math.max(
      0,
      taken.findIndex((row) => row.every((other) => Math.abs(other - px) > half * 2)),
    );
    taken[rowIndex]?.push(px);
    const ly = 30 + rowIndex * 13;
    parts.push(
      `<g class="milestone" data-at="${name}"><line x1="${px.toFixed(1)}" y1="${ly + 3}" x2="${px.toFixed(1)}" y2="${axisY}" stroke="#000" stroke-width="1.2"${dash ? ` stroke-dasharray="${dash}"` : ''}><title>${name} ${esc(at)}</title></line><text class="milestone-label" x="${px.toFixed(1)}" y="${ly}" text-anchor="middle" font-weight="bold">${esc(label)}</text></g>`,
    );
  }
  // The legend: what each shape and fill means.
  const legend: [string, string][] = [
    [`<rect x="0" y="-8" width="18" height="10" fill="#222" stroke="#000"/>`, 'succeeded'],
    [`<rect x="0" y="-8" width="18" height="10" fill="#fff" stroke="#000"/>`, 'already done'],
    [
      `<rect x="0" y="-8" width="18" height="10" fill="#fff" stroke="#555" stroke-dasharray="4 2"/>`,
      'skipped',
    ],
    [`<rect x="0" y="-8" width="18" height="10" fill="url(#hatch)" stroke="#000"/>`, 'failed'],
    [`<rect x="0" y="-8" width="18" height="10" fill="url(#dots)" stroke="#000"/>`, 'waiting for approval'],
    [`<path d="M3 -3 L9 -9 L15 -3 L9 3 Z" fill="#fff" stroke="#000"/>`, 'decision'],
    [`<circle cx="9" cy="-3" r="4" fill="#000"/>`, 'point in time'],
  ];
  let lx = 8;
  parts.push(`<g class="legend" transform="translate(0 ${legendY})">`);
  for (const [shape, name] of legend) {
    parts.push(`<g transform="translate(${lx} 0)">${shape}<text x="24" y="1">${esc(name)}</text></g>`);
    lx += 24 + name.length * 6 + 18;
  }
  parts.push('</g>', '</svg>');
  return parts.join('\n');
}

function htmlTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    '<table>',
    `<thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>`,
    '<tbody>',
    ...rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`),
    '</tbody>',
    '</table>',
  ].join('\n');
}

function pre(value: unknown): string {
  return value === undefined
    ? '<p><em>(not recorded)</em></p>'
    : `<pre>${esc(JSON.stringify(value, null, 2))}</pre>`;
}

/** The report as one HTML page: no script, no external resource, the timeline as inline SVG. */
export function renderHtml(model: ReportModel): string {
  const i = model.incident;
  const mark = rehearsalLabel(i.rehearsal);
  const body: string[] = [
    `<h1>Post-incident report: ${esc(i.title)}</h1>`,
    ...(mark ? [`<p class="banner"><strong>${esc(mark)}</strong></p>`] : []),
    `<p><strong>Record ${esc(verificationLine(model.verification))}.</strong></p>`,
    '<h2>Summary</h2>',
    htmlTable(['', ''], summaryRows(model)),
    '<h2>Times</h2>',
    htmlTable(['measure', 'value', 'from / to'], timingRows(model)),
    '<h2>Timeline</h2>',
    `<figure>${timelineSvg(model)}<figcaption>One band per phase, in order; a row per step. Bars: a step from its start to its end (solid succeeded, hollow already done, dashed skipped or unfinished, hatched failed, dotted waiting for an approval); diamonds: approval decisions; dots: points in time. Lines: opened, contained, recovered, closed. Hover a shape for its step.</figcaption></figure>`,
    htmlTable(
      ['#', 'started', 'recorded', 'phase', 'action', 'status', 'actor', 'detail'],
      model.steps.map((s) => [
        String(s.seq),
        s.startedAt,
        s.recordedAt,
        s.phase,
        s.action,
        s.dryRun ? `${s.status} (dry run)` : s.status,
        s.actor,
        stepDetail(s),
      ]),
    ),
    '<h2>Actions</h2>',
    ...(model.actions.length === 0 ? ['<p>No action finished.</p>'] : []),
    ...model.actions.map(
      (a) =>
        `<section><h3>${a.seq}. ${esc(a.action)}: ${esc(a.status)}${a.dryRun ? ' (dry run)' : ''}</h3><p>${esc(
          `${a.phase}, by ${a.actor}, ${a.startedAt} to ${a.finishedAt}.${a.note ? ` ${a.note}` : ''}`,
        )}</p>${
          a.changed.length > 0
            ? `<p>${esc(`${a.dryRun ? 'What it would change' : 'What it changed'}: ${a.changed.join('; ')}.`)}</p>`
            : ''
        }${
          a.dryRun
            ? `<p>${esc(`Calls it would have made: ${a.calls.length > 0 ? a.calls.join(', ') : 'none'}.`)}</p>`
            : ''
        }<div class="pair"><div><h4>State before</h4>${pre(a.before)}</div><div><h4>${
          a.dryRun ? 'What it would change' : 'State after (what changed)'
        }</h4>${pre(a.after)}</div></div></section>`,
    ),
    '<h2>Approvals</h2>',
    model.approvals.length === 0
      ? '<p>No approval was asked.</p>'
      : htmlTable(
          ['#', 'action', 'resource', 'decision', 'who', 'when', 'asked at', 'response', 'via', 'reason'],
          model.approvals.map((a) => [
            String(a.seq),
            a.action,
            a.resource,
            a.decision,
            a.decidedBy,
            a.decidedAt,
            a.requestedAt ?? '',
            formatDuration(a.responseMs),
            a.via ?? '',
            a.reason ?? '',
          ]),
        ),
    '<h2>Evidence</h2>',
    model.evidence.length === 0
      ? '<p>No evidence was recorded.</p>'
      : `<ul>${model.evidence.map((e) => `<li><code>${esc(e.id)}</code> (${esc(evidenceSource(e))})</li>`).join('')}</ul>`,
    '<h2>Failures</h2>',
    model.failures.length === 0
      ? '<p>No step failed.</p>'
      : htmlTable(
          ['#', 'action', 'at', 'error', 'message'],
          model.failures.map((f) => [String(f.seq), f.action, f.at, f.name, f.message]),
        ),
    '<h2>Questions for the review</h2>',
    `<ol>${model.questions.map((q) => `<li>${esc(q)}</li>`).join('')}</ol>`,
  ];
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>Post-incident report: ${esc(i.id)}</title>`,
    '<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top;font-size:13px}pre{background:#f6f8fa;padding:6px;overflow:auto;font-size:12px}.pair{display:flex;gap:1em}.pair>div{flex:1;min-width:0}.banner{border:2px solid #000;padding:6px}svg{max-width:100%;height:auto}</style>',
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
