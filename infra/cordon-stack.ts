/**
 * Cordon's stack, deployed into the security account: the audit table, the router and its triggers,
 * the action functions, the approval API and the playbooks; and, when the settings name the organization,
 * what lets the actions act in its member accounts (infra/constructs/responders.ts).
 */
import { ArnFormat, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import type { Construct } from 'constructs';
import * as declared from '#functions/actions/index';
import { parseSettings, type Settings, type SettingsInput } from '#shared/settings';
import settingsFile from '../cordon.config.ts';
import { ActionFunction } from './constructs/action-function.ts';
import { ActionFunctions } from './constructs/action-functions.ts';
import { ApprovalApi } from './constructs/approval-api.ts';
import { AuditTable } from './constructs/audit-table.ts';
import { Operations } from './constructs/operations.ts';
import { type Playbook, stateMachineName } from './constructs/playbook.ts';
import { organizationIsSet, Responders } from './constructs/responders.ts';
import { RestoreRole } from './constructs/restore-role.ts';
import { Triggers } from './constructs/triggers.ts';
import { coveredRegions } from './declared-grants.ts';
import { acknowledgeStack } from './nag.ts';
import { addPlaybooks, PLAYBOOK_IDS } from './playbook-wiring.ts';

export { PLAYBOOK_IDS, stateMachineName };

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
  readonly approvals: ApprovalApi;
  /** The role AWS Backup restores with. */
  readonly restoreRole: iam.Role;
  /** The dashboard, the alarms and the topic that emails the approvers. */
  readonly operations: Operations;
  /** Records each playbook's end and releases its incident's open markers. */
  readonly playbookEnded: ActionFunction;
  /** Every action function, by action name. */
  readonly actions: ReadonlyMap<string, ActionFunction>;
  /** The responder template and its StackSet: only when the settings name the organization. */
  readonly responders: Responders | undefined;
  readonly playbooks: ReadonlyMap<string, Playbook>;

  constructor(scope: Construct, id: string, props: CordonStackProps = {}) {
    super(scope, id, props);
    this.settings = parseSettings(props.settings ?? settingsFile);
    this.audit = new AuditTable(this, 'Audit', {
      tableName: props.tableName,
      anchorRetentionDays: this.settings.record.anchorRetentionDays,
    });

    const playbookArns = Object.fromEntries(PLAYBOOK_IDS.map((id) => [id, this.stateMachineArn(id)]));
    this.router = new ActionFunction(this, 'Router', {
      entry: 'functions/router/handler.ts',
      description: 'Turns findings into incidents and starts their playbooks',
    })
      .recordsTo(this.audit)
      .withSettings(this.settings);
    this.router.addEnvironment('CORDON_PLAYBOOK_ARNS', JSON.stringify(playbookArns));
    this.router.addEnvironment('CORDON_ACCOUNT', this.account);
    if (PLAYBOOK_IDS.length > 0) {
      this.router.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['states:StartExecution'],
          resources: Object.values(playbookArns),
        }),
      );
    }
    this.triggers = new Triggers(this, 'Triggers', { settings: this.settings, target: this.router });
    // EventBridge invokes the router asynchronously: its own dead-letter queue only takes events it could
    // not deliver. An invocation that fails past Lambda's retries goes to the same queue, never lost.
    this.router.configureAsyncInvoke({
      retryAttempts: 2,
      onFailure: new destinations.SqsDestination(this.triggers.deadLetterQueue),
    });

    // It restores in every region covered: a recovery in another region of this account uses it too.
    this.restoreRole = new RestoreRole(this, 'RestoreRole', {
      settings: this.settings,
      regions: coveredRegions(this.region, this.settings),
    });
    const actions = new ActionFunctions(this, {
      actions: Object.values(declared),
      audit: this.audit,
      settings: this.settings,
      restoreRole: this.restoreRole,
    });
    this.actions = actions.byName;
    this.recordNote = actions.get('record-note');
    this.responders = organizationIsSet(this.settings)
      ? new Responders(this, 'Responders', {
          settings: this.settings,
          declarations: Object.values(declared),
          functions: actions.byName,
        })
      : undefined;

    this.approvals = new ApprovalApi(this, 'Approvals', {
      table: this.audit,
      approvers: this.settings.approvers,
      sender: this.settings.sender,
      consolePrincipals: this.settings.approval.consolePrincipals,
      stateMachineNames: PLAYBOOK_IDS.map(stateMachineName),
    });
    const playbooks = addPlaybooks(this, { actions, approvals: this.approvals, settings: this.settings });
    this.playbooks = playbooks;
    // When a playbook's execution ends, its incident's record says so and its open markers are released.
    this.playbookEnded = new ActionFunction(this, 'PlaybookEnded', {
      entry: 'functions/playbook-ended/handler.ts',
      description: "Records a playbook's end and frees its incident's resources for new findings",
    }).recordsTo(this.audit);
    new events.Rule(this, 'PlaybookEndedRule', {
      description: "Cordon: a playbook's execution ended",
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: PLAYBOOK_IDS.map((id) => this.stateMachineArn(id)),
        },
      },
      targets: [
        new targets.LambdaFunction(this.playbookEnded, {
          retryAttempts: this.triggers.retryAttempts,
          maxEventAge: this.triggers.maxEventAge,
          deadLetterQueue: this.triggers.deadLetterQueue,
        }),
      ],
    });

    this.operations = new Operations(this, 'Operations', {
      stateMachines: Object.fromEntries([...playbooks].map(([id, p]) => [id, p.stateMachine])),
      router: this.router,
      deadLetterQueue: this.triggers.deadLetterQueue,
      deadLetterAlarm: this.triggers.deadLetterAlarm,
      auditTableName: this.audit.tableName,
      approvers: this.settings.approvers,
    });
    // A change to the record key or the anchor bucket (who could then forge or hide steps) emails the approvers.
    this.audit.alertOnChanges(this.operations.topic);
    new CfnOutput(this, 'ApprovalUrl', {
      value: this.approvals.url,
      description: 'The approval links point here',
    });

    new CfnOutput(this, 'AuditTableName', { value: this.audit.tableName, description: 'The audit table' });
    new CfnOutput(this, 'RecordKeyArn', {
      value: this.audit.key.keyArn,
      description: 'The record key: cordon verify checks MACs with it (kms:VerifyMac)',
    });
    new CfnOutput(this, 'AnchorBucketName', {
      value: this.audit.anchorBucket.bucketName,
      description: "The anchors of every step's hash (S3 Object Lock, compliance mode)",
    });
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
