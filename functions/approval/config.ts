/**
 * The approval functions' configuration, read once at cold start: who approves, the sender, who may decide
 * from the console, and the decision API's public base URL. The stack sets these from `cordon.config.ts`
 * and the API.
 */
import * as z from 'zod/mini';
import { type AuditConfig, readAuditConfig, requireEnv } from '#shared/config';
import { describeIssues } from '#shared/domain';
import { ConfigError } from '#shared/errors';
import { ConsolePrincipalSchema } from '#shared/settings';

type Env = Readonly<Record<string, string | undefined>>;

/** The environment variables the approval functions read. */
export const APPROVAL_ENV = {
  /** JSON `{ "approvers": [...], "sender": "...", "consolePrincipals": [...] }`, the approval part of the settings. */
  settings: 'CORDON_APPROVAL_SETTINGS',
  /** The decision API's base URL, e.g. `https://abc123.execute-api.eu-west-1.amazonaws.com`. */
  baseUrl: 'CORDON_APPROVAL_BASE_URL',
} as const;

const email = z.string().check(z.regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'must be an email address'));

export const ApprovalSettingsSchema = z.object({
  approvers: z.array(email).check(z.minLength(1, 'must list at least one approver')),
  sender: email,
  /** `settings.approval.consolePrincipals`: who may decide from the console. Default none. */
  consolePrincipals: z._default(z.array(ConsolePrincipalSchema), []),
});
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
  const parsed = z.safeParse(ApprovalSettingsSchema, json);
  if (!parsed.success) {
    throw new ConfigError(
      `${APPROVAL_ENV.settings} is invalid: ${describeIssues(parsed.error.issues).join('; ')}`,
    );
  }
  return { ...audit, ...parsed.data };
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
