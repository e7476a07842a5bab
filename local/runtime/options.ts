/**
 * The local runtime's options, and what it derives from them and the template: the environment every
 * handler runs with, the local table's name for the template's tables, and who may decide from the console.
 */
import type { App, Stack } from 'aws-cdk-lib';
import * as z from 'zod/mini';
import { ENV } from '#shared/config';
import { APPROVAL_ENV, ApprovalSettingsSchema } from '../../functions/approval/config.ts';
import type { CordonStackProps } from '../../infra/cordon-stack.ts';
import type { EngineOptions, TemplateFunction } from '../engine/index.ts';
import type { AccountSeed } from '../sandbox/index.ts';
import type { OrganizationSeed } from '../sandbox/organization.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../store.ts';
import type { LocalTrust } from '../trust.ts';

export interface LocalRuntimeOptions {
  /** Where the record goes: a DynamoDB Local endpoint and the audit table on it. */
  readonly store: { readonly endpoint: string; readonly tableName: string };
  /** The app or stack whose playbooks run. Default: Cordon's own stack, built in-process. */
  readonly scope?: App | Stack;
  /** Props for Cordon's own stack when `scope` is not given (e.g. other settings). */
  readonly stack?: CordonStackProps;
  /**
   * The simulated account: the hub's home region, alone (the same as `organization: { hub: seed }`).
   * Default: an account with a default VPC only (or the organization `accountFile` holds).
   */
  readonly seed?: AccountSeed;
  /**
   * The simulated organization: the hub (whose home region `seed` may give instead), member accounts with
   * their regions and responder roles, and accounts outside it (local/sandbox/organization.ts). Members'
   * responder roles trust the stack's action roles and the organization's external id by default; when the
   * stack's settings name no organization, the stack gets one naming these members and regions
   * (local/runtime/organization.ts).
   */
  readonly organization?: OrganizationSeed;
  /**
   * A file that keeps the sandbox organization between commands: when it exists and neither `seed` nor
   * `organization` is given, the organization continues from the state it holds; on `close()` its whole
   * state is written to it, so that a later command (`cordon release --local` after `cordon run` or the
   * demo) acts on what this one left (local/runtime/account-file.ts). Ignored with `aws`.
   */
  readonly accountFile?: string;
  /** Drive the real AWS endpoints (default credential chain and endpoint settings) instead of a sandbox. */
  readonly aws?: boolean;
  /**
   * With `aws`: the account the credentials are of, and the region driven. The engine's ARNs, and the
   * functions' `AWS::AccountId` (their `CORDON_ACCOUNT`: the hub their actions act in with their own role),
   * then name them. Default the stack's environment, else the engine's placeholder account.
   */
  readonly awsPlace?: { readonly account: string; readonly region: string };
  /** The record key and anchor. Default: new ones, in memory (`cordon run` and the demo pass the state folder's). */
  readonly trust?: LocalTrust;
  /**
   * Enforce on each function's DynamoDB calls the IAM policy the template gives its role
   * (local/table-guard.ts), as DynamoDB does once deployed: a call its grant does not cover fails with
   * `AccessDeniedException`. The decision core behind the approval server is guarded as the decision
   * function, and the end of an execution as the playbook-ended function. Default true.
   */
  readonly tableGuard?: boolean;
  /** Factor on Wait states, timeouts and retry intervals. Default 1. */
  readonly waitScale?: number;
  readonly onEvent?: EngineOptions['onEvent'];
  readonly onTask?: EngineOptions['onTask'];
  /**
   * Serve the approval links on a loopback port and keep sent emails in an outbox folder (in this state
   * folder; default a new temporary one). Printed emails go to `print` (default: nowhere).
   *
   * With `operator` and `stateDir`, the server also serves the console route, as `operator` (an IAM
   * principal ARN: the person at the keyboard), to the bearers of a per-run secret that is written with the
   * server's URL to `<stateDir>/approval-server.json` (mode 0600) and removed on `close()`: what
   * `cordon approvals approve|reject --local` reads. The decision is held to the stack's
   * `settings.approval.consolePrincipals`, as deployed: list the operator there for it to decide.
   */
  readonly approvals?: {
    readonly stateDir?: string;
    readonly print?: (text: string) => void;
    readonly operator?: string;
  };
}

/** The functions the runtime runs in-process without the engine, by `cordon:entry`. */
export const DECISION_ENTRY = 'functions/approval/decide/handler.ts';
export const PLAYBOOK_ENDED_ENTRY = 'functions/playbook-ended/handler.ts';

/**
 * Who may decide from the console, as the deployed decision function reads it: from its environment's
 * approval settings. None when the template has no such function or its settings do not parse (every
 * console decision is then refused).
 */
export function consolePrincipalsOf(fn: TemplateFunction | undefined): readonly string[] {
  const raw = fn?.environment[APPROVAL_ENV.settings];
  if (raw === undefined) return [];
  try {
    const parsed = z.safeParse(ApprovalSettingsSchema, JSON.parse(raw));
    return parsed.success ? parsed.data.consolePrincipals : [];
  } catch {
    return [];
  }
}

/** Every table the template's functions are told to use is, locally, the store's table. */
export function localTableNames(
  functions: readonly TemplateFunction[],
  tableName: string,
): Record<string, string> {
  const names: Record<string, string> = {};
  for (const fn of functions) {
    const name = fn.environment[ENV.tableName];
    if (name !== undefined) names[name] = tableName;
  }
  return names;
}

/** The environment every handler runs with locally: the local table, and in sandbox mode local credentials. */
export function localEnv(
  options: LocalRuntimeOptions,
  trust: LocalTrust,
  approvalUrl?: string,
): Record<string, string> {
  const env: Record<string, string> = {
    [ENV.tableName]: options.store.tableName,
    ...trust.env,
    AWS_ENDPOINT_URL_DYNAMODB: options.store.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    CORDON_METRICS: 'off',
    ...(approvalUrl ? { [APPROVAL_ENV.baseUrl]: approvalUrl } : {}),
  };
  if (!options.aws) {
    Object.assign(env, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  }
  return env;
}
