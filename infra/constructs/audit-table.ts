/**
 * The audit table: incidents, their hash-chained steps, resource links, finding ids and open-resource
 * markers. Keys and indexes come from `functions/shared/audit-table.ts`, the definition the local store
 * uses too. Point-in-time recovery, deletion protection and encryption are always on; the table is kept
 * when the stack is deleted, because it is the evidence.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { AUDIT_TABLE, type KeyAttribute } from '#shared/audit-table';

export interface AuditTableProps {
  /** The table's name. Fixed, so that functions and the console find it without a lookup. Default `cordon-audit`. */
  readonly tableName?: string;
}

const attribute = (key: KeyAttribute): dynamodb.Attribute => ({
  name: key.name,
  type: key.type === 'S' ? dynamodb.AttributeType.STRING : dynamodb.AttributeType.NUMBER,
});

/** What a function may do to the record: read, append and update, never delete. */
const RECORD_ACTIONS = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];

export class AuditTable extends Construct {
  readonly table: dynamodb.Table;
  readonly tableName: string;

  constructor(scope: Construct, id: string, props: AuditTableProps = {}) {
    super(scope, id);
    const tableName = props.tableName ?? 'cordon-audit';
    if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(tableName)) {
      throw new Error(`AuditTable: tableName must be 3-255 of a-z A-Z 0-9 _ . -, got "${tableName}"`);
    }
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
  }

  /** The table's ARN and each index's ARN, by name: no wildcard. */
  get resourceArns(): string[] {
    return [
      this.table.tableArn,
      ...AUDIT_TABLE.indexes.map((index) => `${this.table.tableArn}/index/${index.name}`),
    ];
  }

  /** Lets a principal read and append to the record. Deleting is never granted. */
  grantRecord(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: RECORD_ACTIONS, resourceArns: this.resourceArns });
  }

  /**
   * Lets a principal delete open-resource markers, the one kind of item that is removed: when an incident
   * ends. Steps and incidents are never deleted: the condition limits deletes to `OPEN#` keys.
   */
  grantReleaseOpen(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:DeleteItem'],
      resourceArns: [this.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['OPEN#*'] } },
    });
  }
}
