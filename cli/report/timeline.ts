/**
 * The report's SVG timeline, readable in print: one band per phase in their order, a row per step, labelled
 * UTC ticks on the time axis, a label on every mark, black on white, no meaning in colour alone.
 */
import { PHASES, type Step } from '#shared/domain';
import { rehearsalLabel } from '../format.ts';
import { formatDuration } from '../time.ts';
import { type ReportModel, record, str } from './model.ts';
import { esc, stepDetail } from './rows.ts';

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
