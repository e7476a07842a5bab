import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CfnTemplate,
  LocalEngine,
  renderDefinition,
  TemplateResolver,
} from '../../../local/engine/index.ts';

const template: CfnTemplate = {
  Parameters: { Stage: { Default: 'dev' } },
  Mappings: { Sizes: { dev: { memory: 256 } } },
  Resources: {
    Audit: { Type: 'AWS::DynamoDB::Table', Properties: { TableName: 'cordon-audit' } },
    Action: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        Environment: {
          Variables: {
            TABLE_NAME: { Ref: 'Audit' },
            TABLE_ARN: { 'Fn::GetAtt': ['Audit', 'Arn'] },
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own ${} syntax
            STAGE: { 'Fn::Sub': '${Stage}-${AWS::Region}' },
            DROPPED: { Ref: 'AWS::NoValue' },
          },
        },
      },
      Metadata: { 'cordon:entry': 'test/integ/engine/fixtures/echo.ts' },
    },
    Role: { Type: 'AWS::IAM::Role', Properties: { RoleName: 'cordon-role' } },
    Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'cordon-dlq' } },
    Machine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Metadata: { 'cordon:playbook': 'demo' },
      Properties: {
        StateMachineName: 'cordon-demo',
        DefinitionString: {
          'Fn::Join': [
            '',
            [
              '{"StartAt":"Act","States":{"Act":{"Type":"Task","Resource":"',
              { 'Fn::GetAtt': ['Action', 'Arn'] },
              // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own ${} syntax
              '","Parameters":{"table":"${TableName}","partition":"',
              { Ref: 'AWS::Partition' },
              '","account":"',
              { Ref: 'AWS::AccountId' },
              '","suffix":"',
              { Ref: 'AWS::URLSuffix' },
              '","second":"',
              { 'Fn::Select': [1, { 'Fn::Split': ['-', 'a-b-c'] }] },
              '"},"End":true}}}',
            ],
          ],
        },
        DefinitionSubstitutions: { TableName: { Ref: 'Audit' } },
      },
    },
  },
};

describe('template resolution', () => {
  it('resolves Ref, GetAtt, Join, Sub, Select, Split, pseudo parameters and DefinitionSubstitutions', () => {
    const definition = renderDefinition(template, 'Machine', {
      region: 'eu-central-1',
      accountId: '123456789012',
    });
    expect(definition).toEqual({
      StartAt: 'Act',
      States: {
        Act: {
          Type: 'Task',
          Resource: 'arn:aws:lambda:eu-central-1:123456789012:function:Action',
          Parameters: {
            table: 'cordon-audit',
            partition: 'aws',
            account: '123456789012',
            suffix: 'amazonaws.com',
            second: 'b',
          },
          End: true,
        },
      },
    });
  });

  it('gives each resource type its ARN and Ref form', () => {
    const resolver = new TemplateResolver(template, { region: 'eu-west-1', accountId: '123456789012' });
    expect(resolver.resolve({ 'Fn::GetAtt': 'Audit.Arn' })).toBe(
      'arn:aws:dynamodb:eu-west-1:123456789012:table/cordon-audit',
    );
    expect(resolver.resolve({ 'Fn::GetAtt': ['Role', 'Arn'] })).toBe(
      'arn:aws:iam::123456789012:role/cordon-role',
    );
    expect(resolver.resolve({ 'Fn::GetAtt': ['Queue', 'Arn'] })).toBe(
      'arn:aws:sqs:eu-west-1:123456789012:cordon-dlq',
    );
    expect(resolver.resolve({ Ref: 'Queue' })).toBe(
      'https://sqs.eu-west-1.amazonaws.com/123456789012/cordon-dlq',
    );
    expect(resolver.resolve({ Ref: 'Machine' })).toBe(
      'arn:aws:states:eu-west-1:123456789012:stateMachine:cordon-demo',
    );
    expect(resolver.resolve({ 'Fn::FindInMap': ['Sizes', { Ref: 'Stage' }, 'memory'] })).toBe(256);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own ${} syntax
    expect(resolver.resolve({ 'Fn::Sub': ['${X}/${!Literal}', { X: { Ref: 'Audit' } }] })).toBe(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own ${} syntax
      'cordon-audit/${Literal}',
    );
  });

  it('names the unsupported intrinsic and where it was found', () => {
    const resolver = new TemplateResolver(template);
    expect(() => resolver.resolve({ Key: { 'Fn::ImportValue': 'shared-table' } }, 'Props')).toThrow(
      expect.objectContaining({ name: 'UnsupportedIntrinsicError', intrinsic: 'Fn::ImportValue' }),
    );
    expect(() => resolver.resolve({ 'Fn::GetAtt': ['Audit', 'Nonsense'] })).toThrow(
      /Fn::GetAtt Audit\.Nonsense/,
    );
  });

  it('fails a playbook whose definition uses an unsupported intrinsic when it is started', () => {
    const bad: CfnTemplate = {
      Resources: {
        Machine: {
          Type: 'AWS::StepFunctions::StateMachine',
          Metadata: { 'cordon:playbook': 'bad' },
          Properties: { DefinitionString: { 'Fn::If': ['IsProd', '{}', '{}'] } },
        },
      },
    };
    const engine = LocalEngine.fromTemplate(bad);
    expect(engine.playbooks().map((p) => p.id)).toEqual(['bad']);
    expect(() => engine.start('bad', {})).toThrow(
      expect.objectContaining({ name: 'UnsupportedIntrinsicError', intrinsic: 'Fn::If' }),
    );
  });

  it('sets the resolved template environment for the handler', async () => {
    const engine = LocalEngine.fromTemplate(template, { region: 'eu-west-1', accountId: '123456789012' });
    const result = await engine.run('demo', {});
    expect(result.status).toBe('SUCCEEDED');
    expect(process.env.TABLE_ARN).toBe('arn:aws:dynamodb:eu-west-1:123456789012:table/cordon-audit');
    expect(process.env.STAGE).toBe('dev-eu-west-1');
    expect(process.env.DROPPED).toBeUndefined();
    expect(result.output).toMatchObject({ tableAtLoad: 'cordon-audit', regionAtLoad: 'eu-west-1' });
  });

  it('renders ASL that asl-validator accepts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'engine-asl-'));
    const file = join(dir, 'definition.json');
    writeFileSync(file, JSON.stringify(renderDefinition(template, 'Machine')));
    const out = execFileSync('node_modules/.bin/asl-validator', ['--json-path', file], { encoding: 'utf8' });
    expect(out).toMatch(/✓|valid/i);
  });
});
