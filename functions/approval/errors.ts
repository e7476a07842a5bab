/**
 * The approval gate's named errors. Their `name` is what a playbook's `Catch` matches, so renaming one
 * changes the playbooks.
 */
import { CordonError } from '#shared/errors';

/** The error name a rejected approval fails its `.waitForTaskToken` task with (`SendTaskFailure`). */
export const APPROVAL_REJECTED = 'ApprovalRejected';

/** Base class of the approval gate's errors. */
export class ApprovalError extends CordonError {
  override readonly name: string = 'ApprovalError';
}

/**
 * The approval emails could not be sent after every retry. The request function throws it so that the
 * gate fails visibly instead of waiting for a decision nobody was asked for.
 */
export class ApprovalEmailError extends ApprovalError {
  override readonly name: string = 'ApprovalEmailError';
  /** The approvers who did not get their email. */
  readonly failed: readonly string[];
  constructor(message: string, failed: readonly string[], options?: { cause?: unknown }) {
    super(message, options);
    this.failed = failed;
  }
}

/** No approval request with this id (the console's `approve <id>`, or a timeout with nothing to time out). */
export class ApprovalNotFoundError extends ApprovalError {
  override readonly name: string = 'ApprovalNotFoundError';
}

/** The request was decided already, or expired: nothing was changed. */
export class ApprovalClosedError extends ApprovalError {
  override readonly name: string = 'ApprovalClosedError';
}

/** Step Functions no longer waits for this request's token (it timed out, or the execution stopped). */
export class ApprovalTaskGoneError extends ApprovalError {
  override readonly name: string = 'ApprovalTaskGoneError';
}

/**
 * The record's request does not match the gate that asks about it (its default decision is not the gate's):
 * nothing is decided, since the state machine routes on what the gate's functions return.
 */
export class ApprovalGateMismatchError extends ApprovalError {
  override readonly name: string = 'ApprovalGateMismatchError';
}
