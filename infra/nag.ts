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
      'Granted on "*" only where the service supports no narrower resource for the call: X-Ray tracing (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html), EC2 Describe actions, and the EC2, Auto Scaling and ELB changes an action makes to whichever instance a finding names. Each function gets exactly the actions its code calls (its declaration, functions/actions/<name>/action.ts); a test checks the record functions get nothing but X-Ray on "*".',
  },
];

export function acknowledgeStack(stack: Stack): void {
  for (const ack of STACK_ACKNOWLEDGEMENTS) Validations.of(stack).acknowledge(ack);
}

/** Acknowledges one rule on one construct, with its reason. */
export function acknowledge(construct: IConstruct, id: string, reason: string): void {
  Validations.of(construct).acknowledge({ id, reason });
}
