/**
 * CloudWatch alarm state changes. Event shapes (single metric, metric math, composite) and the states
 * `OK`, `ALARM`, `INSUFFICIENT_DATA`:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html
 *
 * Only a change into `ALARM` is a finding. A metric's dimensions (`InstanceId`...) name the resource; a
 * composite alarm has an `alarmRule` and no metrics, so its resource comes from the settings' mapping.
 * An alarm the settings do not map is refused: the mapping names its playbook and severity.
 */
import { type Finding, RESOURCE_TYPES, type Resource } from '#shared/domain';
import type { Settings } from '#shared/settings';
import { withFacts } from './facts.ts';
import { at, type Candidate, describe, isoDate, isRecord, list, refuse, str } from './read.ts';

/** One entry of `settings.alarms`. */
export type AlarmMapping = Settings['alarms'][number];

/** The dimension that names a resource, for the namespaces Cordon knows. */
const DIMENSIONS: readonly { readonly name: string; readonly type: Resource['type'] }[] = [
  { name: 'InstanceId', type: 'instance' },
  { name: 'FunctionName', type: 'lambda-function' },
  { name: 'DBInstanceIdentifier', type: 'rds-instance' },
  { name: 'BucketName', type: 's3-bucket' },
  { name: 'ClusterName', type: 'ecs-cluster' },
];

/**
 * The mapping for an alarm: an exact name first, else the longest matching prefix. An entry with neither
 * name nor prefix matches nothing.
 */
export function findAlarmMapping(
  alarmName: string,
  alarms: readonly AlarmMapping[] | undefined,
): AlarmMapping | undefined {
  if (!Array.isArray(alarms)) return undefined;
  const exact = alarms.find((alarm) => alarm.name === alarmName);
  if (exact !== undefined) return exact;
  let best: AlarmMapping | undefined;
  for (const alarm of alarms) {
    const prefix = alarm.prefix;
    if (prefix !== undefined && prefix !== '' && alarmName.startsWith(prefix)) {
      if (best === undefined || prefix.length > (best.prefix?.length ?? 0)) best = alarm;
    }
  }
  return best;
}

function resourceType(value: string): Resource['type'] {
  return (RESOURCE_TYPES as readonly string[]).includes(value) ? (value as Resource['type']) : 'other';
}

/** Resources named by the dimensions of the alarm's metrics (single metric and metric math alike). */
function dimensionResources(configuration: unknown): Resource[] {
  const seen = new Set<string>();
  const resources: Resource[] = [];
  for (const metric of list(at(configuration, 'metrics'))) {
    const dimensions = at(metric, 'metricStat', 'metric', 'dimensions');
    if (!isRecord(dimensions)) continue; // an expression-only entry of a metric math alarm
    for (const { name, type } of DIMENSIONS) {
      const id = str(dimensions[name]);
      if (id === undefined || seen.has(`${type}/${id}`)) continue;
      seen.add(`${type}/${id}`);
      resources.push({ type, id, details: { dimension: name } });
    }
  }
  return resources;
}

/** Reads a `CloudWatch Alarm State Change` event into a candidate finding (validated by the caller). */
export function readAlarmStateChange(
  event: Record<string, unknown>,
  alarms: readonly AlarmMapping[] | undefined,
): Candidate<Finding> {
  const detail = event.detail;
  if (!isRecord(detail)) return refuse(`CloudWatch alarm event detail is ${describe(detail)}, not an object`);
  const alarmName = str(detail.alarmName);
  if (alarmName === undefined) return refuse('CloudWatch alarm event has no detail.alarmName');
  const state = str(at(detail, 'state', 'value'));
  const previous = str(at(detail, 'previousState', 'value'));
  if (state !== 'ALARM') {
    return refuse(
      `alarm ${alarmName} changed to ${state ?? 'no state'}, not into ALARM: nothing to respond to`,
    );
  }
  if (previous === 'ALARM') return refuse(`alarm ${alarmName} was already in ALARM: not a change into ALARM`);

  const mapping = findAlarmMapping(alarmName, alarms);
  if (mapping === undefined) {
    return refuse(`alarm ${alarmName} is not mapped to a playbook in settings.alarms (by name or prefix)`);
  }
  const configuration = detail.configuration;
  let resources = dimensionResources(configuration);
  if (resources.length === 0 && mapping.resourceId !== undefined && mapping.resourceId !== '') {
    resources = [
      { type: resourceType(mapping.resourceType), id: mapping.resourceId, details: { mapped: true } },
    ];
  }
  if (resources.length === 0) {
    const kind = at(configuration, 'alarmRule') === undefined ? 'alarm' : 'composite alarm';
    return refuse(
      `${kind} ${alarmName} names no resource: no metric dimension names one and its settings.alarms entry gives no resourceId`,
    );
  }

  const account = str(event.account);
  if (account === undefined) return refuse('CloudWatch alarm event has no account');
  const region = str(event.region);
  if (region === undefined) return refuse('CloudWatch alarm event has no region');
  const when = isoDate(at(detail, 'state', 'timestamp')) ?? isoDate(event.time);
  if (when === undefined) return refuse(`alarm ${alarmName} has no state.timestamp nor event time`);

  const alarmArn =
    str(list(event.resources).find((r) => typeof r === 'string' && r.includes(':alarm:'))) ??
    `arn:aws:cloudwatch:${region}:${account}:alarm:${alarmName}`;
  const finding: Finding = {
    // One finding per change into ALARM: a redelivery of the same change has the same id.
    id: `${alarmArn}@${when}`,
    source: 'cloudwatch',
    type: `CloudWatch:Alarm/${alarmName}`,
    title: str(at(configuration, 'description')) ?? `CloudWatch alarm ${alarmName} is in ALARM`,
    severity: mapping.severity,
    resources: resources.map((resource) => withFacts(resource, { alarmName })),
    account,
    region,
    firstSeen: when,
    lastSeen: when,
    raw: event,
  };
  return { ok: true, value: finding };
}
