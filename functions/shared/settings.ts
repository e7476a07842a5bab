/**
 * Cordon's settings: the one typed configuration file a team edits to prepare (`cordon.config.ts` at the
 * repository's root). The stack validates it at synth and hands each function the part it needs, as
 * JSON in an environment variable, validated again at cold start with the same schema.
 *
 * Longer than 400 lines: one schema of every section a team edits, each field documented where it is
 * defined, so that the file is the settings' reference.
 */
import * as z from 'zod/mini';
import { describeIssues, parseOrThrow } from './domain.ts';
import { ConfigError, ValidationError } from './errors.ts';
import { lazySchema } from './lazy-schema.ts';

export const PLAYBOOK_MODES = ['automatic', 'approval-first', 'dry-run'] as const;
export type PlaybookMode = (typeof PLAYBOOK_MODES)[number];

/** An email address, as loosely as SES takes one: something, `@`, a domain with a dot. */
export const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const email = lazySchema(() => z.string().check(z.regex(EMAIL, 'must be an email address')));

/**
 * A role of this account as the settings name it: its name, or its path and name (`/app/web-role`), the
 * path being the one IAM shows in the role's ARN (`arn:aws:iam::<account>:role/app/web-role`). IAM
 * compares role ARNs case-sensitively: spell the name as IAM does.
 */
const ROLE_REF = /^(\/(?:[\w+=,.@-]+\/)*)?([\w+=,.@*-]{1,64})$/;

/** A role reference split into its path (undefined when none was given) and its name or name pattern. */
export function roleRefParts(ref: string): { path: string | undefined; name: string } {
  const match = ROLE_REF.exec(ref);
  if (!match) throw new Error(`not a role reference: "${ref}"`);
  return { path: match[1], name: match[2] ?? '' };
}

/** A role name or `/path/name`; `*` only at the end of the name, and never a pattern of every role. */
const instanceRole = lazySchema(() =>
  z.string().check(
    z.regex(ROLE_REF, 'must be a role name, or a path and a role name (/app/web-role)'),
    z.refine((ref) => !ROLE_REF.test(ref) || /^[^*]*\*?$/.test(roleRefParts(ref).name), {
      message: 'may have "*" only at the end of the role name',
    }),
    z.refine((ref) => !ROLE_REF.test(ref) || !/^\/?\*$/.test(ref), {
      message: 'must not be "*": that would let Cordon give any role of the account to an instance',
    }),
  ),
);

/** A role name or `/path/name`, with `*` anywhere in the name, but not a pattern of every role. */
const breakGlassRole = lazySchema(() =>
  z.string().check(
    z.regex(ROLE_REF, 'must be a role name or pattern, or a path and one (/emergency/admin-*)'),
    z.refine((ref) => !ROLE_REF.test(ref) || !/^\/?\**$/.test(ref), {
      message: 'must not match every role of the account: Cordon could then revoke nothing',
    }),
  ),
);

/**
 * An IAM principal ARN pattern, as IAM's `ArnLike` reads one: `*` for any characters and `?` for one, each
 * within its colon-separated part. It must name a user, role or assumed role, and name it: a pattern of
 * every principal would let anyone allowed to call the console route decide.
 */
const PRINCIPAL_PATTERN = /^arn:(aws[a-z-]*|\*):(iam|sts)::(\d{12}|\*):(user|role|assumed-role)\/(\S+)$/;

const PRINCIPAL_SHAPE =
  'must be an IAM user, role or assumed-role ARN, or a pattern of one (arn:aws:sts::*:assumed-role/AWSReservedSSO_SecurityResponder_*/*)';
const PRINCIPAL_EVERYONE = 'must name the users or roles of the people who decide, not match every one';

/** True when a pattern of {@link PRINCIPAL_PATTERN}'s shape names no one in particular (`*`, `*\/*`). */
function matchesEveryone(pattern: string): boolean {
  return /^[*?/]*$/.test(PRINCIPAL_PATTERN.exec(pattern)?.[5] ?? 'x');
}

/**
 * Why a console principal pattern is refused, or undefined when it is good: the check of
 * {@link ConsolePrincipalSchema}, for the approval functions' hand-written one (functions/approval/config.ts).
 */
export function consolePrincipalProblem(pattern: string): string | undefined {
  if (!PRINCIPAL_PATTERN.test(pattern)) return PRINCIPAL_SHAPE;
  return matchesEveryone(pattern) ? PRINCIPAL_EVERYONE : undefined;
}

export const ConsolePrincipalSchema = lazySchema(() =>
  z.string().check(
    z.regex(PRINCIPAL_PATTERN, PRINCIPAL_SHAPE),
    z.refine((pattern) => !matchesEveryone(pattern), { message: PRINCIPAL_EVERYONE }),
  ),
);

/** A 12-digit AWS account id. */
const ACCOUNT_ID = /^\d{12}$/;
/** An AWS region's name (`us-east-1`, `eu-west-2`). */
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d$/;
/** An organizational unit's id, or the organization's root's (every account). */
const UNIT_ID = /^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/;

const accountId = lazySchema(() =>
  z.string().check(z.regex(ACCOUNT_ID, 'must be a 12-digit AWS account id')),
);
const unitId = lazySchema(() =>
  z.string().check(z.regex(UNIT_ID, 'must be an organizational unit id (ou-...) or a root id (r-...)')),
);

/** The role Cordon assumes in each member account unless `organization.responderRoleName` says otherwise. */
export const DEFAULT_RESPONDER_ROLE = 'cordon-responder';
/** The organization's blast-radius limit unless `organization.maxAutomaticContainmentsPerHour` says otherwise. */
export const DEFAULT_ORGANIZATION_LIMIT = 20;

/** What a member in scope needs that the responder role's trust requires. */
const MEMBERS_NEED =
  'is required when a member account is in scope (organization.accounts or organization.organizationalUnits): the responder role in each member trusts only callers from the organization that give it';

const organization = lazySchema(() =>
  z
    .object({
      /** The organization's id (`o-...`): the responder role trusts only principals of it (`aws:PrincipalOrgID`). */
      id: z.optional(z.string().check(z.regex(/^o-[a-z0-9]{10,32}$/, 'must be an organization id (o-...)'))),
      /** The role Cordon assumes in each member account. Default `cordon-responder`. */
      responderRoleName: z._default(
        z.string().check(z.regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM role name')),
        DEFAULT_RESPONDER_ROLE,
      ),
      /** The `sts:ExternalId` Cordon gives when it assumes the responder role; the role requires it. */
      externalId: z.optional(
        z.string().check(z.regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be 2 to 1224 of the characters STS takes')),
      ),
      /** The organizational units (or the root) the responder role is deployed to (a StackSet). Default none. */
      organizationalUnits: z._default(z.array(unitId), []),
      /**
       * The accounts of each of `organizationalUnits`, as `cordon prepare` read them from Organizations: the
       * router puts them in scope. An OU not in `organizationalUnits` puts nothing in scope. Default none.
       */
      unitAccounts: z._default(z.record(unitId, z.array(accountId)), {}),
      /** Member accounts in scope by id, besides the units' accounts. Default none. */
      accounts: z._default(z.array(accountId), []),
      /** Accounts never acted in, even when in scope by a unit or by id: a person responds. Default none. */
      excludedAccounts: z._default(z.array(accountId), []),
      /** Regions covered besides the hub's own. Default none: the hub's region only. */
      regions: z._default(
        z.array(z.string().check(z.regex(REGION_NAME, 'must be an AWS region such as us-east-1'))),
        [],
      ),
      /**
       * At most this many automatic containments in the whole organization (every account together) in any
       * 60 minutes, besides each account's own limit; past it every containment waits for approval. Default 20.
       */
      maxAutomaticContainmentsPerHour: z._default(
        z.number().check(z.int(), z.gte(0)),
        DEFAULT_ORGANIZATION_LIMIT,
      ),
      /**
       * What differs in one account: its playbook modes (each replaces `playbookModes`' for that account) and
       * its blast-radius limit (in place of `maxAutomaticContainmentsPerHour`). Default none.
       */
      perAccount: z._default(
        z.record(
          accountId,
          z.object({
            playbookModes: z.optional(z.record(z.string(), z.enum(PLAYBOOK_MODES))),
            maxAutomaticContainmentsPerHour: z.optional(z.number().check(z.int(), z.gte(0))),
          }),
        ),
        {},
      ),
    })
    .check(
      z.refine((o) => !membersInScope(o) || o.id !== undefined, { message: MEMBERS_NEED, path: ['id'] }),
      z.refine((o) => !membersInScope(o) || o.externalId !== undefined, {
        message: MEMBERS_NEED,
        path: ['externalId'],
      }),
    ),
);

function membersInScope(o: { accounts: readonly string[]; organizationalUnits: readonly string[] }): boolean {
  return o.accounts.length > 0 || o.organizationalUnits.length > 0;
}

/**
 * The settings' sections, each its own schema built on first use: a function that reads only
 * `protectedTag` builds and applies only that one (see {@link readSettingsFromEnv}).
 */
const SECTIONS = {
  /** Who decides the risky steps: each gets a link of their own. */
  approvers: lazySchema(() => z.array(email).check(z.minLength(1, 'must list at least one approver'))),
  /** The SES-verified address approval emails come from. */
  sender: email,
  /** Findings below this GuardDuty severity start nothing. Default 4 (Medium). */
  severityThreshold: lazySchema(() => z._default(z.number().check(z.gte(0), z.lte(10)), 4)),
  /**
   * Instances and users with this tag are acted on only after approval. Roles with it are never changed by
   * automation, even after an approval (a person acts): the IAM actions skip them with "manual action
   * required", and their grants deny IAM changes on a role that carries it. Default `cordon:protected=true`.
   */
  protectedTag: lazySchema(() =>
    z._default(z.object({ key: z.string(), value: z.string() }), {
      key: 'cordon:protected',
      value: 'true',
    }),
  ),
  /**
   * At most this many automatic containments per account in any 60 minutes; past it every containment
   * waits for approval, so that a storm of false or forged findings cannot take down a fleet. Default 5. An
   * account's `organization.perAccount` limit replaces it for that account, and the organization's
   * `organization.maxAutomaticContainmentsPerHour` holds for all of them together.
   */
  maxAutomaticContainmentsPerHour: lazySchema(() => z._default(z.number().check(z.int(), z.gte(0)), 5)),
  /**
   * The mode of each playbook; unlisted playbooks are `approval-first`. An account's
   * `organization.perAccount` modes replace these for that account.
   */
  playbookModes: lazySchema(() => z._default(z.record(z.string(), z.enum(PLAYBOOK_MODES)), {})),
  /** Findings to ignore: every given field must match. */
  suppressions: lazySchema(() =>
    z._default(
      z.array(
        z.object({
          findingType: z.optional(z.string()),
          account: z.optional(z.string()),
          /** `key=value` */
          resourceTag: z.optional(z.string()),
          reason: z.string().check(z.minLength(1, 'must say why')),
        }),
      ),
      [],
    ),
  ),
  /** CloudWatch alarms that start a playbook, matched by exact name or prefix; the resource comes from a dimension or is given. */
  alarms: lazySchema(() =>
    z._default(
      z.array(
        z.object({
          name: z.optional(z.string()),
          prefix: z.optional(z.string()),
          playbook: z.string(),
          resourceType: z._default(z.string(), 'instance'),
          /** For alarms with no dimension naming the resource (composite alarms). */
          resourceId: z.optional(z.string()),
          severity: z._default(z.number().check(z.gte(0), z.lte(10)), 7),
        }),
      ),
      [],
    ),
  ),
  /**
   * The roles Cordon may give back to an instance: the roles of instance profiles a release re-associates and
   * a restore launches with (`recovery.instanceProfileName`). Each is a role name, or a path and a name
   * (`/app/web-role`; a role under a path needs its path), optionally ending in `*` (`app-*`, `/app/*`).
   * `iam:PassRole`, to EC2 only, is granted on exactly these roles, and not at all when the list is empty
   * (the default): a release then cannot re-associate a profile, and a restore with
   * `recovery.instanceProfileName` set would fail.
   */
  instanceRoles: lazySchema(() => z._default(z.array(instanceRole), [])),
  /**
   * Break-glass roles: never changed by automation, refused in code and denied in IAM, like Cordon's own,
   * the service-linked, the AWS-reserved and the CDK bootstrap roles. Names or `*` patterns (`breakglass-*`),
   * matched at any path, or a path and a name (`/emergency/*`). Default none.
   */
  breakGlassRoles: lazySchema(() => z._default(z.array(breakGlassRole), [])),
  /** Security Hub products whose imported findings start playbooks, as `company/product`. */
  securityHubProducts: lazySchema(() => z._default(z.array(z.string()), [])),
  approval: lazySchema(() =>
    z._default(
      z.object({
        /** How long a link works and the gate waits. Default 60 minutes. */
        timeoutMinutes: z._default(z.number().check(z.int(), z.gte(1), z.lte(60 * 24 * 7)), 60),
        /**
         * Who may decide from the console (`cordon approvals approve|reject`, the IAM-authorized route): the
         * IAM principals of the people who decide, as ARN patterns: e.g. the sessions of an IAM Identity
         * Center permission set, `arn:aws:sts::*:assumed-role/AWSReservedSSO_SecurityResponder_<suffix>/<user>`
         * with `*` for the suffix and the user. Whoever may call `execute-api:Invoke` on the route is not enough: a function's role may too, and only a
         * person's decision approves. Default none: console decisions are refused, and approvers decide by
         * their links.
         */
        consolePrincipals: z._default(z.array(ConsolePrincipalSchema), []),
      }),
      { timeoutMinutes: 60, consolePrincipals: [] },
    ),
  ),
  /** How the EC2 playbook contains and eradicates. */
  ec2: lazySchema(() =>
    z._default(
      z.object({
        /**
         * How tracked connections are cut when the isolation group goes on (a security group change does not
         * end connections already tracked: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html):
         * `two-step` (default: a temporary allow-all group makes flows untracked, then the isolation group),
         * `nacl` (a quarantine network ACL, only when the instance is alone in its subnet), `conntrack`
         * (lower the interfaces' connection-tracking timeouts), or `direct` (the isolation group alone).
         */
        isolation: z._default(z.enum(['two-step', 'nacl', 'conntrack', 'direct']), 'two-step'),
        /** Seconds the two-step swap's allow-all window lasts. Default 5. */
        swapWindowSeconds: z._default(z.number().check(z.int(), z.gte(1), z.lte(60)), 5),
        /** After approval: `stop` (default) or `terminate`. */
        eradication: z._default(z.enum(['stop', 'terminate']), 'stop'),
        /** Seconds between snapshot checks, and how many checks before giving up. */
        snapshotCheckSeconds: z._default(z.number().check(z.int(), z.gte(1)), 30),
        snapshotMaxChecks: z._default(z.number().check(z.int(), z.gte(1)), 60),
        /**
         * The isolation and untrack groups prepared before any incident, by VPC id (`cordon prepare` writes
         * them): an isolation in a VPC listed here looks nothing up and creates nothing. A VPC not listed
         * has its groups found or created on the spot, and the record says so. Default none.
         */
        isolationGroups: z._default(
          z.record(
            z.string().check(z.regex(/^vpc-[0-9a-z]+$/)),
            z.object({
              isolation: z.string().check(z.regex(/^sg-[0-9a-f]+$/)),
              untrack: z.optional(z.string().check(z.regex(/^sg-[0-9a-f]+$/))),
            }),
          ),
          {},
        ),
      }),
      {
        isolation: 'two-step',
        swapWindowSeconds: 5,
        eradication: 'stop',
        snapshotCheckSeconds: 30,
        snapshotMaxChecks: 60,
        isolationGroups: {},
      },
    ),
  ),
  /** Where a restored instance lands, and how long the restore is waited for. */
  recovery: lazySchema(() =>
    z._default(
      z.object({
        /** Default: the recovery point's subnet. */
        subnetId: z.optional(z.string().check(z.regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id'))),
        /** Default: the recovery point's groups, without any isolation group. */
        securityGroupIds: z.optional(
          z.array(z.string().check(z.regex(/^sg-[0-9a-f]+$/, 'must be a security group id'))),
        ),
        /**
         * The instance profile a restored instance launches with; its role must be one of `instanceRoles`, the
         * only roles the restore may pass. Default: none. The restored instance launches with no profile,
         * whatever profile the recovery point had, since passing an arbitrary role is what the grants no
         * longer allow.
         */
        instanceProfileName: z.optional(
          z.string().check(z.regex(/^[\w+=,.@-]{1,128}$/, 'must be an instance profile name')),
        ),
        /** Seconds between restore checks, and how many checks before giving up. Default 60 and 60. */
        restoreCheckSeconds: z._default(z.number().check(z.int(), z.gte(1)), 60),
        restoreMaxChecks: z._default(z.number().check(z.int(), z.gte(1)), 60),
      }),
      { restoreCheckSeconds: 60, restoreMaxChecks: 60 },
    ),
  ),
  /** The audit record. */
  record: lazySchema(() =>
    z._default(
      z.object({
        /**
         * How long each step's anchor (its hash, in the S3 bucket with Object Lock in compliance mode) is kept.
         * Nobody, the account's root user included, can delete an anchor, or the bucket, before then: choose
         * what your retention rules ask for the incident record. Default 365 days.
         */
        anchorRetentionDays: z._default(z.number().check(z.int(), z.gte(1), z.lte(36_500)), 365),
      }),
      { anchorRetentionDays: 365 },
    ),
  ),
  /**
   * The organization Cordon responds in, from this (the hub, security) account: which member accounts and
   * regions are in scope, the responder role it assumes in each, and the limits and modes per account.
   * Default: no member and no other region, so that only the hub's account and region are acted in. A
   * finding out of scope is recorded, with why, and nothing starts: a person responds.
   */
  organization: lazySchema(() =>
    z._default(organization, () => ({
      responderRoleName: DEFAULT_RESPONDER_ROLE,
      organizationalUnits: [],
      unitAccounts: {},
      accounts: [],
      excludedAccounts: [],
      regions: [],
      maxAutomaticContainmentsPerHour: DEFAULT_ORGANIZATION_LIMIT,
      perAccount: {},
    })),
  ),
  /** How the IAM playbook contains. */
  iam: lazySchema(() =>
    z._default(
      z.object({
        /** Deactivate every key of the user, not only the one in the finding. Default false. */
        deactivateAllKeys: z._default(z.boolean(), false),
        /** Delete the user's console login profile. Default false. */
        deleteLoginProfile: z._default(z.boolean(), false),
      }),
      { deactivateAllKeys: false, deleteLoginProfile: false },
    ),
  ),
};

export const SettingsSchema = lazySchema(() => z.object(SECTIONS));
export type Settings = z.infer<typeof SettingsSchema>;
export type SettingsInput = z.input<typeof SettingsSchema>;

/** Validates settings, applying defaults; throws a ValidationError naming each bad field. */
export function parseSettings(value: unknown): Settings {
  return parseOrThrow(SettingsSchema, value, 'settings');
}

/** Identity helper for `cordon.config.ts`, for type checking and completion. */
export function defineSettings(settings: SettingsInput): SettingsInput {
  return settings;
}

/** The environment variable that carries the validated settings, as JSON, to every function. */
export const SETTINGS_ENV = 'CORDON_SETTINGS';

/**
 * The settings a function was deployed with. The JSON is read now; each section is validated, with its
 * defaults applied, the first time the function reads it, and kept: a function pays only for the
 * sections it uses, and a bad section fails the first invocation that reads it with a
 * {@link ValidationError} naming the field (`settings: protectedTag.key: ...`), as a whole parse would.
 * The stack validated the whole at synth with {@link SettingsSchema}.
 */
export function readSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): Settings {
  const raw = env[SETTINGS_ENV];
  if (raw === undefined || raw.trim() === '') throw new ConfigError(`${SETTINGS_ENV} is required`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${SETTINGS_ENV} must be JSON, got "${raw.slice(0, 40)}..."`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ValidationError('settings', ['(root): must be an object']);
  }
  const given = parsed as Record<string, unknown>;
  const settings = {} as Settings;
  for (const key of Object.keys(SECTIONS) as (keyof typeof SECTIONS)[]) {
    let section: { value: unknown } | undefined;
    Object.defineProperty(settings, key, {
      enumerable: true,
      get() {
        section ??= { value: parseSection(key, Object.hasOwn(given, key) ? given[key] : undefined) };
        return section.value;
      },
    });
  }
  return settings;
}

/** One section of the settings, validated with its schema; issues are named by their path from the root. */
function parseSection(key: keyof typeof SECTIONS, value: unknown): unknown {
  const result = z.safeParse(SECTIONS[key] as z.ZodMiniType, value);
  if (result.success) return result.data;
  throw new ValidationError(
    'settings',
    describeIssues(result.error.issues.map((issue) => ({ ...issue, path: [key, ...issue.path] }))),
  );
}
