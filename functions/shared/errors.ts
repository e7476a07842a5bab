/**
 * Cordon's named errors. A Lambda error's `name` is what a Step Functions `Catch` or `Retry` matches in
 * `ErrorEquals`, so these names are part of the playbooks' contract: rename one and the playbooks change.
 */
export class CordonError extends Error {
  /**
   * Each class names itself in a string: the deployed bundles are minified, which renames classes, so a
   * name taken from the class (`new.target.name`) would reach the playbooks as `ss` (test/unit/shared/errors.test.ts).
   */
  override readonly name: string = 'CordonError';
}

/** Input (an event, an incident, a step, a command-line argument) failed its schema. */
export class ValidationError extends CordonError {
  override readonly name: string = 'ValidationError';
  /** Each problem as `path: message`. */
  readonly issues: readonly string[];
  constructor(what: string, issues: readonly string[], options?: { cause?: unknown }) {
    super(`${what} is invalid: ${issues.join('; ')}`, options);
    this.issues = issues;
  }
}

/** Configuration from the environment is missing or malformed. Raised at cold start. */
export class ConfigError extends CordonError {
  override readonly name: string = 'ConfigError';
}

/** The resource named by the finding or the incident does not exist (any more). */
export class ResourceNotFoundError extends CordonError {
  override readonly name: string = 'ResourceNotFoundError';
}

/** The resource carries the protected tag: automation must not touch it without approval. */
export class ProtectedResourceError extends CordonError {
  override readonly name: string = 'ProtectedResourceError';
}

/** AWS refused the call for lack of permission. Not retried: a person must fix the policy. */
export class AccessDeniedError extends CordonError {
  override readonly name: string = 'AccessDeniedError';
}

/** AWS throttled the call. The state machine retries it with backoff. */
export class ThrottlingError extends CordonError {
  override readonly name: string = 'ThrottlingError';
}

/** AWS failed on its side (a 5xx). The state machine retries it with backoff. */
export class AwsServiceError extends CordonError {
  override readonly name: string = 'AwsServiceError';
}

/** The incident does not exist in the audit table. */
export class IncidentNotFoundError extends CordonError {
  override readonly name: string = 'IncidentNotFoundError';
}

/** Another writer won a conditional write too many times in a row. */
export class WriteConflictError extends CordonError {
  override readonly name: string = 'WriteConflictError';
}

/**
 * A transaction refused because the condition of one or more of the caller's writes failed (the writes a
 * caller makes alongside the record's own, e.g. the router's finding and marker): nothing was written.
 */
export class ConditionsFailedError extends CordonError {
  override readonly name: string = 'ConditionsFailedError';
  /** Each failed write's label, with the item as the table returned it (unmarshalled), if it did. */
  readonly failed: readonly { readonly label: string; readonly item?: Record<string, unknown> }[];
  constructor(
    message: string,
    failed: readonly { readonly label: string; readonly item?: Record<string, unknown> }[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.failed = failed;
  }
}

/**
 * An incident's record does not verify (a step edited, deleted, moved or forged, the tail truncated, the
 * incident item changed): an action that would act on it refuses. `result` says what broke.
 */
export class RecordTamperedError extends CordonError {
  override readonly name: string = 'RecordTamperedError';
  readonly result: { readonly brokenSeq: number; readonly kind: string; readonly reason: string };
  constructor(message: string, result: { brokenSeq: number; kind: string; reason: string }) {
    super(message);
    this.result = { brokenSeq: result.brokenSeq, kind: result.kind, reason: result.reason };
  }
}

/**
 * A listing could not be followed to its end: AWS gave back a page token already followed (a loop), said
 * a page was truncated without a token for the rest, or ran past the page limit. Not retried: reading
 * part of a list would decide on part of the account.
 */
export class PagingError extends CordonError {
  override readonly name: string = 'PagingError';
}

/**
 * The responder role of a member account could not be assumed (AccessDenied: no such role, a wrong external
 * id, a caller or account outside the organization). Not retried: a person must deploy or fix the role; the
 * playbook's catch emails the approvers.
 */
export class ResponderUnavailableError extends CordonError {
  override readonly name: string = 'ResponderUnavailableError';
  readonly roleArn: string;
  readonly account: string;
  constructor(message: string, facts: { roleArn: string; account: string }, options?: { cause?: unknown }) {
    super(message, options);
    this.roleArn = facts.roleArn;
    this.account = facts.account;
  }
}

/**
 * An action was sent to a member account while the function has no organization configuration
 * (`CORDON_ACCOUNT`, `CORDON_RESPONDER_ROLE`, `CORDON_EXTERNAL_ID`): it cannot act there. Not retried.
 */
export class OrganizationNotConfiguredError extends CordonError {
  override readonly name: string = 'OrganizationNotConfiguredError';
}

/**
 * An action's event names another account or region than its incident's record: the record's place wins,
 * nothing is done. Not retried.
 */
export class PlaceMismatchError extends CordonError {
  override readonly name: string = 'PlaceMismatchError';
}

/** A hash chain check found a broken, missing or reordered step. */
export class ChainBrokenError extends CordonError {
  override readonly name: string = 'ChainBrokenError';
  readonly seq: number;
  constructor(message: string, seq: number) {
    super(message);
    this.seq = seq;
  }
}

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

const ACCESS_DENIED_CODES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'UnauthorizedAccess',
  'AuthFailure',
]);

interface SdkErrorLike {
  name: string;
  message: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
}

function isSdkError(error: unknown): error is SdkErrorLike {
  return error instanceof Error && ('$fault' in error || '$metadata' in error);
}

/**
 * Translates the AWS errors every action expects (throttling, 5xx, access denied) into Cordon's named
 * errors, keeping the original as `cause`. Anything else is returned unchanged, to be rethrown.
 */
export function translateAwsError(error: unknown, doing: string): unknown {
  if (!isSdkError(error)) return error;
  const detail = `${doing}: ${error.name}: ${error.message}`;
  if (THROTTLING_CODES.has(error.name)) return new ThrottlingError(detail, { cause: error });
  if (ACCESS_DENIED_CODES.has(error.name)) return new AccessDeniedError(detail, { cause: error });
  if (error.$fault === 'server' || (error.$metadata?.httpStatusCode ?? 0) >= 500) {
    return new AwsServiceError(detail, { cause: error });
  }
  return error;
}

/** The error names the playbooks retry with backoff. */
export const RETRYABLE_ERRORS: readonly string[] = [
  'ThrottlingError',
  'AwsServiceError',
  'WriteConflictError',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];
