/**
 * Cordon's stack, deployed into the security account: the audit table and the action functions.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ActionFunction } from './constructs/action-function.ts';
import { AuditTable } from './constructs/audit-table.ts';
import { acknowledgeStack } from './nag.ts';

export interface CordonStackProps extends StackProps {
  /** The audit table's name. Default `cordon-audit`. */
  readonly tableName?: string;
  /** Apply the cdk-nag acknowledgements of `infra/nag.ts`. Default true; tests turn it off to see each finding. */
  readonly acknowledgeNag?: boolean;
}

export class CordonStack extends Stack {
  readonly audit: AuditTable;
  readonly recordNote: ActionFunction;

  constructor(scope: Construct, id: string, props: CordonStackProps = {}) {
    super(scope, id, props);
    this.audit = new AuditTable(this, 'Audit', { tableName: props.tableName });

    this.recordNote = new ActionFunction(this, 'RecordNote', {
      entry: 'functions/actions/record-note/handler.ts',
      description: 'Appends a note to an incident',
    }).recordsTo(this.audit);

    new CfnOutput(this, 'AuditTableName', { value: this.audit.tableName, description: 'The audit table' });
    if (props.acknowledgeNag ?? true) acknowledgeStack(this);
  }
}
