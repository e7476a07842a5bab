/**
 * Acting in the organization's member accounts, as template assertions: the responder template (its trust,
 * its grants kept to the member's account, its denies), the StackSet that deploys it to the units, the
 * hub's AssumeRole grants and the environment the actions read; and the accounts `cordon prepare` writes,
 * merged into the settings at synth.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SettingsInput } from '#shared/settings';
import settingsFile from '../../cordon.config.ts';
import * as declared from '../../functions/actions/index.ts';
import type { ActionFacts } from '../../functions/shared/define-action.ts';
import { RESPONDER_ENV } from '../../infra/constructs/responders.ts';
import { buildApp } from '../../infra/cordon-app.ts';
import { preparedUnitAccounts, withUnitAccounts } from '../../infra/prepared-units.ts';
import { ACTION_ROLES_PARAMETER, responderFacts } from '../../infra/responder-template.ts';

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly Resource?: unknown;
  readonly Principal?: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}
interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}
interface CfnTemplate {
  readonly Parameters?: Record<string, { Type: string }>;
  readonly Rules?: unknown;
  readonly Resources: Record<string, Resource>;
}

const HUB = { account: '111122223333', region: 'us-east-1' };
const UNIT = 'ou-ab12-cd34ef56';
const ORGANIZATION = {
  id: 'o-a1b2c3d4e5',
  externalId: 'cordon-test-external-id',
  organizationalUnits: [UNIT],
  unitAccounts: { [UNIT]: ['210987654321', '310987654321'] },
  regions: ['eu-west-1'],
};

/** The app as infra/app.ts builds it, with settings changed from `cordon.config.ts`, unbundled. */
function build(overrides: Partial<SettingsInput> = {}, nag = false) {
  return buildApp({
    nag,
    app: { context: { 'aws:cdk:bundling-stacks': [] } },
    stack: { env: HUB, settings: { ...settingsFile, ...overrides } },
  });
}

/** The hub stack and the responder template of an organization. */
function buildOrganization(organization: Record<string, unknown>, more: Partial<SettingsInput>) {
  const { app, stack } = build({ organization, instanceRoles: ['web-role'], ...more });
  const responders = stack.responders;
  if (!responders) throw new Error('the stack has no responders');
  const member = responders.stage.template() as unknown as CfnTemplate;
  return { app, stack, responders, member, hub: Template.fromStack(stack) };
}

/** The stack of {@link ORGANIZATION}, built once and only read; any other, built each time. */
let standard: ReturnType<typeof buildOrganization> | undefined;
function withOrganization(
  organization: Record<string, unknown> = ORGANIZATION,
  more: Partial<SettingsInput> = {},
) {
  if (organization !== ORGANIZATION || Object.keys(more).length > 0)
    return buildOrganization(organization, more);
  standard ??= buildOrganization(organization, more);
  return standard;
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

/** The statements of a role's policies (inline, and those attached to it by `Roles`). */
function statementsOf(resources: Record<string, Resource>, roleId: string): Statement[] {
  return Object.values(resources).flatMap((r) => {
    const roles = (r.Properties?.Roles as { Ref?: string }[] | undefined) ?? [];
    const attached = ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'].includes(r.Type);
    if (!attached || !roles.some((role) => role.Ref === roleId)) return [];
    return (r.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
  });
}

const actionsOf = (s: Statement) => [s.Action ?? []].flat();
const resourcesOf = (s: Statement) => [s.Resource ?? []].flat().map(text);
const roleIdNamed = (resources: Record<string, Resource>, name: string) => {
  const found = Object.entries(resources).find(
    ([, r]) => r.Type === 'AWS::IAM::Role' && r.Properties?.RoleName === name,
  );
  if (!found) throw new Error(`no role named ${name}`);
  return found[0];
};

/** Whether an action acts where its finding is (not in the hub only, and with clients). */
const actsInPlace = (a: ActionFacts) => a.inHub !== true && Object.keys(a.calls).length > 0;
const ALL = Object.values(declared) as ActionFacts[];

describe('the responder template and its StackSet', () => {
  // The stack most tests read, built once (the first build also loads every module of the app).
  beforeAll(() => {
    withOrganization();
  }, 180_000);

  it('makes no responder template, StackSet, AssumeRole or responder environment without the organization', () => {
    const { app, stack } = build();
    expect(stack.responders).toBeUndefined();
    expect(app.node.children.map((c) => c.node.id)).toEqual([stack.node.id]);
    const hub = Template.fromStack(stack);
    hub.resourceCountIs('AWS::CloudFormation::StackSet', 0);
    const resources = hub.toJSON().Resources as Record<string, Resource>;
    const granted = Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap(
        (r) => (r.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
      )
      .flatMap(actionsOf);
    expect(granted.length).toBeGreaterThan(50);
    expect(granted.filter((a) => a.startsWith('sts:'))).toEqual([]);
    for (const fn of stack.actions.values()) {
      const env = resources[stack.getLogicalId(fn.node.defaultChild as never)]?.Properties?.Environment as {
        Variables: Record<string, unknown>;
      };
      expect(Object.keys(env.Variables).filter((k) => k.startsWith('CORDON_RESPONDER'))).toEqual([]);
    }
  });

  it('deploys the template to the units with a service-managed StackSet, as the delegated administrator', () => {
    const { stack, responders, member, hub } = withOrganization();
    hub.resourceCountIs('AWS::CloudFormation::StackSet', 1);
    const [set] = Object.values(hub.findResources('AWS::CloudFormation::StackSet'));
    const props = set?.Properties as Record<string, unknown>;
    expect(props).toMatchObject({
      PermissionModel: 'SERVICE_MANAGED',
      CallAs: 'DELEGATED_ADMIN',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      ManagedExecution: { Active: true },
      OperationPreferences: { MaxConcurrentPercentage: 25, FailureTolerancePercentage: 10 },
      StackInstancesGroup: [{ DeploymentTargets: { OrganizationalUnitIds: [UNIT] }, Regions: [HUB.region] }],
    });
    // The body is the responder template, whole.
    expect(JSON.parse(props.TemplateBody as string)).toEqual(member);
    // The parameter holds the ARNs of the roles of the actions that act in place, and no other.
    const [parameter] = props.Parameters as { ParameterKey: string; ParameterValue: unknown }[];
    expect(parameter?.ParameterKey).toBe(ACTION_ROLES_PARAMETER);
    const callers = ALL.filter(actsInPlace).map((a) => {
      const fn = stack.actions.get(a.name);
      return `<${stack.getLogicalId(fn?.executionRole.node.defaultChild as never)}.Arn>`;
    });
    expect(text(parameter?.ParameterValue).split(',').sort()).toEqual(callers.sort());
    expect(responders.callers.length).toBe(callers.length);
    // A template a member account can take: no bootstrap version to check, one parameter.
    expect(member.Rules).toBeUndefined();
    expect(Object.keys(member.Parameters ?? {})).toEqual([ACTION_ROLES_PARAMETER]);
    expect(member.Parameters?.[ACTION_ROLES_PARAMETER]?.Type).toBe('CommaDelimitedList');
  });

  it('trusts only the action roles given, with the external id, from the organization', () => {
    const { member } = withOrganization();
    const role = member.Resources[roleIdNamed(member.Resources, 'cordon-responder')];
    const trust = role?.Properties?.AssumeRolePolicyDocument as { Statement: Statement[] };
    expect(trust.Statement).toEqual([
      {
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { AWS: { Ref: ACTION_ROLES_PARAMETER } },
        Condition: {
          StringEquals: { 'sts:ExternalId': ORGANIZATION.externalId, 'aws:PrincipalOrgID': ORGANIZATION.id },
        },
      },
    ]);
  });

  it("fits the trust policy in IAM's 2,048 characters with the role names CloudFormation gives", () => {
    const { stack, member } = withOrganization();
    const role = member.Resources[roleIdNamed(member.Resources, 'cordon-responder')];
    const document = structuredClone(role?.Properties?.AssumeRolePolicyDocument) as {
      Statement: { Principal: { AWS: unknown } }[];
    };
    // CloudFormation names a role <stack>-<logical id>-<12 random characters>, at most 64 in all.
    const arns = stack.responders?.callers.map((fn) => {
      const id = stack.getLogicalId(fn.executionRole.node.defaultChild as never);
      return `arn:aws:iam::${HUB.account}:role/${`${stack.stackName}-${id}`.slice(0, 51)}-ABCDEFGHIJKL`;
    });
    for (const statement of document.Statement) statement.Principal.AWS = arns;
    // IAM counts the policy without whitespace.
    expect(JSON.stringify(document).length).toBeLessThan(2048);
  });

  it("keeps the responder role's grants to the member's own account and the regions covered", () => {
    const { member } = withOrganization();
    const statements = statementsOf(member.Resources, roleIdNamed(member.Resources, 'cordon-responder'));
    const resources = statements.filter((s) => s.Effect === 'Allow').flatMap(resourcesOf);
    expect(resources.length).toBeGreaterThan(10);
    const unexpected = resources.filter(
      (r) =>
        r.includes(HUB.account) ||
        !(
          r === '*' ||
          r.startsWith('<RestoreRole') ||
          /^arn:<AWS::Partition>:[a-z0-9]+:(us-east-1|eu-west-1)?:(<AWS::AccountId>)?:/.test(r)
        ),
    );
    expect(unexpected).toEqual([]);
    const ec2Changes = statements.find((s) => actionsOf(s).includes('ec2:CreateSecurityGroup'));
    expect(resourcesOf(ec2Changes as Statement)).toEqual([
      'arn:<AWS::Partition>:ec2:us-east-1:<AWS::AccountId>:*',
      'arn:<AWS::Partition>:ec2:eu-west-1:<AWS::AccountId>:*',
      'arn:<AWS::Partition>:ec2:us-east-1::snapshot/*',
      'arn:<AWS::Partition>:ec2:eu-west-1::snapshot/*',
    ]);
    // "*" only for reads and AWS Backup.
    const onEverything = statements.filter((s) => s.Effect === 'Allow' && resourcesOf(s).includes('*'));
    for (const action of onEverything.flatMap(actionsOf)) {
      expect(action).toMatch(/^([a-z0-9]+:(Describe|Get|List)|backup:)/);
    }
  });

  it('denies IAM changes on the untouchable roles, its own two among them, and on protected roles', () => {
    const { member } = withOrganization({ ...ORGANIZATION, responderRoleName: 'sec-responder' });
    const statements = statementsOf(member.Resources, roleIdNamed(member.Resources, 'sec-responder'));
    const denies = statements.filter((s) => s.Effect === 'Deny');
    const byName = denies.find((s) => !s.Condition);
    const arn = (role: string) => `arn:<AWS::Partition>:iam::<AWS::AccountId>:role${role}`;
    expect(resourcesOf(byName as Statement)).toEqual(
      expect.arrayContaining([
        arn('/aws-service-role/*'),
        arn('/cordon-*'),
        arn('/sec-responder'),
        arn('/sec-responder-restore'),
      ]),
    );
    expect(actionsOf(byName as Statement)).toEqual(
      expect.arrayContaining(['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:PassRole']),
    );
    const tagged = denies.find((s) => s.Condition);
    expect(tagged?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/cordon:protected': 'true' } });
    expect(resourcesOf(tagged as Statement)).toEqual([arn('/*')]);
  });

  it('passes the instance roles to EC2 and its own restore role to AWS Backup, and no other role', () => {
    const { member } = withOrganization();
    const statements = statementsOf(member.Resources, roleIdNamed(member.Resources, 'cordon-responder'));
    const passes = statements.filter((s) => s.Effect === 'Allow' && actionsOf(s).includes('iam:PassRole'));
    expect(passes.map((s) => [resourcesOf(s), s.Condition])).toEqual([
      [
        ['arn:<AWS::Partition>:iam::<AWS::AccountId>:role/web-role'],
        { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
      ],
      [
        [`<${roleIdNamed(member.Resources, 'cordon-responder-restore')}.Arn>`],
        { StringEquals: { 'iam:PassedToService': 'backup.amazonaws.com' } },
      ],
    ]);
    const restore = member.Resources[roleIdNamed(member.Resources, 'cordon-responder-restore')];
    const trust = restore?.Properties?.AssumeRolePolicyDocument as { Statement: Statement[] } | undefined;
    expect(trust?.Statement.map((s) => s.Principal)).toEqual([{ Service: 'backup.amazonaws.com' }]);
  });

  it('lets the acting functions assume a responder role of the organization only, and tells every action where', () => {
    const { stack, hub } = withOrganization();
    const resources = hub.toJSON().Resources as Record<string, Resource>;
    for (const action of ALL) {
      const fn = stack.actions.get(action.name);
      const roleId = stack.getLogicalId(fn?.executionRole.node.defaultChild as never);
      const assumes = statementsOf(resources, roleId).filter((s) => actionsOf(s).includes('sts:AssumeRole'));
      expect(
        assumes.map((s) => [resourcesOf(s), s.Condition]),
        action.name,
      ).toEqual(
        actsInPlace(action)
          ? [
              [
                ['arn:<AWS::Partition>:iam::*:role/cordon-responder'],
                { StringEquals: { 'aws:ResourceOrgID': ORGANIZATION.id } },
              ],
            ]
          : [],
      );
      const environment = resources[stack.getLogicalId(fn?.node.defaultChild as never)]?.Properties
        ?.Environment as { Variables: Record<string, unknown> } | undefined;
      const env = environment?.Variables ?? {};
      expect(
        Object.fromEntries(
          Object.values(RESPONDER_ENV)
            .filter((key) => key !== RESPONDER_ENV.restoreRole)
            .map((key) => [key, text(env[key])]),
        ),
        action.name,
      ).toEqual({
        CORDON_ACCOUNT: HUB.account,
        CORDON_RESPONDER_ROLE: 'cordon-responder',
        CORDON_EXTERNAL_ID: ORGANIZATION.externalId,
        CORDON_PARTITION: '<AWS::Partition>',
      });
      expect(env.CORDON_MEMBER_RESTORE_ROLE, action.name).toBe(
        action.passRestoreRole ? 'cordon-responder-restore' : undefined,
      );
    }
  });

  it("extends the hub's own changes to the regions covered: its restore role's launches too", () => {
    const { stack, hub } = withOrganization();
    const resources = hub.toJSON().Resources as Record<string, Resource>;
    const restoreId = stack.getLogicalId(stack.restoreRole.node.defaultChild as never);
    const launch = statementsOf(resources, restoreId).find((s) => actionsOf(s).includes('ec2:RunInstances'));
    expect(resourcesOf(launch as Statement).filter((r) => r.endsWith(`:${HUB.account}:*`))).toEqual([
      `arn:<AWS::Partition>:ec2:us-east-1:${HUB.account}:*`,
      `arn:<AWS::Partition>:ec2:eu-west-1:${HUB.account}:*`,
    ]);
    const isolateId = stack.getLogicalId(
      stack.actions.get('ec2-isolate')?.executionRole.node.defaultChild as never,
    );
    const changes = statementsOf(resources, isolateId).find((s) =>
      actionsOf(s).includes('ec2:CreateSecurityGroup'),
    );
    expect(resourcesOf(changes as Statement)).toEqual([
      `arn:<AWS::Partition>:ec2:us-east-1:${HUB.account}:*`,
      `arn:<AWS::Partition>:ec2:eu-west-1:${HUB.account}:*`,
    ]);
  });

  it('grants and tells the functions, and deploys nothing, when the organization names no unit', () => {
    const { hub, member } = withOrganization({ ...ORGANIZATION, organizationalUnits: [], unitAccounts: {} });
    hub.resourceCountIs('AWS::CloudFormation::StackSet', 0);
    expect(roleIdNamed(member.Resources, 'cordon-responder')).toBeDefined();
    expect(JSON.stringify(hub.toJSON())).toContain('"sts:AssumeRole"');
  });

  it('warns at synth of a unit whose accounts cordon prepare has not written', () => {
    const { stack } = withOrganization({ ...ORGANIZATION, unitAccounts: {} });
    Annotations.fromStack(stack).hasWarning(
      '*',
      `organization.organizationalUnits ${UNIT}: no accounts known for them (organization.unitAccounts), so the router puts none of their accounts in scope: run cordon prepare, then deploy. [ack: cordon:units-not-prepared]`,
    );
    expect(Annotations.fromStack(withOrganization().stack).findWarning('*', '*')).toEqual([]);
  });

  it('finds nothing unacknowledged by cdk-nag in the hub or the responder template', () => {
    const { app, stack, responders } = withOrganization(ORGANIZATION, {
      instanceRoles: ['web-role', '/app/*'],
    });
    for (const scope of [stack, responders.stage.stack]) {
      const report = new AwsSolutionsChecks(app).validateScope(scope);
      expect(
        report.violations.map(
          (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
        ),
        scope.node.path,
      ).toEqual([]);
    }
  });

  it('synthesizes with cdk-nag on, the responder template written to its own file', () => {
    const { app, stack } = build({ organization: ORGANIZATION }, true);
    const assembly = app.synth();
    const file = stack.responders?.stage.templateFile() ?? '';
    expect(file.startsWith(assembly.directory)).toBe(true);
    expect(existsSync(file)).toBe(true);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(stack.responders?.stage.template());
    // `cdk deploy` of the app deploys the hub only: the template is in a nested assembly.
    expect(assembly.stacks.map((s) => s.stackName)).toEqual([stack.stackName]);
  });
});

describe('the union of the declarations the responder role is granted', () => {
  const facts = (name: string, more: Partial<ActionFacts>): ActionFacts => ({
    name,
    phase: 'containment',
    description: name,
    calls: {},
    ...more,
  });
  const on = { StringEquals: { 'ec2:Attribute': 'DisableApiStop' } };
  const off = { StringEquals: { 'ec2:Attribute': 'DisableApiTermination' } };

  it('keeps a call conditioned only when every action that makes it is, with all their blocks', () => {
    const union = responderFacts([
      facts('a', {
        calls: { ec2: ['ModifyInstanceAttribute', 'CreateTags'] },
        conditions: { 'ec2:ModifyInstanceAttribute': [on] },
      }),
      facts('b', {
        calls: { ec2: ['ModifyInstanceAttribute'] },
        conditions: { 'ec2:ModifyInstanceAttribute': [off, on] },
      }),
      facts('c', { calls: { ec2: ['CreateTags'] }, conditions: { 'ec2:CreateTags': [on] } }),
    ]);
    expect(union.calls).toEqual({ ec2: ['ModifyInstanceAttribute', 'CreateTags'] });
    expect(union.conditions).toEqual({ 'ec2:ModifyInstanceAttribute': [on, off] });
  });

  it('leaves out the actions that act only in the hub or call nothing, and passes a role when any does', () => {
    const union = responderFacts([
      facts('mail', { calls: { ses: ['SendEmail'] }, inHub: true }),
      facts('note', {}),
      facts('start', { calls: { backup: ['StartRestoreJob'] }, passRestoreRole: true }),
    ]);
    expect(union.calls).toEqual({ backup: ['StartRestoreJob'] });
    expect(union.passRestoreRole).toBe(true);
    expect(union.passInstanceRoles).toBe(false);
  });
});

describe("the units' accounts cordon prepare writes", () => {
  it('merges them into the settings at synth, the settings winning for a unit they list', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-units-'));
    const file = join(dir, 'cordon.prepared.json');
    expect(preparedUnitAccounts(file)).toEqual({});
    writeFileSync(
      file,
      JSON.stringify({
        accounts: {},
        organization: {
          preparedAt: '2026-12-01T00:00:00.000Z',
          unitAccounts: { [UNIT]: ['210987654321'], 'ou-zz99-yy88xx77': ['410987654321'] },
        },
      }),
    );
    const merged = withUnitAccounts(
      { ...settingsFile, organization: { unitAccounts: { 'ou-zz99-yy88xx77': ['510987654321'] } } },
      preparedUnitAccounts(file),
    );
    expect(merged.organization?.unitAccounts).toEqual({
      [UNIT]: ['210987654321'],
      'ou-zz99-yy88xx77': ['510987654321'],
    });
    expect(withUnitAccounts(settingsFile, {})).toBe(settingsFile);
    writeFileSync(file, JSON.stringify({ organization: { unitAccounts: { [UNIT]: ['12'] } } }));
    expect(() => preparedUnitAccounts(file)).toThrow(
      /organization is not what cordon prepare writes.*unitAccounts/,
    );
  });
});
