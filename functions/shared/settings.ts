/**
 * Cordon's settings: the one typed configuration file a team edits to prepare (`cordon.config.ts` at the
 * repository's root). The stack validates it at synth and hands each function the part it needs, as
 * JSON in an environment variable, validated again at cold start with the same schema.
 */
import * as z from 'zod/mini';
import { parseOrThrow } from './domain.ts';

export const PLAYBOOK_MODES = ['automatic', 'approval-first', 'dry-run'] as const;
export type PlaybookMode = (typeof PLAYBOOK_MODES)[number];

const email = z.string().check(z.regex(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'must be an email address'));

export const SettingsSchema = z.object({
  /** Who decides the risky steps: each gets a link of their own. */
  approvers: z.array(email).check(z.minLength(1, 'must list at least one approver')),
  /** The SES-verified address approval emails come from. */
  sender: email,
  /** Findings below this GuardDuty severity start nothing. Default 4 (Medium). */
  severityThreshold: z._default(z.number().check(z.gte(0), z.lte(10)), 4),
  /** Resources with this tag are never acted on without approval. */
  protectedTag: z._default(z.object({ key: z.string(), value: z.string() }), {
    key: 'cordon:protected',
    value: 'true',
  }),
  /**
   * At most this many automatic containments per account per hour; past it every containment waits for
   * approval, so that a storm of false or forged findings cannot take down a fleet. Default 5.
   */
  maxAutomaticContainmentsPerHour: z._default(z.number().check(z.int(), z.gte(0)), 5),
  /** The mode of each playbook; unlisted playbooks are `approval-first`. */
  playbookModes: z._default(z.record(z.string(), z.enum(PLAYBOOK_MODES)), {}),
  /** Findings to ignore: every given field must match. */
  suppressions: z._default(
    z.array(
      z.object({
        findingType: z.optional(z.string()),
        account: z.optional(z.string()),
        /** `key=value` */
        resourceTag: z.optional(z.string()),
        reason: z.string().check(z.minLength(1, 'must say why')),
      }),
    ),
    [],
  ),
  /** CloudWatch alarms that start a playbook, matched by exact name or prefix; the resource comes from a dimension or is given. */
  alarms: z._default(
    z.array(
      z.object({
        name: z.optional(z.string()),
        prefix: z.optional(z.string()),
        playbook: z.string(),
        resourceType: z._default(z.string(), 'instance'),
        /** For alarms with no dimension naming the resource (composite alarms). */
        resourceId: z.optional(z.string()),
        severity: z._default(z.number().check(z.gte(0), z.lte(10)), 7),
      }),
    ),
    [],
  ),
  /** Security Hub products whose imported findings start playbooks, as `company/product`. */
  securityHubProducts: z._default(z.array(z.string()), []),
  approval: z._default(
    z.object({
      /** How long a link works and the gate waits. Default 60 minutes. */
      timeoutMinutes: z._default(z.number().check(z.int(), z.gte(1), z.lte(60 * 24 * 7)), 60),
    }),
    { timeoutMinutes: 60 },
  ),
});
export type Settings = z.infer<typeof SettingsSchema>;
export type SettingsInput = z.input<typeof SettingsSchema>;

/** Validates settings, applying defaults; throws a ValidationError naming each bad field. */
export function parseSettings(value: unknown): Settings {
  return parseOrThrow(SettingsSchema, value, 'settings');
}

/** Identity helper for `cordon.config.ts`, for type checking and completion. */
export function defineSettings(settings: SettingsInput): SettingsInput {
  return settings;
}
