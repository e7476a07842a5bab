/** Text output for a terminal: tables and the incident timeline. */
import type { IncidentStatus, RehearsalKind, Step } from '#shared/domain';
import { describeStep } from './step-detail.ts';

/** What an incident's rehearsal mark means, for a person: nothing real was at stake. */
export const REHEARSAL_LABELS: Readonly<Record<RehearsalKind, string>> = {
  sample: 'SAMPLE: a sample or test finding, nothing real at stake',
  'dry-run': 'DRY RUN: nothing was changed',
  rehearsal: 'REHEARSAL: run on the local runtime, not in an AWS account',
};

/** The rehearsal mark of an incident, or undefined for a real one. */
export function rehearsalLabel(kind: RehearsalKind | undefined): string | undefined {
  return kind ? REHEARSAL_LABELS[kind] : undefined;
}

/** An incident's status with what it asks of a person (`failed` needs one). */
export function statusLabel(status: IncidentStatus): string {
  return status === 'failed' ? 'failed (needs attention: a playbook failed)' : status;
}

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

/** One line per step: sequence, time, phase, action, status, actor and what it changed (cli/step-detail.ts). */
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
      describeStep(s),
    ]),
  );
}
