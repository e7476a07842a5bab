/**
 * `ec2-compromise`: a GuardDuty finding on an instance (or a mapped CloudWatch alarm). Contain first, keep
 * the evidence, and ask before eradicating.
 *
 * 1. Contain: isolate every network interface (the connection-tracking remedy from the settings: the
 *    two-step swap's window is a Wait state, never a sleep in a Lambda), then record the incident as
 *    contained at the time the isolation group took effect on the last interface.
 * 2. Protect the evidence, detach from Auto Scaling and load balancers, revoke the instance role's
 *    sessions, tag the instance.
 * 3. Evidence: snapshot every volume and wait for the snapshots with a bounded Wait-and-check loop.
 * 4. After approval: stop or terminate, only once every snapshot is complete.
 *
 * No evidence step runs before the instance is isolated (a snapshot needs no network access).
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { Settings } from '#shared/settings';
import type { ApprovalFunctions } from './parts/approval-functions.ts';
import { ApprovalGate } from './parts/approval-gate.ts';
import type { PlaybookSteps } from './parts/steps.ts';

export const EC2_PLAYBOOK = 'ec2-compromise';

export interface Ec2PlaybookFunctions {
  readonly isolate: lambda.IFunction;
  readonly protectEvidence: lambda.IFunction;
  readonly detach: lambda.IFunction;
  readonly revokeSessions: lambda.IFunction;
  readonly tag: lambda.IFunction;
  readonly snapshot: lambda.IFunction;
  readonly checkSnapshots: lambda.IFunction;
  readonly eradicate: lambda.IFunction;
  readonly markIncident: lambda.IFunction;
}

/** Builds what follows eradication: the recovery chain, behind its own approval. */
export type RecoveryBuilder = (steps: PlaybookSteps) => sfn.IChainable;

const instance = {
  instanceId: sfn.JsonPath.stringAt('$.resource.id'),
  approved: sfn.JsonPath.stringAt('$.consent.approved'),
};

/** Builds the playbook's definition. */
export function ec2Compromise(
  scope: Construct,
  fns: Ec2PlaybookFunctions,
  approvals: ApprovalFunctions,
  settings: Settings,
  recovery: RecoveryBuilder,
): (steps: PlaybookSteps) => sfn.IChainable {
  return (steps) => {
    const { ec2 } = settings;
    const timeout = Duration.minutes(settings.approval.timeoutMinutes);
    const start = new sfn.Pass(scope, 'Start', {
      comment: 'Nothing is approved yet.',
      result: sfn.Result.fromObject({ approved: false }),
      resultPath: '$.consent',
    });

    // 1. Contain.
    const markContained = steps.action('Mark contained', fns.markIncident, {
      comment: 'Records the time the isolation group took effect on the last interface.',
      payload: {
        status: 'contained',
        result: sfn.JsonPath.objectAt('$.results.isolate'),
      },
    });
    let contain: sfn.IChainable;
    if (ec2.isolation === 'two-step') {
      // A security group change does not end connections already tracked; flows allowed by an allow-all
      // rule in both directions are untracked, so the isolation group then cuts them at once
      // (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html).
      const swap = steps.action('Untrack connections', fns.isolate, {
        comment:
          'Puts a temporary allow-all group on every interface so that tracked flows become untracked.',
        resultKey: 'swap',
        payload: { ...instance, strategy: 'two-step', stage: 'swap' },
      });
      const window = new sfn.Wait(scope, 'Swap window', {
        comment: 'Lets the flows become untracked; kept as short as the settings allow.',
        time: sfn.WaitTime.duration(Duration.seconds(ec2.swapWindowSeconds)),
      });
      // If the isolation after the swap fails, the instance must not stay behind the allow-all group:
      // isolate it directly (one more try, recorded), and only then give up.
      const fallback = steps.action('Isolate directly', fns.isolate, {
        comment: 'After a failed isolation following the swap: the isolation group alone.',
        resultKey: 'isolate',
        payload: { ...instance, strategy: 'direct' },
      });
      fallback.next(markContained);
      // The swap stage hands over what it read (the interfaces and their groups before, the groups' ids),
      // so that the isolate stage describes nothing before it isolates; it checks them after.
      const isolate = steps.action('Isolate', fns.isolate, {
        comment:
          'Puts the isolation group on every network interface (two-step), from what the swap stage read.',
        payload: {
          ...instance,
          strategy: 'two-step',
          stage: 'isolate',
          handover: sfn.JsonPath.objectAt('$.results.swap.output.handover'),
        },
        onFailure: fallback,
      });
      contain = swap.next(window).next(isolate);
    } else {
      contain = steps.action('Isolate', fns.isolate, {
        comment: `Puts the isolation group on every network interface (${ec2.isolation}).`,
        payload: { ...instance, strategy: ec2.isolation },
      });
    }

    // 2. Keep the instance and its credentials from doing more.
    const protect = steps.action('Protect evidence', fns.protectEvidence, {
      comment: 'Termination and stop protection on, shutdown behaviour stop, DeleteOnTermination off.',
      payload: instance,
    });
    const detach = steps.action('Detach', fns.detach, {
      comment: 'Leaves its Auto Scaling group (the group replaces it) and its load balancers.',
      payload: instance,
    });
    const revoke = steps.action('Revoke sessions', fns.revokeSessions, {
      comment: "Disassociates the instance profile and denies the role's sessions issued before now.",
      payload: instance,
    });
    const tag = steps.action('Tag contained', fns.tag, {
      comment: 'Tags the instance with the incident and its status.',
      payload: { ...instance, status: 'contained' },
    });

    // 3. Evidence, with a bounded wait.
    const snapshot = steps.action('Snapshot volumes', fns.snapshot, {
      comment:
        'Snapshots every volume, tagged with the incident, instance, volume and finding; keeps the console output.',
      resultKey: 'snapshot',
      payload: {
        instanceId: sfn.JsonPath.stringAt('$.resource.id'),
        findingId: sfn.JsonPath.stringAt('$.finding.id'),
      },
      timeout: Duration.seconds(120),
    });
    const check = steps.action('Check snapshots', fns.checkSnapshots, {
      comment: 'Reads the snapshots: all completed, some pending, or failed.',
      resultKey: 'checkSnapshots',
      payload: {
        instanceId: sfn.JsonPath.stringAt('$.resource.id'),
        snapshotIds: sfn.JsonPath.listAt('$.results.snapshot.output.snapshotIds'),
      },
    });

    // 4. Eradicate after approval, only with complete evidence.
    const eradicate = steps.action('Eradicate', fns.eradicate, {
      comment: `${ec2.eradication === 'terminate' ? 'Terminates' : 'Stops'} the instance, only once every snapshot is complete.`,
      payload: {
        instanceId: sfn.JsonPath.stringAt('$.resource.id'),
        mode: ec2.eradication,
        snapshotIds: sfn.JsonPath.listAt('$.results.snapshot.output.snapshotIds'),
      },
      timeout: Duration.seconds(120),
    });
    eradicate.next(recovery(steps));
    const eradication = new ApprovalGate(scope, 'Approve eradication', {
      functions: approvals,
      failure: steps.failure,
      action: `${ec2.eradication}-instance`,
      phase: 'eradication',
      timeout,
      summary: {
        happened: sfn.JsonPath.format(
          '{} on instance {}',
          sfn.JsonPath.stringAt('$.finding.type'),
          sfn.JsonPath.stringAt('$.resource.id'),
        ),
        done: 'Isolated every interface, protected the evidence, detached it, revoked its sessions, and snapshotted every volume (complete).',
        asks: `${ec2.eradication === 'terminate' ? 'Terminate' : 'Stop'} the instance.`,
      },
    });
    eradication.approved.next(eradicate);
    eradication.rejected.next(
      new sfn.Succeed(scope, 'Kept contained', { comment: 'The approvers chose to keep the instance.' }),
    );
    const toEradication = new sfn.Choice(scope, 'Dry run? (eradication)')
      .when(sfn.Condition.booleanEquals('$.dryRun', true), eradicate)
      .otherwise(eradication);

    const evidenceReady = steps.poll({
      name: 'snapshots',
      every: Duration.seconds(ec2.snapshotCheckSeconds),
      maxChecks: ec2.snapshotMaxChecks,
      check,
      done: sfn.Condition.booleanEquals('$.results.checkSnapshots.output.allCompleted', true),
      whenDone: toEradication,
      failures: [
        {
          condition: sfn.Condition.isPresent('$.results.checkSnapshots.output.failed[0]'),
          error: 'EvidenceFailedError',
          cause:
            "States.Format('snapshots failed: {}', States.JsonToString($.results.checkSnapshots.output.failed))",
        },
      ],
      timeoutError: 'EvidenceTimedOutError',
    });
    // A dry run takes no snapshot: nothing to wait for.
    const afterSnapshot = new sfn.Choice(scope, 'Dry run? (evidence)')
      .when(sfn.Condition.booleanEquals('$.dryRun', true), toEradication)
      .otherwise(evidenceReady);

    const main = sfn.Chain.start(contain)
      .next(markContained)
      .next(protect)
      .next(detach)
      .next(revoke)
      .next(tag)
      .next(snapshot)
      .next(afterSnapshot);

    // Approval-first (protected instances, blast radius, targets): a person approves containment.
    const approveContainment = new ApprovalGate(scope, 'Approve containment', {
      functions: approvals,
      failure: steps.failure,
      action: 'isolate-instance',
      phase: 'containment',
      timeout,
      summary: {
        happened: sfn.JsonPath.format(
          '{} on instance {}',
          sfn.JsonPath.stringAt('$.finding.type'),
          sfn.JsonPath.stringAt('$.resource.id'),
        ),
        done: 'Nothing yet: this incident needs approval before containment.',
        asks: 'Isolate the instance, protect its evidence, detach it and revoke its sessions.',
      },
    });
    approveContainment.approved
      .next(
        new sfn.Pass(scope, 'Approved', {
          result: sfn.Result.fromObject({ approved: true }),
          resultPath: '$.consent',
        }),
      )
      .next(main);
    approveContainment.rejected.next(
      new sfn.Succeed(scope, 'Not contained', { comment: 'The approvers declined containment.' }),
    );

    const mode = new sfn.Choice(scope, 'Approval first?')
      .when(
        sfn.Condition.and(
          sfn.Condition.stringEquals('$.mode', 'approval-first'),
          sfn.Condition.booleanEquals('$.dryRun', false),
        ),
        approveContainment,
      )
      .otherwise(main);
    return start.next(mode);
  };
}
