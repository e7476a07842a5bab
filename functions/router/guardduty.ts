/**
 * GuardDuty findings, whole (`detail` of a `GuardDuty Finding` event) or bare (what a target sees with
 * `InputPath: $.detail`).
 *
 * - Finding format, resource types and fields:
 *   https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-format.html
 * - EventBridge delivery, repeat deliveries with a higher `service.count`:
 *   https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings_eventbridge.html
 * - Severity 1.0-10.0 (Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0):
 *   https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html
 * - Sample findings (`[SAMPLE]` titles, `service.additionalInfo.sample: true`):
 *   https://docs.aws.amazon.com/guardduty/latest/ug/sample_findings.html
 */
import type { Finding, Resource } from '#shared/domain';
import { type FindingFacts, withFacts } from './facts.ts';
import { at, type Candidate, distinct, isoDate, isRecord, list, num, refuse, str, tagMap } from './read.ts';

/** True when `value` looks like a bare GuardDuty finding object (the `detail` of a `GuardDuty Finding` event). */
export function isGuardDutyFinding(value: unknown): boolean {
  return (
    isRecord(value) &&
    'schemaVersion' in value &&
    'accountId' in value &&
    'type' in value &&
    'resource' in value &&
    'service' in value
  );
}

/** Where the finding arrived from, for the fields a bare finding lacks. */
export interface Envelope {
  readonly account?: string;
  readonly region?: string;
}

function instanceResource(details: unknown): Resource | undefined {
  const id = str(at(details, 'instanceId'));
  if (id === undefined) return undefined;
  const interfaces = list(at(details, 'networkInterfaces'));
  const facts: Record<string, unknown> = {
    networkInterfaceIds: distinct(interfaces.map((eni) => str(at(eni, 'networkInterfaceId')))),
    securityGroupIds: distinct(
      interfaces.flatMap((eni) => list(at(eni, 'securityGroups')).map((sg) => str(at(sg, 'groupId')))),
    ),
    vpcIds: distinct(interfaces.map((eni) => str(at(eni, 'vpcId')))),
    subnetIds: distinct(interfaces.map((eni) => str(at(eni, 'subnetId')))),
    tags: tagMap(at(details, 'tags')),
  };
  const state = str(at(details, 'instanceState'));
  if (state !== undefined) facts.instanceState = state;
  const zone = str(at(details, 'availabilityZone'));
  if (zone !== undefined) facts.availabilityZone = zone;
  const profile = str(at(details, 'iamInstanceProfile', 'arn'));
  if (profile !== undefined) facts.iamInstanceProfileArn = profile;
  return { type: 'instance', id, details: facts };
}

/**
 * The key, and for an assumed role the role too. `userType` follows CloudTrail's identity types
 * (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html);
 * an `ASIA...` key id is temporary credentials (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids).
 */
function accessKeyResources(resource: unknown): Candidate<Resource[]> {
  const key = at(resource, 'accessKeyDetails');
  const accessKeyId = str(at(key, 'accessKeyId'));
  if (accessKeyId === undefined) {
    return refuse('GuardDuty AccessKey finding has no resource.accessKeyDetails.accessKeyId');
  }
  const userType = str(at(key, 'userType'));
  const userName = str(at(key, 'userName'));
  const principalId = str(at(key, 'principalId'));
  const details: Record<string, unknown> = { temporary: accessKeyId.startsWith('ASIA') };
  if (userType !== undefined) details.userType = userType;
  if (userName !== undefined) details.userName = userName;
  if (principalId !== undefined) details.principalId = principalId;
  if (userType === 'Root') details.root = true;
  // Credentials taken from an instance: the key is the resource, the instance is a clue.
  const sourceInstance = str(at(resource, 'instanceDetails', 'instanceId'));
  if (sourceInstance !== undefined) details.sourceInstanceId = sourceInstance;
  const resources: Resource[] = [{ type: 'access-key', id: accessKeyId, details }];
  if (userType === 'AssumedRole' && userName !== undefined) {
    const role: Record<string, unknown> = { userType };
    if (principalId !== undefined) role.principalId = principalId;
    resources.push({ type: 'iam-role', id: userName, details: role });
  }
  return { ok: true, value: resources };
}

function bucketResources(resource: unknown): Resource[] {
  const accessKeyId = str(at(resource, 'accessKeyDetails', 'accessKeyId'));
  return list(at(resource, 's3BucketDetails')).flatMap((bucket): Resource[] => {
    const arn = str(at(bucket, 'arn'));
    const name = str(at(bucket, 'name')) ?? arn?.split(':').pop();
    if (name === undefined || name === '') return [];
    const details: Record<string, unknown> = { tags: tagMap(at(bucket, 'tags')) };
    if (arn !== undefined) details.arn = arn;
    const role = str(at(bucket, 'type'));
    if (role !== undefined) details.bucketRole = role;
    if (accessKeyId !== undefined) details.accessKeyId = accessKeyId;
    return [{ type: 's3-bucket', id: name, details }];
  });
}

function named(type: Resource['type'], ...ids: unknown[]): Resource[] {
  for (const id of ids) {
    const value = str(id);
    if (value !== undefined) return [{ type, id: value }];
  }
  return [];
}

/** The resources a GuardDuty finding names, by `resource.resourceType`. */
function resourcesOf(resource: unknown): Candidate<Resource[]> {
  const resourceType = str(at(resource, 'resourceType'));
  if (resourceType === undefined) return refuse('GuardDuty finding has no resource.resourceType');
  let resources: Resource[];
  switch (resourceType) {
    case 'Instance': {
      const instance = instanceResource(at(resource, 'instanceDetails'));
      resources = instance === undefined ? [] : [instance];
      break;
    }
    case 'AccessKey':
      return accessKeyResources(resource);
    case 'S3Bucket':
    case 'S3Object':
      resources = bucketResources(resource);
      break;
    case 'EKSCluster':
      resources = named(
        'eks-cluster',
        at(resource, 'eksClusterDetails', 'name'),
        at(resource, 'eksClusterDetails', 'arn'),
      );
      break;
    case 'ECSCluster':
      resources = named(
        'ecs-cluster',
        at(resource, 'ecsClusterDetails', 'name'),
        at(resource, 'ecsClusterDetails', 'arn'),
      );
      break;
    case 'Container':
      resources = named(
        'container',
        at(resource, 'containerDetails', 'id'),
        at(resource, 'containerDetails', 'name'),
      );
      break;
    case 'RDSDBInstance':
      resources = named(
        'rds-instance',
        at(resource, 'rdsDbInstanceDetails', 'dbInstanceIdentifier'),
        at(resource, 'rdsDbInstanceDetails', 'dbInstanceArn'),
      );
      break;
    case 'RDSLimitlessDB':
      resources = named(
        'rds-instance',
        at(resource, 'rdsLimitlessDbDetails', 'dbShardGroupIdentifier'),
        at(resource, 'rdsLimitlessDbDetails', 'dbShardGroupArn'),
      );
      break;
    case 'Lambda':
      resources = named(
        'lambda-function',
        at(resource, 'lambdaDetails', 'functionName'),
        at(resource, 'lambdaDetails', 'functionArn'),
      );
      break;
    default:
      // A resource type GuardDuty added after this code: it still normalizes, with no playbook.
      return { ok: true, value: [{ type: 'other', id: resourceType, details: { resourceType } }] };
  }
  if (resources.length === 0) return refuse(`GuardDuty ${resourceType} finding names no ${resourceType} id`);
  return { ok: true, value: resources };
}

/** Remote addresses from whichever action the finding describes. */
function remoteSide(action: unknown): { remoteIps: string[]; domain?: string } {
  const remotes: unknown[] = [
    at(action, 'networkConnectionAction', 'remoteIpDetails'),
    at(action, 'awsApiCallAction', 'remoteIpDetails'),
    at(action, 'kubernetesApiCallAction', 'remoteIpDetails'),
    at(action, 'rdsLoginAttemptAction', 'remoteIpDetails'),
    ...list(at(action, 'portProbeAction', 'portProbeDetails')).map((probe) => at(probe, 'remoteIpDetails')),
  ];
  const remoteIps = distinct(
    remotes.flatMap((remote) => [str(at(remote, 'ipAddressV4')), str(at(remote, 'ipAddressV6'))]),
  );
  const domain = str(at(action, 'dnsRequestAction', 'domain'));
  return domain === undefined ? { remoteIps } : { remoteIps, domain };
}

/** Reads one GuardDuty finding object into a candidate finding (validated by the caller). */
export function readGuardDutyFinding(detail: unknown, envelope: Envelope, raw: unknown): Candidate<Finding> {
  if (!isRecord(detail)) return refuse('GuardDuty finding is not an object');
  const id = str(detail.id);
  if (id === undefined) return refuse('GuardDuty finding has no id');
  const type = str(detail.type);
  if (type === undefined) return refuse('GuardDuty finding has no type');
  const severity = num(detail.severity);
  if (severity === undefined) return refuse('GuardDuty finding has no numeric severity');
  // The account that owns the resource; the envelope's account is where the event was delivered
  // (the GuardDuty administrator account in an organization).
  const account = str(detail.accountId) ?? envelope.account;
  if (account === undefined) return refuse('GuardDuty finding has no accountId');
  const region = str(detail.region) ?? envelope.region;
  if (region === undefined) return refuse('GuardDuty finding has no region');

  const service = detail.service;
  const firstSeen = isoDate(at(service, 'eventFirstSeen')) ?? isoDate(detail.createdAt);
  const lastSeen = isoDate(at(service, 'eventLastSeen')) ?? isoDate(detail.updatedAt) ?? firstSeen;
  if (firstSeen === undefined || lastSeen === undefined) {
    return refuse('GuardDuty finding has no service.eventFirstSeen nor createdAt date-time');
  }

  const resources = resourcesOf(detail.resource);
  if (!resources.ok) return resources;

  const title = str(detail.title);
  const sample = at(service, 'additionalInfo', 'sample') === true || (title?.startsWith('[SAMPLE]') ?? false);
  const { remoteIps, domain } = remoteSide(at(service, 'action'));
  const archived = at(service, 'archived');
  const apiName = str(at(service, 'action', 'awsApiCallAction', 'api'));
  const apiService = str(at(service, 'action', 'awsApiCallAction', 'serviceName'));
  const count = num(at(service, 'count'));
  const counted = count !== undefined && Number.isInteger(count) && count >= 1 ? count : undefined;
  const facts: FindingFacts = {
    resourceRole: str(at(service, 'resourceRole')),
    archived: typeof archived === 'boolean' ? archived : undefined,
    actionType: str(at(service, 'action', 'actionType')),
    remoteIps: remoteIps.length > 0 ? remoteIps : undefined,
    remoteIp: remoteIps[0],
    domain,
    api: apiName === undefined ? undefined : apiService === undefined ? apiName : `${apiService} ${apiName}`,
    count: counted,
  };

  const finding: Finding = {
    id,
    source: 'guardduty',
    type,
    severity,
    resources: resources.value.map((resource) => withFacts(resource, facts)),
    account,
    region,
    firstSeen,
    lastSeen,
    sample,
    raw,
  };
  if (title !== undefined) finding.title = title;
  if (counted !== undefined) finding.count = counted;
  return { ok: true, value: finding };
}
