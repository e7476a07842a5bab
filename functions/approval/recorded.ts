/**
 * An approval request and its decisions as the incident's verified record states them. The request item
 * in the table is operational state that anyone with table access could edit; these are the facts a
 * decision, a timeout and the gate's check are held to: who was asked, until when, what the default is,
 * and who decided what, when, by which way.
 */
import * as z from 'zod/mini';
import { type Incident, type PHASES, type Resource, ResourceSchema, type Step } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import {
  type ApprovalRequest,
  DECISIONS,
  type Decision,
  type Evidence,
  type FindingFacts,
  type RecoveryPoint,
  RecoveryPointSchema,
} from './model.ts';

/** The record's action names for the gate's steps. */
export const APPROVAL_ACTIONS = {
  request: 'approval-request',
  decision: 'approval-decision',
} as const;

const RequestInputSchema = lazySchema(() =>
  z.looseObject({
    requestId: z.string().check(z.minLength(1)),
    gate: z.string().check(z.minLength(1)),
    action: z.string().check(z.minLength(1)),
    resource: ResourceSchema,
    summary: z.object({ happened: z.string(), done: z.string(), asks: z.string() }),
    approvers: z.array(z.string()),
    expiresAt: z.string(),
    defaultDecision: z.enum(DECISIONS),
    reasons: z.optional(z.array(z.string())),
    enteredTime: z.optional(z.string()),
    recoveryPoint: z.optional(RecoveryPointSchema),
  }),
);

/** A request as its `approval-request` step recorded it. */
export interface RecordedRequest {
  readonly requestId: string;
  readonly incidentId: string;
  readonly executionArn: string;
  readonly gate: string;
  readonly action: string;
  readonly phase: (typeof PHASES)[number];
  readonly resource: z.infer<typeof ResourceSchema>;
  readonly summary: { readonly happened: string; readonly done: string; readonly asks: string };
  readonly approvers: readonly string[];
  readonly expiresAt: string;
  readonly defaultDecision: Decision;
  readonly reasons: readonly string[];
  readonly requestedAt: string;
  /** When the gate that asked was entered: with the execution and the gate, which task of it asked. */
  readonly enteredTime?: string;
  /** For a restore: the recovery point the request named. */
  readonly recoveryPoint?: RecoveryPoint;
  /** The step that recorded it. */
  readonly seq: number;
}

/** A decision as its `approval-decision` step recorded it. */
export interface RecordedDecision {
  readonly requestId: string;
  readonly decision: Decision;
  /** An approver's address, an IAM principal's ARN, or `timeout`. */
  readonly actor: string;
  readonly via: 'link' | 'console' | 'timeout';
  readonly decidedAt: string;
  readonly seq: number;
}

function toRequest(step: Step): RecordedRequest | undefined {
  if (step.action !== APPROVAL_ACTIONS.request || step.executionArn === undefined) return undefined;
  const parsed = z.safeParse(RequestInputSchema, step.input);
  if (!parsed.success) return undefined;
  const input = parsed.data;
  return {
    requestId: input.requestId,
    incidentId: step.incidentId,
    executionArn: step.executionArn,
    gate: input.gate,
    action: input.action,
    phase: step.phase,
    resource: input.resource,
    summary: input.summary,
    approvers: input.approvers,
    expiresAt: input.expiresAt,
    defaultDecision: input.defaultDecision,
    reasons: input.reasons ?? [],
    requestedAt: step.startedAt,
    ...(input.enteredTime === undefined ? {} : { enteredTime: input.enteredTime }),
    ...(input.recoveryPoint === undefined ? {} : { recoveryPoint: input.recoveryPoint }),
    seq: step.seq,
  };
}

/** The request of that id, as recorded; undefined when the record holds none. */
export function recordedRequest(steps: readonly Step[], requestId: string): RecordedRequest | undefined {
  for (const step of steps) {
    const request = toRequest(step);
    if (request?.requestId === requestId) return request;
  }
  return undefined;
}

/**
 * The request the gate's task made: of this execution, this gate, and the gate's entry at `enteredTime`
 * (the newest, as a retried request function records the same task twice). A request of the same gate made
 * by anything else (another entry of the gate, a request function invoked by hand) is not this task's.
 */
export function requestOfGateTask(
  steps: readonly Step[],
  task: { readonly executionArn: string; readonly gate: string; readonly enteredTime: string },
): RecordedRequest | undefined {
  let found: RecordedRequest | undefined;
  for (const step of steps) {
    const request = toRequest(step);
    if (
      request &&
      request.executionArn === task.executionArn &&
      request.gate === task.gate &&
      request.enteredTime === task.enteredTime
    )
      found = request;
  }
  return found;
}

function strings(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is string => typeof v === 'string' && v !== '');
}

/** The first value of `key` in the details of `resources`, in order. */
function detail(resources: readonly Resource[], key: string): unknown {
  for (const r of resources) {
    const value = r.details?.[key];
    if (value !== undefined) return value;
  }
  return undefined;
}

/** The evidence normalization kept in the resources' details (functions/router/facts.ts); none invented. */
function evidenceOf(resources: readonly Resource[]): Evidence | undefined {
  const remoteIps = [
    ...new Set([...strings(detail(resources, 'remoteIps')), ...strings(detail(resources, 'remoteIp'))]),
  ];
  const domain = strings(detail(resources, 'domain'))[0];
  const api = strings(detail(resources, 'api'))[0];
  const actionType = strings(detail(resources, 'actionType'))[0];
  const count = detail(resources, 'count');
  const evidence: Evidence = {
    ...(remoteIps.length > 0 ? { remoteIps } : {}),
    ...(domain === undefined ? {} : { domain }),
    ...(api === undefined ? {} : { api }),
    ...(actionType === undefined ? {} : { actionType }),
    ...(typeof count === 'number' && Number.isInteger(count) && count >= 1 ? { count } : {}),
  };
  return Object.keys(evidence).length > 0 ? evidence : undefined;
}

/** The resource's `Name` and owner tags (`Owner`, `owner`...), from its details' `tags` map. */
function nameAndOwnerTags(resources: readonly Resource[]): Record<string, string> | undefined {
  for (const r of resources) {
    const tags = r.details?.tags;
    if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) continue;
    const kept: Record<string, string> = {};
    for (const [key, value] of Object.entries(tags as Record<string, unknown>)) {
      if ((key === 'Name' || key.toLowerCase() === 'owner') && typeof value === 'string') kept[key] = value;
    }
    if (Object.keys(kept).length > 0) return kept;
  }
  return undefined;
}

/**
 * The finding facts the emails and the page show, from an incident (its verified record's): what the
 * finding said (severity, first and last seen, the evidence its normalization kept) and the resource's
 * `Name` and owner tags, read from the incident's own entry for `resource` first, then from the resource
 * as the request recorded it, then from the incident's other resources (finding-level facts are copied into
 * each). Nothing is read from the request item.
 */
export function findingFacts(incident: Incident, resource?: Resource): FindingFacts {
  const same = (r: Resource) => resource !== undefined && r.type === resource.type && r.id === resource.id;
  const own = incident.resources.filter(same);
  const ordered = [...own, ...(resource ? [resource] : []), ...incident.resources.filter((r) => !same(r))];
  const forTags = resource ? [...own, resource] : incident.resources.slice(0, 1);
  const evidence = evidenceOf(ordered);
  const tags = nameAndOwnerTags(forTags);
  return {
    findingType: incident.findingType,
    title: incident.title,
    severity: incident.severity,
    account: incident.account,
    region: incident.region,
    firstSeen: incident.firstSeen,
    lastSeen: incident.lastSeen,
    ...(incident.rehearsal === undefined ? {} : { rehearsal: incident.rehearsal }),
    ...(evidence === undefined ? {} : { evidence }),
    ...(tags === undefined ? {} : { tags }),
  };
}

/** Where a request stands, as the page, an email or a decision step tells it. */
export type RequestState = Pick<
  ApprovalRequest,
  'status' | 'decision' | 'decidedBy' | 'decidedAt' | 'reason' | 'decidedVia' | 'lateDecision'
>;

/**
 * A request as the verified record states it (its facts from its step, the finding from the incident),
 * in the state the caller vouches for: what it has just written, or what the record says was decided.
 * Nothing in it is read from the request item.
 */
export function requestAsRecorded(
  recorded: RecordedRequest,
  incident: Incident,
  state: RequestState,
): ApprovalRequest {
  return {
    requestId: recorded.requestId,
    incidentId: recorded.incidentId,
    executionArn: recorded.executionArn,
    gate: recorded.gate,
    action: recorded.action,
    phase: recorded.phase,
    resource: recorded.resource,
    summary: recorded.summary,
    finding: findingFacts(incident, recorded.resource),
    approvers: recorded.approvers,
    ...(recorded.reasons.length > 0 ? { reasons: recorded.reasons } : {}),
    ...(recorded.recoveryPoint === undefined ? {} : { recoveryPoint: recorded.recoveryPoint }),
    requestedAt: recorded.requestedAt,
    expiresAt: recorded.expiresAt,
    defaultDecision: recorded.defaultDecision,
    ...state,
  };
}

const DecisionChangesSchema = lazySchema(() => z.looseObject({ decision: z.enum(DECISIONS) }));
const DecisionInputSchema = lazySchema(() =>
  z.looseObject({
    requestId: z.string(),
    via: z.enum(['link', 'console', 'timeout']),
  }),
);

/** Every decision recorded for a request, oldest first. */
export function recordedDecisions(steps: readonly Step[], requestId: string): RecordedDecision[] {
  const out: RecordedDecision[] = [];
  for (const step of steps) {
    if (step.action !== APPROVAL_ACTIONS.decision || step.status !== 'succeeded') continue;
    const input = z.safeParse(DecisionInputSchema, step.input);
    const changes = z.safeParse(DecisionChangesSchema, step.changes);
    if (!input.success || !changes.success || input.data.requestId !== requestId) continue;
    out.push({
      requestId,
      decision: changes.data.decision,
      actor: step.actor,
      via: input.data.via,
      decidedAt: step.startedAt,
      seq: step.seq,
    });
  }
  return out;
}

/** An IAM principal's ARN, as a console decision is recorded. */
const IAM_PRINCIPAL = /^arn:aws[a-z-]*:(iam::\d{12}:(user|role)\/|sts::\d{12}:assumed-role\/)\S+$/;

/** One ARN pattern as IAM's `ArnLike` reads it: `*` any characters and `?` one, within a colon-separated part. */
function arnPattern(pattern: string): RegExp {
  const source = [...pattern]
    .map((c) => (c === '*' ? '[^:]*' : c === '?' ? '[^:]' : c.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * Whether an IAM principal may decide from the console: it is one of `settings.approval.consolePrincipals`
 * (the people's roles). None listed, none may: being allowed to call the route is not being a person.
 */
export function mayDecideFromConsole(patterns: readonly string[], principal: string): boolean {
  return IAM_PRINCIPAL.test(principal) && patterns.some((p) => arnPattern(p).test(principal));
}

/** What the record says a request came to. */
export type RecordedOutcome =
  | { readonly outcome: 'approved'; readonly by: RecordedDecision }
  | { readonly outcome: 'rejected'; readonly by: RecordedDecision }
  | { readonly outcome: 'undecided'; readonly reason: string };

/**
 * What a request came to by its record alone: a decision by one of its approvers through their link, or
 * at the console by an IAM principal of `consolePrincipals` (the people's roles), made before the deadline;
 * or, once the timeout recorded it, the default. Anything else is not a decision: a decision after the
 * deadline, by someone not asked or not listed, or a way the gate does not know.
 */
export function recordedOutcome(
  request: RecordedRequest,
  decisions: readonly RecordedDecision[],
  consolePrincipals: readonly string[],
): RecordedOutcome {
  const timeout = decisions.find((d) => d.via === 'timeout');
  if (timeout) {
    if (timeout.decision !== request.defaultDecision) {
      return {
        outcome: 'undecided',
        reason: `the timeout recorded ${timeout.decision}, not the default ${request.defaultDecision}`,
      };
    }
    return request.defaultDecision === 'approve'
      ? { outcome: 'approved', by: timeout }
      : { outcome: 'rejected', by: timeout };
  }
  const approvers = new Set(request.approvers.map((a) => a.toLowerCase()));
  const valid = decisions.filter(
    (d) =>
      d.decidedAt < request.expiresAt &&
      ((d.via === 'link' && approvers.has(d.actor.toLowerCase())) ||
        (d.via === 'console' && mayDecideFromConsole(consolePrincipals, d.actor))),
  );
  const first = valid[0];
  if (!first) {
    return {
      outcome: 'undecided',
      reason:
        decisions.length === 0
          ? `no decision on request ${request.requestId} is recorded`
          : `no recorded decision on request ${request.requestId} was made before ${request.expiresAt} by one of its approvers through their link or by a principal of settings.approval.consolePrincipals at the console`,
    };
  }
  return first.decision === 'approve'
    ? { outcome: 'approved', by: first }
    : { outcome: 'rejected', by: first };
}
