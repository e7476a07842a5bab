/**
 * The contract between a playbook and its action functions: the event every action receives and the
 * result it returns. The audit middleware records both.
 */
import * as z from 'zod/mini';
import type { IncidentChanges } from './domain.ts';
import { lazySchema } from './lazy-schema.ts';

/** What every action receives from the playbook, besides its own fields. */
export const ActionEventSchema = lazySchema(() =>
  z.looseObject({
    incidentId: z.string().check(z.minLength(1, 'must not be empty')),
    /** `$$.Execution.Id`, so that each step points at the run that made it. */
    executionArn: z.optional(z.string()),
    /** Report what would be done and change nothing. */
    dryRun: z.optional(z.boolean()),
    /**
     * Where the incident is (the finding's account and region, `$.finding` of the execution input): the
     * action acts there. Absent: the hub's (the account and region Cordon is deployed in).
     */
    account: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))),
    region: z.optional(
      z.string().check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$|^local$/, 'must be an AWS region such as us-east-1')),
    ),
  }),
);
export type ActionEvent = z.infer<typeof ActionEventSchema>;

/**
 * What an action returns. `already-done` is an idempotent repeat that changed nothing; `skipped` is a
 * deliberate decision not to act, with its reason in `note`.
 */
export interface ActionResult {
  status: 'succeeded' | 'already-done' | 'skipped';
  /** The resource's state before the action changed anything. */
  before?: unknown;
  /** What changed (or, with `dryRun`, what would have). */
  changes?: unknown;
  evidence?: string[];
  note?: string;
  dryRun?: boolean;
  /** Anything the next states of the playbook need. */
  output?: Record<string, unknown>;
  /**
   * What the action changes on its incident (status, times): the audit middleware writes it with the
   * action's final step, in one transaction, so the incident never says what its record does not.
   */
  incident?: IncidentChanges;
}
