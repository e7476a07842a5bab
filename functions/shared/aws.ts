/**
 * Calling AWS from an action core: expected failures become Cordon's named errors (so the playbook's
 * Retry and Catch can match them), everything else is rethrown as it is.
 */
import { translateAwsError } from './errors.ts';

/** Runs one AWS call; `doing` names it for the error message, e.g. `ec2:ModifyNetworkInterfaceAttribute eni-1`. */
export async function awsCall<T>(doing: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translateAwsError(error, doing);
  }
}

/**
 * EC2's answer to a call made with `DryRun: true` that would have succeeded: an error named
 * `DryRunOperation` (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
 */
export function isDryRunSuccess(error: unknown): boolean {
  return error instanceof Error && error.name === 'DryRunOperation';
}

/**
 * Makes an EC2 call with `DryRun: true`: resolves when AWS says it would succeed, throws the named error
 * when it would not.
 */
export async function ec2DryRun(doing: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (error) {
    if (isDryRunSuccess(error)) return;
    throw translateAwsError(error, doing);
  }
  throw new Error(`${doing}: DryRun call returned instead of answering DryRunOperation`);
}
