/**
 * The policy: from a finding, what is known of its resource, and the settings, which playbook runs and
 * how. Pure: it reads nothing and changes nothing, so the router, `cordon triage` and the tests share it.
 *
 * It fails closed: any error inside sends the finding to a person (`approval-first`, the error in the
 * reasons), never to an automatic action and never to a silent drop. Every rule that fires adds a reason.
 * Facts relied on are in ../shared/FINDINGS.md, each with its documentation link where it is read
 * (guardduty.ts, cloudwatch.ts, securityhub.ts).
 */
import { type Finding, FindingSchema, parseOrThrow, type Resource } from '#shared/domain';
import type { PlaybookMode, Settings } from '#shared/settings';
import { findAlarmMapping } from './cloudwatch.ts';
import { booleanFact, resourceTags, stringFact } from './facts.ts';
import { errorMessage } from './read.ts';

/** How a playbook runs, or `none` when nothing starts. */
export type DecisionMode = PlaybookMode | 'none';

/** What the policy decided, and why. */
export interface Decision {
  /** The playbook to start, or null when there is none for this finding. */
  readonly playbook: string | null;
  readonly mode: DecisionMode;
  /** One line per rule that fired, in the order they fired. */
  readonly reasons: string[];
}

/** What the policy knows beyond the finding. */
export interface PolicyContext {
  /** The resource's current tags, when they were looked up; else the tags the finding carries are used. */
  readonly tags?: Readonly<Record<string, string>>;
  /** Automatic containments started in the finding's account in the last hour. */
  readonly automaticContainmentsLastHour: number;
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

function requireNumber(value: unknown, name: string): number {
  if (typeof value !== 'number' || Number.isNaN(value))
    throw new TypeError(`settings.${name} is not a number`);
  return value;
}

function evaluate(input: Finding, context: PolicyContext, settings: Settings, reasons: string[]): Decision {
  // A finding that does not fit its schema is an error here too: it fails closed.
  const finding = parseOrThrow(FindingSchema, input, 'finding');
  const none = (playbook: string | null = null): Decision => ({ playbook, mode: 'none', reasons });
  const threshold = requireNumber(settings.severityThreshold, 'severityThreshold');
  const limit = requireNumber(settings.maxAutomaticContainmentsPerHour, 'maxAutomaticContainmentsPerHour');
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
  const configured = settings.playbookModes[playbook];
  let mode: PlaybookMode = configured ?? DEFAULT_PLAYBOOK_MODE;
  reasons.push(
    configured === undefined
      ? `playbook ${playbook} for ${resource.type} ${resource.id}; not in settings.playbookModes, so ${DEFAULT_PLAYBOOK_MODE}`
      : `playbook ${playbook} for ${resource.type} ${resource.id}; settings.playbookModes says ${configured}`,
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
    const count = context.automaticContainmentsLastHour;
    if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) {
      mode = 'approval-first';
      reasons.push('the number of automatic containments in the last hour is unknown: a person decides');
    } else if (count >= limit) {
      mode = 'approval-first';
      reasons.push(
        `blast radius: ${count} automatic containments in account ${finding.account} in the last hour reached the limit of ${limit}`,
      );
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
  return { playbook, mode, reasons };
}

/**
 * Decides which playbook a finding starts and in which mode. Never throws: an error inside gives
 * `approval-first`, with the error in the reasons.
 */
export function decide(finding: Finding, context: PolicyContext, settings: Settings): Decision {
  const reasons: string[] = [];
  try {
    return evaluate(finding, context, settings, reasons);
  } catch (error) {
    let playbook: string | null = null;
    try {
      playbook = playbookFor(finding, settings)?.playbook ?? null;
    } catch {
      playbook = null;
    }
    return {
      playbook,
      mode: 'approval-first',
      reasons: [...reasons, `policy error, sent to a person: ${errorMessage(error)}`],
    };
  }
}
