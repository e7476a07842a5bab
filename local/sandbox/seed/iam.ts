/** The seed's IAM: roles, instance profiles, users and their access keys. */
import type { AccountState } from '../state.ts';
import type { SeedBuild } from './context.ts';
import { idSuffix, toJson } from './context.ts';
import type { RoleSeed, SeedTime } from './types.ts';

const DEFAULT_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

/** Builds the roles, instance profiles and users the seed names (before instances, so that profiles resolve). */
export function seedIam(build: SeedBuild): void {
  const { seed, state, now, time } = build;
  const { accountId, region } = state;
  for (const role of seed.iam?.roles ?? []) addRole(state, role, time);
  for (const profile of seed.iam?.instanceProfiles ?? [])
    addProfile(state, profile.name, profile.roles ?? [], now);
  for (const user of seed.iam?.users ?? []) {
    const path = user.path ?? '/';
    state.iam.users[user.name] = {
      userName: user.name,
      userId: `AIDA${idSuffix(state)}`,
      arn: `arn:aws:iam::${accountId}:user${path}${user.name}`,
      path,
      createDate: now,
      tags: { ...user.tags },
      inlinePolicies: Object.fromEntries(
        Object.entries(user.inlinePolicies ?? {}).map(([k, v]) => [k, toJson(v)]),
      ),
      attachedPolicies: (user.attachedPolicies ?? []).map(attached),
      mfaDevices: (user.mfaDevices ?? []).map((serialNumber) => ({ serialNumber, enableDate: now })),
      ...(user.loginProfile
        ? {
            loginProfile: {
              createDate: now,
              passwordResetRequired:
                typeof user.loginProfile === 'object' && user.loginProfile.passwordResetRequired === true,
            },
          }
        : {}),
    };
    for (const key of user.accessKeys ?? []) {
      state.iam.accessKeys[key.id] = {
        accessKeyId: key.id,
        userName: user.name,
        status: key.status ?? 'Active',
        createDate: time(key.created),
        ...(key.lastUsed
          ? {
              lastUsed: {
                date: time(key.lastUsed.at),
                serviceName: key.lastUsed.service ?? 'iam',
                region: key.lastUsed.region ?? region,
              },
            }
          : {}),
      };
    }
  }
}

function attached(policyArn: string): { policyArn: string; policyName: string } {
  return { policyArn, policyName: policyArn.split('/').pop() ?? policyArn };
}

/** Adds a role (a trust policy for EC2 by default). */
export function addRole(
  state: AccountState,
  role: RoleSeed,
  time: (t: SeedTime | undefined) => number,
): void {
  const path = role.path ?? '/';
  state.iam.roles[role.name] = {
    roleName: role.name,
    roleId: `AROA${idSuffix(state)}`,
    arn: `arn:aws:iam::${state.accountId}:role${path}${role.name}`,
    path,
    createDate: time(undefined),
    description: role.description ?? '',
    maxSessionDuration: 3600,
    assumeRolePolicyDocument: toJson(role.trustPolicy ?? DEFAULT_TRUST),
    tags: { ...role.tags },
    inlinePolicies: Object.fromEntries(
      Object.entries(role.inlinePolicies ?? {}).map(([k, v]) => [k, toJson(v)]),
    ),
    attachedPolicies: (role.attachedPolicies ?? []).map(attached),
  };
}

/** Adds an instance profile holding `roles`. */
export function addProfile(state: AccountState, name: string, roles: string[], now: number) {
  const profile = {
    name,
    id: `AIPA${idSuffix(state)}`,
    arn: `arn:aws:iam::${state.accountId}:instance-profile/${name}`,
    path: '/',
    createDate: now,
    roles: [...roles],
  };
  state.iam.instanceProfiles[name] = profile;
  return profile;
}
