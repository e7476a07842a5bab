/**
 * Cordon's domain: findings, incidents and the steps of the audit record, with their schemas.
 * Schemas use `zod/mini` (about 15 KB in a bundle against about 460 KB for full zod; see
 * ../shared/TOOLCHAIN.md) and are applied at the edges: events, stored items, command-line input. Each is
 * built the first time it is used, not at import (./lazy-schema.ts).
 */

import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { ValidationError } from './errors.ts';
import { lazySchema } from './lazy-schema.ts';

// zod/mini ships no messages of its own ("Invalid input"); English ones name what was expected. Only
// the English locale is imported: `z.locales` would bundle every language (about 280 KB). Setting it
// costs nothing measurable; building the schemas does, and each below is built on first use.
z.config(en());

const isoDate = lazySchema(() =>
  z.string().check(
    z.refine((value) => !Number.isNaN(Date.parse(value)) && /^\d{4}-\d{2}-\d{2}T/.test(value), {
      message: 'must be an ISO 8601 date-time',
    }),
  ),
);
const nonEmpty = lazySchema(() => z.string().check(z.minLength(1, 'must not be empty')));

export const RESOURCE_TYPES = [
  'instance',
  'access-key',
  'iam-user',
  'iam-role',
  's3-bucket',
  'eks-cluster',
  'ecs-cluster',
  'container',
  'rds-instance',
  'lambda-function',
  'other',
] as const;

/** A resource a finding names: the thing an action may act on. */
export const ResourceSchema = lazySchema(() =>
  z.object({
    type: z.enum(RESOURCE_TYPES),
    /** The resource's own id: `i-0abc...`, `AKIA...`, a role or bucket name. */
    id: nonEmpty,
    /** Extra facts from the finding (user type, user name, interface ids...). */
    details: z.optional(z.record(z.string(), z.unknown())),
  }),
);
export type Resource = z.infer<typeof ResourceSchema>;

export const FINDING_SOURCES = ['guardduty', 'cloudwatch', 'securityhub', 'manual'] as const;

/** A finding, normalized from whichever service reported it. */
export const FindingSchema = lazySchema(() =>
  z.object({
    /** The reporter's own id for the finding (GuardDuty's finding id, an alarm ARN and state time...). */
    id: nonEmpty,
    source: z.enum(FINDING_SOURCES),
    type: nonEmpty,
    title: z.optional(z.string()),
    /**
     * Severity on GuardDuty's scale, 0 to 10: Low 1.0-3.9, Medium 4.0-6.9, High 7.0-8.9, Critical 9.0-10.0
     * (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html).
     */
    severity: z.number().check(z.gte(0, 'must be at least 0'), z.lte(10, 'must be at most 10')),
    resources: z.array(ResourceSchema),
    account: z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id')),
    region: z
      .string()
      .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$|^local$/, 'must be an AWS region such as us-east-1')),
    firstSeen: isoDate,
    lastSeen: isoDate,
    /** How many times the reporter has seen it (GuardDuty's `service.count`). */
    count: z.optional(z.number().check(z.int(), z.gte(1))),
    /** A sample or test finding: the pipeline is rehearsed, nothing real is at stake. */
    sample: z.optional(z.boolean()),
    /** The event as it arrived, for the record. */
    raw: z.optional(z.unknown()),
  }),
);
export type Finding = z.infer<typeof FindingSchema>;

/**
 * `failed`: a playbook ended in failure and the incident needs a person's attention (it is not contained
 * by Cordon, or only in part); `closed`: a person closed it (`cordon incidents close`).
 */
export const INCIDENT_STATUSES = ['open', 'contained', 'recovered', 'failed', 'closed'] as const;

/**
 * Why an incident is not a real one: `sample` (a sample or test finding), `dry-run` (nothing was
 * changed), `rehearsal` (opened on the local runtime: `cordon run`, the demo). Set at opening, never after.
 */
export const REHEARSAL_KINDS = ['sample', 'dry-run', 'rehearsal'] as const;
export type RehearsalKind = (typeof REHEARSAL_KINDS)[number];
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];

/** An incident: one or more findings on the same resources, handled by one playbook run. */
export const IncidentSchema = lazySchema(() =>
  z.object({
    id: nonEmpty,
    status: z.enum(INCIDENT_STATUSES),
    title: nonEmpty,
    findingType: nonEmpty,
    severity: z.number().check(z.gte(0, 'must be at least 0'), z.lte(10, 'must be at most 10')),
    account: z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id')),
    region: nonEmpty,
    resources: z.array(ResourceSchema).check(z.minLength(1, 'must name at least one resource')),
    playbook: z.optional(z.string()),
    openedAt: isoDate,
    firstSeen: isoDate,
    lastSeen: isoDate,
    containedAt: z.optional(isoDate),
    recoveredAt: z.optional(isoDate),
    closedAt: z.optional(isoDate),
    /** Set when the incident is a rehearsal, a dry run or a sample finding's: not counted by `stats`. */
    rehearsal: z.optional(z.enum(REHEARSAL_KINDS)),
    /** Who handles it now (`cordon incidents assign`). */
    assignee: z.optional(z.string()),
  }),
);
export type Incident = z.infer<typeof IncidentSchema>;

export const PHASES = [
  'preparation',
  'identification',
  'containment',
  'evidence',
  'eradication',
  'recovery',
  'lessons-learned',
] as const;
export type Phase = (typeof PHASES)[number];

/**
 * What a step changed on its incident's item: the item's mutable fields change only through a step that
 * says so, so that `verify` can recompute the item from the incident's opening and its chain.
 */
export const IncidentChangesSchema = lazySchema(() =>
  z.partial(
    z.pick(IncidentSchema, {
      status: true,
      playbook: true,
      lastSeen: true,
      containedAt: true,
      recoveredAt: true,
      closedAt: true,
      assignee: true,
    }),
  ),
);
export type IncidentChanges = z.infer<typeof IncidentChangesSchema>;

/** The incident fields a step may change, in the order `verify` names them. */
export const MUTABLE_INCIDENT_FIELDS = [
  'status',
  'playbook',
  'lastSeen',
  'containedAt',
  'recoveredAt',
  'closedAt',
  'assignee',
] as const satisfies readonly (keyof IncidentChanges)[];

export const STEP_STATUSES = ['started', 'succeeded', 'failed', 'skipped', 'already-done', 'noted'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

/** What a caller supplies to append a step; the recorder adds the sequence number, times and hashes. */
export const StepInputSchema = lazySchema(() =>
  z.object({
    phase: z.enum(PHASES),
    action: nonEmpty,
    status: z.enum(STEP_STATUSES),
    /** `automation`, or the address or IAM principal of the person who acted. */
    actor: nonEmpty,
    input: z.optional(z.unknown()),
    /** The resource's state before anything changed, so that it can be restored exactly. */
    before: z.optional(z.unknown()),
    /** What changed, or with `dryRun` what would have. */
    changes: z.optional(z.unknown()),
    /** What the action handed to the next states (chosen recovery point, snapshot ids, times). */
    output: z.optional(z.unknown()),
    /** Ids of evidence: snapshots, restore jobs, console output keys. */
    evidence: z.optional(z.array(z.string())),
    error: z.optional(z.object({ name: nonEmpty, message: z.string() })),
    note: z.optional(z.string()),
    /** The step this one finishes (the `started` step's sequence number). */
    startedSeq: z.optional(z.number().check(z.int(), z.gte(1))),
    startedAt: z.optional(isoDate),
    executionArn: z.optional(z.string()),
    dryRun: z.optional(z.boolean()),
    /** What this step changed on the incident's item (status, times), written with the step in one transaction. */
    incident: z.optional(IncidentChangesSchema),
    /**
     * The account and region the step is in: its incident's. The recorder stamps them on every step it writes
     * (a caller need not give them; one that gives another incident's place is refused).
     */
    account: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))),
    region: z.optional(nonEmpty),
  }),
);
export type StepInput = z.infer<typeof StepInputSchema>;

/** A step as stored: the input plus its place in the incident's hash chain. */
export interface Step extends StepInput {
  incidentId: string;
  seq: number;
  /** When the work began; for a step that records a point in time, when it was recorded. */
  startedAt: string;
  /** When the step was recorded. */
  recordedAt: string;
  prevHash: string;
  hash: string;
  /** The record key's MAC of the step's place and hash (absent only on a step written without the key). */
  mac?: string;
}

/** Formats a schema's issues as `path: message`, the path dotted (`resources.0.id: must not be empty`). */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return `${path === '' ? '(root)' : path}: ${issue.message}`;
  });
}

/** Parses `value` with `schema`, or throws a {@link ValidationError} naming each bad field. */
export function parseOrThrow<T>(schema: z.ZodMiniType<T>, value: unknown, what: string): T {
  const result = z.safeParse(schema, value);
  if (!result.success) throw new ValidationError(what, describeIssues(result.error.issues));
  return result.data;
}
