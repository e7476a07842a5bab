/** STS: who the caller is, and AssumeRole into the account's roles. */
import type {
  AssumeRoleCommandInput,
  AssumeRoleCommandOutput,
  GetCallerIdentityCommandOutput,
} from '@aws-sdk/client-sts';
import type { HandlerMap, Out } from './context.ts';
import { fail } from './context.ts';
import { newId } from './state.ts';

/** STS commands the sandbox simulates. */
export const stsHandlers: HandlerMap = {
  GetCallerIdentity: (ctx): Out<GetCallerIdentityCommandOutput> => ({
    UserId: ctx.state.callerUserId,
    Account: ctx.state.accountId,
    Arn: ctx.state.callerArn,
  }),

  /** A role of this account must exist; a role of another account must be listed in the seed's `externalRoleArns`. */
  AssumeRole: (ctx, input: AssumeRoleCommandInput): Out<AssumeRoleCommandOutput> => {
    const roleArn = input.RoleArn ?? '';
    const session = input.RoleSessionName ?? '';
    const match = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
    const denied = (): never =>
      fail(
        ctx,
        'AccessDenied',
        `User: ${ctx.state.callerArn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    if (!match) return fail(ctx, 'ValidationError', `${roleArn} is invalid`);
    if (!/^[\w+=,.@-]{2,64}$/.test(session)) {
      fail(
        ctx,
        'ValidationError',
        "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint",
      );
    }
    const [, account, name] = match;
    let roleId = 'AROAEXTERNALROLE0001';
    if (account === ctx.state.accountId) {
      const role = ctx.state.iam.roles[name ?? ''];
      if (!role) return denied();
      roleId = role.roleId;
    } else if (!ctx.state.externalRoleArns.includes(roleArn)) denied();
    const duration = input.DurationSeconds ?? 3600;
    return {
      Credentials: {
        AccessKeyId: `ASIA${newId(ctx.state, 'x', 16).slice(2).toUpperCase()}`,
        SecretAccessKey: 'sandbox-secret-access-key',
        SessionToken: `sandbox-session-token-${ctx.state.nextId}`,
        Expiration: new Date(ctx.now + duration * 1000),
      },
      AssumedRoleUser: {
        AssumedRoleId: `${roleId}:${session}`,
        Arn: `arn:aws:sts::${account}:assumed-role/${name}/${session}`,
      },
      PackedPolicySize: 0,
    };
  },
};
