/**
 * `cordon approvals list|approve|reject`: approvals from a terminal. `<id>` is the request id (not a link
 * id). A decision is never written by the console itself: it asks Cordon's decision function to decide as
 * the caller's IAM principal (cli/console-decisions.ts), through the same checks and Step Functions
 * callback as a link, and it is recorded as that principal.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import type { Command } from 'commander';
import { makeClient } from '#shared/clients';
import { ENV } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { ValidationError } from '#shared/errors';
import type { DecideDeps } from '../../functions/approval/decide/core.ts';
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
import { type ConsoleDecider, httpDecider, localDecider } from '../console-decisions.ts';

export interface ApprovalsDeps {
  readonly store: ApprovalStore;
  readonly decider: ConsoleDecider;
}

/** Requests with a status (default `pending`), newest first: one Query on the by-status index. */
export async function listApprovals(
  deps: Pick<ApprovalsDeps, 'store'>,
  options: { status?: ApprovalStatus; limit?: number } = {},
): Promise<ApprovalRequest[]> {
  return (await deps.store.byStatus(options.status ?? 'pending', options.limit ?? 100)).map(publicView);
}

async function decide(
  deps: ApprovalsDeps,
  requestId: string,
  decision: Decision,
  reason: string,
): Promise<{ request: ApprovalRequest; message: string }> {
  const { status, body } = await deps.decider.decide(requestId, decision, reason.trim().slice(0, 1000));
  switch (body.outcome) {
    case 'decided':
      if (!body.request) throw new Error(`the decision function answered ${status} with no request`);
      return { request: body.request, message: body.message };
    case 'not-found':
      throw new ApprovalNotFoundError(body.message);
    case 'late':
    case 'undelivered':
      throw new ApprovalTaskGoneError(`approval request ${requestId}: ${body.message}`);
    default:
      throw new ApprovalClosedError(body.message);
  }
}

/** Approves a pending request as the caller's IAM principal. */
export function approve(
  deps: ApprovalsDeps,
  requestId: string,
  options: { reason?: string } = {},
): Promise<{ request: ApprovalRequest; message: string }> {
  return decide(deps, requestId, 'approve', options.reason ?? '');
}

/** Rejects a pending request as the caller's IAM principal; a reason is required. */
export function reject(
  deps: ApprovalsDeps,
  requestId: string,
  options: { reason: string },
): Promise<{ request: ApprovalRequest; message: string }> {
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

/** The console route's base URL: `--api-url`, `$CORDON_APPROVAL_URL`, or the stack's `ApprovalUrl` output. */
function approvalUrl(explicit: string | undefined): string {
  const url = explicit ?? process.env.CORDON_APPROVAL_URL ?? stackOutput('ApprovalUrl');
  if (!url) {
    throw new ValidationError('--api-url', [
      'the approval API is unknown: pass --api-url, set CORDON_APPROVAL_URL, or keep the cdk-outputs.json of `cdk deploy --outputs-file cdk-outputs.json`',
    ]);
  }
  return url;
}

function stackOutput(key: string): string | undefined {
  try {
    const outputs = JSON.parse(readFileSync(join(process.cwd(), 'cdk-outputs.json'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    const value = outputs.Cordon?.[key];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Clients from the default credential chain and endpoint settings, on the named table. */
export function defaultApprovalsDeps(tableName: string, apiUrl?: string): ApprovalsDeps {
  const doc = makeDocumentClient();
  return {
    store: new ApprovalStore(doc, tableName),
    decider: lazyDecider(() => httpDecider(approvalUrl(apiUrl))),
  };
}

/** A decider made on first use: `approvals list` needs none. */
function lazyDecider(make: () => ConsoleDecider): ConsoleDecider {
  let made: ConsoleDecider | undefined;
  return {
    decide: (...args) => {
      made = made ?? make();
      return made.decide(...args);
    },
  };
}

/** The local runtime's decider, in-process: the record key is the state folder's (used by `cordon run`). */
export function localApprovalsDeps(
  deps: Omit<DecideDeps, 'sfn'> & { sfn?: DecideDeps['sfn'] },
): ApprovalsDeps {
  const sts = makeClient(STSClient, { service: 'STS' });
  const decideDeps: DecideDeps = { ...deps, sfn: deps.sfn ?? makeClient(SFNClient, { service: 'SFN' }) };
  return { store: deps.store, decider: localDecider(decideDeps, sts) };
}

export interface ApprovalsCommandOptions {
  readonly out?: (line: string) => void;
  /** Default {@link defaultApprovalsDeps}. */
  readonly deps?: (tableName: string, apiUrl?: string) => ApprovalsDeps;
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
    .option(
      '--api-url <url>',
      'the approval API (default: $CORDON_APPROVAL_URL or the ApprovalUrl output in cdk-outputs.json)',
    )
    .action(async (id: string, opts: { reason: string; table?: string; apiUrl?: string }) => {
      const { request } = await approve(depsFor(tableOf(opts.table), opts.apiUrl), id, {
        reason: opts.reason,
      });
      out(`approved ${request.action} on ${request.resource.id} as ${request.decidedBy ?? ''}`);
    });
  approvals
    .command('reject <id>')
    .description('Reject a pending request (by request id), recorded as your IAM principal')
    .requiredOption('--reason <text>', 'why (required)')
    .option('--table <name>', 'the audit table')
    .option(
      '--api-url <url>',
      'the approval API (default: $CORDON_APPROVAL_URL or the ApprovalUrl output in cdk-outputs.json)',
    )
    .action(async (id: string, opts: { reason: string; table?: string; apiUrl?: string }) => {
      const { request } = await reject(depsFor(tableOf(opts.table), opts.apiUrl), id, {
        reason: opts.reason,
      });
      out(`rejected ${request.action} on ${request.resource.id} as ${request.decidedBy ?? ''}`);
    });
  return approvals;
}
