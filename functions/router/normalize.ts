/**
 * Normalization: any event the router receives becomes zero or more `Finding`s, or a rejection with its
 * reason. It never throws, whatever the input: a rejection is recorded and counted, never lost.
 *
 * Accepted: a whole EventBridge event (`GuardDuty Finding`, `CloudWatch Alarm State Change`,
 * `Security Hub Findings - Imported`, `Security Hub Findings - Custom Action`) or a bare GuardDuty finding
 * object (what a target sees with `InputPath: $.detail`). Every finding is validated with `FindingSchema`,
 * so one that would not fit the domain becomes a rejection naming the bad field.
 */
import { type Finding, FindingSchema, parseOrThrow } from '#shared/domain';
import type { Settings } from '#shared/settings';
import { type AlarmMapping, readAlarmStateChange } from './cloudwatch.ts';
import { isGuardDutyFinding, readGuardDutyFinding } from './guardduty.ts';
import { type Candidate, describe, errorMessage, isRecord, list, str } from './read.ts';
import { readAsffFinding } from './securityhub.ts';

/** A finding of an event that could not be normalized, by its place in the event. */
export interface PartialRejection {
  readonly index: number;
  readonly reason: string;
}

/** What normalizing an event gives. */
export type NormalizeResult =
  | {
      readonly kind: 'findings';
      /** At least one finding, each valid against `FindingSchema`. */
      readonly findings: Finding[];
      /** Findings of a multi-finding event (Security Hub) that were refused, with their reasons. */
      readonly rejections: PartialRejection[];
    }
  | { readonly kind: 'rejected'; readonly reason: string };

/** The part of the settings normalization reads: the alarm mapping. */
export type NormalizeSettings = Partial<Pick<Settings, 'alarms'>>;

/** The EventBridge `detail-type`s the router handles, with the `source` each must come from. */
export const DETAIL_TYPES = {
  guardDuty: { detailType: 'GuardDuty Finding', source: 'aws.guardduty' },
  alarm: { detailType: 'CloudWatch Alarm State Change', source: 'aws.cloudwatch' },
  securityHubImported: { detailType: 'Security Hub Findings - Imported', source: 'aws.securityhub' },
  securityHubCustomAction: { detailType: 'Security Hub Findings - Custom Action', source: 'aws.securityhub' },
} as const;

function reject(reason: string): NormalizeResult {
  return { kind: 'rejected', reason };
}

function validate(candidate: Candidate<Finding>): Candidate<Finding> {
  if (!candidate.ok) return candidate;
  try {
    return { ok: true, value: parseOrThrow(FindingSchema, candidate.value, 'finding') };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

function single(candidate: Candidate<Finding>): NormalizeResult {
  const checked = validate(candidate);
  return checked.ok
    ? { kind: 'findings', findings: [checked.value], rejections: [] }
    : reject(checked.reason);
}

function securityHub(event: Record<string, unknown>, customAction: boolean): NormalizeResult {
  const detail = event.detail;
  const items = list(isRecord(detail) ? detail.findings : undefined);
  if (items.length === 0) return reject('Security Hub event carries no detail.findings');
  const context = {
    account: str(event.account),
    region: str(event.region),
    customAction: customAction
      ? (str(isRecord(detail) ? detail.actionName : undefined) ?? 'custom action')
      : undefined,
    raw: event,
  };
  const findings: Finding[] = [];
  const rejections: PartialRejection[] = [];
  items.forEach((item, index) => {
    const checked = validate(readAsffFinding(item, context));
    if (checked.ok) findings.push(checked.value);
    else rejections.push({ index, reason: checked.reason });
  });
  if (findings.length === 0) {
    return reject(rejections.map((r) => `findings[${r.index}]: ${r.reason}`).join('; '));
  }
  return { kind: 'findings', findings, rejections };
}

function eventBridge(
  event: Record<string, unknown>,
  detailType: string,
  settings: NormalizeSettings,
): NormalizeResult {
  const source = str(event.source);
  const expected = Object.values(DETAIL_TYPES).find((d) => d.detailType === detailType);
  if (detailType === 'CloudWatch Alarm Configuration Change') {
    const operation = str(isRecord(event.detail) ? event.detail.operation : undefined) ?? 'change';
    return reject(
      `an alarm configuration change (${operation}), not a state change into ALARM: never a trigger`,
    );
  }
  if (expected === undefined) {
    return reject(`detail-type "${detailType.slice(0, 200)}" is not one the router handles`);
  }
  // Only AWS services can put events with an `aws.` source on a bus, so a matching source is a real
  // service event, not one forged by an application with events:PutEvents.
  // https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-events-structure.html
  if (source !== expected.source) {
    return reject(`a "${detailType}" event must come from ${expected.source}, got ${source ?? 'no source'}`);
  }
  switch (expected) {
    case DETAIL_TYPES.guardDuty:
      return single(
        readGuardDutyFinding(event.detail, { account: str(event.account), region: str(event.region) }, event),
      );
    case DETAIL_TYPES.alarm:
      return single(readAlarmStateChange(event, settings.alarms as readonly AlarmMapping[] | undefined));
    case DETAIL_TYPES.securityHubImported:
      return securityHub(event, false);
    default:
      return securityHub(event, true);
  }
}

/**
 * Normalizes any event into findings, or a rejection with its reason. Never throws.
 *
 * @param event what the router received, unparsed.
 * @param settings the alarm mapping (`settings.alarms`): a CloudWatch alarm the mapping does not name is
 *   refused, and a composite alarm takes its resource from it. Default: no alarms mapped.
 */
export function normalizeEvent(event: unknown, settings: NormalizeSettings = {}): NormalizeResult {
  try {
    if (!isRecord(event)) return reject(`event is ${describe(event)}, not an object`);
    const detailType = event['detail-type'];
    if (detailType !== undefined) {
      if (typeof detailType !== 'string')
        return reject(`detail-type is ${describe(detailType)}, not a string`);
      return eventBridge(event, detailType, settings);
    }
    if (isGuardDutyFinding(event)) return single(readGuardDutyFinding(event, {}, event));
    return reject(
      'not an EventBridge event (no detail-type) nor a GuardDuty finding object (schemaVersion, accountId, type, resource, service)',
    );
  } catch (error) {
    // Only a value no JSON can hold (a throwing getter, a proxy) gets here.
    return reject(`could not read the event: ${errorMessage(error)}`);
  }
}
