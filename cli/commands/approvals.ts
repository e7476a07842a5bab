/**
 * `cordon approvals list|approve|reject`: approvals from a terminal, for an operator with AWS credentials
 * and access to the audit table. `<id>` is the request id (not a link id); the decision is recorded as the
 * caller's IAM principal (STS GetCallerIdentity), through the same conditional write and Step Functions
 * callback as a link.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Command } from 'commander';
import { AuditRecorder } from '#shared/audit';
import { makeClient } from '#shared/clients';
import { type Clock, systemClock } from '#shared/clock';
import { ENV } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { ValidationError } from '#shared/errors';
import { completeDecision, type Delivery, type TaskCallbacks } from '../../functions/approval/decision.ts';
import {
  ApprovalClosedError,
  ApprovalNotFoundError,
  ApprovalTaskGoneError,
} from '../../functions/approval/errors.ts';
import {
  APPROVAL_STATUSES,
  type ApprovalRequest,
  type ApprovalStatus,
  type Decision,
} from '../../functions/approval/model.ts';
import { ApprovalStore, publicView } from '../../functions/approval/store.ts';

export interface ApprovalsDeps {
  readonly store: ApprovalStore;
  readonly recorder: AuditRecorder;
  readonly sfn: TaskCallbacks;
  readonly sts: Pick<STSClient, 'send'>;
  readonly clock?: Clock;
}

/** Requests with a status (default `pending`), newest first: one Query on the by-status index. */
export async function listApprovals(
  deps: Pick<ApprovalsDeps, 'store'>,
  options: { status?: ApprovalStatus; limit?: number } = {},
): Promise<ApprovalRequest[]> {
  return (await deps.store.byStatus(options.status ?? 'pending', options.limit ?? 100)).map(publicView);
}

/** The caller's IAM principal ARN: who a console decision is recorded as. */
export async function callerPrincipal(sts: Pick<STSClient, 'send'>): Promise<string> {
  const identity = await sts.send(new GetCallerIdentityCommand({}));
  if (!identity.Arn) throw new ValidationError('caller identity', ['Arn: STS returned none']);
  return identity.Arn;
}

async function decide(
  deps: ApprovalsDeps,
  requestId: string,
  decision: Decision,
  reason: string,
): Promise<{ request: ApprovalRequest; delivery: Delivery }> {
  const principal = await callerPrincipal(deps.sts);
  const outcome = await deps.store.decideById(requestId, {
    decision,
    decidedBy: principal,
    decidedAt: (deps.clock ?? systemClock)(),
    reason: reason.trim().slice(0, 1000),
    source: { via: 'console' },
  });
  switch (outcome.kind) {
    case 'not-found':
      throw new ApprovalNotFoundError(`no approval request ${requestId}`);
    case 'expired':
      throw new ApprovalClosedError(`approval request ${requestId} expired at ${outcome.request.expiresAt}`);
    case 'closed':
    case 'link-used': {
      const r = outcome.request;
      throw new ApprovalClosedError(
        `approval request ${requestId} is ${r.status}: ${r.decision ?? ''} by ${r.decidedBy ?? 'unknown'} at ${r.decidedAt ?? 'unknown'}`,
      );
    }
    case 'decided': {
      const delivery = await completeDecision({ recorder: deps.recorder, sfn: deps.sfn }, outcome.request, {
        via: 'console',
      });
      if (!delivery.delivered) {
        throw new ApprovalTaskGoneError(
          `approval request ${requestId}: ${decision} is recorded, but the playbook no longer waits for it (${delivery.error.name})`,
        );
      }
      return { request: publicView(outcome.request), delivery };
    }
  }
}

/** Approves a pending request as the caller's IAM principal. */
export function approve(
  deps: ApprovalsDeps,
  requestId: string,
  options: { reason?: string } = {},
): Promise<{ request: ApprovalRequest; delivery: Delivery }> {
  return decide(deps, requestId, 'approve', options.reason ?? '');
}

/** Rejects a pending request as the caller's IAM principal; a reason is required. */
export function reject(
  deps: ApprovalsDeps,
  requestId: string,
  options: { reason: string },
): Promise<{ request: ApprovalRequest; delivery: Delivery }> {
  if (options.reason.trim() === '') throw new ValidationError('reject', ['reason: must not be empty']);
  return decide(deps, requestId, 'reject', options.reason);
}

/** One line per request: id, action, resource, incident, until, approvers (or decider). */
export function formatApprovals(requests: readonly ApprovalRequest[]): string[] {
  if (requests.length === 0) return ['No approval requests.'];
  return requests.map((r) =>
    [
      r.requestId,
      r.status,
      `${r.action} on ${r.resource.id}`,
      `incident ${r.incidentId}`,
      r.status === 'pending' ? `until ${r.expiresAt}` : `${r.decision ?? ''} by ${r.decidedBy ?? ''}`,
      r.status === 'pending' ? `asks ${r.approvers.join(', ')}` : '',
    ]
      .filter(Boolean)
      .join('  '),
  );
}

/** Clients from the default credential chain and endpoint settings, on the named table. */
export function defaultApprovalsDeps(tableName: string): ApprovalsDeps {
  const doc = makeDocumentClient();
  return {
    store: new ApprovalStore(doc, tableName),
    recorder: new AuditRecorder({ client: doc, tableName }),
    sfn: makeClient(SFNClient, { service: 'SFN' }),
    sts: makeClient(STSClient, { service: 'STS' }),
  };
}

export interface ApprovalsCommandOptions {
  readonly out?: (line: string) => void;
  /** Default {@link defaultApprovalsDeps}. */
  readonly deps?: (tableName: string) => ApprovalsDeps;
}

/** Adds `approvals list|approve|reject` to the console. */
export function registerApprovalsCommands(cli: Command, options: ApprovalsCommandOptions = {}): Command {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const depsFor = options.deps ?? defaultApprovalsDeps;
  const tableOf = (table: string | undefined): string =>
    table ?? process.env[ENV.tableName] ?? 'cordon-audit';
  const approvals = cli
    .command('approvals')
    .description('Approval requests: list them, or decide one as your IAM principal');
  approvals
    .command('list')
    .description('List approval requests (default: pending), newest first')
    .option('--status <status>', `one of ${APPROVAL_STATUSES.join(', ')}`, 'pending')
    .option('--table <name>', 'the audit table (default: $CORDON_TABLE_NAME or cordon-audit)')
    .action(async (opts: { status: string; table?: string }) => {
      if (!APPROVAL_STATUSES.includes(opts.status as ApprovalStatus)) {
        throw new ValidationError('--status', [
          `must be one of ${APPROVAL_STATUSES.join(', ')}, got "${opts.status}"`,
        ]);
      }
      const list = await listApprovals(depsFor(tableOf(opts.table)), {
        status: opts.status as ApprovalStatus,
      });
      for (const line of formatApprovals(list)) out(line);
    });
  approvals
    .command('approve <id>')
    .description('Approve a pending request (by request id), recorded as your IAM principal')
    .option('--reason <text>', 'why', '')
    .option('--table <name>', 'the audit table')
    .action(async (id: string, opts: { reason: string; table?: string }) => {
      const { request } = await approve(depsFor(tableOf(opts.table)), id, { reason: opts.reason });
      out(`approved ${request.action} on ${request.resource.id} as ${request.decidedBy ?? ''}`);
    });
  approvals
    .command('reject <id>')
    .description('Reject a pending request (by request id), recorded as your IAM principal')
    .requiredOption('--reason <text>', 'why (required)')
    .option('--table <name>', 'the audit table')
    .action(async (id: string, opts: { reason: string; table?: string }) => {
      const { request } = await reject(depsFor(tableOf(opts.table)), id, { reason: opts.reason });
      out(`rejected ${request.action} on ${request.resource.id} as ${request.decidedBy ?? ''}`);
    });
  return approvals;
}
