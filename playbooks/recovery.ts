/**
 * Recovery: after approval, service comes back from the newest backup taken before the attacker arrived
 * (not simply the newest backup). Used after eradication in `ec2-compromise`, and as the `recover`
 * playbook an operator starts for an incident (`cordon recover <incident-id>`).
 *
 * The recovery point is chosen first (a read), so that the approval names it. A recovery point before
 * first-seen, after approval: restore it where the settings say (never into the isolation group), wait for
 * the job with a bounded Wait-and-check loop, validate the new instance, and record the incident as
 * recovered. None, after approval: create volumes from each volume's newest snapshot taken before
 * first-seen, for an operator to attach, and record that recovery was partial.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { Settings } from '#shared/settings';
import type { ApprovalFunctions } from './parts/approval-functions.ts';
import { ApprovalGate } from './parts/approval-gate.ts';
import type { PlaybookSteps } from './parts/steps.ts';

export const RECOVER_PLAYBOOK = 'recover';

export interface RecoveryFunctions {
  readonly choosePoint: lambda.IFunction;
  readonly startRestore: lambda.IFunction;
  readonly checkRestore: lambda.IFunction;
  readonly validate: lambda.IFunction;
  readonly fromSnapshots: lambda.IFunction;
  readonly markIncident: lambda.IFunction;
  readonly notify: lambda.IFunction;
}

const instanceId = sfn.JsonPath.stringAt('$.resource.id');

/** The recovery chain: the recovery point chosen, then its own approval gate, which names it. */
export function recoveryChain(
  scope: Construct,
  steps: PlaybookSteps,
  fns: RecoveryFunctions,
  approvals: ApprovalFunctions,
  settings: Settings,
): sfn.IChainable {
  const { recovery } = settings;
  const choose = steps.action('Choose recovery point', fns.choosePoint, {
    comment: 'The newest completed recovery point created before the incident was first seen.',
    resultKey: 'choosePoint',
    payload: {
      instanceId,
      firstSeen: sfn.JsonPath.stringAt('$.finding.firstSeen'),
      region: sfn.JsonPath.stringAt('$.finding.region'),
    },
  });
  const start = steps.action('Start restore', fns.startRestore, {
    comment:
      'Restores the point where the settings say, with an idempotency token from the incident and the point.',
    resultKey: 'startRestore',
    payload: {
      instanceId,
      recoveryPointArn: sfn.JsonPath.stringAt('$.results.choosePoint.output.recoveryPointArn'),
      vaultName: sfn.JsonPath.stringAt('$.results.choosePoint.output.vaultName'),
    },
  });
  const check = steps.action('Check restore', fns.checkRestore, {
    comment: 'Reads the restore job; FAILED or ABORTED fail the playbook with RestoreFailedError.',
    resultKey: 'checkRestore',
    payload: {
      instanceId,
      restoreJobId: sfn.JsonPath.stringAt('$.results.startRestore.output.restoreJobId'),
      tags: sfn.JsonPath.objectAt('$.results.startRestore.output.tags'),
    },
  });
  const validate = steps.action('Validate restored instance', fns.validate, {
    comment: 'The restored instance is running, passes its status checks and has its volumes attached.',
    resultKey: 'validate',
    payload: {
      instanceId,
      createdResourceArn: sfn.JsonPath.stringAt('$.results.checkRestore.output.createdResourceArn'),
    },
  });
  // An instance still starting is not a failure yet: try again, a bounded number of times.
  validate.addRetry({
    errors: ['RecoveryNotReadyError'],
    interval: Duration.seconds(30),
    maxAttempts: 10,
    backoffRate: 1.5,
  });
  const recovered = steps.action('Mark recovered', fns.markIncident, {
    comment: 'Records the incident as recovered, now that validation passed.',
    payload: { status: 'recovered' },
  });
  validate.next(recovered).next(new sfn.Succeed(scope, 'Recovered'));
  start.next(
    steps.poll({
      name: 'the restore',
      every: Duration.seconds(recovery.restoreCheckSeconds),
      maxChecks: recovery.restoreMaxChecks,
      check,
      done: sfn.Condition.booleanEquals('$.results.checkRestore.output.done', true),
      whenDone: validate,
      timeoutError: 'RestoreTimedOutError',
    }),
  );

  const fallback = steps.action('Volumes from snapshots', fns.fromSnapshots, {
    comment:
      "No recovery point: a volume from each volume's newest snapshot before first-seen, for an operator.",
    resultKey: 'fromSnapshots',
    payload: { instanceId, firstSeen: sfn.JsonPath.stringAt('$.finding.firstSeen') },
  });
  const tellOperator = steps.action('Tell the approvers recovery is partial', fns.notify, {
    comment: 'Emails the approvers the volumes to attach by hand.',
    payload: {
      kind: 'manual',
      playbook: RECOVER_PLAYBOOK,
      resource: sfn.JsonPath.objectAt('$.resource'),
      instructions: sfn.JsonPath.array(
        sfn.JsonPath.format(
          'Recovery was partial: no recovery point before first-seen. Attach the volumes Cordon created from snapshots: {}',
          sfn.JsonPath.jsonToString(sfn.JsonPath.objectAt('$.results.fromSnapshots.output.volumes')),
        ),
      ),
    },
  });
  fallback.next(tellOperator).next(new sfn.Succeed(scope, 'Partly recovered'));

  // The point is chosen (a read, nothing changed) before the approval, so that the approvers see which
  // recovery point would be restored; what is restored is that point, approved.
  const happened = sfn.JsonPath.format(
    '{} on instance {}',
    sfn.JsonPath.stringAt('$.finding.type'),
    instanceId,
  );
  const done = 'The instance is contained (and eradicated, if that was approved); its evidence is kept.';
  const gate = new ApprovalGate(scope, 'Approve recovery', {
    functions: approvals,
    failure: steps.failure,
    action: 'restore-instance',
    phase: 'recovery',
    timeout: Duration.minutes(settings.approval.timeoutMinutes),
    recoveryPointPath: '$.results.choosePoint.output',
    summary: {
      happened,
      done,
      asks: 'Restore the instance from the newest backup taken before the incident was first seen: the recovery point shown.',
    },
  });
  const notRecovered = new sfn.Succeed(scope, 'Not recovered', {
    comment: 'The approvers declined the recovery.',
  });
  gate.approved.next(start);
  gate.rejected.next(notRecovered);
  const fallbackGate = new ApprovalGate(scope, 'Approve volumes from snapshots', {
    functions: approvals,
    failure: steps.failure,
    action: 'volumes-from-snapshots',
    phase: 'recovery',
    timeout: Duration.minutes(settings.approval.timeoutMinutes),
    summary: {
      happened,
      done,
      asks: "There is no recovery point from before the incident: create a volume from each volume's newest snapshot taken before it was first seen, for an operator to attach.",
    },
  });
  fallbackGate.approved.next(fallback);
  fallbackGate.rejected.next(notRecovered);

  const hasPoint = new sfn.Choice(scope, 'Recovery point found?')
    .when(sfn.Condition.isString('$.results.choosePoint.output.recoveryPointArn'), gate)
    .otherwise(fallbackGate);
  choose.next(hasPoint);
  const dryRunChoose = steps.action('Choose recovery point (dry run)', fns.choosePoint, {
    comment: 'In a dry run, only reports which point a recovery would use.',
    resultKey: 'choosePoint',
    payload: {
      instanceId,
      firstSeen: sfn.JsonPath.stringAt('$.finding.firstSeen'),
      region: sfn.JsonPath.stringAt('$.finding.region'),
    },
  });
  dryRunChoose.next(new sfn.Succeed(scope, 'Recovery reported'));
  return new sfn.Choice(scope, 'Dry run? (recovery)')
    .when(sfn.Condition.booleanEquals('$.dryRun', true), dryRunChoose)
    .otherwise(choose);
}

/** The `recover` playbook: the recovery chain on its own, for an incident an operator names. */
export function recoverPlaybook(
  scope: Construct,
  fns: RecoveryFunctions,
  approvals: ApprovalFunctions,
  settings: Settings,
): (steps: PlaybookSteps) => sfn.IChainable {
  return (steps) => recoveryChain(scope, steps, fns, approvals, settings);
}
