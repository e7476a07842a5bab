/**
 * Cordon's stack, deployed into the security account: the audit table and the action functions.
 */
import { ArnFormat, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { parseSettings, type Settings, type SettingsInput } from '#shared/settings';
import settingsFile from '../cordon.config.ts';
import { ActionFunction } from './constructs/action-function.ts';
import { AuditTable } from './constructs/audit-table.ts';
import { Triggers } from './constructs/triggers.ts';
import { acknowledgeStack } from './nag.ts';

/** The playbooks the stack deploys, by id; each state machine is named `cordon-<id>`. */
export const PLAYBOOK_IDS: readonly string[] = [];

/** A playbook's fixed state machine name: fixed, so that ARNs can be formed without a reference (no cycles). */
export const stateMachineName = (playbook: string) => `cordon-${playbook}`;

export interface CordonStackProps extends StackProps {
  /** The audit table's name. Default `cordon-audit`. */
  readonly tableName?: string;
  /** Default: `cordon.config.ts` at the repository's root. */
  readonly settings?: SettingsInput;
  /** Apply the cdk-nag acknowledgements of `infra/nag.ts`. Default true; tests turn it off to see each finding. */
  readonly acknowledgeNag?: boolean;
}

export class CordonStack extends Stack {
  readonly audit: AuditTable;
  readonly recordNote: ActionFunction;
  readonly router: ActionFunction;
  readonly triggers: Triggers;
  readonly settings: Settings;

  constructor(scope: Construct, id: string, props: CordonStackProps = {}) {
    super(scope, id, props);
    this.audit = new AuditTable(this, 'Audit', { tableName: props.tableName });

    this.recordNote = new ActionFunction(this, 'RecordNote', {
      entry: 'functions/actions/record-note/handler.ts',
      description: 'Appends a note to an incident',
    }).recordsTo(this.audit);

    this.settings = parseSettings(props.settings ?? settingsFile);
    const playbookArns = Object.fromEntries(PLAYBOOK_IDS.map((id) => [id, this.stateMachineArn(id)]));
    this.router = new ActionFunction(this, 'Router', {
      entry: 'functions/router/handler.ts',
      description: 'Turns findings into incidents and starts their playbooks',
    })
      .recordsTo(this.audit)
      .withSettings(this.settings);
    this.router.addEnvironment('CORDON_PLAYBOOK_ARNS', JSON.stringify(playbookArns));
    if (PLAYBOOK_IDS.length > 0) {
      this.router.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['states:StartExecution'],
          resources: Object.values(playbookArns),
        }),
      );
    }
    this.triggers = new Triggers(this, 'Triggers', { settings: this.settings, target: this.router });

    new CfnOutput(this, 'AuditTableName', { value: this.audit.tableName, description: 'The audit table' });
    if (props.acknowledgeNag ?? true) acknowledgeStack(this);
  }

  /** The ARN of a playbook's state machine, formed from its fixed name. */
  stateMachineArn(playbook: string): string {
    return this.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName(playbook),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
  }
}
