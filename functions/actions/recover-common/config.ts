/**
 * Where restored instances land, when the event does not say: read once at cold start from the
 * environment the stack sets, validated with messages that name the variable and the value received.
 */
import { ConfigError } from '#shared/errors';

/** The environment variables, by field. */
export const RESTORE_ENV = {
  restoreRoleArn: 'CORDON_RESTORE_ROLE_ARN',
  subnetId: 'CORDON_RESTORE_SUBNET_ID',
  /** Comma-separated. */
  securityGroupIds: 'CORDON_RESTORE_SECURITY_GROUP_IDS',
  instanceProfileName: 'CORDON_RESTORE_INSTANCE_PROFILE',
  /** The name of the restore role the responder template makes in every member (infra/responder-template.ts). */
  memberRestoreRole: 'CORDON_MEMBER_RESTORE_ROLE',
  partition: 'CORDON_PARTITION',
} as const;

/** The restore's defaults; every field is optional, and the event's own values win. */
export interface RestoreDefaults {
  readonly restoreRoleArn?: string;
  readonly subnetId?: string;
  readonly securityGroupIds?: readonly string[];
  readonly instanceProfileName?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function read(env: Env, name: string, pattern: RegExp, expected: string): string | undefined {
  const value = env[name]?.trim();
  if (value === undefined || value === '') return undefined;
  if (!pattern.test(value)) throw new ConfigError(`${name} must be ${expected}, got "${value}"`);
  return value;
}

/**
 * Reads the restore's defaults from the environment. In a member account (`member`), AWS Backup restores with
 * a role of that account: the responder template's restore role there, never the hub's, which a member's
 * Backup cannot assume; the hub's subnet and groups do not exist there either, so the recovery point's own are used.
 */
export function readRestoreDefaults(
  env: Env = process.env,
  member?: { readonly account: string },
): RestoreDefaults {
  const profile = read(
    env,
    RESTORE_ENV.instanceProfileName,
    /^[\w+=,.@-]{1,128}$/,
    'an instance profile name',
  );
  const withProfile = profile ? { instanceProfileName: profile } : {};
  if (member !== undefined) {
    const name = read(env, RESTORE_ENV.memberRestoreRole, /^[\w+=,.@-]{1,64}$/, 'an IAM role name');
    const partition = env[RESTORE_ENV.partition]?.trim() || 'aws';
    return {
      ...(name ? { restoreRoleArn: `arn:${partition}:iam::${member.account}:role/${name}` } : {}),
      ...withProfile,
    };
  }
  const role = read(
    env,
    RESTORE_ENV.restoreRoleArn,
    /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/,
    'an IAM role ARN',
  );
  const subnet = read(env, RESTORE_ENV.subnetId, /^subnet-[0-9a-f]+$/, 'a subnet id');
  const groups = read(
    env,
    RESTORE_ENV.securityGroupIds,
    /^sg-[0-9a-f]+(\s*,\s*sg-[0-9a-f]+)*$/,
    'comma-separated security group ids',
  );
  return {
    ...(role ? { restoreRoleArn: role } : {}),
    ...(subnet ? { subnetId: subnet } : {}),
    ...(groups ? { securityGroupIds: groups.split(',').map((g) => g.trim()) } : {}),
    ...withProfile,
  };
}
