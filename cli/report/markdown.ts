/** The post-incident report in Markdown, for the repository or the ticket. */
import { rehearsalLabel } from '../format.ts';
import { type ReportModel, verificationLine } from './model.ts';
import {
  APPROVAL_HEADERS,
  approvalRows,
  evidenceSource,
  stepDetail,
  summaryRows,
  timingRows,
} from './rows.ts';

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
  else lines.push(...mdTable(APPROVAL_HEADERS, approvalRows(model)), '');
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
