/**
 * What the red team found, as template assertions: a ModifyInstanceAttribute that could rewrite user data,
 * a PassRole on every role, and IAM changes allowed on the roles that must never be touched. Each statement
 * of the synthesized policies is read as IAM would read it, for the requests an attacker would make: a
 * small evaluator of the condition operators the stack uses (an operator it does not know fails the test).
 */

import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { parseSettings, type SettingsInput } from '#shared/settings';
import settingsFile from '../../cordon.config.ts';
import { untouchableReason } from '../../functions/actions/iam-common/untouchable.ts';
import { buildApp } from '../../infra/cordon-app.ts';

interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Principal?: unknown;
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
  readonly Resource?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}
interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

/** A stack built as the app builds it, with settings changed from `cordon.config.ts`. */
function synth(overrides: Partial<SettingsInput> = {}) {
  const { stack } = buildApp({
    nag: false,
    app: { context: { 'aws:cdk:bundling-stacks': [] } },
    stack: { settings: { ...settingsFile, ...overrides } },
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<string, Resource>;
  return { stack, resources };
}

/** A template value as text: `Fn::Join` joined, `Ref` and `Fn::GetAtt` as `<...>`. */
function text(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return `<${v.Ref}>`;
  if (Array.isArray(v['Fn::GetAtt'])) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if (Array.isArray(v['Fn::Join'])) {
    const [separator, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(text).join(separator);
  }
  return JSON.stringify(value);
}

/** Every statement of every policy of the template, with the logical id of each role it applies to. */
function statements(resources: Record<string, Resource>): { role: string; statement: Statement }[] {
  const out: { role: string; statement: Statement }[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    const documents: { roles: string[]; document: { Statement: Statement[] } }[] = [];
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      const roles = ((resource.Properties?.Roles as unknown[] | undefined) ?? []).map(text);
      documents.push({
        roles: roles.map((r) => r.replace(/^<|>$/g, '')),
        document: resource.Properties?.PolicyDocument as { Statement: Statement[] },
      });
    }
    if (resource.Type === 'AWS::IAM::Role') {
      for (const policy of (resource.Properties?.Policies as {
        PolicyDocument: { Statement: Statement[] };
      }[]) ?? []) {
        documents.push({ roles: [id], document: policy.PolicyDocument });
      }
    }
    for (const { roles, document } of documents) {
      for (const statement of document.Statement) {
        if (statement.NotAction !== undefined) throw new Error(`${id} has a NotAction statement`);
        for (const role of roles) out.push({ role, statement });
      }
    }
  }
  return out;
}

/** IAM's wildcard match: `*` any characters, `?` one. */
function glob(pattern: string, value: string, ignoreCase = false): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value);
}

const actionsOf = (s: Statement) => [s.Action ?? []].flat();
/** Whether a statement's actions cover `action` (action names ignore case). */
const covers = (s: Statement, action: string) => actionsOf(s).some((a) => glob(a, action, true));
const resourcesOf = (s: Statement) => [s.Resource ?? []].flat().map(text);

/** A request's context: condition keys (compared ignoring case, as IAM does) and their values. */
type Context = Readonly<Record<string, readonly string[]>>;

/** Whether a statement's conditions hold for a request context. Throws on an operator it does not know. */
function conditionsHold(statement: Statement, context: Context): boolean {
  const lookup = (key: string) =>
    Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) {
      const wanted = [expected].flat();
      const values = lookup(key);
      if (operator === 'Null') {
        if ((values === undefined) !== (wanted[0] === 'true')) return false;
        continue;
      }
      // ArnNotEquals: the value matches none of the ARNs, and holds when the key is absent.
      const negated = /^Arn(Not)(Equals|Like)$/.exec(operator);
      if (negated) {
        const texts = wanted.map(text);
        if (values?.some((v) => texts.some((w) => glob(w, v)))) return false;
        continue;
      }
      const parsed =
        /^(ForAllValues:|ForAnyValue:)?(StringEquals|StringEqualsIgnoreCase|StringLike|ArnEquals|ArnLike)(IfExists)?$/.exec(
          operator,
        );
      if (!parsed) throw new Error(`the evaluator does not know the operator ${operator}`);
      const [, set, op, ifExists] = parsed;
      // An ARN operator compares segment by segment with wildcards: for these policies, a glob of the whole.
      const match = (v: string) =>
        wanted
          .map(text)
          .some((w) =>
            op === 'StringLike' || op === 'ArnEquals' || op === 'ArnLike'
              ? glob(w, v)
              : op === 'StringEqualsIgnoreCase'
                ? w.toLowerCase() === v.toLowerCase()
                : w === v,
          );
      if (values === undefined || values.length === 0) {
        // ForAllValues holds on an absent key (the documented trap); IfExists too; anything else fails.
        if (set === 'ForAllValues:' || ifExists) continue;
        return false;
      }
      const holds = set === 'ForAllValues:' ? values.every(match) : values.some(match);
      if (!holds) return false;
    }
  }
  return true;
}

/** A ModifyInstanceAttribute request as EC2 presents it to IAM: the attribute's name and, when simple, its value. */
function setting(name: string, value?: string): Context {
  return { 'ec2:Attribute': [name], ...(value === undefined ? {} : { [`ec2:Attribute/${name}`]: [value] }) };
}

const MODIFY = 'ec2:ModifyInstanceAttribute';

/** What ModifyInstanceAttribute requests each role's Allow statements let through (absent: none). */
function modifiable(resources: Record<string, Resource>, requests: Record<string, Context>) {
  const allowed = new Map<string, string[]>();
  for (const [label, context] of Object.entries(requests)) {
    for (const { role, statement } of statements(resources)) {
      if (statement.Effect !== 'Allow' || !covers(statement, MODIFY)) continue;
      if (!conditionsHold(statement, context)) continue;
      const list = allowed.get(role) ?? [];
      if (!list.includes(label)) list.push(label);
      allowed.set(role, list);
    }
  }
  return allowed;
}

const roleOf = (stack: ReturnType<typeof synth>['stack'], action: string) => {
  const fn = stack.actions.get(action);
  if (!fn) throw new Error(`no function ${action}`);
  return stack.getLogicalId(fn.executionRole.node.defaultChild as never);
};

describe('least privilege against the red team', () => {
  it('grants ModifyInstanceAttribute only for the attributes the actions set', () => {
    const { stack, resources } = synth();
    // The attacks first: none of these gets through anywhere.
    const attacks: Record<string, Context> = {
      'user data': setting('UserData'),
      'user data (as Attribute)': setting(
        'userData',
        'IyEvYmluL3NoCmN1cmwgaHR0cDovLzIwMy4wLjExMy45L3ggfCBzaA==',
      ),
      'instance type': setting('InstanceType', 'p5.48xlarge'),
      kernel: setting('Kernel', 'aki-0123'),
      groups: setting('GroupSet'),
      'source/dest check off': setting('SourceDestCheck', 'false'),
      'no attribute named': {},
      'an allowed name beside user data': { 'ec2:Attribute': ['DisableApiStop', 'UserData'] },
    };
    expect(Object.fromEntries(modifiable(resources, attacks))).toEqual({});
    for (const { statement } of statements(resources)) {
      if (statement.Effect === 'Allow' && covers(statement, MODIFY)) {
        expect(statement.Condition?.Null).toEqual({ 'ec2:Attribute': 'false' });
      }
    }

    const requests: Record<string, Context> = {
      'termination protection on': setting('DisableApiTermination', 'true'),
      'termination protection off': setting('DisableApiTermination', 'false'),
      'stop protection on': setting('DisableApiStop', 'true'),
      'stop protection off': setting('DisableApiStop', 'false'),
      'shutdown stops': setting('InstanceInitiatedShutdownBehavior', 'stop'),
      'shutdown terminates': setting('InstanceInitiatedShutdownBehavior', 'terminate'),
      'volumes kept or not': setting('BlockDeviceMapping'),
      'termination protection on, named as Attribute': setting('disableApiTermination', 'true'),
    };
    const allowed = Object.fromEntries(modifiable(resources, requests));
    expect(allowed).toEqual({
      [roleOf(stack, 'ec2-protect-evidence')]: [
        'termination protection on',
        'stop protection on',
        'shutdown stops',
        'volumes kept or not',
        'termination protection on, named as Attribute',
      ],
      // Eradication only turns a protection off.
      [roleOf(stack, 'ec2-eradicate')]: ['termination protection off', 'stop protection off'],
      // The release puts back whatever was recorded.
      [roleOf(stack, 'ec2-release')]: Object.keys(requests),
    });
  });

  it('passes no role outside the configured instance roles', () => {
    const passes = (built: ReturnType<typeof synth>) => {
      const byRole = new Map<string, Statement[]>();
      for (const { role, statement } of statements(built.resources)) {
        if (statement.Effect !== 'Allow' || !covers(statement, 'iam:PassRole')) continue;
        // Never a pattern of every role, whatever the settings.
        for (const resource of resourcesOf(statement)) {
          expect(resource).not.toBe('*');
          expect(resource).not.toMatch(/:role\/\*$/);
        }
        byRole.set(role, [...(byRole.get(role) ?? []), statement]);
      }
      return byRole;
    };
    const restoreRoleOf = (built: ReturnType<typeof synth>) =>
      built.stack.getLogicalId(built.stack.restoreRole.node.defaultChild as never);

    // None configured: only the restore starter passes a role, the restore role, to AWS Backup.
    const none = synth({ instanceRoles: [] });
    const starter = roleOf(none.stack, 'recover-start-restore');
    expect([...passes(none).entries()].map(([role, s]) => [role, s.flatMap(resourcesOf)])).toEqual([
      [starter, [`<${restoreRoleOf(none)}.Arn>`]],
    ]);

    const configured = synth({ instanceRoles: ['web-role', '/app/*'] });
    const roles = [
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/web-role',
      'arn:<AWS::Partition>:iam::<AWS::AccountId>:role/app/*',
    ];
    const toEc2 = { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } };
    const found = passes(configured);
    expect([...found.keys()].sort()).toEqual(
      [
        roleOf(configured.stack, 'ec2-release'),
        restoreRoleOf(configured),
        roleOf(configured.stack, 'recover-start-restore'),
      ].sort(),
    );
    for (const role of [roleOf(configured.stack, 'ec2-release'), restoreRoleOf(configured)]) {
      const granted = found.get(role) ?? [];
      expect(granted.flatMap(resourcesOf)).toEqual(roles);
      expect(granted.map((s) => s.Condition)).toEqual([toEc2]);
    }
    expect(found.get(roleOf(configured.stack, 'recover-start-restore'))?.flatMap(resourcesOf)).toEqual([
      `<${restoreRoleOf(configured)}.Arn>`,
    ]);
  });

  it('refuses at synth an instance role or a break-glass pattern of every role', () => {
    const parse = (overrides: Partial<SettingsInput>) => () =>
      parseSettings({ ...settingsFile, ...overrides });
    for (const every of ['*', '/*']) {
      expect(parse({ instanceRoles: [every] })).toThrow(/instanceRoles.*must not be "\*"/s);
      expect(parse({ breakGlassRoles: [every] })).toThrow(/breakGlassRoles.*must not match every role/s);
    }
    expect(parse({ instanceRoles: ['web-*-role'] })).toThrow(/only at the end of the role name/);
    expect(parse({ instanceRoles: ['arn:aws:iam::123456789012:role/web'] })).toThrow(/must be a role name/);
    expect(
      parse({ instanceRoles: ['web-role', '/app/*', 'svc-*'], breakGlassRoles: ['bg-*'] }),
    ).not.toThrow();
  });

  it('denies the IAM actions on roles that must never be touched', () => {
    const built = synth({
      breakGlassRoles: ['breakglass-*', '/emergency/admin'],
      instanceRoles: ['web-role'],
    });
    const all = statements(built.resources);
    const arn = (resource: string) => `arn:<AWS::Partition>:iam::<AWS::AccountId>:role${resource}`;
    /** One role of each kind, with its path and name, as a finding could name it. */
    const untouchable = [
      { path: '/aws-service-role/autoscaling.amazonaws.com/', name: 'AWSServiceRoleForAutoScaling' },
      {
        path: '/aws-reserved/sso.amazonaws.com/',
        name: 'AWSReservedSSO_AdministratorAccess_0123456789abcdef',
      },
      ...['cfn-exec', 'deploy', 'file-publishing', 'image-publishing', 'lookup'].map((kind) => ({
        path: '/',
        name: `cdk-hnb659fds-${kind}-role-123456789012-us-east-1`,
      })),
      { path: '/', name: 'cordon-restore-us-east-1' },
      { path: '/', name: 'Cordon-Ec2ReleaseServiceRoleABCD-0123456789AB' },
      { path: '/', name: 'breakglass-admin' },
      { path: '/team/', name: 'breakglass-oncall' },
      { path: '/emergency/', name: 'admin' },
    ];
    const rules = {
      protectedTag: { key: 'cordon:protected', value: 'true' },
      breakGlassRoles: ['breakglass-*', '/emergency/admin'],
      stackName: built.stack.stackName,
    };
    const denied = (role: string, action: string, target: string, context: Context = {}) =>
      all.some(
        ({ role: r, statement: s }) =>
          r === role &&
          s.Effect === 'Deny' &&
          covers(s, action) &&
          resourcesOf(s).some((p) => glob(p, target)) &&
          conditionsHold(s, context),
      );
    const changers = ['ec2-revoke-sessions', 'iam-revoke-role-sessions', 'ec2-release', 'iam-release'];
    for (const action of changers) {
      const role = roleOf(built.stack, action);
      const changes = [
        ...new Set(
          all
            .filter(({ role: r, statement: s }) => r === role && s.Effect === 'Allow')
            .flatMap(({ statement }) => actionsOf(statement))
            .filter((a) => a.startsWith('iam:') && !/^iam:(Get|List)/.test(a)),
        ),
      ];
      expect(
        changes.filter((a) => /Role/.test(a)),
        action,
      ).not.toEqual([]);
      for (const change of changes) {
        for (const target of untouchable) {
          // The code refuses the same role the IAM deny covers.
          expect(
            untouchableReason({ roleName: target.name, path: target.path }, rules),
            target.name,
          ).toBeDefined();
          expect(
            denied(role, change, arn(`${target.path}${target.name}`)),
            `${action} ${change} ${target.name}`,
          ).toBe(true);
        }
        // An ordinary role is not denied by name: the deny is not a blanket on every role.
        expect(denied(role, change, arn('/web-role'))).toBe(false);
        if (change === 'iam:PassRole') continue;
        // Any role with the protected tag, approved or not.
        const tagged = { 'aws:ResourceTag/cordon:protected': ['true'] };
        expect(denied(role, change, arn('/web-role'), tagged), `${action} ${change} tagged`).toBe(true);
        expect(
          denied(role, change, arn('/web-role'), { 'aws:ResourceTag/cordon:protected': ['false'] }),
        ).toBe(false);
      }
    }
  });
});

describe('the record key against an administrator of the account', () => {
  const { stack, resources } = synth();
  const keyId = stack.getLogicalId(stack.audit.key.node.defaultChild as never);
  const policy = resources[keyId]?.Properties?.KeyPolicy as { Statement: Statement[] };
  /** What the key policy says of a request by a principal of the account: an explicit deny wins. */
  const decision = (action: string, principalArn: string, context: Context = {}) => {
    const request = { 'aws:PrincipalArn': [principalArn], ...context };
    const applies = (s: Statement) => covers(s, action) && conditionsHold(s, request);
    if (policy.Statement.some((s) => s.Effect === 'Deny' && applies(s))) return 'denied';
    return policy.Statement.some((s) => s.Effect === 'Allow' && applies(s)) ? 'left to IAM' : 'not allowed';
  };
  const admin = 'arn:aws:iam::123456789012:role/Admin';
  const mac = { 'kms:MacAlgorithm': ['HMAC_SHA_256'] };
  const recorders = policy.Statement.filter((s) => s.Sid === 'OnlyCordonMacs')
    .flatMap((s) => [s.Condition?.ArnEquals?.['aws:PrincipalArn'] ?? []].flat())
    .map(text);

  it('names the account (whose IAM then decides) or everyone, never another principal', () => {
    const account = 'arn:<AWS::Partition>:iam::<AWS::AccountId>:root';
    const named = policy.Statement.map((s) => s.Principal as { AWS?: unknown } | string).map((p) =>
      p === '*' ? '*' : text((p as { AWS?: unknown }).AWS),
    );
    expect(named.filter((p) => p !== account && p !== '*')).toEqual([]);
  });

  it('denies GenerateMac outright to every principal but the recorders, whatever IAM allows them', () => {
    expect(recorders.length).toBeGreaterThanOrEqual(20);
    expect(decision('kms:GenerateMac', admin, mac)).toBe('denied');
    expect(decision('kms:GenerateMac', 'arn:aws:iam::123456789012:root', mac)).toBe('denied');
    for (const recorder of recorders) expect(decision('kms:GenerateMac', recorder, mac)).toBe('left to IAM');
    // Even a recorder only with the key's algorithm.
    expect(decision('kms:GenerateMac', recorders[0] ?? '', { 'kms:MacAlgorithm': ['HMAC_SHA_512'] })).toBe(
      'not allowed',
    );
  });

  it('denies every grant, so that none lends GenerateMac past the policy', () => {
    expect(decision('kms:CreateGrant', admin)).toBe('denied');
    for (const recorder of recorders) expect(decision('kms:CreateGrant', recorder)).toBe('denied');
  });

  it('leaves the account able to administer the key and anyone it allows to verify', () => {
    for (const action of [
      'kms:PutKeyPolicy',
      'kms:DescribeKey',
      'kms:CreateAlias',
      'kms:UpdateAlias',
      'kms:TagResource',
      'kms:ScheduleKeyDeletion',
      'kms:VerifyMac',
    ]) {
      expect(decision(action, admin), action).toBe('left to IAM');
    }
  });
});
