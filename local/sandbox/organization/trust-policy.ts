/**
 * A role's trust policy, read as IAM reads it for `sts:AssumeRole` from another account
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html):
 * an explicit Deny wins, else an Allow whose action, principal and conditions all match, else no.
 *
 * What it reads: `Action` (with `*` wildcards), `Principal` `"*"` or `{ AWS: ... }` (an account id, an
 * account's root, a role or a session ARN), and `Condition` with `StringEquals`, `StringLike`,
 * `StringNotEquals` on `sts:ExternalId`, `aws:PrincipalOrgID`, `aws:PrincipalAccount` and `aws:PrincipalArn`.
 * Anything else (`NotAction`, `NotPrincipal`, another operator or key) is refused loudly, with a
 * {@link SandboxPolicyError}, never read as an allow or a silent deny.
 */

/** A trust policy holds what the sandbox does not evaluate. */
export class SandboxPolicyError extends Error {
  override readonly name: string = 'SandboxPolicyError';
}

/** What a trust policy is asked about one `AssumeRole`. */
export interface TrustRequest {
  /** The principal's ARN as the policy names it: the role of an assumed-role session. */
  readonly principalArn: string;
  /** The caller's own ARN (the session's). */
  readonly callerArn: string;
  readonly principalAccount: string;
  /** The organization of the principal's account; undefined outside any. */
  readonly principalOrgId: string | undefined;
  readonly externalId: string | undefined;
}

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const values = (value: unknown, where: string): string[] => {
  const list = Array.isArray(value) ? value : [value];
  if (!list.every((v): v is string => typeof v === 'string')) {
    throw new SandboxPolicyError(`${where}: expected text or a list of text`);
  }
  return list;
};

/** IAM's `*` and `?` in an action or a `StringLike` value. */
function like(pattern: string, value: string, caseless: boolean): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, caseless ? 'i' : '').test(value);
}

const CONDITION_KEYS = ['sts:externalid', 'aws:principalorgid', 'aws:principalaccount', 'aws:principalarn'];

function conditionValue(key: string, request: TrustRequest): string | undefined {
  switch (key.toLowerCase()) {
    case 'sts:externalid':
      return request.externalId;
    case 'aws:principalorgid':
      return request.principalOrgId;
    case 'aws:principalaccount':
      return request.principalAccount;
    default:
      return request.principalArn;
  }
}

function conditionsHold(condition: unknown, request: TrustRequest, where: string): boolean {
  if (condition === undefined) return true;
  if (!isRecord(condition)) throw new SandboxPolicyError(`${where}.Condition: expected an object`);
  for (const [operator, block] of Object.entries(condition)) {
    if (!['StringEquals', 'StringLike', 'StringNotEquals'].includes(operator)) {
      throw new SandboxPolicyError(`${where}.Condition: the sandbox does not evaluate ${operator}`);
    }
    if (!isRecord(block)) throw new SandboxPolicyError(`${where}.Condition.${operator}: expected an object`);
    for (const [key, expected] of Object.entries(block)) {
      if (!CONDITION_KEYS.includes(key.toLowerCase())) {
        throw new SandboxPolicyError(`${where}.Condition.${operator}: the sandbox does not evaluate ${key}`);
      }
      const actual = conditionValue(key, request);
      const wanted = values(expected, `${where}.Condition.${operator}.${key}`);
      // A key the request lacks fails every operator but the negated one
      // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html).
      if (operator === 'StringNotEquals') {
        if (actual !== undefined && wanted.includes(actual)) return false;
      } else if (actual === undefined) {
        return false;
      } else if (
        operator === 'StringEquals' ? !wanted.includes(actual) : !wanted.some((w) => like(w, actual, false))
      ) {
        return false;
      }
    }
  }
  return true;
}

function principalMatches(principal: unknown, request: TrustRequest, where: string): boolean {
  if (principal === '*') return true;
  if (!isRecord(principal)) throw new SandboxPolicyError(`${where}.Principal: expected "*" or an object`);
  if (principal.AWS === undefined) return false;
  return values(principal.AWS, `${where}.Principal.AWS`).some((entry) => {
    if (entry === '*') return true;
    const root = /^(?:arn:aws[a-z-]*:iam::)?(\d{12})(?::root)?$/.exec(entry);
    if (root) return root[1] === request.principalAccount;
    return entry === request.principalArn || entry === request.callerArn;
  });
}

/** Whether the trust policy (JSON text, as the role's state keeps it) lets the request's caller assume the role. */
export function trustAllows(document: string, request: TrustRequest): boolean {
  let policy: unknown;
  try {
    policy = JSON.parse(document);
  } catch (error) {
    throw new SandboxPolicyError(`the trust policy is not JSON: ${(error as Error).message}`);
  }
  const raw = isRecord(policy) ? policy.Statement : undefined;
  const statements = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  let allowed = false;
  for (const [index, statement] of statements.entries()) {
    const where = `Statement[${index}]`;
    if (!isRecord(statement)) throw new SandboxPolicyError(`${where}: expected an object`);
    for (const unsupported of ['NotAction', 'NotPrincipal']) {
      if (unsupported in statement)
        throw new SandboxPolicyError(`${where}: the sandbox does not evaluate ${unsupported}`);
    }
    const actions = statement.Action === undefined ? [] : values(statement.Action, `${where}.Action`);
    if (!actions.some((action) => like(action, 'sts:AssumeRole', true))) continue;
    if (!principalMatches(statement.Principal, request, where)) continue;
    if (!conditionsHold(statement.Condition, request, where)) continue;
    if (statement.Effect === 'Deny') return false;
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

/**
 * The trust policy of a responder role: the principals may assume it, with the external id and from the
 * organization when those are given (as the responder template's role, infra/, has them).
 */
export function responderTrustPolicy(
  principals: readonly string[],
  externalId: string | undefined,
  organizationId: string | undefined,
): object {
  const equals: Record<string, string> = {};
  if (externalId !== undefined) equals['sts:ExternalId'] = externalId;
  if (organizationId !== undefined) equals['aws:PrincipalOrgID'] = organizationId;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: [...principals] },
        Action: 'sts:AssumeRole',
        ...(Object.keys(equals).length > 0 ? { Condition: { StringEquals: equals } } : {}),
      },
    ],
  };
}
