/**
 * Errors as the console prints them: one line a person can act on, never a stack trace or an SDK dump.
 * `cli/main.ts` uses {@link describeError} for whatever reaches it; `cordon run` uses {@link describeCause}
 * for a failed task's Lambda error. `CORDON_DEBUG=1` adds the stack (main prints it).
 */
import { CordonError } from '#shared/errors';

/** The first line of a text, trimmed, cut to `max` characters. */
function firstLine(text: string, max = 300): string {
  const line = (text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * A failed task's `cause` as one line: a Lambda error's JSON (`{"errorType","errorMessage","trace":[...]}`)
 * becomes `errorType: errorMessage`, without its trace (only `errorMessage` when `error`, the name already
 * printed, is its `errorType`); any other text is kept, on one line.
 */
export function describeCause(cause: string, error?: string): string {
  try {
    const parsed = JSON.parse(cause) as unknown;
    if (parsed !== null && typeof parsed === 'object') {
      const { errorType, errorMessage } = parsed as { errorType?: unknown; errorMessage?: unknown };
      const type = typeof errorType === 'string' && errorType !== error ? errorType : undefined;
      const message = typeof errorMessage === 'string' ? firstLine(errorMessage) : undefined;
      const text = [type, message].filter((part) => part !== undefined && part !== '').join(': ');
      if (text !== '') return text;
      if (typeof errorType === 'string') return errorType;
    }
  } catch {
    // Not JSON: a plain cause.
  }
  return firstLine(cause.replace(/\s*\n\s*/g, ' '));
}

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredTokenException',
  'ExpiredToken',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
]);
const DENIED_ERRORS = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'ECONNRESET',
  'EHOSTUNREACH',
]);

/** The errno-style code of an error or of its causes (`ECONNREFUSED`, `ENOTDIR`...). */
function codeOf(error: unknown, depth = 0): string | undefined {
  if (!(error instanceof Error) || depth > 5) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code === 'string') return code;
  return codeOf((error as { cause?: unknown }).cause, depth + 1);
}

/** Whether an error came from the AWS SDK (a service answer or one of its client-side errors). */
function isSdkError(error: Error): boolean {
  return (
    '$metadata' in error ||
    '$fault' in error ||
    CREDENTIAL_ERRORS.has(error.name) ||
    /region is missing/i.test(error.message) ||
    error.name === 'TimeoutError'
  );
}

/** What to do about an AWS SDK error: credentials, region, endpoint or permissions; none when unknown. */
export function sdkHint(error: Error): string | undefined {
  if (CREDENTIAL_ERRORS.has(error.name) || /could not (load|resolve) credentials/i.test(error.message)) {
    return 'no usable AWS credentials: pass --profile, set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or use --local)';
  }
  if (/region is missing/i.test(error.message)) {
    return 'no AWS region: pass --region, set AWS_REGION, or give your profile a region';
  }
  const code = codeOf(error);
  if ((code !== undefined && UNREACHABLE_CODES.has(code)) || error.name === 'TimeoutError') {
    return `the endpoint did not answer (${code ?? error.name}): check --endpoint, AWS_ENDPOINT_URL and the network`;
  }
  if (DENIED_ERRORS.has(error.name)) return 'AWS refused the call: check the IAM policy of your principal';
  return undefined;
}

/**
 * `name: message`, without a bare `Error` name; a cause's message is added when it says more (`fetch
 * failed: connect ECONNREFUSED 127.0.0.1:8080`).
 */
function named(error: Error): string {
  let message = firstLine(error.message);
  const cause = (error as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message !== '' && !message.includes(cause.message)) {
    message = `${message}: ${firstLine(cause.message)}`;
  }
  return error.name === 'Error' || error.name === '' ? message : `${error.name}: ${message}`;
}

/**
 * One line for any error, prefixed `cordon:`. A Cordon error is its message; an AWS SDK error is
 * `<what failed>: <name>: <message> (<hint>)`; a file-system error names the call, the path and its code;
 * anything else is `<what failed>: <name>: <message>`. `what` names the command (`incidents list`).
 */
export function describeError(error: unknown, what?: string): string {
  const prefix = what ? `cordon: ${what} failed: ` : 'cordon: ';
  if (error instanceof CordonError) return `cordon: ${firstLine(error.message, 2000)}`;
  if (!(error instanceof Error)) return `${prefix}${firstLine(String(error))}`;
  if (isSdkError(error) || sdkHint(error) !== undefined) {
    const hint = sdkHint(error);
    return `${prefix}${named(error)}${hint ? ` (${hint})` : ''}`;
  }
  const errno = error as NodeJS.ErrnoException;
  if (errno.code === 'ERR_INVALID_URL') {
    const input = (error as { input?: unknown }).input;
    return `${prefix}not a URL${typeof input === 'string' ? `: "${input}"` : ''} (an endpoint is like http://127.0.0.1:8000)`;
  }
  if (typeof errno.code === 'string' && typeof errno.syscall === 'string') {
    const reason = firstLine(error.message)
      .replace(/^[A-Z]+: /, '')
      .replace(/, \w+ '.*'$/, '');
    return `${prefix}cannot ${errno.syscall}${errno.path ? ` ${errno.path}` : ''}: ${reason} (${errno.code})`;
  }
  return `${prefix}${named(error)}`;
}
