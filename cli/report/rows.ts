/** What the Markdown and the HTML report both show: the summary and timing rows, a step's detail, escaping. */
import type { Step } from '#shared/domain';
import { rehearsalLabel, statusLabel } from '../format.ts';
import { describeStep } from '../step-detail.ts';
import { formatDuration } from '../time.ts';
import { detectCaveat, type ReportEvidence, type ReportModel, verificationLine } from './model.ts';

export function stepDetail(step: Step): string {
  return describeStep(step);
}

export function evidenceSource(e: ReportEvidence): string {
  const also = e.alsoIn.map((a) => `${a.seq} (${a.action})`);
  return `step ${e.seq}, ${e.action}${also.length > 0 ? `; named again by step${also.length === 1 ? '' : 's'} ${also.join(', ')}` : ''}`;
}

export function summaryRows(model: ReportModel): [string, string][] {
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

export const APPROVAL_HEADERS = [
  '#',
  'action',
  'resource',
  'decision',
  'who',
  'when',
  'asked at',
  'response',
  'via',
  'reason',
];

/** A row an approval, under {@link APPROVAL_HEADERS}. */
export function approvalRows(model: ReportModel): string[][] {
  return model.approvals.map((a) => [
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
  ]);
}

export function timingRows(model: ReportModel): [string, string, string][] {
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

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
