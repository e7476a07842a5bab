/** The post-incident report in HTML, with the inline SVG timeline (no script), for a person to read at a glance. */
import { rehearsalLabel } from '../format.ts';
import { type ReportModel, verificationLine } from './model.ts';
import {
  APPROVAL_HEADERS,
  approvalRows,
  esc,
  evidenceSource,
  stepDetail,
  summaryRows,
  timingRows,
} from './rows.ts';
import { timelineSvg } from './timeline.ts';

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
      : htmlTable(APPROVAL_HEADERS, approvalRows(model)),
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
