/**
 * The audit record: the table (incidents, their hash-chained steps, resource links, finding ids,
 * open-resource markers, approvals), the record key that MACs every step, and the anchor bucket that
 * keeps every step's hash where nobody can take it back (functions/shared/seal.ts says why both).
 *
 * - The table: keys and indexes from `functions/shared/audit-table.ts` (the local store uses the same);
 *   point-in-time recovery, deletion protection and encryption always on; kept when the stack is deleted.
 * - The key: a KMS `HMAC_256` key. Its policy lets the account administer it but not use it; lets only
 *   the roles of Cordon's functions `GenerateMac`; and lets any principal the account's IAM allows
 *   `VerifyMac` (an auditor running `cordon verify`), which cannot forge.
 * - The anchor: an S3 bucket with Object Lock in compliance mode (the retention cannot be shortened or
 *   lifted by anyone, the root user included), versioned, encrypted, TLS only, public access blocked;
 *   only Cordon's functions may put objects, nobody may delete one.
 *
 * {@link AuditTable.grantRecord} gives a function exactly its items of the table (by partition key, see
 * infra/table-access.ts), the key's MAC operations and the anchor's put and list.
 */
import { type CfnElement, Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
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
const ANCHOR_OBJECTS = 'anchors/*';

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
              'kms:Create*',
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
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:ListBucket'],
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
}
