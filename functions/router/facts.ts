/**
 * The facts of a finding that the policy reads, and where normalization keeps them.
 *
 * `Finding` (functions/shared/domain.ts) has no finding-level `details`, and its schema strips unknown
 * keys, so the facts of the finding as a whole (resource role, archived, workflow state, remote address,
 * custom action) are copied into the `details` of each of its resources, next to that resource's own facts
 * (tags, user type, interface ids). Every resource of a finding carries the same finding-level facts.
 */
import type { Finding, Resource } from '#shared/domain';
import { isRecord, tagMap } from './read.ts';

/** Facts about the finding as a whole, copied into each resource's `details`. */
export interface FindingFacts {
  /** GuardDuty `service.resourceRole`: `ACTOR` (the resource did it) or `TARGET` (it was acted on). */
  readonly resourceRole?: string;
  /** Dismissed: GuardDuty `service.archived`, or Security Hub `RecordState: ARCHIVED`. */
  readonly archived?: boolean;
  /** GuardDuty `service.action.actionType` (`NETWORK_CONNECTION`, `AWS_API_CALL`, `DNS_REQUEST`, `PORT_PROBE`...). */
  readonly actionType?: string;
  /** The remote side's addresses, from `service.action.*.remoteIpDetails`. */
  readonly remoteIps?: readonly string[];
  /** The first of `remoteIps`. */
  readonly remoteIp?: string;
  /** The domain queried, for a `DNS_REQUEST` action. */
  readonly domain?: string;
  /** The API called, for an `AWS_API_CALL` action: `<serviceName> <api>` (`iam.amazonaws.com ListUsers`). */
  readonly api?: string;
  /** How many times the reporter had seen it when it was delivered (GuardDuty `service.count`). */
  readonly count?: number;
  /** Security Hub `Workflow.Status` (`NEW`, `NOTIFIED`, `RESOLVED`, `SUPPRESSED`). */
  readonly workflowStatus?: string;
  /** Security Hub `RecordState` (`ACTIVE`, `ARCHIVED`). */
  readonly recordState?: string;
  /** Security Hub `ProductArn`. */
  readonly productArn?: string;
  /** The service that delivered a finding reported by another (`securityhub` for an imported GuardDuty finding). */
  readonly deliveredBy?: string;
  /** The name of the Security Hub custom action a person chose: a deliberate request. */
  readonly customAction?: string;
  /** The CloudWatch alarm's name. */
  readonly alarmName?: string;
}

/** Copies finding-level facts into a resource's details, dropping undefined values. */
export function withFacts(resource: Resource, facts: FindingFacts): Resource {
  const details: Record<string, unknown> = { ...(resource.details ?? {}) };
  for (const [key, value] of Object.entries(facts)) {
    if (value !== undefined) details[key] = value;
  }
  return Object.keys(details).length === 0
    ? { type: resource.type, id: resource.id }
    : { ...resource, details };
}

function detailOf(finding: Finding, key: string): unknown {
  for (const resource of finding.resources) {
    const details = resource.details;
    if (isRecord(details) && details[key] !== undefined) return details[key];
  }
  return undefined;
}

/** A finding-level string fact, read back from its resources. */
export function stringFact(finding: Finding, key: keyof FindingFacts): string | undefined {
  const value = detailOf(finding, key);
  return typeof value === 'string' ? value : undefined;
}

/** A finding-level boolean fact, read back from its resources. */
export function booleanFact(finding: Finding, key: keyof FindingFacts): boolean | undefined {
  const value = detailOf(finding, key);
  return typeof value === 'boolean' ? value : undefined;
}

/** A resource's tags as recorded in its details (GuardDuty `instanceDetails.tags`, ASFF `Resources[].Tags`). */
export function resourceTags(resource: Resource): Record<string, string> {
  return tagMap(resource.details?.tags);
}
