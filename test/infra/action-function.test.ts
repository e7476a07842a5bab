import { describe, expect, it } from 'vitest';
import { synthStack } from '../support/app.ts';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

describe('the record-note action function', () => {
  const { stack, template } = synthStack();
  const functionId = stack.getLogicalId(stack.recordNote.node.defaultChild as never);
  const fn = template.toJSON().Resources[functionId];

  it('runs on Node.js 22 or newer, on arm64, traced, with its handler module in its metadata', () => {
    expect(fn.Properties.Runtime).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
    expect(fn.Properties.Architectures).toEqual(['arm64']);
    expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    expect(fn.Properties.Environment.Variables.CORDON_TABLE_NAME).toBe('cordon-audit');
    expect(fn.Metadata['cordon:entry']).toBe('functions/actions/record-note/handler.ts');
    expect(fn.Properties.LoggingConfig.LogGroup).toBeDefined();
  });

  it('has a role with no managed policy, whose policy names only its items of the table, the record key, the anchors, its logs and X-Ray', () => {
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const policies = Object.values(
      template.toJSON().Resources as Record<
        string,
        { Type: string; Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } } }
      >,
    ).filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((ref) => ref.Ref === roleId));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const byAction = new Map<string, unknown[]>();
    const conditionOf = new Map<string, unknown>();
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const action of [s.Action].flat()) {
        byAction.set(action, [s.Resource].flat());
        conditionOf.set(action, (s as { Condition?: unknown }).Condition);
      }
    }
    const tableId = stack.getLogicalId(stack.audit.table.node.defaultChild as never);
    const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
    // The table only (no index), and only the items of an incident: its partition key starts INCIDENT#.
    for (const action of ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem']) {
      expect(byAction.get(action), action).toEqual([tableArn]);
      expect(conditionOf.get(action), action).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['INCIDENT#*'] },
      });
    }
    const keyId = stack.getLogicalId(stack.audit.key.node.defaultChild as never);
    expect(byAction.get('kms:GenerateMac')).toEqual([{ 'Fn::GetAtt': [keyId, 'Arn'] }]);
    expect(byAction.get('kms:VerifyMac')).toEqual([{ 'Fn::GetAtt': [keyId, 'Arn'] }]);
    const bucketId = stack.getLogicalId(stack.audit.anchorBucket.node.defaultChild as never);
    expect(byAction.get('s3:PutObject')).toEqual([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/anchors/*']] },
    ]);
    expect(byAction.get('s3:ListBucketVersions')).toEqual([{ 'Fn::GetAtt': [bucketId, 'Arn'] }]);
    expect([...byAction.keys()].filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    // Nothing may delete or scan the record.
    expect([...byAction.keys()].some((a) => /Delete|Scan|\*/.test(a))).toBe(false);
    // Only X-Ray is granted on "*".
    const onStar = [...byAction].filter(([, resources]) => resources.includes('*')).map(([a]) => a);
    expect(onStar.sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    expect(byAction.get('logs:PutLogEvents')).toHaveLength(1);
  });
});
