/** Errors of `ec2-release`. */
import { CordonError } from '#shared/errors';

/**
 * The release cannot restore the recorded state exactly: the instance changed in a way the record does
 * not cover (an interface added or removed, groups changed by hand, another instance profile, terminated),
 * or the record is missing or unreadable. Nothing was changed; `reason` says what a person must look at.
 */
export class ReleaseRefusedError extends CordonError {
  override readonly name: string = 'ReleaseRefusedError';
  readonly reason: string;
  constructor(reason: string, options?: { cause?: unknown }) {
    super(`release refused: ${reason}`, options);
    this.reason = reason;
  }
}
