/**
 * Cordon's stack, deployed into the security account: the audit table, the router and its triggers,
 * the action functions, the approval API and the playbooks.
 */
import {
  Annotations,
  ArnFormat,
  type CfnElement,
  CfnOutput,
  Stack,
  type StackProps,
  Token,
} from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import { Construct, type IConstruct } from 'constructs';
import { parseSettings, roleRefParts, type Settings, type SettingsInput } from '#shared/settings';
import settingsFile from '../cordon.config.ts';
import { STACK_NAME_ENV, untouchableRoleResources } from '../functions/actions/iam-common/untouchable.ts';
import { EC2_PLAYBOOK, ec2Compromise } from '../playbooks/ec2-compromise.ts';
import { IAM_PLAYBOOK, iamCredentialCompromise } from '../playbooks/iam-credential-compromise.ts';
import {
  RECOVER_PLAYBOOK,
  type RecoveryFunctions,
  recoverPlaybook,
  recoveryChain,
} from '../playbooks/recovery.ts';
import { releasePlaybook } from '../playbooks/release.ts';
import { ActionFunction } from './constructs/action-function.ts';
import { ApprovalApi } from './constructs/approval-api.ts';
import { AuditTable } from './constructs/audit-table.ts';
import { Operations } from './constructs/operations.ts';
import { Playbook, type PlaybookProps, stateMachineName } from './constructs/playbook.ts';
import { Triggers } from './constructs/triggers.ts';
import { GRANTS } from './grants.ts';
import { acknowledge, acknowledgeStack } from './nag.ts';

/** The playbooks the stack deploys, by id; each state machine is named `cordon-<id>`. */
export const PLAYBOOK_IDS: readonly string[] = [
  EC2_PLAYBOOK,
  'ec2-release',
  RECOVER_PLAYBOOK,
  IAM_PLAYBOOK,
  'iam-release',
];

export { stateMachineName };

/** AWS actions that only read: granted on "*", as they support no resource-level permissions. */
const READ_ACTION = /^(Describe|Get|List)/;

const ACTION_DESCRIPTIONS: Readonly<Record<string, string>> = {
  'ec2-isolate': 'Isolates every network interface of an instance',
  'ec2-protect-evidence': 'Turns on termination and stop protection and keeps the volumes',
  'ec2-detach': 'Detaches an instance from its Auto Scaling group and load balancers',
  'ec2-revoke-sessions': "Removes an instance's profile and revokes its role's sessions",
  'ec2-tag': 'Tags an instance with its incident',
  'ec2-snapshot': "Snapshots an instance's volumes and keeps its console output",
  'ec2-check-snapshots': 'Checks the evidence snapshots',
  'ec2-eradicate': 'Stops or terminates an instance once its evidence is complete',
  'ec2-release': 'Restores an instance to its recorded state before containment',
  'iam-contain-user-key': 'Deactivates exactly the compromised key and voids its sessions',
  'iam-revoke-role-sessions': "Revokes a role's sessions issued before containment",
  'iam-root-manual': 'Says what to do by hand for root credentials',
  'iam-delete-key': 'Deletes a compromised access key',
  'iam-release': 'Restores IAM to its recorded state before containment',
  'recover-choose-point': 'Chooses the newest recovery point taken before the compromise',
  'recover-start-restore': 'Starts the restore of a recovery point where the settings say',
  'recover-check-restore': 'Checks a restore job',
  'recover-validate': 'Validates a restored instance',
  'recover-from-snapshots': "Creates volumes from an instance's last snapshots before the compromise",
  notify: 'Emails the approvers a failure or a step to take by hand',
  'mark-incident': "Records an incident's status and times",
};

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
  readonly playbooks: ReadonlyMap<string, Playbook>;

  constructor(scope: Construct, id: string, props: CordonStackProps = {}) {
    super(scope, id, props);
    this.settings = parseSettings(props.settings ?? settingsFile);
    this.audit = new AuditTable(this, 'Audit', {
      tableName: props.tableName,
      anchorRetentionDays: this.settings.record.anchorRetentionDays,
    });

    this.recordNote = new ActionFunction(this, 'RecordNote', {
      entry: 'functions/actions/record-note/handler.ts',
      description: 'Appends a note to an incident',
    }).recordsTo(this.audit);

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

    const actions = new Map<string, ActionFunction>();
    for (const [name, description] of Object.entries(ACTION_DESCRIPTIONS)) {
      const fn = new ActionFunction(this, this.logicalName(name), {
        entry: `functions/actions/${name}/handler.ts`,
        description,
      })
        .recordsTo(this.audit)
        .withSettings(this.settings);
      this.grantAws(fn, name);
      actions.set(name, fn);
    }
    this.actions = actions;
    const fn = (name: string): ActionFunction => {
      const found = actions.get(name);
      if (!found) throw new Error(`CordonStack: no action function ${name}`);
      return found;
    };

    // The role AWS Backup restores with: it launches the restored instance and nothing else.
    this.restoreRole = new iam.Role(this, 'RestoreRole', {
      roleName: `cordon-restore-${this.region}`,
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: "Lets AWS Backup restore an instance for Cordon's recovery",
    });
    this.restoreRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:RunInstances', 'ec2:CreateTags'],
        resources: [
          `arn:${this.partition}:ec2:${this.region}:${this.account}:*`,
          `arn:${this.partition}:ec2:${this.region}::image/*`,
          `arn:${this.partition}:ec2:${this.region}::snapshot/*`,
        ],
      }),
    );
    this.restoreRole.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:DescribeImages',
          'ec2:DescribeInstances',
          'ec2:DescribeSnapshots',
          'ec2:DescribeVolumes',
        ],
        resources: ['*'],
      }),
    );
    // It passes to EC2 only the settings' instance roles (the profile a restore launches with), none when
    // the settings list none: a recovery point's own profile is never kept unless configured.
    const instanceRoles = this.instanceRoleArns();
    if (instanceRoles.length > 0) {
      this.restoreRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: instanceRoles,
          conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
        }),
      );
      this.denyUntouchable(
        (statement) => this.restoreRole.addToPrincipalPolicy(statement),
        ['iam:PassRole'],
        [],
      );
      this.acknowledgeInstanceRoles(this.restoreRole, 'The restore role');
    } else if (this.settings.recovery.instanceProfileName) {
      Annotations.of(this).addWarningV2(
        'cordon:restore-profile-without-instance-roles',
        `recovery.instanceProfileName is ${this.settings.recovery.instanceProfileName} but instanceRoles is empty: the restore role may pass no role, so a restore with that profile fails. List its role in instanceRoles.`,
      );
    }
    const { partition, region, account } = this.shownEnvironment();
    for (const resource of [
      `ec2:${region}:${account}:*`,
      `ec2:${region}::image/*`,
      `ec2:${region}::snapshot/*`,
      '*',
    ]) {
      acknowledge(
        this.restoreRole,
        resource === '*'
          ? 'AwsSolutions-IAM5[Resource::*]'
          : `AwsSolutions-IAM5[Resource::arn:${partition}:${resource}]`,
        "A restore launches an instance from whichever recovery point the incident's resource has, in this account and region; EC2 Describe actions support no resource-level permissions.",
      );
    }
    const restore = fn('recover-start-restore');
    restore.addEnvironment('CORDON_RESTORE_ROLE_ARN', this.restoreRole.roleArn);
    const { recovery } = this.settings;
    if (recovery.subnetId) restore.addEnvironment('CORDON_RESTORE_SUBNET_ID', recovery.subnetId);
    if (recovery.securityGroupIds?.length) {
      restore.addEnvironment('CORDON_RESTORE_SECURITY_GROUP_IDS', recovery.securityGroupIds.join(','));
    }
    if (recovery.instanceProfileName)
      restore.addEnvironment('CORDON_RESTORE_INSTANCE_PROFILE', recovery.instanceProfileName);
    restore.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [this.restoreRole.roleArn] }),
    );
    const recoveryFns: RecoveryFunctions = {
      choosePoint: fn('recover-choose-point'),
      startRestore: restore,
      checkRestore: fn('recover-check-restore'),
      validate: fn('recover-validate'),
      fromSnapshots: fn('recover-from-snapshots'),
      markIncident: fn('mark-incident'),
      notify: fn('notify'),
    };

    this.approvals = new ApprovalApi(this, 'Approvals', {
      table: this.audit,
      approvers: this.settings.approvers,
      sender: this.settings.sender,
      consolePrincipals: this.settings.approval.consolePrincipals,
      stateMachineNames: PLAYBOOK_IDS.map(stateMachineName),
    });

    const playbooks = new Map<string, Playbook>();
    const notify = fn('notify');
    const add = (
      id: string,
      description: string,
      definition: (scope: Construct) => PlaybookProps['definition'],
    ) => {
      const scope = new Construct(this, `${this.logicalName(id)}Playbook`);
      playbooks.set(
        id,
        new Playbook(scope, 'Playbook', { id, description, notify, definition: definition(scope) }),
      );
    };
    add(
      EC2_PLAYBOOK,
      'Contains a compromised instance, keeps the evidence, eradicates after approval',
      (scope) =>
        ec2Compromise(
          scope,
          {
            isolate: fn('ec2-isolate'),
            protectEvidence: fn('ec2-protect-evidence'),
            detach: fn('ec2-detach'),
            revokeSessions: fn('ec2-revoke-sessions'),
            tag: fn('ec2-tag'),
            snapshot: fn('ec2-snapshot'),
            checkSnapshots: fn('ec2-check-snapshots'),
            eradicate: fn('ec2-eradicate'),
            markIncident: fn('mark-incident'),
          },
          this.approvals,
          this.settings,
          (steps) => recoveryChain(scope, steps, recoveryFns, this.approvals, this.settings),
        ),
    );
    add(
      RECOVER_PLAYBOOK,
      'Restores an instance from its last backup before the compromise, after approval',
      (scope) => recoverPlaybook(scope, recoveryFns, this.approvals, this.settings),
    );
    add('ec2-release', "Undoes an instance's containment exactly, after approval", (scope) =>
      releasePlaybook(
        scope,
        {
          release: fn('ec2-release'),
          markIncident: fn('mark-incident'),
          asks: 'Restore the instance: its groups, profile, Auto Scaling and load balancer membership, protections and tags.',
          payload: { instanceId: '$.resource.id' },
        },
        this.approvals,
        this.settings,
      ),
    );
    add(IAM_PLAYBOOK, 'Cuts off a compromised access key and its sessions, nothing more', (scope) =>
      iamCredentialCompromise(
        scope,
        {
          containUserKey: fn('iam-contain-user-key'),
          revokeRoleSessions: fn('iam-revoke-role-sessions'),
          rootManual: fn('iam-root-manual'),
          deleteKey: fn('iam-delete-key'),
          markIncident: fn('mark-incident'),
          notify,
        },
        this.approvals,
        this.settings,
      ),
    );
    add('iam-release', "Undoes an access key's containment exactly, after approval", (scope) =>
      releasePlaybook(
        scope,
        {
          release: fn('iam-release'),
          markIncident: fn('mark-incident'),
          asks: 'Reactivate the key (if not deleted) and remove the session denials.',
        },
        this.approvals,
        this.settings,
      ),
    );
    this.playbooks = playbooks;
    // LambdaInvoke grants lambda:InvokeFunction on each function and its versions (`<arn>:*`).
    const invoked = [
      ...actions.values(),
      this.approvals.requestFunction,
      this.approvals.timeoutFunction,
      this.approvals.checkFunction,
    ];
    for (const playbook of playbooks.values()) {
      for (const target of invoked) {
        const logicalId = this.getLogicalId(target.node.defaultChild as CfnElement);
        acknowledge(
          playbook.stateMachine.role,
          `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
          'Step Functions invokes this exact function, any of its versions (the grant LambdaInvoke makes).',
        );
      }
    }
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

  /** A construct id from an action or playbook name: `ec2-isolate` → `Ec2Isolate`. */
  private logicalName(name: string): string {
    return name.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
  }

  /**
   * Grants a function exactly the AWS actions of its entry in `infra/grants.ts`, under the conditions listed
   * there, and denies its IAM changes on the roles that must never be touched.
   */
  private grantAws(fn: ActionFunction, name: string): void {
    const grants = GRANTS[name];
    if (!grants) throw new Error(`CordonStack: no grants listed for ${name} in infra/grants.ts`);
    const listed: Readonly<Record<string, readonly string[] | undefined>> = {
      ec2: grants.ec2,
      autoscaling: grants.autoscaling,
      elasticloadbalancing: grants.elasticloadbalancing,
      iam: grants.iam,
      backup: grants.backup,
    };
    const conditioned = grants.conditions ?? {};
    for (const action of Object.keys(conditioned)) {
      const [service = '', verb = ''] = action.split(':');
      if (!listed[service]?.includes(verb)) {
        throw new Error(
          `CordonStack: infra/grants.ts gives ${name} conditions for ${action}, which it does not list`,
        );
      }
    }
    // An action with conditions is granted once per condition block, never without one.
    const scoped = (service: string, actions: readonly string[] | undefined, resources: string[]) => {
      if (!actions?.length) return;
      const plain = actions.filter((a) => conditioned[`${service}:${a}`] === undefined);
      if (plain.length > 0) {
        fn.addToRolePolicy(
          new iam.PolicyStatement({ actions: plain.map((a) => `${service}:${a}`), resources }),
        );
      }
      for (const action of actions) {
        for (const block of conditioned[`${service}:${action}`] ?? []) {
          fn.addToRolePolicy(
            new iam.PolicyStatement({
              actions: [`${service}:${action}`],
              resources,
              conditions: structuredClone(block) as Record<string, unknown>,
            }),
          );
        }
      }
    };
    // Reads support no resource-level permissions; changes are kept to this account and region.
    const reads = (actions: readonly string[] | undefined) => actions?.filter((a) => READ_ACTION.test(a));
    const writes = (actions: readonly string[] | undefined) => actions?.filter((a) => !READ_ACTION.test(a));
    const here = (service: string) => `arn:${this.partition}:${service}:${this.region}:${this.account}`;
    scoped('ec2', reads(grants.ec2), ['*']);
    const snapshots = grants.ec2?.includes('CreateSnapshots')
      ? [`arn:${this.partition}:ec2:${this.region}::snapshot/*`]
      : [];
    scoped('ec2', writes(grants.ec2), [`${here('ec2')}:*`, ...snapshots]);
    scoped('autoscaling', reads(grants.autoscaling), ['*']);
    scoped('autoscaling', writes(grants.autoscaling), [`${here('autoscaling')}:autoScalingGroup:*`]);
    // AWS Backup's recovery points and restore jobs are whatever the incident's resource has.
    scoped('backup', grants.backup, ['*']);
    scoped('elasticloadbalancing', reads(grants.elasticloadbalancing), ['*']);
    scoped('elasticloadbalancing', writes(grants.elasticloadbalancing), [
      `${here('elasticloadbalancing')}:*`,
    ]);
    scoped('iam', grants.iam, [
      `arn:${this.partition}:iam::${this.account}:user/*`,
      `arn:${this.partition}:iam::${this.account}:role/*`,
      `arn:${this.partition}:iam::${this.account}:instance-profile/*`,
    ]);
    // Re-associating an instance profile passes its role to EC2: only the roles the settings list.
    const instanceRoles = grants.passInstanceRoles ? this.instanceRoleArns() : [];
    if (instanceRoles.length > 0) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: instanceRoles,
          conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
        }),
      );
    }
    const iamWrites = (writes(grants.iam) ?? []).map((a) => `iam:${a}`);
    if (instanceRoles.length > 0 || iamWrites.some((a) => a.includes('Role'))) {
      // Whatever a finding names, no change to the roles that must never be touched: no escalation through
      // them. The code refuses them too, with the stack's name for its own roles.
      this.denyUntouchable(
        (statement) => fn.addToRolePolicy(statement),
        [...iamWrites, ...(instanceRoles.length > 0 ? ['iam:PassRole'] : [])],
        iamWrites,
      );
      fn.addEnvironment(STACK_NAME_ENV, this.stackName);
    }
    if (grants.ses) {
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['ses:SendEmail'],
          resources: [
            this.formatArn({ service: 'ses', resource: 'identity', resourceName: this.settings.sender }),
          ],
        }),
      );
    }
    const { partition, region, account } = this.shownEnvironment();
    const scopedWrites = [
      ...(writes(grants.ec2)?.length ? [`ec2:${region}:${account}:*`] : []),
      ...(snapshots.length ? [`ec2:${region}::snapshot/*`] : []),
      ...(writes(grants.autoscaling)?.length ? [`autoscaling:${region}:${account}:autoScalingGroup:*`] : []),
      ...(writes(grants.elasticloadbalancing)?.length ? [`elasticloadbalancing:${region}:${account}:*`] : []),
      ...(grants.iam?.length
        ? ['user', 'role', 'instance-profile'].map((kind) => `iam::${account}:${kind}/*`)
        : []),
    ];
    for (const resource of scopedWrites) {
      acknowledge(
        fn.executionRole,
        `AwsSolutions-IAM5[Resource::arn:${partition}:${resource}]`,
        `${name} acts on whichever instance, group, registration, user or role a finding names, in this account (and region) only; its actions are exactly those its code calls (infra/grants.ts), ModifyInstanceAttribute only for the attributes it sets.`,
      );
    }
    if (instanceRoles.length > 0) this.acknowledgeInstanceRoles(fn.executionRole, name);
  }

  /** The ARNs of the settings' `instanceRoles`: the only roles a release or a restore may pass, to EC2. */
  private instanceRoleArns(): string[] {
    return this.settings.instanceRoles.map((ref) => {
      const { path, name } = roleRefParts(ref);
      return `arn:${this.partition}:iam::${this.account}:role${path ?? '/'}${name}`;
    });
  }

  /** Acknowledges the `*` of the settings' instance role patterns, on a role that passes them. */
  private acknowledgeInstanceRoles(role: IConstruct, who: string): void {
    const { partition, account } = this.shownEnvironment();
    for (const ref of this.settings.instanceRoles.filter((r) => r.includes('*'))) {
      const { path, name } = roleRefParts(ref);
      acknowledge(
        role,
        `AwsSolutions-IAM5[Resource::arn:${partition}:iam::${account}:role${path ?? '/'}${name}]`,
        `${who} passes to EC2 only the roles the settings list as instance roles (instanceRoles: ${ref}), never the roles that must not be touched (denied).`,
      );
    }
  }

  /**
   * Denies `actions` on the roles that must never be touched (service-linked, AWS-reserved, CDK bootstrap,
   * Cordon's own, the settings' break-glass roles: functions/actions/iam-common/untouchable.ts), and
   * `tagged` on every role that carries the protected tag. PassRole is not denied by the tag: associating a
   * profile changes the instance, not its role, and the roles it may pass are the settings' own list.
   */
  private denyUntouchable(
    add: (statement: iam.PolicyStatement) => void,
    actions: readonly string[],
    tagged: readonly string[],
  ): void {
    const roles = untouchableRoleResources({
      breakGlassRoles: this.settings.breakGlassRoles,
      stackName: this.stackName,
    }).flatMap((kind) => kind.resources);
    add(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: [...actions],
        resources: roles.map((role) => `arn:${this.partition}:iam::${this.account}:role${role}`),
      }),
    );
    if (tagged.length === 0) return;
    const { key, value } = this.settings.protectedTag;
    add(
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        actions: [...tagged],
        resources: [`arn:${this.partition}:iam::${this.account}:role/*`],
        conditions: { StringEquals: { [`aws:ResourceTag/${key}`]: value } },
      }),
    );
  }

  /** The partition, region and account as cdk-nag renders them in a finding: literals, or `<AWS::X>`. */
  private shownEnvironment(): { partition: string; region: string; account: string } {
    const shown = (value: string, token: string) => (Token.isUnresolved(value) ? `<AWS::${token}>` : value);
    return {
      partition: shown(this.partition, 'Partition'),
      region: shown(this.region, 'Region'),
      account: shown(this.account, 'AccountId'),
    };
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
