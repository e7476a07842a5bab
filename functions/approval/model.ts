/**
 * The approval gate's data: what the gate sends the request function, what is stored, and what a
 * decision is. Parsed at the edges with `zod/mini`.
 */
import * as z from 'zod/mini';
import { PHASES, type RehearsalKind, ResourceSchema } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';

export const DECISIONS = ['approve', 'reject'] as const;
/** What a person (or the timeout's default) decides. */
export type Decision = (typeof DECISIONS)[number];

export const APPROVAL_STATUSES = ['pending', 'approved', 'rejected', 'expired', 'failed'] as const;
/** `expired` is a timeout (its default decision applied); `failed` is a request whose emails could not go. */
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

const nonEmpty = lazySchema(() => z.string().check(z.minLength(1, 'must not be empty')));

/** What the approver reads: what happened, what Cordon did, and what it asks to do next. */
export const ApprovalSummarySchema = lazySchema(() =>
  z.object({
    happened: nonEmpty,
    done: nonEmpty,
    asks: nonEmpty,
  }),
);
export type ApprovalSummary = z.infer<typeof ApprovalSummarySchema>;

const isoTime = lazySchema(() =>
  z
    .string()
    .check(
      z.refine(
        (v) => /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v)),
        'must be an ISO 8601 time',
      ),
    ),
);

/** A recovery point a restore would use: its ARN and when AWS Backup created it. */
export const RecoveryPointSchema = lazySchema(() =>
  z.object({
    arn: nonEmpty,
    createdAt: z.optional(z.string()),
    vaultName: z.optional(z.string()),
  }),
);
export type RecoveryPoint = z.infer<typeof RecoveryPointSchema>;

/** The payload of the gate's `.waitForTaskToken` task. */
export const ApprovalRequestEventSchema = lazySchema(() =>
  z.object({
    taskToken: z.string().check(z.minLength(1, 'must not be empty')),
    incidentId: nonEmpty,
    executionArn: nonEmpty,
    /**
     * When the gate was entered (the `$$.State.EnteredTime` of its first state, just before its task): its
     * deadline, and so every link's expiry, counts from here, never from when the request function happened
     * to run. It is recorded with the request, and the gate's timeout and check name it again: with the
     * execution and the gate, it tells this task's request from any other.
     */
    enteredTime: isoTime,
    /** The gate's state name: with the execution, it finds the request again when the gate times out. */
    gate: nonEmpty,
    /** The action that waits for approval, e.g. `terminate-instance`. */
    action: nonEmpty,
    phase: z._default(z.enum(PHASES), 'eradication'),
    resource: ResourceSchema,
    summary: ApprovalSummarySchema,
    timeoutSeconds: z.number().check(z.int(), z.gte(60, 'must be at least 60'), z.lte(7 * 24 * 3600)),
    defaultDecision: z._default(z.enum(DECISIONS), 'reject'),
    /** Why a person decides: the router's reasons (a blast-radius limit reached, a protected resource...). */
    reasons: z._default(z.array(z.string()), []),
    /** For a restore: the recovery point it would restore (chosen before the gate), shown to the approver. */
    recoveryPoint: z.optional(RecoveryPointSchema),
  }),
);
export type ApprovalRequestEvent = z.infer<typeof ApprovalRequestEventSchema>;

/**
 * The payload of the gate's timeout task (its `Catch` on `States.Timeout`) and of its check: which gate
 * task, and the gate's own default decision, fixed in the state machine. The record's request must be that
 * task's and state that default; the state machine routes on what these functions return.
 */
export const ApprovalTimeoutEventSchema = lazySchema(() =>
  z.looseObject({
    incidentId: nonEmpty,
    executionArn: nonEmpty,
    gate: nonEmpty,
    /** When the gate was entered, as its task's request recorded it. */
    enteredTime: isoTime,
    defaultDecision: z.enum(DECISIONS),
  }),
);
export type ApprovalTimeoutEvent = z.infer<typeof ApprovalTimeoutEventSchema>;

/** What the finding says happened, as normalization kept it in the resource's details. */
export interface Evidence {
  /** The remote side's addresses. */
  readonly remoteIps?: readonly string[];
  /** The domain queried (a DNS finding). */
  readonly domain?: string;
  /** The API called (an API-call finding). */
  readonly api?: string;
  /** The kind of action GuardDuty saw: `NETWORK_CONNECTION`, `AWS_API_CALL`, `DNS_REQUEST`... */
  readonly actionType?: string;
  /** How many times the reporter saw it. */
  readonly count?: number;
}

/** The finding facts an email and the decision page show, read from the incident (its verified record's). */
export interface FindingFacts {
  readonly findingType: string;
  readonly title: string;
  readonly severity: number;
  readonly account: string;
  readonly region: string;
  readonly firstSeen?: string;
  readonly lastSeen?: string;
  /** Set when the incident is a rehearsal, a dry run or a sample finding's: the page says so first. */
  readonly rehearsal?: RehearsalKind;
  readonly evidence?: Evidence;
  /** The resource's `Name` and owner tags, as the finding reported them. */
  readonly tags?: Readonly<Record<string, string>>;
}

/** An approval request as stored: the task token is an item of its own (functions/approval/keys.ts). */
export interface ApprovalRequest {
  readonly requestId: string;
  readonly incidentId: string;
  readonly executionArn: string;
  readonly gate: string;
  readonly action: string;
  readonly phase: ApprovalRequestEvent['phase'];
  readonly resource: ApprovalRequestEvent['resource'];
  readonly summary: ApprovalSummary;
  readonly finding: FindingFacts;
  readonly approvers: readonly string[];
  /** Why a person decides. */
  readonly reasons?: readonly string[];
  /** For a restore: the recovery point it would use. */
  readonly recoveryPoint?: RecoveryPoint;
  readonly requestedAt: string;
  /** The gate's deadline: the task's entered time plus its timeout. */
  readonly expiresAt: string;
  readonly defaultDecision: Decision;
  readonly status: ApprovalStatus;
  readonly decision?: Decision;
  /** The approver's address, an IAM principal ARN, or `timeout`. */
  readonly decidedBy?: string;
  readonly decidedAt?: string;
  readonly reason?: string;
  /** `link`, `console` or `timeout`. */
  readonly decidedVia?: string;
  /** A person's decision that came after the deadline: refused, the default applied instead. */
  readonly lateDecision?: {
    readonly decision: Decision;
    readonly decidedBy: string;
    readonly decidedAt: string;
  };
}

/** What `SendTaskSuccess` returns to the playbook (and `SendTaskFailure`'s cause, as JSON). */
export interface DecisionOutput {
  readonly decision: Decision;
  readonly decidedBy: string;
  readonly decidedAt: string;
  readonly reason: string;
}

/** Where a decision came from, for the audit step. */
export interface DecisionSource {
  readonly via: 'link' | 'console' | 'timeout';
  readonly sourceIp?: string;
  readonly userAgent?: string;
}
