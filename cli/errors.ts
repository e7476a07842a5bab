/**
 * The console's named errors: what went wrong reaching the record, said so that a person can fix it.
 * Each is a {@link CordonError}, so `cordon` prints its message and exits with status 1.
 */
import { CordonError } from '#shared/errors';

/** The audit table (or one of its indexes) does not exist where the console looked. */
export class TableNotFoundError extends CordonError {
  override readonly name: string = 'TableNotFoundError';
}

/** No AWS credentials were found for a connection that needs them. */
export class NoCredentialsError extends CordonError {
  override readonly name: string = 'NoCredentialsError';
}

/** The endpoint did not answer (refused, unknown host, timed out). */
export class EndpointUnreachableError extends CordonError {
  override readonly name: string = 'EndpointUnreachableError';
}

/** AWS refused the read for lack of permission. */
export class ReadDeniedError extends CordonError {
  override readonly name: string = 'ReadDeniedError';
}

/** `approvals approve|reject --local`: no `cordon run` waits for a decision in the state folder. */
export class NoWaitingRunError extends CordonError {
  override readonly name: string = 'NoWaitingRunError';
  constructor(
    readonly dir: string,
    why: string,
    options?: { cause?: unknown },
  ) {
    super(`no cordon run is waiting in ${dir}: ${why}`, options);
  }
}
