import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthStack } from '../support/app.ts';
import { matchesEventPattern } from '../support/event-pattern.ts';

let built: ReturnType<typeof synthStack>;
let template: ReturnType<typeof synthStack>['template'];
beforeAll(() => {
  built = synthStack();
  template = built.template;
});

describe('the audit table', () => {
  it('has the keys and the four indexes every access pattern needs', () => {
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
        // An organization's incidents by account, and by region through their place items.
        Match.objectLike({
          IndexName: 'by-place',
          KeySchema: [
            { AttributeName: 'gsi4pk', KeyType: 'HASH' },
            { AttributeName: 'gsi4sk', KeyType: 'RANGE' },
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

type Json = Record<string, unknown>;

const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321';
const BUCKET = 'cordon-anchor-123456789012-us-east-1';

/** A value of the template with the record key's ARN and the anchor bucket's name put in, as deployed. */
function deployed(value: unknown, keyId: string, bucketId: string): unknown {
  if (Array.isArray(value)) return value.map((v) => deployed(v, keyId, bucketId));
  if (value === null || typeof value !== 'object') return value;
  const v = value as Json;
  const getAtt = v['Fn::GetAtt'] as string[] | undefined;
  if (getAtt?.[0] === keyId && getAtt[1] === 'Arn') return KEY_ARN;
  if (v.Ref === bucketId) return BUCKET;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deployed(x, keyId, bucketId)]));
}

/**
 * A CloudTrail management (or data) event as EventBridge delivers it, shaped as AWS documents each call
 * (https://docs.aws.amazon.com/kms/latest/developerguide/ct-put-key-policy.html,
 * https://docs.aws.amazon.com/kms/latest/developerguide/ct-updatealias.html,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/cloudtrail-logging-understanding-s3-entries.html).
 */
function cloudTrail(service: 'kms' | 's3', eventName: string, detail: Json): Json {
  return {
    version: '0',
    id: '6f8e4d8c-3b9a-4e7d-9b3e-1c2f4a5b6c7d',
    'detail-type': 'AWS API Call via CloudTrail',
    source: `aws.${service}`,
    account: '123456789012',
    time: '2026-11-30T20:06:16Z',
    region: 'us-east-1',
    resources: [],
    detail: {
      eventVersion: '1.08',
      userIdentity: {
        type: 'IAMUser',
        arn: 'arn:aws:iam::123456789012:user/Mallory',
        accountId: '123456789012',
      },
      eventTime: '2026-11-30T20:06:16Z',
      eventSource: `${service}.amazonaws.com`,
      eventName,
      awsRegion: 'us-east-1',
      eventID: 'c217db1f-903f-4a2f-8f88-9580182d6313',
      readOnly: false,
      eventType: 'AwsApiCall',
      ...detail,
    },
  };
}

const onKey = (arn: string) => ({
  requestParameters: { keyId: arn.split('/').at(-1) },
  resources: [{ accountId: '123456789012', type: 'AWS::KMS::Key', ARN: arn }],
});
const onBucket = (bucketName: string, extra: Json = {}) => ({
  requestParameters: { bucketName, Host: `${bucketName}.s3.us-east-1.amazonaws.com`, ...extra },
});

describe('the alerts on what keeps the record trustworthy', () => {
  const rules = () => {
    const { stack } = built;
    const keyId = stack.getLogicalId(stack.audit.key.node.defaultChild as never);
    const bucketId = stack.getLogicalId(stack.audit.anchorBucket.node.defaultChild as never);
    const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
    return Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::Events::Rule')
      .map(([id, r]) => ({ id, properties: deployed(r.Properties, keyId, bucketId) as Json }));
  };
  const alerting = (event: Json) =>
    rules()
      .filter((rule) => matchesEventPattern(rule.properties.EventPattern, event))
      .map((rule) => rule.id);

  it('alerts on every change to the record key, its alias, or the anchor bucket, and on a hidden anchor', () => {
    const changes: Record<string, Json> = {
      'a key policy put': cloudTrail('kms', 'PutKeyPolicy', onKey(KEY_ARN)),
      'a grant created': cloudTrail('kms', 'CreateGrant', onKey(KEY_ARN)),
      'the key scheduled for deletion': cloudTrail('kms', 'ScheduleKeyDeletion', onKey(KEY_ARN)),
      'the key disabled': cloudTrail('kms', 'DisableKey', onKey(KEY_ARN)),
      // Re-pointed: the event names the alias and the key it now points at, not the record key.
      'the alias re-pointed': cloudTrail('kms', 'UpdateAlias', {
        requestParameters: { aliasName: 'alias/cordon-record', targetKeyId: OTHER_KEY_ARN.split('/').at(-1) },
        resources: [
          { type: 'AWS::KMS::Key', ARN: 'arn:aws:kms:us-east-1:123456789012:alias/cordon-record' },
          { type: 'AWS::KMS::Key', ARN: OTHER_KEY_ARN },
        ],
      }),
      'the alias deleted': cloudTrail('kms', 'DeleteAlias', {
        requestParameters: { aliasName: 'alias/cordon-record' },
      }),
      'a denied grant, still reported': cloudTrail('kms', 'CreateGrant', {
        ...onKey(KEY_ARN),
        errorCode: 'AccessDenied',
      }),
      'the bucket policy put': cloudTrail('s3', 'PutBucketPolicy', onBucket(BUCKET)),
      'the bucket policy deleted': cloudTrail('s3', 'DeleteBucketPolicy', onBucket(BUCKET)),
      'Object Lock changed': cloudTrail('s3', 'PutObjectLockConfiguration', onBucket(BUCKET)),
      'versioning changed': cloudTrail('s3', 'PutBucketVersioning', onBucket(BUCKET)),
      'a delete marker put over an anchor': cloudTrail(
        's3',
        'DeleteObject',
        onBucket(BUCKET, { key: 'anchors/inc-1/0000000001-ab' }),
      ),
      'several objects deleted': cloudTrail(
        's3',
        'DeleteObjects',
        onBucket(BUCKET, { delete: { Object: [{ Key: 'anchors/inc-1/0000000001-ab' }] } }),
      ),
    };
    for (const [what, event] of Object.entries(changes)) expect(alerting(event), what).toHaveLength(1);
  });

  it('stays quiet on Cordon writing anchors and on other keys and buckets', () => {
    const quiet: Record<string, Json> = {
      'an anchor written': cloudTrail(
        's3',
        'PutObject',
        onBucket(BUCKET, { key: 'anchors/inc-1/0000000001-ab' }),
      ),
      'another key policy put': cloudTrail('kms', 'PutKeyPolicy', onKey(OTHER_KEY_ARN)),
      'another alias re-pointed': cloudTrail('kms', 'UpdateAlias', {
        requestParameters: { aliasName: 'alias/other', targetKeyId: KEY_ARN.split('/').at(-1) },
      }),
      'another bucket policy put': cloudTrail('s3', 'PutBucketPolicy', onBucket('someone-elses-bucket')),
      // Object Lock refuses to delete a version; no marker is put.
      'a version deleted': cloudTrail(
        's3',
        'DeleteObject',
        onBucket(BUCKET, { key: 'anchors/inc-1/0000000001-ab', versionId: '3HL4kqtJlcpXroDTDmjVBH40Nrjfkd' }),
      ),
      'a MAC made': cloudTrail('kms', 'GenerateMac', onKey(KEY_ARN)),
    };
    for (const [what, event] of Object.entries(quiet)) expect(alerting(event), what).toEqual([]);
  });

  it("emails the approvers through the alarm topic, naming the call and its caller, and lets EventBridge use the topic's key", () => {
    const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0] ?? '';
    const watching = rules().filter((rule) =>
      matchesEventPattern(rule.properties.EventPattern, cloudTrail('kms', 'PutKeyPolicy', onKey(KEY_ARN))),
    );
    expect(watching).toHaveLength(1);
    const [target] = (watching[0]?.properties.Targets ?? []) as {
      Arn: unknown;
      InputTransformer: { InputPathsMap: Record<string, string>; InputTemplate: string };
    }[];
    expect(target?.Arn).toEqual({ Ref: topicId });
    expect(Object.values(target?.InputTransformer.InputPathsMap ?? {})).toEqual(
      expect.arrayContaining(['$.detail.eventName', '$.detail.userIdentity.arn', '$.detail.eventTime']),
    );
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sns:Publish',
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'events.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
  });
});

describe('the anchor bucket', () => {
  it('lets the recorders list versions (a delete marker cannot hide an anchor) and only under anchors/', () => {
    const { stack } = built;
    const bucketId = stack.getLogicalId(stack.audit.anchorBucket.node.defaultChild as never);
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) => (p.Properties as { PolicyDocument: { Statement: Json[] } }).PolicyDocument.Statement,
    );
    const lists = policies.filter((s) => [s.Action].flat().some((a) => String(a).startsWith('s3:List')));
    expect(lists.length).toBeGreaterThanOrEqual(20);
    for (const statement of lists) {
      expect(statement).toMatchObject({
        Effect: 'Allow',
        Action: 's3:ListBucketVersions',
        Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
        Condition: { StringLike: { 's3:prefix': ['anchors/*'] } },
      });
    }
  });
});
