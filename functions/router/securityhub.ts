/**
 * Security Hub findings in the AWS Security Finding Format (ASFF), from `Security Hub Findings - Imported`
 * and `Security Hub Findings - Custom Action` events, which carry `detail.findings[]`
 * (https://docs.aws.amazon.com/securityhub/latest/userguide/securityhub-cwe-event-formats.html).
 *
 * Severity: `Severity.Label` is the preferred attribute; `Normalized` is deprecated, and when only one is
 * given Security Hub fills in the other, `Normalized` 0 → INFORMATIONAL, 1-39 LOW, 40-69 MEDIUM,
 * 70-89 HIGH, 90-100 CRITICAL (https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_Severity.html).
 * A label is placed on GuardDuty's 0-10 scale at a point inside GuardDuty's own band for it
 * (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html), so the policy's
 * threshold means the same for every source: INFORMATIONAL 0, LOW 2, MEDIUM 5, HIGH 8, CRITICAL 9.5.
 * A finding with no label (events from before labels existed, such as the custom action fixture) takes
 * its label from `ProductFields["aws/securityhub/SeverityLabel"]`, else from `Normalized` by the ranges
 * above.
 *
 * A GuardDuty finding imported into Security Hub has a `ProductArn` ending `product/aws/guardduty` and its
 * GuardDuty finding ARN as `Id` (https://docs.aws.amazon.com/guardduty/latest/ug/securityhub-integration.html):
 * it becomes the GuardDuty finding id, with source `guardduty`, so that it deduplicates with the direct
 * delivery of the same finding instead of opening a second incident.
 */
import type { Finding, Resource } from '#shared/domain';
import { type FindingFacts, withFacts } from './facts.ts';
import { at, type Candidate, isoDate, isRecord, list, num, refuse, str, tagMap } from './read.ts';

/** Where each Security Hub label sits on GuardDuty's 0-10 scale. */
export const SEVERITY_BY_LABEL: Readonly<Record<string, number>> = {
  INFORMATIONAL: 0,
  LOW: 2,
  MEDIUM: 5,
  HIGH: 8,
  CRITICAL: 9.5,
};

/** The label Security Hub derives from a `Normalized` score. */
export function labelOfNormalized(normalized: number): string {
  if (normalized <= 0) return 'INFORMATIONAL';
  if (normalized < 40) return 'LOW';
  if (normalized < 70) return 'MEDIUM';
  if (normalized < 90) return 'HIGH';
  return 'CRITICAL';
}

const GUARDDUTY_PRODUCT = /(^|:)product\/aws\/guardduty$/;

/** True when the ASFF finding was reported by GuardDuty. */
export function isGuardDutyProduct(productArn: string | undefined): boolean {
  return productArn !== undefined && GUARDDUTY_PRODUCT.test(productArn);
}

function severityOf(finding: Record<string, unknown>): Candidate<{ label: string; severity: number }> {
  const candidates = [
    str(at(finding, 'Severity', 'Label')),
    str(at(finding, 'ProductFields', 'aws/securityhub/SeverityLabel')),
  ];
  for (const label of candidates) {
    const severity = label === undefined ? undefined : SEVERITY_BY_LABEL[label];
    if (label !== undefined && severity !== undefined) return { ok: true, value: { label, severity } };
  }
  const normalized = num(at(finding, 'Severity', 'Normalized'));
  if (normalized !== undefined && normalized >= 0 && normalized <= 100) {
    const label = labelOfNormalized(normalized);
    return { ok: true, value: { label, severity: SEVERITY_BY_LABEL[label] ?? 0 } };
  }
  return refuse('Security Hub finding has no Severity.Label nor Severity.Normalized');
}

/** The last segment of an ARN's resource part (`.../instance/i-0abc` → `i-0abc`), or the value itself. */
function lastSegment(value: string): string {
  const segment = value.split(/[/:]/).pop();
  return segment === undefined || segment === '' ? value : segment;
}

function asffResource(resource: unknown): Resource | undefined {
  const type = str(at(resource, 'Type'));
  const id = str(at(resource, 'Id'));
  if (type === undefined || id === undefined) return undefined;
  const tags = tagMap(at(resource, 'Tags'));
  const details: Record<string, unknown> = { asffType: type, asffId: id };
  if (Object.keys(tags).length > 0) details.tags = tags;
  const asffDetails = at(resource, 'Details');
  switch (type) {
    case 'AwsEc2Instance': {
      const interfaces = list(at(asffDetails, 'AwsEc2Instance', 'NetworkInterfaces'));
      details.networkInterfaceIds = interfaces
        .map((eni) => str(at(eni, 'NetworkInterfaceId')))
        .filter((eni): eni is string => eni !== undefined);
      return { type: 'instance', id: lastSegment(id), details };
    }
    case 'AwsIamAccessKey': {
      const key = at(asffDetails, 'AwsIamAccessKey');
      const userName = str(at(key, 'PrincipalName')) ?? str(at(key, 'UserName'));
      const principalId = str(at(key, 'PrincipalId'));
      const principalType = str(at(key, 'PrincipalType'));
      if (userName !== undefined) details.userName = userName;
      if (principalId !== undefined) details.principalId = principalId;
      if (principalType !== undefined) details.userType = principalType;
      // `Id` is `AWS::IAM::AccessKey:<key id>`, with `null` when the finding names no key (a console login).
      const fromId = id.startsWith('AWS::IAM::AccessKey:')
        ? id.slice('AWS::IAM::AccessKey:'.length)
        : undefined;
      const keyId = str(at(key, 'AccessKeyId')) ?? (fromId === 'null' ? undefined : str(fromId));
      if (keyId !== undefined) {
        details.temporary = keyId.startsWith('ASIA');
        if (principalType === 'Root') details.root = true;
        return { type: 'access-key', id: keyId, details };
      }
      // No key to act on: the principal is the resource.
      return userName === undefined ? undefined : { type: 'iam-user', id: userName, details };
    }
    case 'AwsIamRole':
      return {
        type: 'iam-role',
        id: str(at(asffDetails, 'AwsIamRole', 'RoleName')) ?? lastSegment(id),
        details,
      };
    case 'AwsIamUser':
      return {
        type: 'iam-user',
        id: str(at(asffDetails, 'AwsIamUser', 'UserName')) ?? lastSegment(id),
        details,
      };
    case 'AwsS3Bucket':
      return { type: 's3-bucket', id: lastSegment(id), details };
    case 'AwsEksCluster':
      return { type: 'eks-cluster', id: lastSegment(id), details };
    case 'AwsEcsCluster':
      return { type: 'ecs-cluster', id: lastSegment(id), details };
    case 'Container':
      return { type: 'container', id, details };
    case 'AwsRdsDbInstance':
      return { type: 'rds-instance', id: lastSegment(id), details };
    case 'AwsLambdaFunction':
      return { type: 'lambda-function', id: lastSegment(id), details };
    default:
      return { type: 'other', id, details };
  }
}

function isSample(finding: Record<string, unknown>, title: string | undefined): boolean {
  if (title?.startsWith('[SAMPLE]')) return true;
  const fields = finding.ProductFields;
  if (at(fields, 'sample') === 'true') return true;
  const additional = at(fields, 'additionalInfo');
  if (typeof additional === 'string' && additional.length < 100_000) {
    try {
      return at(JSON.parse(additional) as unknown, 'sample') === true;
    } catch {
      return false;
    }
  }
  return false;
}

/** What the event around the findings says. */
export interface SecurityHubContext {
  readonly account?: string;
  readonly region?: string;
  /** The custom action's name, for `Security Hub Findings - Custom Action`. */
  readonly customAction?: string;
  readonly raw: unknown;
}

/** Reads one ASFF finding into a candidate finding (validated by the caller). */
export function readAsffFinding(item: unknown, context: SecurityHubContext): Candidate<Finding> {
  if (!isRecord(item)) return refuse('Security Hub finding is not an object');
  const asffId = str(item.Id);
  if (asffId === undefined) return refuse('Security Hub finding has no Id');
  const productArn = str(item.ProductArn);
  const fromGuardDuty = isGuardDutyProduct(productArn);
  const id = fromGuardDuty ? lastSegment(asffId) : asffId;
  const type = str(list(item.Types)[0]) ?? str(item.GeneratorId);
  if (type === undefined) return refuse('Security Hub finding has no Types nor GeneratorId');
  const severity = severityOf(item);
  if (!severity.ok) return severity;
  const account = str(item.AwsAccountId) ?? context.account;
  if (account === undefined) return refuse('Security Hub finding has no AwsAccountId');
  const rawResources = list(item.Resources);
  const region = str(item.Region) ?? context.region ?? str(at(rawResources[0], 'Region'));
  if (region === undefined) return refuse('Security Hub finding has no Region');
  const firstSeen = isoDate(item.FirstObservedAt) ?? isoDate(item.CreatedAt);
  const lastSeen = isoDate(item.LastObservedAt) ?? isoDate(item.UpdatedAt) ?? firstSeen;
  if (firstSeen === undefined || lastSeen === undefined) {
    return refuse('Security Hub finding has no FirstObservedAt nor CreatedAt date-time');
  }
  const resources = rawResources.map(asffResource).filter((r): r is Resource => r !== undefined);
  if (resources.length === 0)
    return refuse(`Security Hub finding ${asffId} names no resource with a Type and an Id`);

  const recordState = str(item.RecordState);
  // `WorkflowState` is the deprecated predecessor of `Workflow.Status`.
  const workflowStatus = str(at(item, 'Workflow', 'Status')) ?? str(item.WorkflowState);
  const resourceRole = str(at(item, 'ProductFields', 'resourceRole'));
  const remoteIp = fromGuardDuty
    ? (str(at(item, 'ProductFields', 'action/awsApiCallAction/remoteIpDetails/ipAddressV4')) ??
      str(at(item, 'ProductFields', 'action/networkConnectionAction/remoteIpDetails/ipAddressV4')))
    : undefined;
  const title = str(item.Title);
  const facts: FindingFacts = {
    archived: recordState === undefined ? undefined : recordState === 'ARCHIVED',
    recordState,
    workflowStatus,
    resourceRole,
    remoteIp,
    remoteIps: remoteIp === undefined ? undefined : [remoteIp],
    productArn,
    deliveredBy: fromGuardDuty ? 'securityhub' : undefined,
    customAction: context.customAction,
  };

  const finding: Finding = {
    id,
    source: fromGuardDuty ? 'guardduty' : 'securityhub',
    type,
    severity: severity.value.severity,
    resources: resources.map((resource) => withFacts(resource, facts)),
    account,
    region,
    firstSeen,
    lastSeen,
    sample: isSample(item, title),
    raw: context.raw,
  };
  if (title !== undefined) finding.title = title;
  const count = fromGuardDuty ? Number(at(item, 'ProductFields', 'count')) : Number.NaN;
  if (Number.isInteger(count) && count >= 1) finding.count = count;
  return { ok: true, value: finding };
}
