/**
 * cdk-nag's AwsSolutions checks, and every rule Cordon acknowledges with its reason, in one place.
 */
import { type Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

interface Acknowledgement {
  readonly id: string;
  readonly reason: string;
}

/** Acknowledgements that hold for the whole stack. */
export const STACK_ACKNOWLEDGEMENTS: readonly Acknowledgement[] = [
  {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'Only X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) is granted on "*": X-Ray supports no resource-level permissions (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html). A test checks that no other action is granted on "*".',
  },
];

export function acknowledgeStack(stack: Stack): void {
  for (const ack of STACK_ACKNOWLEDGEMENTS) Validations.of(stack).acknowledge(ack);
}

/** Acknowledges one rule on one construct, with its reason. */
export function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id, reason });
}
