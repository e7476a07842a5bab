/** Text output for a terminal: tables and the incident timeline. */
import type { Step } from '#shared/domain';

/** Pads columns to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function summary(step: Step): string {
  if (step.error) return `${step.error.name}: ${step.error.message}`;
  if (step.note) return step.note;
  if (step.evidence?.length) return `evidence: ${step.evidence.join(', ')}`;
  return '';
}

/** One line per step: sequence, time, phase, action, status, actor and what it says. */
export function timeline(steps: readonly Step[]): string {
  return table(
    ['#', 'time', 'phase', 'action', 'status', 'actor', 'detail'],
    steps.map((s) => [
      String(s.seq),
      s.recordedAt.replace('T', ' ').replace('Z', ''),
      s.phase,
      s.action,
      s.dryRun ? `${s.status} (dry run)` : s.status,
      s.actor,
      summary(s),
    ]),
  );
}
