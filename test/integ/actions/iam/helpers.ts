/**
 * The IAM actions' test bench: a sandbox account with a user of three keys, a user of one, an ordinary role
 * and a service-linked role; real IAM clients attached to it; and the incident record on DynamoDB Local.
 */
import { IAMClient } from '@aws-sdk/client-iam';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { AccountSeed, CallRecord } from '#local/sandbox/index';
import { Sandbox } from '#local/sandbox/index';
import type { ActionEvent, ActionResult } from '#shared/action';
import type { AuditRecorder } from '#shared/audit';
import { auditStep } from '#shared/audit-middleware';
import type { Incident, Phase } from '#shared/domain';

/** Static credentials, so that no test looks up a credential chain. */
export const clientConfig = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };

/** The sandbox's clock: 2025-01-01T00:00:00Z. */
export const T0 = Date.UTC(2025, 0, 1);
/** When the finding was last seen: five minutes before the sandbox's clock. */
export const FINDING_TIME = new Date(T0 - 5 * 60_000).toISOString();
/** The time of containment the actions read from their clock. */
export const NOW = new Date(T0 + 60_000).toISOString();
export const now = (): Date => new Date(NOW);
/** The settings' default protected tag. */
export const protectedTag = { key: 'cordon:protected', value: 'true' };

export const KEY_1 = 'AKIAALICE00000000001';
export const KEY_2 = 'AKIAALICE00000000002';
export const KEY_3 = 'AKIAALICE00000000003';
export const BOB_KEY = 'AKIABOB0000000000001';
export const SERVICE_LINKED = 'AWSServiceRoleForAutoScaling';

export const APP_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

export const SEED: AccountSeed = {
  iam: {
    users: [
      {
        name: 'alice',
        accessKeys: [
          {
            id: KEY_1,
            created: T0 - 3 * 86_400_000,
            lastUsed: { at: T0 - 600_000, service: 's3', region: 'eu-west-1' },
          },
          { id: KEY_2, created: T0 - 2 * 86_400_000, lastUsed: { at: T0 - 86_400_000, service: 'ec2' } },
          { id: KEY_3, created: T0 - 86_400_000 },
        ],
        loginProfile: true,
        mfaDevices: ['arn:aws:iam::123456789012:mfa/alice'],
        inlinePolicies: {
          'app-access': {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
          },
        },
        attachedPolicies: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      },
      { name: 'bob', accessKeys: [{ id: BOB_KEY }] },
    ],
    roles: [
      {
        name: 'app',
        trustPolicy: APP_TRUST,
        attachedPolicies: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'],
      },
      { name: SERVICE_LINKED, path: '/aws-service-role/autoscaling.amazonaws.com/' },
    ],
  },
};

/** A sandbox account with an IAM client attached. */
export function setupIam(seed: AccountSeed = SEED) {
  const sandbox = Sandbox.create(seed, { now: () => T0 });
  const iam = sandbox.attach(new IAMClient(clientConfig));
  return { sandbox, iam };
}

const MUTATING = /^(Update|Put|Delete|Create|Attach|Detach|Add|Remove|Tag|Untag|Enable|Deactivate)/;

/** The IAM calls that change something, as `Command target`. */
export function mutatingCalls(calls: readonly CallRecord[]): string[] {
  return calls.filter((c) => c.service === 'IAM' && MUTATING.test(c.command)).map((c) => c.command);
}

/** The exact document "Revoking IAM role temporary security credentials" shows, with its cut-off. */
export function documentedRevokePolicy(issuedBefore: string): unknown {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore } },
      },
    ],
  };
}

/**
 * Whether a principal's inline policies, as the sandbox holds them, deny every request of a session issued
 * at `issuedAt`: a `Deny` of `*` on `*` whose only condition is `DateLessThan` on `aws:TokenIssueTime`,
 * which IAM evaluates on each request of temporary credentials
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html).
 */
export function deniesSessionIssuedAt(
  inlinePolicies: Readonly<Record<string, string>> | undefined,
  issuedAt: string,
): boolean {
  return Object.values(inlinePolicies ?? {}).some((document) => {
    const statements = (JSON.parse(document) as { Statement?: unknown }).Statement;
    return (Array.isArray(statements) ? statements : [statements]).some((statement) => {
      const { Effect, Action, Resource, Condition } = (statement ?? {}) as Record<string, unknown>;
      const cutOff = (Condition as { DateLessThan?: Record<string, unknown> } | undefined)?.DateLessThan?.[
        'aws:TokenIssueTime'
      ];
      return (
        Effect === 'Deny' &&
        JSON.stringify(Action) === '["*"]' &&
        JSON.stringify(Resource) === '["*"]' &&
        Object.keys(Condition ?? {}).length === 1 &&
        typeof cutOff === 'string' &&
        Date.parse(issuedAt) < Date.parse(cutOff)
      );
    });
  });
}

/** Opens an incident on an IAM finding. */
export function openIncident(recorder: AuditRecorder): Promise<Incident> {
  return recorder.openIncident({
    title: 'UnauthorizedAccess:IAMUser/TorIPCaller on alice',
    findingType: 'UnauthorizedAccess:IAMUser/TorIPCaller',
    severity: 5,
    account: '123456789012',
    region: 'us-east-1',
    resources: [{ type: 'access-key', id: KEY_1, details: { userName: 'alice', userType: 'IAMUser' } }],
    firstSeen: FINDING_TIME,
    lastSeen: FINDING_TIME,
  });
}

/** A Lambda context for calling a middy handler directly. */
export const context = {} as Context;

/** An action core behind the audit middleware, as its handler runs it. */
export function audited(
  recorder: AuditRecorder,
  phase: Phase,
  action: string,
  core: (event: ActionEvent) => Promise<ActionResult>,
) {
  const handler = middy<ActionEvent, ActionResult>()
    .use(auditStep({ recorder, phase, action }))
    .handler(core);
  return (event: ActionEvent) => handler(event, context);
}

/** The error a promise rejects with. */
export async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-error: ${String(error)}`);
  }
  throw new Error('expected the promise to reject');
}
