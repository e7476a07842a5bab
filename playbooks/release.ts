/**
 * Release playbooks (`iam-release`, `ec2-release`): after approval, undo a containment exactly, from the
 * state the record holds, then mark the incident recovered.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import type { Settings } from '#shared/settings';
import type { ApprovalFunctions } from '../infra/constructs/approval-api.ts';
import { ApprovalGate } from '../infra/constructs/approval-gate.ts';
import type { PlaybookSteps } from '../infra/constructs/playbook.ts';

export interface ReleasePlaybookProps {
  /** The release action, e.g. the `iam-release` function. */
  readonly release: lambda.IFunction;
  readonly markIncident: lambda.IFunction;
  /** What the approver reads the release will do. */
  readonly asks: string;
  /** Extra payload for the release action: field name to a JSONPath in the state. */
  readonly payload?: Record<string, string>;
}

/** Builds a release playbook: approval, the release action, the incident marked recovered. */
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
    const release = steps.action('Release', props.release, {
      comment: 'Restores exactly the state the record holds from before containment.',
      timeout: Duration.seconds(120),
      payload: Object.fromEntries(
        Object.entries(props.payload ?? {}).map(([k, path]) => [k, sfn.JsonPath.stringAt(path)]),
      ),
    });
    const mark = steps.action('Mark recovered', props.markIncident, {
      comment: 'Records the incident as recovered.',
      payload: { status: 'recovered' },
    });
    gate.approved.next(release).next(mark).next(new sfn.Succeed(scope, 'Released'));
    gate.rejected.next(new sfn.Succeed(scope, 'Kept contained'));
    const dryRun = new sfn.Choice(scope, 'Dry run?')
      .when(sfn.Condition.booleanEquals('$.dryRun', true), release)
      .otherwise(gate);
    return dryRun;
  };
}
