/**
 * `cordon approvals list|approve|reject`: approvals from a terminal. `<id>` is the request id (not a link
 * id). A decision is never written by the console itself: it asks Cordon's decision function to decide as
 * the caller's IAM principal (cli/console-decisions.ts), through the same checks and Step Functions
 * callback as a link, and it is recorded as that principal. With `--local`, the decision goes to the
 * console route of the `cordon run` waiting in the state folder, which decides as its operator (the person
 * at the keyboard); with no run waiting there, the command says so and exits 1. The commands take the console's options
 * (`--local`, `--state-dir`, `--table`, `--region`, `--profile`, `--endpoint`, `--output`) as
 * `incidents list` does.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import type { Command } from 'commander';
import { makeClient } from '#shared/clients';
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
import { stateDir } from '../../local/state.ts';
import { checkUrl, connect, translateReadError } from '../connection.ts';
import {
  type ConsoleDecider,
  httpDecider,
  localDecider,
  regionOfApi,
  runDecider,
  waitingRun,
} from '../console-decisions.ts';
import { type CommonFlags, connectionFlags, parseLimit, withCommonOptions } from '../context.ts';
import { type Column, type ConsoleIO, csv, json, printList, processIO, resolveFormat } from '../output.ts';

export interface ApprovalsDeps {
  readonly store: ApprovalStore;
  readonly decider: ConsoleDecider;
  /** Where the requests are, for messages: `table cordon-audit in us-east-1`. */
  readonly where?: string;
  /** Closes the connection (and a local store this command started). */
  readonly close?: () => Promise<void>;
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

/** The columns of a table or CSV of requests. */
export const APPROVAL_COLUMNS: readonly Column<ApprovalRequest>[] = [
  { header: 'request', cell: (r) => r.requestId },
  { header: 'status', cell: (r) => r.status },
  { header: 'action', cell: (r) => `${r.action} on ${r.resource.id}` },
  { header: 'incident', cell: (r) => r.incidentId },
  {
    header: 'until / decided',
    cell: (r) =>
      r.status === 'pending' ? `until ${r.expiresAt}` : `${r.decision ?? ''} by ${r.decidedBy ?? ''}`,
  },
  { header: 'approvers', cell: (r) => r.approvers.join(', ') },
];

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

/** The flags of `approvals list|approve|reject`: the console's connection and output flags, and the API. */
export interface ApprovalsFlags extends CommonFlags {
  /** The approval API for decisions (default `$CORDON_APPROVAL_URL` or the stack's `ApprovalUrl` output). */
  readonly apiUrl?: string;
}

/**
 * The requests' store on the connection the flags describe (`--local`, or AWS with `--table`, `--region`,
 * `--profile`, `--endpoint`), and a decider: on AWS the console route of the approval API, signed with the
 * same profile; on `--local` the console route of the `cordon run` waiting in the state folder, found
 * (for a decision) before the store opens, so that a folder where no run waits says so at once.
 */
export async function defaultApprovalsDeps(
  flags: ApprovalsFlags,
  purpose: ApprovalsPurpose = 'list',
): Promise<ApprovalsDeps> {
  const dir = flags.stateDir ?? stateDir();
  const run = flags.local && purpose === 'decide' ? await waitingRun(dir) : undefined;
  const connection = await connect(connectionFlags(flags));
  const decider: ConsoleDecider = flags.local
    ? lazyDecider(async () => runDecider(dir, run ?? (await waitingRun(dir))))
    : lazyDecider(() => {
        const url = approvalUrl(flags.apiUrl);
        checkUrl(flags.apiUrl === undefined ? 'the approval API URL' : '--api-url', url);
        const region = regionOfApi(url) ?? flags.region ?? process.env.AWS_REGION;
        return httpDecider(url, {
          ...(region ? { region } : {}),
          ...(flags.profile ? { profile: flags.profile } : {}),
        });
      });
  return {
    store: new ApprovalStore(connection.documents, connection.tableName),
    decider,
    where: connection.where,
    close: () => connection.close(),
  };
}

/** A decider made on first use: `approvals list` needs none. */
function lazyDecider(make: () => ConsoleDecider | Promise<ConsoleDecider>): ConsoleDecider {
  let made: Promise<ConsoleDecider> | undefined;
  return {
    decide: async (...args) => {
      made = made ?? Promise.resolve().then(make);
      return (await made).decide(...args);
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
  /** Where results go, one line per call; a table unless `--output` says otherwise. Default: stdout. */
  readonly out?: (line: string) => void;
  /** Where results and hints go (default the process's stdout and stderr); `out` overrides it. */
  readonly io?: ConsoleIO;
  /** Default {@link defaultApprovalsDeps}. */
  readonly deps?: (
    flags: ApprovalsFlags,
    purpose: ApprovalsPurpose,
  ) => ApprovalsDeps | Promise<ApprovalsDeps>;
}

/** What the deps are for: a decision needs a decider (with `--local`, a `cordon run` that waits). */
export type ApprovalsPurpose = 'list' | 'decide';

/** Opens the deps, runs `work`, says where a read failed (as the other console commands do), closes. */
async function withApprovals<T>(
  depsFor: NonNullable<ApprovalsCommandOptions['deps']>,
  flags: ApprovalsFlags,
  purpose: ApprovalsPurpose,
  work: (deps: ApprovalsDeps) => Promise<T>,
): Promise<T> {
  const deps = await depsFor(flags, purpose);
  try {
    return await work(deps);
  } catch (error) {
    throw translateReadError(error, deps.where ?? 'the approval requests');
  } finally {
    await deps.close?.();
  }
}

/** The console's flags, and the approval API for a decision. */
function withApprovalOptions(command: Command, decides: boolean): Command {
  withCommonOptions(command);
  if (decides) {
    command.option(
      '--api-url <url>',
      'the approval API a decision goes to (default: $CORDON_APPROVAL_URL or the ApprovalUrl output in cdk-outputs.json)',
    );
  }
  return command;
}

/** Adds `approvals list|approve|reject` to the console. */
export function registerApprovalsCommands(cli: Command, options: ApprovalsCommandOptions = {}): Command {
  const out = options.out;
  const io: ConsoleIO = out
    ? {
        out: (text) => {
          for (const line of text.replace(/\n$/, '').split('\n')) out(line);
        },
        err: processIO.err,
        isTTY: true,
      }
    : (options.io ?? processIO);
  const depsFor = options.deps ?? defaultApprovalsDeps;
  const approvals = cli
    .command('approvals')
    .description(
      'Approval requests: list them, or decide one as your IAM principal (through the approval API, never by writing the table)',
    );
  withApprovalOptions(
    approvals
      .command('list')
      .description(
        'List approval requests (default: pending), newest first: one Query on the by-status index',
      )
      .option('--status <status>', `one of ${APPROVAL_STATUSES.join(', ')}`, 'pending')
      .option('--limit <n>', 'at most this many requests (1 to 1000)', '100'),
    false,
  ).action(async (opts: ApprovalsFlags & { status: string; limit: string }) => {
    if (!APPROVAL_STATUSES.includes(opts.status as ApprovalStatus)) {
      throw new ValidationError('--status', [
        `must be one of ${APPROVAL_STATUSES.join(', ')}, got "${opts.status}"`,
      ]);
    }
    const format = resolveFormat(opts.output, io.isTTY);
    const limit = parseLimit(opts.limit, 100);
    const list = await withApprovals(depsFor, opts, 'list', (deps) =>
      listApprovals(deps, { status: opts.status as ApprovalStatus, limit }),
    );
    printList(io, format, {
      key: 'approvals',
      rows: list,
      columns: APPROVAL_COLUMNS,
      empty: 'No approval requests.',
    });
  });
  const printDecision = (opts: ApprovalsFlags, decided: { request: ApprovalRequest; message: string }) => {
    const { request } = decided;
    const format = resolveFormat(opts.output, io.isTTY);
    if (format === 'json') io.out(json(decided));
    else if (format === 'csv') io.out(csv([request], APPROVAL_COLUMNS));
    else {
      const verb = request.decision === 'reject' ? 'rejected' : 'approved';
      io.out(`${verb} ${request.action} on ${request.resource.id} as ${request.decidedBy ?? ''}`);
    }
  };
  withApprovalOptions(
    approvals
      .command('approve <id>')
      .description('Approve a pending request (by request id), recorded as your IAM principal')
      .option('--reason <text>', 'why (recorded with the decision)', ''),
    true,
  ).action(async (id: string, opts: ApprovalsFlags & { reason: string }) => {
    resolveFormat(opts.output, io.isTTY);
    const decided = await withApprovals(depsFor, opts, 'decide', (deps) =>
      approve(deps, id, { reason: opts.reason }),
    );
    printDecision(opts, decided);
  });
  withApprovalOptions(
    approvals
      .command('reject <id>')
      .description(
        'Reject a pending request (by request id), recorded as your IAM principal; a reason is required',
      )
      .requiredOption('--reason <text>', 'why (required, recorded with the decision)'),
    true,
  ).action(async (id: string, opts: ApprovalsFlags & { reason: string }) => {
    resolveFormat(opts.output, io.isTTY);
    const decided = await withApprovals(depsFor, opts, 'decide', (deps) =>
      reject(deps, id, { reason: opts.reason }),
    );
    printDecision(opts, decided);
  });
  return approvals;
}
