/**
 * The policy: from a finding, what is known of its resource, and the settings, which playbook runs and
 * how. Pure: it reads nothing and changes nothing, so the router, `cordon triage` and the tests share it.
 *
 * It fails closed: any error inside sends the finding to a person (`approval-first`, the error in the
 * reasons), never to an automatic action and never to a silent drop. Every rule that fires adds a reason.
 * Facts relied on are in ../shared/FINDINGS.md, each with its documentation link where it is read
 * (guardduty.ts, cloudwatch.ts, securityhub.ts).
 */
import * as z from 'zod/mini';
import { AUTOMATIC_WINDOW_MINUTES, type AutomaticContainment } from '#shared/audit-queries';
import { type Finding, FindingSchema, parseOrThrow, type Resource, ResourceSchema } from '#shared/domain';
import { ValidationError } from '#shared/errors';
import type { PlaybookMode, Settings } from '#shared/settings';
import { findAlarmMapping } from './cloudwatch.ts';
import { booleanFact, resourceTags, stringFact } from './facts.ts';
import { errorMessage } from './read.ts';
import { accountRules } from './scope.ts';

/** How a playbook runs, or `none` when nothing starts. */
export type DecisionMode = PlaybookMode | 'none';

/** What the policy decided, and why. */
export interface Decision {
  /** The playbook to start, or null when there is none for this finding. */
  readonly playbook: string | null;
  /**
   * The resource the playbook acts on, null exactly when `playbook` is. A finding may list several (an
   * ASFF finding's `Resources`): this one, not the first listed, is what the router marks open, records
   * first in the incident and hands to the playbook, so that the approvers are asked about the resource
   * the policy chose and later findings on it correlate.
   */
  readonly resource: Resource | null;
  readonly mode: DecisionMode;
  /** One line per rule that fired, in the order they fired. */
  readonly reasons: string[];
}

/** What the policy knows beyond the finding. */
export interface PolicyContext {
  /** The resource's current tags, when they were looked up; else the tags the finding carries are used. */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Automatic containments started in the finding's account in the last 60 minutes (a sliding window, not
   * the clock hour).
   */
  readonly automaticContainmentsLast60Minutes: number;
  /** Those containments, when they were read, so that a reason names what used the limit. */
  readonly automaticContainments?: readonly AutomaticContainment[];
  /**
   * Automatic containments started in the whole organization in the last 60 minutes, against
   * `organization.maxAutomaticContainmentsPerHour`. The router always gives it; undefined (a preview such
   * as `cordon triage`, which reads no slots) leaves the organization's limit to the router.
   */
  readonly organizationContainmentsLast60Minutes?: number;
  /** Those containments (each naming its account), when they were read. */
  readonly organizationContainments?: readonly AutomaticContainment[];
  /** `aws` when deployed; `local` on the local runtime, which may rehearse on sample findings. */
  readonly runtime: 'local' | 'aws';
}

/** The playbook for each resource type that has one. */
export const PLAYBOOK_BY_RESOURCE_TYPE: Readonly<Partial<Record<Resource['type'], string>>> = {
  instance: 'ec2-compromise',
  'access-key': 'iam-credential-compromise',
};

/**
 * Key owners automation knows how to contain (CloudTrail identity types,
 * https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html).
 * `Root` is handled on its own; any other type goes to a person, never to a guess.
 */
export const CONTAINABLE_USER_TYPES: readonly string[] = ['IAMUser', 'AssumedRole', 'FederatedUser'];

/** The playbook mode used for a playbook `settings.playbookModes` does not list. */
export const DEFAULT_PLAYBOOK_MODE: PlaybookMode = 'approval-first';

/** Security Hub workflow states that mean a person already handled the finding. */
const HANDLED_WORKFLOW = new Set(['RESOLVED', 'SUPPRESSED']);

const RESTRICTIVENESS: Record<PlaybookMode, number> = { 'dry-run': 0, 'approval-first': 1, automatic: 2 };

function restrict(mode: PlaybookMode, cap: PlaybookMode): PlaybookMode {
  return RESTRICTIVENESS[cap] < RESTRICTIVENESS[mode] ? cap : mode;
}

function tagsOf(resource: Resource, context: PolicyContext): Record<string, string> {
  return { ...resourceTags(resource), ...(context.tags ?? {}) };
}

function matchesTag(tags: Record<string, string>, spec: string): boolean {
  const at = spec.indexOf('=');
  if (at < 0) return Object.hasOwn(tags, spec);
  const key = spec.slice(0, at);
  return Object.hasOwn(tags, key) && tags[key] === spec.slice(at + 1);
}

function matchesType(type: string, spec: string): boolean {
  return spec.endsWith('*') ? type.startsWith(spec.slice(0, -1)) : type === spec;
}

/** The suppression that matches the finding: every field it gives must match (`findingType` may end in `*`). */
function suppressionFor(
  finding: Finding,
  context: PolicyContext,
  suppressions: Settings['suppressions'],
): Settings['suppressions'][number] | undefined {
  return suppressions.find((s) => {
    if (s.findingType === undefined && s.account === undefined && s.resourceTag === undefined) return false;
    if (s.findingType !== undefined && !matchesType(finding.type, s.findingType)) return false;
    if (s.account !== undefined && s.account !== finding.account) return false;
    const tag = s.resourceTag;
    if (tag !== undefined && !finding.resources.some((r) => matchesTag(tagsOf(r, context), tag)))
      return false;
    return true;
  });
}

/**
 * The resource `playbook` acts on for a finding: the first resource of a type that playbook handles
 * ({@link PLAYBOOK_BY_RESOURCE_TYPE}), else the first resource (a CloudWatch alarm mapped to a playbook,
 * or a playbook chosen by hand with `cordon run`). For callers that open an incident without the router:
 * it picks what the policy would for the same finding and playbook.
 *
 * @throws ValidationError when the finding names no resource.
 */
export function resourceForPlaybook(finding: Finding, playbook: string): Resource {
  const resource =
    finding.resources.find((r) => PLAYBOOK_BY_RESOURCE_TYPE[r.type] === playbook) ?? finding.resources[0];
  if (resource === undefined) throw new ValidationError('finding', ['resources: names no resource']);
  return resource;
}

/** The playbook and the resource it acts on. */
function playbookFor(
  finding: Finding,
  settings: Settings,
): { playbook: string; resource: Resource } | undefined {
  const first = finding.resources[0];
  if (finding.source === 'cloudwatch') {
    const alarmName = stringFact(finding, 'alarmName');
    const mapping = alarmName === undefined ? undefined : findAlarmMapping(alarmName, settings.alarms);
    if (mapping !== undefined && first !== undefined) return { playbook: mapping.playbook, resource: first };
  }
  for (const resource of finding.resources) {
    const playbook = PLAYBOOK_BY_RESOURCE_TYPE[resource.type];
    if (playbook !== undefined) return { playbook, resource };
  }
  return undefined;
}

/** At most this many containments are named in a reason; the rest are counted. */
const NAMED_CONTAINMENTS = 10;

/**
 * Why a finding waits for a person once its account's blast-radius limit is reached, naming the
 * containments that used it (oldest first) so that the approvers can tell a storm from a coincidence.
 */
export function blastRadiusReason(
  account: string,
  limit: number,
  count: number,
  holders: readonly AutomaticContainment[] = [],
  limitFrom = 'maxAutomaticContainmentsPerHour',
): string {
  const own = limitFrom !== 'maxAutomaticContainmentsPerHour';
  return (
    `blast-radius limit reached: ${count} automatic containments in ${account} in the last ` +
    `${AUTOMATIC_WINDOW_MINUTES} minutes${namedHolders(holders, false)}` +
    `${own ? `, the limit is ${limit} (${limitFrom})` : count === limit ? '' : `, the limit is ${limit}`}` +
    ': sent to a person'
  );
}

/**
 * Why a finding waits for a person once the organization's blast-radius limit is reached, naming the
 * containments that used it (oldest first), each with its account.
 */
export function organizationLimitReason(
  limit: number,
  count: number,
  holders: readonly AutomaticContainment[] = [],
): string {
  return (
    `organization blast-radius limit reached: ${count} automatic containments across the organization in ` +
    `the last ${AUTOMATIC_WINDOW_MINUTES} minutes${namedHolders(holders, true)}, the limit is ${limit} ` +
    '(organization.maxAutomaticContainmentsPerHour): sent to a person'
  );
}

/** The containments a limit's reason names, in parentheses: at most {@link NAMED_CONTAINMENTS}, the rest counted. */
function namedHolders(holders: readonly AutomaticContainment[], withAccount: boolean): string {
  const named = holders
    .slice(0, NAMED_CONTAINMENTS)
    .map(
      (h) =>
        `${h.incidentId} on ${h.resourceId}${withAccount && h.account !== undefined ? ` in ${h.account}` : ''} at ${h.takenAt}`,
    );
  if (holders.length > NAMED_CONTAINMENTS) named.push(`${holders.length - NAMED_CONTAINMENTS} more`);
  return named.length === 0 ? '' : ` (${named.join(', ')})`;
}

function requireNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`settings.${name} is not a number`);
  return value;
}

function evaluate(input: Finding, context: PolicyContext, settings: Settings, reasons: string[]): Decision {
  // A finding that does not fit its schema is an error here too: it fails closed.
  const finding = parseOrThrow(FindingSchema, input, 'finding');
  const none = (): Decision => ({ playbook: null, resource: null, mode: 'none', reasons });
  const threshold = requireNumber(settings.severityThreshold, 'severityThreshold');
  // The account's own limit and modes (organization.perAccount) over the defaults.
  const rules = accountRules(settings, finding.account);
  const limit = requireNumber(rules.limit, rules.limitFrom);
  const customAction = stringFact(finding, 'customAction');

  if (customAction !== undefined) {
    reasons.push(
      `requested by a person with the Security Hub custom action "${customAction}": handled as an approval-first start, whatever its severity`,
    );
  } else if (finding.severity < threshold) {
    reasons.push(`severity ${finding.severity} is below the threshold ${threshold}`);
    return none();
  }

  const suppression = suppressionFor(finding, context, settings.suppressions);
  if (suppression !== undefined) {
    reasons.push(`suppressed: ${suppression.reason}`);
    return none();
  }

  if (booleanFact(finding, 'archived') === true && customAction === undefined) {
    reasons.push('the finding is archived: a person or a suppression rule dismissed it');
    return none();
  }
  const workflow = stringFact(finding, 'workflowStatus');
  if (workflow !== undefined && HANDLED_WORKFLOW.has(workflow) && customAction === undefined) {
    reasons.push(`the finding's Security Hub workflow status is ${workflow}: already handled`);
    return none();
  }

  const chosen = playbookFor(finding, settings);
  if (chosen === undefined) {
    const types =
      [...new Set(finding.resources.map((r) => r.type))].join(', ') || 'a finding with no resource';
    reasons.push(`no playbook for ${types}`);
    return none();
  }
  const { playbook, resource } = chosen;
  const general = Object.hasOwn(settings.playbookModes, playbook)
    ? settings.playbookModes[playbook]
    : undefined;
  const own = Object.hasOwn(rules.playbookModes, playbook) ? rules.playbookModes[playbook] : undefined;
  const configured = own ?? general;
  let mode: PlaybookMode = configured ?? DEFAULT_PLAYBOOK_MODE;
  const chosenFor = `playbook ${playbook} for ${resource.type} ${resource.id}`;
  reasons.push(
    own !== undefined
      ? `${chosenFor}; organization.perAccount.${finding.account}.playbookModes says ${own}, in place of settings.playbookModes (${general ?? `not listed, so ${DEFAULT_PLAYBOOK_MODE}`})`
      : configured === undefined
        ? `${chosenFor}; not in settings.playbookModes, so ${DEFAULT_PLAYBOOK_MODE}`
        : `${chosenFor}; settings.playbookModes says ${configured}`,
  );

  if (resource.type === 'access-key') {
    const userType = resource.details?.userType;
    if (userType === 'Root' || resource.details?.root === true) {
      mode = restrict(mode, 'approval-first');
      reasons.push('root credentials cannot be contained by automation: a person decides');
    } else if (typeof userType !== 'string' || !CONTAINABLE_USER_TYPES.includes(userType)) {
      mode = restrict(mode, 'approval-first');
      reasons.push(
        `the key's user type is ${typeof userType === 'string' ? `"${userType}"` : 'unknown'}: a person decides, never a guess`,
      );
    }
  }

  if (resource.type === 'instance' && stringFact(finding, 'resourceRole') === 'TARGET') {
    mode = restrict(mode, 'approval-first');
    const remote = stringFact(finding, 'remoteIp');
    reasons.push(
      `instance ${resource.id} is only the target of the finding, not known to be compromised: a person decides` +
        (remote === undefined ? '' : ` (blocking ${remote} is the natural action)`),
    );
  }

  const { key, value } = settings.protectedTag;
  const protectedResource = finding.resources.find((r) => tagsOf(r, context)[key] === value);
  if (protectedResource !== undefined) {
    mode = restrict(mode, 'approval-first');
    reasons.push(
      `${protectedResource.type} ${protectedResource.id} is protected (${key}=${value}): never acted on without approval`,
    );
  }

  if (customAction !== undefined) mode = restrict(mode, 'approval-first');

  if (mode === 'automatic') {
    const count = context.automaticContainmentsLast60Minutes;
    if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) {
      mode = 'approval-first';
      reasons.push(
        `the number of automatic containments in the last ${AUTOMATIC_WINDOW_MINUTES} minutes is unknown: a person decides`,
      );
    } else if (count >= limit) {
      mode = 'approval-first';
      reasons.push(
        blastRadiusReason(finding.account, limit, count, context.automaticContainments, rules.limitFrom),
      );
    }
    const inOrganization = context.organizationContainmentsLast60Minutes;
    if (inOrganization !== undefined) {
      const organizationLimit = requireNumber(
        settings.organization.maxAutomaticContainmentsPerHour,
        'organization.maxAutomaticContainmentsPerHour',
      );
      if (typeof inOrganization !== 'number' || !Number.isFinite(inOrganization) || inOrganization < 0) {
        mode = 'approval-first';
        reasons.push(
          `the number of automatic containments in the organization in the last ${AUTOMATIC_WINDOW_MINUTES} minutes is unknown: a person decides`,
        );
      } else if (inOrganization >= organizationLimit) {
        mode = 'approval-first';
        reasons.push(
          organizationLimitReason(organizationLimit, inOrganization, context.organizationContainments),
        );
      }
    }
  }

  if (finding.sample === true) {
    if (context.runtime === 'local') {
      reasons.push(`a sample finding: the local runtime rehearses it (${mode})`);
    } else {
      mode = 'dry-run';
      reasons.push(
        'a sample finding: a deployed Cordon shows what it would do and changes nothing (dry-run)',
      );
    }
  }
  return { playbook, resource, mode, reasons };
}

/**
 * Decides which playbook a finding starts, on which of its resources, and in which mode. Never throws:
 * an error inside gives `approval-first`, with the error in the reasons, and the playbook and resource the
 * same rule picks only when it picks a valid resource; else neither, and nothing starts.
 */
export function decide(finding: Finding, context: PolicyContext, settings: Settings): Decision {
  const reasons: string[] = [];
  try {
    return evaluate(finding, context, settings, reasons);
  } catch (error) {
    reasons.push(`policy error, sent to a person: ${errorMessage(error)}`);
    let chosen: { playbook: string; resource: Resource } | undefined;
    try {
      chosen = playbookFor(finding, settings);
    } catch {
      chosen = undefined;
    }
    const resource = chosen === undefined ? undefined : z.safeParse(ResourceSchema, chosen.resource);
    if (chosen === undefined || resource === undefined || !resource.success) {
      if (chosen !== undefined)
        reasons.push('no valid resource to act on: nothing starts, a person must respond');
      return { playbook: null, resource: null, mode: 'approval-first', reasons };
    }
    return { playbook: chosen.playbook, resource: resource.data, mode: 'approval-first', reasons };
  }
}
