import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import settingsFile from '../../cordon.config.ts';
import { buildApp } from '../../infra/cordon-app.ts';

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
interface PolicyResource {
  Type: string;
  Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } };
}

/** The stack with `instanceRoles` as given, and the statements of a role's policies. */
function built(instanceRoles: string[]) {
  const { stack } = buildApp({
    nag: false,
    app: { context: { 'aws:cdk:bundling-stacks': [] } },
    stack: { settings: { ...settingsFile, instanceRoles } },
  });
  const resources = Template.fromStack(stack).toJSON().Resources as Record<
    string,
    PolicyResource & { Properties: Record<string, unknown> }
  >;
  const roleId = stack.getLogicalId(stack.restoreRole.node.defaultChild as never);
  const statementsOf = (role: string) =>
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((ref) => ref.Ref === role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
  return { stack, resources, roleId, statementsOf };
}

const allowed = (statements: Statement[]) =>
  statements
    .filter((s) => s.Effect === 'Allow')
    .flatMap((s) => [s.Action].flat())
    .sort();

describe('the restore role and PassRole', () => {
  it('lets only AWS Backup assume the restore role, which launches instances and passes no role by default', () => {
    const { resources, roleId, statementsOf } = built([]);
    const role = resources[roleId] as unknown as {
      Properties: { AssumeRolePolicyDocument: { Statement: unknown[] }; ManagedPolicyArns?: unknown };
    };
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' } },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    // A recovery point's own profile is not kept: no role to pass until the settings give one.
    expect(allowed(statementsOf(roleId))).toEqual([
      'ec2:CreateTags',
      'ec2:DescribeImages',
      'ec2:DescribeInstances',
      'ec2:DescribeSnapshots',
      'ec2:DescribeVolumes',
      'ec2:RunInstances',
    ]);
  });

  it('lets the restore role pass the configured instance roles to EC2, and never an untouchable one', () => {
    const { roleId, statementsOf } = built(['recovery-role']);
    const statements = statementsOf(roleId);
    expect(allowed(statements)).toContain('iam:PassRole');
    const pass = statements.find((s) => s.Effect === 'Allow' && s.Action === 'iam:PassRole');
    expect(pass?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
    expect(pass?.Resource).toEqual({
      'Fn::Join': [
        '',
        ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':role/recovery-role'],
      ],
    });
    const deny = statements.find((s) => s.Effect === 'Deny');
    expect(deny?.Action).toBe('iam:PassRole');
    expect(JSON.stringify(deny?.Resource)).toContain(':role/cdk-*-cfn-exec-role-*');
  });

  it('grants iam:PassRole on the restore role to the restore starter, and otherwise only instance roles to EC2', () => {
    for (const instanceRoles of [[], ['web-role']]) {
      const { stack, roleId, statementsOf } = built(instanceRoles);
      const restoreArn = { 'Fn::GetAtt': [roleId, 'Arn'] };
      const passers: string[] = [];
      for (const [name, fn] of stack.actions) {
        const fnRole = stack.getLogicalId(fn.executionRole.node.defaultChild as never);
        const passes = statementsOf(fnRole).filter(
          (s) => s.Effect === 'Allow' && [s.Action].flat().includes('iam:PassRole'),
        );
        if (passes.length === 0) continue;
        passers.push(name);
        if (name === 'recover-start-restore') {
          expect(passes.map((s) => s.Resource)).toEqual([restoreArn]);
        } else {
          // ec2-release re-associates the instance profile, which passes the profile's role to EC2.
          expect(passes.map((s) => s.Condition)).toEqual([
            { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
          ]);
        }
      }
      expect(passers.sort()).toEqual(
        instanceRoles.length > 0 ? ['ec2-release', 'recover-start-restore'] : ['recover-start-restore'],
      );
    }
  });
});
