/**
 * Release playbooks (`iam-release`, `ec2-release`): after approval, undo a containment exactly, from the
 * state the record holds, then mark the incident recovered. A release with nothing to release (never
 * contained, only dry runs, already released) is refused before approval and leaves the incident as it is.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { Settings } from '#shared/settings';
import type { ApprovalFunctions } from './parts/approval-functions.ts';
import { ApprovalGate } from './parts/approval-gate.ts';
import type { PlaybookSteps } from './parts/steps.ts';

export interface ReleasePlaybookProps {
  /** The release action, e.g. the `iam-release` function. */
  readonly release: lambda.IFunction;
  readonly markIncident: lambda.IFunction;
  /** What the approver reads the release will do. */
  readonly asks: string;
  /** Extra payload for the release action: field name to a JSONPath in the state. */
  readonly payload?: Record<string, string>;
}

/** Where the release playbooks put the dry run that checks what there is to release, under `$.results`. */
export const RELEASE_CHECK_RESULT = 'releaseCheck';
/** Where they put the release's own result, under `$.results`. */
export const RELEASE_RESULT = 'release';
/** The state a release playbook ends in when there is nothing to release. */
export const NOTHING_TO_RELEASE_STATE = 'Nothing to release';

/**
 * Builds a release playbook: a dry run of the release that refuses when there is nothing to release,
 * approval, the release action, the incident marked recovered only when the release changed something.
 */
export function releasePlaybook(
  scope: Construct,
  props: ReleasePlaybookProps,
  approvals: ApprovalFunctions,
  settings: Settings,
): (steps: PlaybookSteps) => sfn.IChainable {
  return (steps) => {
    const gate = new ApprovalGate(scope, 'Approve release', {
      functions: approvals,
      failure: steps.failure,
      action: 'release-containment',
      phase: 'recovery',
      timeout: Duration.minutes(settings.approval.timeoutMinutes),
      summary: {
        happened: sfn.JsonPath.format('Release of incident {}', sfn.JsonPath.stringAt('$.incidentId')),
        done: 'The resource is contained; its state before containment is in the record.',
        asks: props.asks,
      },
    });
    const payload = Object.fromEntries(
      Object.entries(props.payload ?? {}).map(([k, path]) => [k, sfn.JsonPath.stringAt(path)]),
    );
    // The same action as a dry run, before anyone is asked: a release with nothing to undo is refused
    // here, with the action's reason in the record, and the approvers are not asked to approve nothing.
    const check = steps.action('Check what to release', props.release, {
      comment:
        'Reads the record and the live state and reports what the release would change; changes nothing.',
      timeout: Duration.seconds(120),
      payload: { ...payload, dryRun: true },
      resultKey: RELEASE_CHECK_RESULT,
    });
    const release = steps.action('Release', props.release, {
      comment: 'Restores exactly the state the record holds from before containment.',
      timeout: Duration.seconds(120),
      payload,
      resultKey: RELEASE_RESULT,
    });
    const mark = steps.action('Mark recovered', props.markIncident, {
      comment: 'Records the incident as recovered.',
      payload: { status: 'recovered' },
    });
    // Skipped (the record holds no containment) or already done: the incident's status stays as it is.
    const nothing = new sfn.Succeed(scope, NOTHING_TO_RELEASE_STATE, {
      comment: 'Nothing to release: the incident is left as it is; the reason is in the release step.',
    });
    const releasedNothing = (result: string) =>
      sfn.Condition.or(
        sfn.Condition.stringEquals(`$.results.${result}.status`, 'skipped'),
        sfn.Condition.stringEquals(`$.results.${result}.status`, 'already-done'),
      );
    gate.approved
      .next(release)
      .next(
        new sfn.Choice(scope, 'Released anything?')
          .when(releasedNothing(RELEASE_RESULT), nothing)
          .otherwise(mark.next(new sfn.Succeed(scope, 'Released'))),
      );
    gate.rejected.next(new sfn.Succeed(scope, 'Kept contained'));
    check.next(
      new sfn.Choice(scope, 'Anything to release?')
        .when(releasedNothing(RELEASE_CHECK_RESULT), nothing)
        .when(
          sfn.Condition.booleanEquals('$.dryRun', true),
          new sfn.Succeed(scope, 'Dry run done', { comment: 'A dry run changes nothing and marks nothing.' }),
        )
        .otherwise(gate),
    );
    return check;
  };
}
