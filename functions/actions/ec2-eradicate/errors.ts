/** Errors of `ec2-eradicate`. */
import { CordonError } from '#shared/errors';

/**
 * Some evidence snapshot is not `completed` (still pending, failed or missing): destroying the instance
 * now could lose what the snapshot has not copied yet. Not retried by itself: the playbook waits for the
 * snapshots first.
 */
export class EvidenceIncompleteError extends CordonError {
  override readonly name: string = 'EvidenceIncompleteError';
}
