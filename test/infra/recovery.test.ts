import { describe, expect, it } from 'vitest';
import { synthStack } from '../support/app.ts';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}
interface PolicyResource {
  Type: string;
  Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } };
}

describe('the restore role and PassRole', () => {
  const { stack, template } = synthStack();
  const resources = template.toJSON().Resources as Record<
    string,
    PolicyResource & { Properties: Record<string, unknown> }
  >;
  const roleId = stack.getLogicalId(stack.restoreRole.node.defaultChild as never);
  const statementsOf = (role: string) =>
    Object.values(resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((ref) => ref.Ref === role))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);

  it('lets only AWS Backup assume the restore role, which launches instances and passes roles only to EC2', () => {
    const role = resources[roleId] as unknown as {
      Properties: { AssumeRolePolicyDocument: { Statement: unknown[] }; ManagedPolicyArns?: unknown };
    };
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'backup.amazonaws.com' } },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const actions = statementsOf(roleId)
      .flatMap((s) => [s.Action].flat())
      .sort();
    expect(actions).toEqual([
      'ec2:CreateTags',
      'ec2:DescribeImages',
      'ec2:DescribeInstances',
      'ec2:DescribeSnapshots',
      'ec2:DescribeVolumes',
      'ec2:RunInstances',
      'iam:PassRole',
    ]);
    const pass = statementsOf(roleId).find((s) => s.Action === 'iam:PassRole');
    expect(pass?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } });
  });

  it('grants iam:PassRole on the restore role to the restore starter, and otherwise only roles passed to EC2', () => {
    const restoreArn = { 'Fn::GetAtt': [roleId, 'Arn'] };
    const passers: string[] = [];
    for (const [name, fn] of stack.actions) {
      const fnRole = stack.getLogicalId(fn.executionRole.node.defaultChild as never);
      const passes = statementsOf(fnRole).filter((s) => [s.Action].flat().includes('iam:PassRole'));
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
    expect(passers.sort()).toEqual(['ec2-release', 'recover-start-restore']);
  });
});
