/**
 * The playbooks the stack deploys, each built from the action functions it runs: which function plays
 * which step of which playbook. Every state machine is named `cordon-<id>`.
 */
import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { Settings } from '#shared/settings';
import { EC2_PLAYBOOK, ec2Compromise } from '../playbooks/ec2-compromise.ts';
import { IAM_PLAYBOOK, iamCredentialCompromise } from '../playbooks/iam-credential-compromise.ts';
import {
  RECOVER_PLAYBOOK,
  type RecoveryFunctions,
  recoverPlaybook,
  recoveryChain,
} from '../playbooks/recovery.ts';
import { releasePlaybook } from '../playbooks/release.ts';
import type { ActionFunctions } from './constructs/action-functions.ts';
import { logicalName } from './constructs/action-functions.ts';
import type { ApprovalApi } from './constructs/approval-api.ts';
import { Playbook, type PlaybookProps } from './constructs/playbook.ts';
import { acknowledge } from './nag.ts';

/** The playbooks the stack deploys, by id; each state machine is named `cordon-<id>`. */
export const PLAYBOOK_IDS: readonly string[] = [
  EC2_PLAYBOOK,
  'ec2-release',
  RECOVER_PLAYBOOK,
  IAM_PLAYBOOK,
  'iam-release',
];

export interface PlaybookWiring {
  readonly actions: ActionFunctions;
  readonly approvals: ApprovalApi;
  readonly settings: Settings;
}

/** Builds every playbook of {@link PLAYBOOK_IDS} in `stack`, by id. */
export function addPlaybooks(stack: Stack, wiring: PlaybookWiring): Map<string, Playbook> {
  const { approvals, settings } = wiring;
  const fn = (name: string) => wiring.actions.get(name);
  const recoveryFns: RecoveryFunctions = {
    choosePoint: fn('recover-choose-point'),
    startRestore: fn('recover-start-restore'),
    checkRestore: fn('recover-check-restore'),
    validate: fn('recover-validate'),
    fromSnapshots: fn('recover-from-snapshots'),
    markIncident: fn('mark-incident'),
    notify: fn('notify'),
  };
  const playbooks = new Map<string, Playbook>();
  const notify = fn('notify');
  const add = (
    id: string,
    description: string,
    definition: (scope: Construct) => PlaybookProps['definition'],
  ) => {
    const scope = new Construct(stack, `${logicalName(id)}Playbook`);
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
        approvals,
        settings,
        (steps) => recoveryChain(scope, steps, recoveryFns, approvals, settings),
      ),
  );
  add(
    RECOVER_PLAYBOOK,
    'Restores an instance from its last backup before the compromise, after approval',
    (scope) => recoverPlaybook(scope, recoveryFns, approvals, settings),
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
      approvals,
      settings,
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
      approvals,
      settings,
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
      approvals,
      settings,
    ),
  );
  // LambdaInvoke grants lambda:InvokeFunction on each function and its versions (`<arn>:*`).
  const invoked = [
    ...wiring.actions.byName.values(),
    approvals.requestFunction,
    approvals.timeoutFunction,
    approvals.checkFunction,
  ];
  for (const playbook of playbooks.values()) {
    for (const target of invoked) {
      const logicalId = stack.getLogicalId(target.node.defaultChild as CfnElement);
      acknowledge(
        playbook.stateMachine.role,
        `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>:*]`,
        'Step Functions invokes this exact function, any of its versions (the grant LambdaInvoke makes).',
      );
    }
  }
  return playbooks;
}
