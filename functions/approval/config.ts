/**
 * The approval functions' configuration, read once at cold start: who approves, the sender, who may decide
 * from the console, and the decision API's public base URL. The stack sets these from `cordon.config.ts`
 * and the API.
 */
import * as z from 'zod/mini';
import { type AuditConfig, readAuditConfig, requireEnv } from '#shared/config';
import { ConfigError } from '#shared/errors';
import { lazySchema } from '#shared/lazy-schema';
import { ConsolePrincipalSchema, consolePrincipalProblem, EMAIL } from '#shared/settings';

type Env = Readonly<Record<string, string | undefined>>;

/** The environment variables the approval functions read. */
export const APPROVAL_ENV = {
  /** JSON `{ "approvers": [...], "sender": "...", "consolePrincipals": [...] }`, the approval part of the settings. */
  settings: 'CORDON_APPROVAL_SETTINGS',
  /** The decision API's base URL, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com`. */
  baseUrl: 'CORDON_APPROVAL_BASE_URL',
} as const;

const email = lazySchema(() => z.string().check(z.regex(EMAIL, 'must be an email address')));

/** The approval part of the settings, as a schema (the local runtime's options read it). */
export const ApprovalSettingsSchema = lazySchema(() =>
  z.object({
    approvers: z.array(email).check(z.minLength(1, 'must list at least one approver')),
    sender: email,
    /** `settings.approval.consolePrincipals`: who may decide from the console. Default none. */
    consolePrincipals: z._default(z.array(ConsolePrincipalSchema), []),
  }),
);
export type ApprovalSettings = z.infer<typeof ApprovalSettingsSchema>;

export interface ApprovalConfig extends ApprovalSettings, AuditConfig {}

export interface ApprovalRequestConfig extends ApprovalConfig {
  readonly baseUrl: string;
}

/** Reads the approvers, the sender and the console's principals (the timeout, decision and check functions' needs). */
export function readApprovalConfig(env: Env = process.env): ApprovalConfig {
  const audit = readAuditConfig(env);
  const raw = requireEnv(APPROVAL_ENV.settings, env);
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${APPROVAL_ENV.settings} must be JSON, got "${raw.slice(0, 80)}"`);
  }
  const issues: string[] = [];
  const settings = checkApprovalSettings(json, issues);
  if (settings === undefined) {
    throw new ConfigError(`${APPROVAL_ENV.settings} is invalid: ${issues.join('; ')}`);
  }
  return { ...audit, ...settings };
}

/**
 * {@link ApprovalSettingsSchema}'s check by hand, for the cold start: three fields, read when each
 * approval function loads, and a zod schema would cost that load more than the rest of its configuration.
 * Pushes `path: problem` for each bad field (`approvers.1: must be an email address`); returns the
 * settings, defaults applied and nothing else kept, when there is none.
 */
export function checkApprovalSettings(value: unknown, issues: string[]): ApprovalSettings | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    issues.push('(root): must be an object');
    return undefined;
  }
  const given = value as Record<string, unknown>;
  const field = (key: string): unknown => (Object.hasOwn(given, key) ? given[key] : undefined);
  const strings = (key: string, check: (item: string) => string | undefined, min: string | undefined) => {
    const list = field(key);
    if (list === undefined && min === undefined) return [];
    if (!Array.isArray(list)) {
      issues.push(`${key}: must be a list`);
      return [];
    }
    if (min !== undefined && list.length === 0) issues.push(`${key}: ${min}`);
    list.forEach((item, i) => {
      const problem = typeof item === 'string' ? check(item) : 'must be a string';
      if (problem !== undefined) issues.push(`${key}.${i}: ${problem}`);
    });
    return list as string[];
  };
  const isEmail = (item: string) => (EMAIL.test(item) ? undefined : 'must be an email address');
  const approvers = strings('approvers', isEmail, 'must list at least one approver');
  const sender = field('sender');
  if (typeof sender !== 'string' || !EMAIL.test(sender)) issues.push('sender: must be an email address');
  const consolePrincipals = strings('consolePrincipals', consolePrincipalProblem, undefined);
  if (issues.length > 0) return undefined;
  return { approvers: [...approvers], sender: sender as string, consolePrincipals: [...consolePrincipals] };
}

/** Reads everything the request function needs, the decision API's base URL included. */
export function readApprovalRequestConfig(env: Env = process.env): ApprovalRequestConfig {
  const config = readApprovalConfig(env);
  const baseUrl = requireEnv(APPROVAL_ENV.baseUrl, env);
  if (
    !/^https:\/\/[^\s/]+(\/\S*)?$/.test(baseUrl) &&
    !/^http:\/\/(127\.0\.0\.1|localhost)(:\d+)?(\/\S*)?$/.test(baseUrl)
  ) {
    throw new ConfigError(
      `${APPROVAL_ENV.baseUrl} must be an https URL (or http on the loopback address), got "${baseUrl}"`,
    );
  }
  return { ...config, baseUrl: baseUrl.replace(/\/+$/, '') };
}
