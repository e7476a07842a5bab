/**
 * The post-incident report (lessons learned): the summary, the timeline, time to detect, contain and
 * recover, each action with the state before and after, each approval with who and when, the evidence,
 * the failures and the questions for the review. Markdown for the repository or the ticket; HTML with an
 * inline SVG timeline (no script) for a person to read at a glance.
 */
import type { StoredIncident } from '#shared/audit';
import type { Step } from '#shared/domain';
import { between, formatDuration } from './time.ts';

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
  readonly evidence: readonly { id: string; seq: number; action: string }[];
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

/** Computes the report of an incident from its record. */
export function buildReport(incident: StoredIncident, steps: readonly Step[]): ReportModel {
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
  }));
  const approvals = approvalsOf(steps);
  const evidence = steps.flatMap((s) =>
    (s.evidence ?? []).map((id) => ({ id, seq: s.seq, action: s.action })),
  );
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
    `What would have caught it sooner: it was first seen at ${incident.firstSeen} and the incident opened ${formatDuration(timeToDetectMs)} later; which signal or alarm would have shown it earlier?`,
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
    failures,
    questions,
  };
}

function stepDetail(step: Step): string {
  if (step.error) return `${step.error.name}: ${step.error.message}`;
  if (step.note) return step.note;
  if (step.evidence?.length) return `evidence: ${step.evidence.join(', ')}`;
  return '';
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
    ['Status', i.status],
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
    ['Time to detect', formatDuration(model.timeToDetectMs), 'first seen to incident opened'],
    ['Time to contain', formatDuration(model.timeToContainMs), 'incident opened to contained'],
    ['Time to recover', formatDuration(model.timeToRecoverMs), 'incident opened to recovered'],
  ];
}

/** The report in Markdown. */
export function renderMarkdown(model: ReportModel): string {
  const i = model.incident;
  const lines: string[] = [`# Post-incident report: ${i.title}`, '', '## Summary', ''];
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
  else lines.push(...model.evidence.map((e) => `- \`${e.id}\` (step ${e.seq}, ${e.action})`), '');
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

const STATUS_COLOURS: Record<string, string> = {
  started: '#9aa5b1',
  succeeded: '#2f9e44',
  'already-done': '#74b816',
  skipped: '#adb5bd',
  noted: '#4dabf7',
  failed: '#e03131',
};

/**
 * The timeline as an SVG: one lane per phase, time from left to right, a bar from each action's start to
 * its end coloured by how it ended, a diamond for each approval decision, and lines at opened, contained
 * and recovered. Each shape has a `<title>`, which a browser shows on hover without any script.
 */
export function timelineSvg(model: ReportModel): string {
  const steps = model.steps;
  const i = model.incident;
  const times = [
    ...steps.flatMap((s) => [Date.parse(s.startedAt), Date.parse(s.recordedAt)]),
    Date.parse(i.openedAt),
  ].filter(Number.isFinite);
  const start = Math.min(...times);
  const end = Math.max(...times, start + 1000);
  const phases: string[] = [...new Set(steps.map((s) => s.phase))];
  const left = 120;
  const width = 880;
  const lane = 28;
  const top = 30;
  const height = top + Math.max(1, phases.length) * lane + 40;
  const x = (iso: string) => left + ((Date.parse(iso) - start) / (end - start)) * (width - left - 20);
  const y = (phase: string) => top + phases.indexOf(phase) * lane;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Timeline of incident ${esc(i.id)}" font-family="sans-serif" font-size="11">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
  ];
  for (const phase of phases) {
    parts.push(
      `<text x="8" y="${y(phase) + 16}" fill="#333">${esc(phase)}</text>`,
      `<line x1="${left}" y1="${y(phase) + lane - 2}" x2="${width - 20}" y2="${y(phase) + lane - 2}" stroke="#eee"/>`,
    );
  }
  const milestones: [string, string | undefined, string][] = [
    ['opened', i.openedAt, '#1c7ed6'],
    ['contained', i.containedAt, '#2f9e44'],
    ['recovered', i.recoveredAt, '#7048e8'],
  ];
  for (const [name, at, colour] of milestones) {
    if (!at || !Number.isFinite(Date.parse(at))) continue;
    const px = Math.min(width - 20, Math.max(left, x(at))).toFixed(1);
    parts.push(
      `<line x1="${px}" y1="${top - 12}" x2="${px}" y2="${height - 28}" stroke="${colour}" stroke-dasharray="4 3"><title>${name} ${esc(at)}</title></line>`,
      `<text x="${px}" y="${top - 16}" fill="${colour}" text-anchor="middle">${name}</text>`,
    );
  }
  for (const s of steps) {
    if (s.status === 'started' && steps.some((f) => f.startedSeq === s.seq)) continue;
    const label = `#${s.seq} ${s.action}: ${s.status}${s.dryRun ? ' (dry run)' : ''} by ${s.actor}, ${s.startedAt} to ${s.recordedAt}${stepDetail(s) ? ` (${stepDetail(s)})` : ''}`;
    const colour = STATUS_COLOURS[s.status] ?? '#495057';
    if (s.action === 'approval-decision') {
      const cx = x(s.startedAt);
      const cy = y(s.phase) + 12;
      parts.push(
        `<path d="M${(cx - 7).toFixed(1)} ${cy} L${cx.toFixed(1)} ${cy - 7} L${(cx + 7).toFixed(1)} ${cy} L${cx.toFixed(1)} ${cy + 7} Z" fill="#f59f00"><title>${esc(label)}</title></path>`,
      );
      continue;
    }
    const x1 = x(s.startedAt);
    const x2 = Math.max(x(s.recordedAt), x1 + 3);
    parts.push(
      `<rect x="${x1.toFixed(1)}" y="${y(s.phase) + 5}" width="${(x2 - x1).toFixed(1)}" height="14" rx="2" fill="${colour}" opacity="0.85"><title>${esc(label)}</title></rect>`,
    );
  }
  parts.push(
    `<text x="${left}" y="${height - 10}" fill="#555">${esc(new Date(start).toISOString())}</text>`,
    `<text x="${width - 20}" y="${height - 10}" fill="#555" text-anchor="end">${esc(new Date(end).toISOString())} (${esc(formatDuration(end - start))})</text>`,
    '</svg>',
  );
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
  const body: string[] = [
    `<h1>Post-incident report: ${esc(i.title)}</h1>`,
    '<h2>Summary</h2>',
    htmlTable(['', ''], summaryRows(model)),
    '<h2>Times</h2>',
    htmlTable(['measure', 'value', 'from / to'], timingRows(model)),
    '<h2>Timeline</h2>',
    `<figure>${timelineSvg(model)}<figcaption>Bars: actions from start to end (green succeeded, light green already done, red failed, grey skipped or unfinished, blue notes). Diamonds: approval decisions. Dashed lines: opened, contained, recovered. Hover a shape for its step.</figcaption></figure>`,
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
        )}</p><div class="pair"><div><h4>State before</h4>${pre(a.before)}</div><div><h4>${
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
      : `<ul>${model.evidence.map((e) => `<li><code>${esc(e.id)}</code> (step ${e.seq}, ${esc(e.action)})</li>`).join('')}</ul>`,
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
    '<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top;font-size:13px}pre{background:#f6f8fa;padding:6px;overflow:auto;font-size:12px}.pair{display:flex;gap:1em}.pair>div{flex:1;min-width:0}</style>',
    '</head>',
    '<body>',
    ...body,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
