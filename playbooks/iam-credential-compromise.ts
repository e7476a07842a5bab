/**
 * `iam-credential-compromise`: a GuardDuty finding on an access key. It cuts off exactly that key and the
 * sessions it minted, nothing more, then asks before deleting the key.
 *
 * - IAM user: deactivate the named key (other keys stay active unless configured), deny its sessions by
 *   `aws:TokenIssueTime`; after approval, delete the key.
 * - Assumed role: deny the role's sessions issued before containment.
 * - Root: nothing can be automated; the approvers are told what to do by hand.
 * - Any other key owner: a person decides; nothing is guessed.
 *
 * Until contained, an IAM user's key takes 1 action invocation and 4 state transitions (Start, Who owns
 * the key, Approval first, Contain the key).
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { Settings } from '#shared/settings';
import type { ApprovalFunctions } from './parts/approval-functions.ts';
import { ApprovalGate } from './parts/approval-gate.ts';
import type { PlaybookSteps } from './parts/steps.ts';

export const IAM_PLAYBOOK = 'iam-credential-compromise';

export interface IamPlaybookFunctions {
  readonly containUserKey: lambda.IFunction;
  readonly revokeRoleSessions: lambda.IFunction;
  readonly rootManual: lambda.IFunction;
  readonly deleteKey: lambda.IFunction;
  readonly markIncident: lambda.IFunction;
  readonly notify: lambda.IFunction;
}

const userType = '$.resource.details.userType';
/** A Choice on a missing path fails the execution: test presence first. */
const ownerIs = (value: string) =>
  sfn.Condition.and(sfn.Condition.isPresent(userType), sfn.Condition.stringEquals(userType, value));

/** Builds the playbook's definition. */
export function iamCredentialCompromise(
  scope: Construct,
  fns: IamPlaybookFunctions,
  approvals: ApprovalFunctions,
  settings: Settings,
): (steps: PlaybookSteps) => sfn.IChainable {
  return (steps) => {
    const timeout = Duration.minutes(settings.approval.timeoutMinutes);
    const start = new sfn.Pass(scope, 'Start', {
      comment: 'Nothing is approved yet.',
      result: sfn.Result.fromObject({ approved: false }),
      resultPath: '$.consent',
    });
    const approvedNow = (id: string) =>
      new sfn.Pass(scope, id, { result: sfn.Result.fromObject({ approved: true }), resultPath: '$.consent' });
    const gate = (id: string, action: string, asks: string, phase: 'containment' | 'eradication') => {
      const g = new ApprovalGate(scope, id, {
        functions: approvals,
        failure: steps.failure,
        action,
        phase,
        timeout,
        summary: {
          happened: sfn.JsonPath.format(
            '{} on access key {}',
            sfn.JsonPath.stringAt('$.finding.type'),
            sfn.JsonPath.stringAt('$.resource.id'),
          ),
          done:
            phase === 'containment'
              ? 'Nothing yet: this playbook runs in approval-first mode.'
              : 'The key is inactive and its sessions are denied.',
          asks,
        },
      });
      return g;
    };
    const markContained = steps.action('Mark contained', fns.markIncident, {
      comment: 'Records the incident as contained, at the time the containment took effect.',
      payload: {
        status: 'contained',
        result: sfn.JsonPath.objectAt('$.results.contain'),
      },
    });
    const notContained = new sfn.Succeed(scope, 'Not contained', {
      comment: 'The approvers declined containment.',
    });

    // IAM user: contain the key, then ask before deleting it.
    const containKey = steps.action('Contain the key', fns.containUserKey, {
      comment: 'Deactivates exactly the named key and denies the sessions it minted (aws:TokenIssueTime).',
      resultKey: 'contain',
      payload: {
        userName: sfn.JsonPath.stringAt('$.resource.details.userName'),
        accessKeyId: sfn.JsonPath.stringAt('$.resource.id'),
        findingTime: sfn.JsonPath.stringAt('$.finding.lastSeen'),
        approved: sfn.JsonPath.stringAt('$.consent.approved'),
      },
    });
    const deleteKey = steps.action('Delete the key', fns.deleteKey, {
      comment: 'Deletes the compromised key, after approval (or reports it in a dry run).',
      payload: {
        userName: sfn.JsonPath.stringAt('$.resource.details.userName'),
        accessKeyId: sfn.JsonPath.stringAt('$.resource.id'),
      },
    });
    const deletion = gate(
      'Approve key deletion',
      'delete-access-key',
      'Delete the compromised access key.',
      'eradication',
    );
    deletion.approved.next(deleteKey);
    deletion.rejected.next(new sfn.Succeed(scope, 'Key kept', { comment: 'The key stays, inactive.' }));
    deleteKey.next(new sfn.Succeed(scope, 'Key deleted'));
    const afterUserContained = new sfn.Choice(scope, 'Dry run? (user)')
      .when(sfn.Condition.booleanEquals('$.dryRun', true), deleteKey)
      .otherwise(deletion);
    containKey.next(markContained);
    const userContainedChoice = afterUserContained;

    // Assumed role: deny its sessions.
    const revokeRole = steps.action('Revoke the role sessions', fns.revokeRoleSessions, {
      comment:
        'Denies every session of the role issued before now; a service-linked role is skipped and reported.',
      resultKey: 'contain',
      payload: {
        roleName: sfn.JsonPath.stringAt('$.resource.details.userName'),
        findingTime: sfn.JsonPath.stringAt('$.finding.lastSeen'),
        approved: sfn.JsonPath.stringAt('$.consent.approved'),
      },
    });
    const markRoleContained = steps.action('Mark role contained', fns.markIncident, {
      comment: 'Records the incident as contained.',
      payload: {
        status: 'contained',
        result: sfn.JsonPath.objectAt('$.results.contain'),
      },
    });
    revokeRole.next(markRoleContained).next(new sfn.Succeed(scope, 'Role sessions revoked'));

    // After marking, an IAM user's key goes on to the deletion question.
    markContained.next(userContainedChoice);

    // Root and unknown owners: a person acts.
    const rootManual = steps.action('Root: manual steps', fns.rootManual, {
      comment: 'Changes nothing: root credentials cannot be contained by automation.',
      resultKey: 'rootManual',
      payload: {
        account: sfn.JsonPath.stringAt('$.finding.account'),
        accessKeyId: sfn.JsonPath.stringAt('$.resource.id'),
      },
    });
    const notifyManual = steps.action('Tell the approvers what to do', fns.notify, {
      comment: 'Emails the approvers the steps to take by hand.',
      payload: {
        kind: 'manual',
        playbook: IAM_PLAYBOOK,
        resource: sfn.JsonPath.objectAt('$.resource'),
        instructions: sfn.JsonPath.listAt('$.results.rootManual.output.instructions'),
      },
    });
    const manualDone = new sfn.Succeed(scope, 'Manual action required');
    rootManual.next(notifyManual).next(manualDone);
    const unknownOwner = steps.action('Unknown key owner: tell a person', fns.notify, {
      comment: 'No automation for this kind of key owner: a person decides, nothing is guessed.',
      payload: {
        kind: 'manual',
        playbook: IAM_PLAYBOOK,
        resource: sfn.JsonPath.objectAt('$.resource'),
        instructions: sfn.JsonPath.array(
          sfn.JsonPath.format(
            'Review the key {} and its owner by hand: Cordon does not contain this kind of key owner.',
            sfn.JsonPath.stringAt('$.resource.id'),
          ),
        ),
      },
    });
    unknownOwner.next(new sfn.Succeed(scope, 'Left to a person'));

    const withApproval = (id: string, contain: sfn.IChainable) => {
      const g = gate(`Approve ${id}`, 'contain-credentials', 'Contain the credentials now.', 'containment');
      g.approved.next(approvedNow(`Approved ${id}`)).next(contain);
      g.rejected.next(notContained);
      return new sfn.Choice(scope, `Approval first? (${id})`)
        .when(
          sfn.Condition.and(
            sfn.Condition.stringEquals('$.mode', 'approval-first'),
            sfn.Condition.booleanEquals('$.dryRun', false),
          ),
          g,
        )
        .otherwise(contain);
    };

    const who = new sfn.Choice(scope, 'Who owns the key?', { comment: 'GuardDuty accessKeyDetails.userType' })
      .when(ownerIs('Root'), rootManual)
      .when(ownerIs('IAMUser'), withApproval('user', containKey))
      .when(ownerIs('AssumedRole'), withApproval('role', revokeRole))
      .otherwise(unknownOwner);
    return start.next(who);
  };
}
