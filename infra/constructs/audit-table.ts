/**
 * The audit record: the table (incidents, their hash-chained steps, resource links, finding ids,
 * open-resource markers, approvals), the record key that MACs every step, and the anchor bucket that
 * keeps every step's hash where nobody can take it back (functions/shared/seal.ts says why both).
 *
 * - The table: keys and indexes from `functions/shared/audit-table.ts` (the local store uses the same);
 *   point-in-time recovery, deletion protection and encryption always on; kept when the stack is deleted.
 * - The key: a KMS `HMAC_256` key. Its policy lets the account administer it but not use it; lets only
 *   the roles of Cordon's functions `GenerateMac`, and denies it to every other principal outright (an
 *   allow in IAM cannot lend it); denies grants to everyone (a grant would lend `GenerateMac` past the
 *   policy); and lets any principal the account's IAM allows `VerifyMac` (an auditor running
 *   `cordon verify`), which cannot forge. The account keeps `PutKeyPolicy` (KMS refuses a policy that would
 *   lock out whoever puts it, and CloudFormation must be able to update it), so an administrator could
 *   still rewrite the policy: {@link AuditTable.alertOnChanges} emails the approvers when anyone does.
 * - The anchor: an S3 bucket with Object Lock in compliance mode (the retention cannot be shortened or
 *   lifted by anyone, the root user included), versioned, encrypted, TLS only, public access blocked;
 *   only Cordon's functions may put objects, nobody may delete one. Readers list its versions, not its
 *   current objects, so that a delete marker cannot hide an anchor.
 *
 * {@link AuditTable.grantRecord} gives a function exactly its items of the table (by partition key, see
 * infra/table-access.ts), the key's MAC operations and the anchor's put and list.
 * {@link AuditTable.alertOnChanges} watches the key's and the bucket's policies through CloudTrail.
 */
import { type CfnElement, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AUDIT_TABLE, type KeyAttribute } from '#shared/audit-table';
import { MAC_ALGORITHM } from '#shared/seal';
import { acknowledge } from '../nag.ts';
import type { ItemAccess } from '../table-access.ts';

export interface AuditTableProps {
  /** The table's name. Fixed, so that functions and the console find it without a lookup. Default `cordon-audit`. */
  readonly tableName?: string;
  /**
   * How long each anchor is kept under compliance-mode Object Lock, in days. Nobody can delete an anchor,
   * or the bucket, before then. Default 365.
   */
  readonly anchorRetentionDays?: number;
}

const attribute = (key: KeyAttribute): dynamodb.Attribute => ({
  name: key.name,
  type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

/** The alias of the record key. */
export const RECORD_KEY_ALIAS = 'alias/cordon-record';

/** Where anchors are written in the bucket. */
const ANCHOR_PREFIX = 'anchors/';
const ANCHOR_OBJECTS = `${ANCHOR_PREFIX}*`;

/** What changes to the record key would let someone forge or hide the record: watched by CloudTrail. */
const WATCHED_KEY_CALLS = ['PutKeyPolicy', 'CreateGrant', 'ScheduleKeyDeletion', 'DisableKey'] as const;
/** What changes to the key's alias would point a reader elsewhere. */
const WATCHED_ALIAS_CALLS = ['CreateAlias', 'UpdateAlias', 'DeleteAlias'] as const;
/** What changes to the anchor bucket would let someone rewrite or hide anchors. */
const WATCHED_BUCKET_CALLS = [
  'PutBucketPolicy',
  'DeleteBucketPolicy',
  'PutObjectLockConfiguration',
  'PutBucketVersioning',
] as const;

export class AuditTable extends Construct {
  readonly table: dynamodb.Table;
  readonly tableName: string;
  readonly key: kms.Key;
  readonly anchorBucket: s3.Bucket;
  readonly anchorRetentionDays: number;
  /** The roles that record: the only principals that may MAC with the key and put anchors. */
  private readonly recorders: iam.IRole[] = [];

  constructor(scope: Construct, id: string, props: AuditTableProps = {}) {
    super(scope, id);
    const tableName = props.tableName ?? 'cordon-audit';
    if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(tableName)) {
      throw new Error(`AuditTable: tableName must be 3-255 of a-z A-Z 0-9 _ . -, got "${tableName}"`);
    }
    const retention = props.anchorRetentionDays ?? 365;
    if (!Number.isInteger(retention) || retention < 1 || retention > 36_500) {
      throw new Error(
        `AuditTable: anchorRetentionDays must be a whole number of days from 1 to 36500, got ${retention}`,
      );
    }
    this.anchorRetentionDays = retention;
    this.tableName = tableName;
    this.table = new dynamodb.Table(this, 'Table', {
      tableName,
      partitionKey: attribute(AUDIT_TABLE.partitionKey),
      sortKey: attribute(AUDIT_TABLE.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of AUDIT_TABLE.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    const stack = Stack.of(this);
    const recorderArns = Lazy.list({ produce: () => this.recorders.map((role) => role.roleArn) });
    const account = new iam.AccountRootPrincipal();
    this.key = new kms.Key(this, 'RecordKey', {
      description: "Cordon's record key: MACs every step of the audit record",
      keySpec: kms.KeySpec.HMAC_256,
      keyUsage: kms.KeyUsage.GENERATE_VERIFY_MAC,
      alias: RECORD_KEY_ALIAS,
      removalPolicy: RemovalPolicy.RETAIN,
      // The whole policy: it replaces the default one, which would let any IAM principal use the key.
      policy: new iam.PolicyDocument({
        statements: [
          new iam.PolicyStatement({
            sid: 'AdministerNotUse',
            principals: [account],
            actions: [
              // CreateAlias, not Create*: that would include CreateGrant.
              'kms:CreateAlias',
              'kms:Describe*',
              'kms:Enable*',
              'kms:List*',
              'kms:Put*',
              'kms:Update*',
              'kms:Revoke*',
              'kms:Disable*',
              'kms:Get*',
              'kms:Delete*',
              'kms:TagResource',
              'kms:UntagResource',
              'kms:ScheduleKeyDeletion',
              'kms:CancelKeyDeletion',
            ],
            resources: ['*'],
          }),
          new iam.PolicyStatement({
            sid: 'OnlyCordonMacs',
            principals: [account],
            actions: ['kms:GenerateMac'],
            resources: ['*'],
            conditions: {
              ArnEquals: { 'aws:PrincipalArn': recorderArns },
              StringEquals: { 'kms:MacAlgorithm': MAC_ALGORITHM },
            },
          }),
          // The allow above is not enough: a principal with kms:* in IAM could still be lent GenerateMac by
          // a grant. An explicit deny wins over every allow, a grant's included.
          new iam.PolicyStatement({
            sid: 'NobodyElseMacs',
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: ['kms:GenerateMac'],
            resources: ['*'],
            conditions: { ArnNotEquals: { 'aws:PrincipalArn': recorderArns } },
          }),
          // Nothing of Cordon uses grants on this key; a grant is how a key's use is lent past its policy.
          new iam.PolicyStatement({
            sid: 'NoGrants',
            effect: iam.Effect.DENY,
            principals: [new iam.AnyPrincipal()],
            actions: ['kms:CreateGrant'],
            resources: ['*'],
          }),
          new iam.PolicyStatement({
            sid: 'AnyoneAllowedVerifies',
            principals: [account],
            actions: ['kms:VerifyMac', 'kms:DescribeKey'],
            resources: ['*'],
          }),
        ],
      }),
    });
    acknowledge(
      this.key,
      'AwsSolutions-KMS5',
      'An HMAC key: KMS rotates only symmetric encryption keys. Rotating the record key would not add safety: a MAC proves who wrote a step, and old steps must keep verifying.',
    );

    this.anchorBucket = new s3.Bucket(this, 'Anchors', {
      bucketName: `cordon-anchor-${stack.account}-${stack.region}`,
      objectLockEnabled: true,
      objectLockDefaultRetention: s3.ObjectLockRetention.compliance(Duration.days(retention)),
      versioned: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.anchorBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NobodyDeletesAnAnchor',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [
          's3:DeleteObject',
          's3:DeleteObjectVersion',
          's3:PutObjectRetention',
          's3:PutObjectLegalHold',
          's3:BypassGovernanceRetention',
          's3:PutBucketObjectLockConfiguration',
          's3:PutLifecycleConfiguration',
        ],
        resources: [this.anchorBucket.bucketArn, this.anchorBucket.arnForObjects('*')],
      }),
    );
    this.anchorBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyCordonAnchors',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.anchorBucket.arnForObjects('*')],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': recorderArns } },
      }),
    );
    acknowledge(
      this.anchorBucket,
      'AwsSolutions-S1',
      "The anchor holds one object per step, written by Cordon's functions only (its policy denies everyone else); every write is already an audit record. Access logs would go to a bucket of their own that is not locked, adding nothing an attacker could not delete.",
    );
  }

  /** The table's ARN and each index's ARN, by name: no wildcard. */
  get resourceArns(): string[] {
    return [
      this.table.tableArn,
      ...AUDIT_TABLE.indexes.map((index) => `${this.table.tableArn}/index/${index.name}`),
    ];
  }

  /**
   * Lets a function record: its items of the table (each access as its own statement, conditioned on
   * the partition keys, never an index, never a delete unless listed), the record key's MAC operations,
   * and the anchor's put and list.
   */
  grantRecord(grantee: iam.IGrantable & { readonly role?: iam.IRole }, access: readonly ItemAccess[]): void {
    if (access.length === 0) throw new Error('AuditTable.grantRecord: access lists no items');
    for (const item of access) {
      if (!/^[A-Z-]+#([a-z]+#)?$/.test(item.prefix) || item.actions.length === 0) {
        throw new Error(
          `AuditTable.grantRecord: a partition-key prefix and actions are needed, got ${JSON.stringify(item)}`,
        );
      }
      iam.Grant.addToPrincipal({
        grantee,
        actions: item.actions.map((a) => `dynamodb:${a}`),
        resourceArns: [this.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${item.prefix}*`] } },
      });
    }
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:GenerateMac', 'kms:VerifyMac'],
      resourceArns: [this.key.keyArn],
    });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject'],
      resourceArns: [this.anchorBucket.arnForObjects(ANCHOR_OBJECTS)],
    });
    // The anchors are read as versions (ListObjectVersions), so that a delete marker cannot hide one.
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucketVersions'],
      resourceArns: [this.anchorBucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [ANCHOR_OBJECTS] } },
    });
    const role = grantee.grantPrincipal instanceof iam.Role ? grantee.grantPrincipal : grantee.role;
    if (!role) throw new Error('AuditTable.grantRecord: the grantee has no role to name in the key policy');
    this.recorders.push(role);
    const bucket = Stack.of(this).getLogicalId(this.anchorBucket.node.defaultChild as CfnElement);
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::<${bucket}.Arn>/${ANCHOR_OBJECTS}]`,
      'Each step is anchored as an object of its own under anchors/<incident>/<seq>-<hash>: the function writes new objects there (If-None-Match), and Object Lock in compliance mode keeps every one; it may delete none.',
    );
  }

  /**
   * Emails `topic`'s subscribers (the approvers) whenever anyone changes, or tries to change, what keeps the
   * record trustworthy: the record key's policy, grants, deletion or state, its alias, the anchor bucket's
   * policy, Object Lock or versioning, and a delete that would put a delete marker over an anchor. Denied
   * attempts are reported too. A deployment of Cordon that adds a function changes the key policy, and so
   * alerts as well: the email names who made the call.
   *
   * These are CloudTrail events on the default event bus, so the account needs a trail
   * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html); the deletes
   * are S3 data events, delivered only when the trail records data events for the anchor bucket.
   */
  alertOnChanges(topic: sns.ITopic): events.Rule[] {
    const stack = Stack.of(this);
    const cloudTrail = 'AWS API Call via CloudTrail';
    const keyRule = new events.Rule(this, 'RecordKeyChanged', {
      description: "Cordon: the record key's policy, grants, state or alias changed",
      eventPattern: {
        source: ['aws.kms'],
        detailType: [cloudTrail],
        detail: {
          eventSource: ['kms.amazonaws.com'],
          $or: [
            { eventName: [...WATCHED_KEY_CALLS], resources: { ARN: [this.key.keyArn] } },
            // UpdateAlias names the alias and its new key, not the key it leaves
            // (https://docs.aws.amazon.com/kms/latest/developerguide/ct-updatealias.html).
            { eventName: [...WATCHED_ALIAS_CALLS], requestParameters: { aliasName: [RECORD_KEY_ALIAS] } },
          ],
        },
      },
    });
    const bucket = this.anchorBucket.bucketName;
    const bucketRule = new events.Rule(this, 'AnchorBucketChanged', {
      description:
        "Cordon: the anchor bucket's policy, Object Lock or versioning changed, or an anchor was hidden",
      eventPattern: {
        source: ['aws.s3'],
        detailType: [cloudTrail],
        detail: {
          eventSource: ['s3.amazonaws.com'],
          $or: [
            { eventName: [...WATCHED_BUCKET_CALLS], requestParameters: { bucketName: [bucket] } },
            // A delete without a version id puts a delete marker over a locked anchor.
            {
              eventName: ['DeleteObject'],
              requestParameters: {
                bucketName: [bucket],
                key: [{ prefix: ANCHOR_PREFIX }],
                versionId: [{ exists: false }],
              },
            },
            { eventName: ['DeleteObjects'], requestParameters: { bucketName: [bucket] } },
          ],
        },
      },
    });
    const field = (path: string) => events.EventField.fromPath(path);
    const message = events.RuleTargetInput.fromText(
      `Cordon's record key or anchor bucket (${stack.stackName}): ${field('$.detail.eventName')} by ${field('$.detail.userIdentity.arn')} at ${field('$.detail.eventTime')} in ${field('$.detail.awsRegion')} (CloudTrail event ${field('$.detail.eventID')}). Unless this was a deployment of Cordon, whoever made it may be able to forge or hide the record: check the call in CloudTrail, and the record with cordon verify.`,
    );
    for (const rule of [keyRule, bucketRule]) rule.addTarget(new targets.SnsTopic(topic, { message }));
    return [keyRule, bucketRule];
  }
}
