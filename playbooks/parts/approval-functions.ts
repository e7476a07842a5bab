/**
 * The functions an approval gate invokes. The state machine needs only these three: infra's `ApprovalApi`
 * provides them (and implements this interface), so that a playbook never imports the API's construct.
 */
import type * as lambda from 'aws-cdk-lib/aws-lambda';

export interface ApprovalFunctions {
  readonly requestFunction: lambda.IFunction;
  readonly timeoutFunction: lambda.IFunction;
  readonly checkFunction: lambda.IFunction;
}
