import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, it } from 'vitest';
import { synthStack } from '../support/app.ts';

let template: ReturnType<typeof synthStack>['template'];
beforeAll(() => {
  template = synthStack().template;
});

describe('the audit table', () => {
  it('has the keys and the three indexes every access pattern needs', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      TableName: 'cordon-audit',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        Match.objectLike({
          IndexName: 'by-time',
          KeySchema: [
            { AttributeName: 'gsi1pk', KeyType: 'HASH' },
            { AttributeName: 'gsi1sk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        }),
        Match.objectLike({
          IndexName: 'by-status',
          KeySchema: [
            { AttributeName: 'gsi2pk', KeyType: 'HASH' },
            { AttributeName: 'gsi2sk', KeyType: 'RANGE' },
          ],
        }),
        Match.objectLike({
          IndexName: 'by-ref',
          KeySchema: [
            { AttributeName: 'gsi3pk', KeyType: 'HASH' },
            { AttributeName: 'gsi3sk', KeyType: 'RANGE' },
          ],
        }),
      ],
    });
  });

  it('has point-in-time recovery, deletion protection and encryption, and is kept on stack deletion', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: Match.objectLike({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true },
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });
});
