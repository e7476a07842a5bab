/** STS: who the caller is, and AssumeRole into the account's roles and, through the organization, others'. */
import type {
  AssumeRoleCommandInput,
  AssumeRoleCommandOutput,
  GetCallerIdentityCommandOutput,
} from '@aws-sdk/client-sts';
import type { HandlerMap, IssuedSession, Out } from './context.ts';
import { fail } from './context.ts';
import { newId } from './state.ts';

/** STS commands the sandbox simulates. */
export const stsHandlers: HandlerMap = {
  GetCallerIdentity: (ctx): Out<GetCallerIdentityCommandOutput> => ({
    UserId: ctx.caller.userId,
    Account: ctx.caller.account,
    Arn: ctx.caller.arn,
  }),

  /**
   * A role of this account must exist. A role of another account is the organization's to decide (its role,
   * trust policy and the caller's grant, {@link RoleDirectory}); an account it does not know must list the
   * role in the seed's `externalRoleArns`. Every refusal is AWS's one `AccessDenied`.
   */
  AssumeRole: (ctx, input: AssumeRoleCommandInput): Out<AssumeRoleCommandOutput> => {
    const roleArn = input.RoleArn ?? '';
    const session = input.RoleSessionName ?? '';
    const match = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(roleArn);
    const denied = (): never =>
      fail(
        ctx,
        'AccessDenied',
        `User: ${ctx.caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    if (!match) return fail(ctx, 'ValidationError', `${roleArn} is invalid`);
    if (!/^[\w+=,.@-]{2,64}$/.test(session)) {
      fail(
        ctx,
        'ValidationError',
        "1 validation error detected: Value at 'roleSessionName' failed to satisfy constraint",
      );
    }
    const duration = input.DurationSeconds ?? 3600;
    // https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html: 900 s to the role's maximum.
    if (!Number.isInteger(duration) || duration < 900 || duration > 43_200) {
      fail(
        ctx,
        'ValidationError',
        "1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint",
      );
    }
    const [, account = '', name = ''] = match;
    const output = (issued: IssuedSession): Out<AssumeRoleCommandOutput> => ({
      Credentials: {
        AccessKeyId: issued.accessKeyId,
        SecretAccessKey: issued.secretAccessKey,
        SessionToken: issued.sessionToken,
        Expiration: new Date(issued.expiration),
      },
      AssumedRoleUser: {
        AssumedRoleId: `${issued.roleId}:${session}`,
        Arn: `arn:aws:sts::${account}:assumed-role/${name}/${session}`,
      },
      PackedPolicySize: 0,
    });
    if (account !== ctx.state.accountId) {
      const decided = ctx.roles?.assumeRole({
        caller: ctx.caller,
        roleArn,
        account,
        roleName: name,
        session,
        externalId: input.ExternalId,
        durationSeconds: duration,
        now: ctx.now,
      });
      if (decided === 'denied') return denied();
      if (decided) return output(decided);
    }
    let roleId = 'AROAEXTERNALROLE0001';
    if (account === ctx.state.accountId) {
      const role = ctx.state.iam.roles[name];
      if (!role) return denied();
      roleId = role.roleId;
    } else if (!ctx.state.externalRoleArns.includes(roleArn)) denied();
    return output({
      accessKeyId: `ASIA${newId(ctx.state, 'x', 16).slice(2).toUpperCase()}`,
      secretAccessKey: 'sandbox-secret-access-key',
      sessionToken: `sandbox-session-token-${ctx.state.nextId}`,
      expiration: ctx.now + duration * 1000,
      roleId,
    });
  },
};
