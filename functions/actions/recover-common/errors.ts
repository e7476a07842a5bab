/** Errors of the recovery actions. Their names are what the recovery playbook's Catch and Retry match. */
import { CordonError } from '#shared/errors';

/**
 * The restore job ended `FAILED` or `ABORTED`
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeRestoreJob.html). Not retried: the
 * playbook records the failure and tells the approvers.
 */
export class RestoreFailedError extends CordonError {
  override readonly name: string = 'RestoreFailedError';
  readonly restoreJobId: string;
  readonly status: string;
  constructor(restoreJobId: string, status: string, statusMessage: string | undefined) {
    super(`restore job ${restoreJobId} ended ${status}${statusMessage ? `: ${statusMessage}` : ''}`);
    this.restoreJobId = restoreJobId;
    this.status = status;
  }
}

/** The restored instance is not what recovery needs (not running, failing status checks, volumes missing). */
export class RecoveryValidationError extends CordonError {
  override readonly name: string = 'RecoveryValidationError';
  readonly reasons: readonly string[];
  constructor(instanceId: string, reasons: readonly string[]) {
    super(`restored instance ${instanceId} is not valid: ${reasons.join('; ')}`);
    this.reasons = reasons;
  }
}

/**
 * The restored instance is still starting (pending, or status checks still initializing). The playbook
 * retries on this name with a backoff, within a bound.
 */
export class RecoveryNotReadyError extends CordonError {
  override readonly name: string = 'RecoveryNotReadyError';
  readonly reasons: readonly string[];
  constructor(instanceId: string, reasons: readonly string[]) {
    super(`restored instance ${instanceId} is not ready yet: ${reasons.join('; ')}`);
    this.reasons = reasons;
  }
}

/**
 * The restore's configuration would put the restored instance where it must not be: an isolation group, or
 * no security group at all. Not retried: a person fixes the configuration.
 */
export class RestoreConfigurationError extends CordonError {
  override readonly name: string = 'RestoreConfigurationError';
}
