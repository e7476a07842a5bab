/**
 * What the decision page and the emails say of a request, as label and value pairs: the evidence, the
 * resource with its `Name` and owner tags, the recovery point of a restore, the deadline in UTC and as time
 * left, and the banner of a rehearsal. One source for the page and the emails; every value is the
 * record's (functions/approval/recorded.ts), never the request item's.
 */
import type { RehearsalKind } from '#shared/domain';
import { actionEffect, undoLabel } from './actions.ts';
import { severityLabel } from './html.ts';
import type { ApprovalRequest } from './model.ts';

/** A label and its value. */
export type Row = readonly [label: string, value: string];

/** An ISO time as people read it in UTC: `2026-11-01 00:00:00 UTC`; a time that does not parse as given. */
export function utc(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** The time left until `deadline`: `in 14 minutes`, `in 2 hours 5 minutes`, `in 3 days 4 hours`, or `passed`. */
export function timeLeft(deadline: string, now: string): string {
  const ms = Date.parse(deadline) - Date.parse(now);
  if (Number.isNaN(ms)) return 'unknown';
  if (ms <= 0) return 'passed';
  const minutes = Math.max(1, Math.floor(ms / 60_000));
  if (minutes < 60) return `in ${ms < 60_000 ? 'less than a minute' : plural(minutes, 'minute')}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) {
    const rest = minutes % 60;
    return `in ${plural(hours, 'hour')}${rest ? ` ${plural(rest, 'minute')}` : ''}`;
  }
  const days = Math.floor(hours / 24);
  const rest = hours % 24;
  return `in ${plural(days, 'day')}${rest ? ` ${plural(rest, 'hour')}` : ''}`;
}

/** The banner of an incident that is not a real one, or undefined for a real one. */
export function rehearsalBanner(kind: RehearsalKind | undefined): string | undefined {
  switch (kind) {
    case 'sample':
      return 'Sample finding: this incident comes from a sample or test finding, not from a real attack. Deciding still runs the action on the resource named below.';
    case 'rehearsal':
      return 'Rehearsal: this incident was opened by a rehearsal (`cordon run` or the demo), not by a real finding.';
    case 'dry-run':
      return 'Dry run: this incident runs in dry-run mode; its actions report what they would do and change nothing.';
    default:
      return undefined;
  }
}

/** What the action does and whether it can be undone. */
export function actionRows(request: ApprovalRequest): Row[] {
  const effect = actionEffect(request.action);
  return [
    ['What it does', effect.does],
    ['Can it be undone?', `${undoLabel(effect)}. ${effect.undo}`],
    ['If you reject', effect.ifRejected],
  ];
}

/** What the finding says happened: remote address or domain, API, first and last seen, count. */
export function evidenceRows(request: ApprovalRequest): Row[] {
  const { finding } = request;
  const evidence = finding.evidence ?? {};
  const rows: Row[] = [];
  if (evidence.remoteIps?.length) rows.push(['Remote IP', evidence.remoteIps.join(', ')]);
  if (evidence.domain) rows.push(['Domain', evidence.domain]);
  if (evidence.api) rows.push(['API called', evidence.api]);
  if (evidence.actionType) rows.push(['Activity', evidence.actionType]);
  if (finding.firstSeen) rows.push(['First seen', utc(finding.firstSeen)]);
  if (finding.lastSeen) rows.push(['Last seen', utc(finding.lastSeen)]);
  if (evidence.count !== undefined)
    rows.push(['Count', `${evidence.count} time${evidence.count === 1 ? '' : 's'}`]);
  return rows;
}

/** The resource, its tags, where it is, and for a restore the recovery point. */
export function resourceRows(request: ApprovalRequest): Row[] {
  const { finding, resource } = request;
  const rows: Row[] = [['Resource', `${resource.type} ${resource.id}`]];
  const tags = finding.tags ?? {};
  const name = tags.Name;
  const ownerKey = Object.keys(tags).find((k) => k.toLowerCase() === 'owner');
  rows.push(['Name tag', name ?? '(none)']);
  rows.push(['Owner tag', ownerKey === undefined ? '(none)' : (tags[ownerKey] ?? '')]);
  rows.push(['Account', finding.account], ['Region', finding.region]);
  if (request.recoveryPoint) {
    rows.push(['Recovery point', request.recoveryPoint.arn]);
    if (request.recoveryPoint.createdAt)
      rows.push(['Recovery point created', utc(request.recoveryPoint.createdAt)]);
  } else if (request.action === 'restore-instance') {
    rows.push([
      'Recovery point',
      `Not chosen yet: the newest completed recovery point created before ${finding.firstSeen ? utc(finding.firstSeen) : 'first seen'}`,
    ]);
  }
  return rows;
}

/** The finding and what Cordon did and asks. */
export function summaryRows(request: ApprovalRequest): Row[] {
  const { finding, summary } = request;
  return [
    ['Finding', `${finding.title} (${finding.findingType})`],
    ['Severity', `${finding.severity} (${severityLabel(finding.severity)})`],
    ['Incident', request.incidentId],
    ['What happened', summary.happened],
    ['What Cordon already did', summary.done],
    ['What Cordon asks to do next', summary.asks],
    ...(request.reasons?.length ? ([['Why a person decides', request.reasons.join('; ')]] as Row[]) : []),
  ];
}

/** The default decision as a word: `approved` or `rejected`. */
export function defaultWord(request: Pick<ApprovalRequest, 'defaultDecision'>): string {
  return request.defaultDecision === 'approve' ? 'approved' : 'rejected';
}
