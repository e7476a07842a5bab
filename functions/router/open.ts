/**
 * The router's opening of an incident: one transaction of the recorder's (`openIncidentWith`) that writes
 * the incident, its resource links and its triage step (the head at it) together with the router's own
 * writes, each with its condition: the finding still claimed by this delivery, the resource's open marker
 * (keyed by its place), and, when the containment is automatic, the blast-radius slots it takes: one of its
 * account's and one of the organization's. Either all are written or none.
 *
 * When a condition fails, the refusal names which (`ConditionsFailedError.failed`, with the item the table
 * holds) and the router acts on that alone: the finding claimed by another delivery (a take-over) → this
 * one is a duplicate; the marker taken → its holder is judged, then joined or replaced; a slot taken →
 * that partition's slots are read again and another free one tried, or the finding goes to a person. So
 * both limits are exact under any concurrency: an incident is recorded `automatic` only in the write that
 * takes its two slots.
 */
import type { AlongsideWrite, AuditRecorder, StoredIncident, VerifiedRecord } from '#shared/audit';
import {
  type AccountSlots,
  type AuditQueries,
  type AutomaticContainment,
  datedInTheFuture,
  type FreeSlot,
  freeSlots,
  organizationSlotLabel,
  slotLabel,
} from '#shared/audit-queries';
import type { TransactItem } from '#shared/audit-transactions';
import type { Finding, RehearsalKind, Resource, StepInput } from '#shared/domain';
import { ConditionsFailedError, ValidationError, WriteConflictError } from '#shared/errors';
import { incidentFrom } from '#shared/incident-from';
import { describeError, type Logger } from '#shared/log';
import { emitMetrics, METRICS } from '#shared/metrics';
import type { PlaybookMode, Settings } from '#shared/settings';
import { type HolderDeps, joinable, slotStillHeld } from './holders.ts';
import { blastRadiusReason, organizationLimitReason } from './policy.ts';
import { accountRules } from './scope.ts';

/** What the opening needs of the router's deps. */
export interface OpeningDeps extends HolderDeps {
  readonly recorder: Pick<AuditRecorder, 'verified' | 'openIncidentWith' | 'appendStep'>;
  readonly queries: Pick<
    AuditQueries,
    | 'findingWrite'
    | 'markerWrite'
    | 'slotWrite'
    | 'automaticSlots'
    | 'organizationSlotWrite'
    | 'organizationSlots'
  >;
  readonly settings: Pick<Settings, 'maxAutomaticContainmentsPerHour' | 'organization'>;
  readonly logger: Pick<Logger, 'warn' | 'error'>;
}

/** What the router decided and read before it opens. */
export interface OpeningRequest {
  readonly finding: Finding;
  readonly incidentId: string;
  /** When this delivery claimed the finding: the finding's write is conditioned on it. */
  readonly claimedAt: string;
  readonly playbook: string;
  readonly resource: Resource;
  /** The policy's mode. `automatic` stays so only in the write that takes a slot. */
  readonly mode: PlaybookMode;
  readonly reasons: readonly string[];
  readonly rehearsal?: RehearsalKind;
  /** The incident the resource's open marker named when it was read with the lock; undefined for none. */
  readonly marker: string | undefined;
  /** The account's slots as read with the lock (undefined when they were not read, or could not be). */
  readonly slots: AccountSlots | undefined;
  /** The organization's slots as read with the lock (undefined when they were not read, or could not be). */
  readonly organizationSlots: AccountSlots | undefined;
  readonly now: Date;
}

/** What came of the opening. */
export type Opening =
  | { readonly kind: 'opened'; readonly mode: PlaybookMode; readonly reasons: string[] }
  | { readonly kind: 'joined'; readonly holder: string; readonly incident: StoredIncident }
  /** Another delivery took the finding over: the finding as the table returned it. */
  | { readonly kind: 'taken-over'; readonly finding?: Record<string, unknown> };

/**
 * How many holders, one after another, a finding refuses to join before its incident opens without the
 * marker: each is a marker moved since it was read, so only a writer racing it on purpose gets here.
 */
const MAX_REFUSED_HOLDERS = 3;

/** Transactions that collided with another (nothing written) tried again before giving up. */
const MAX_COLLISIONS = 20;

type SlotChoice =
  | { readonly kind: 'held' }
  | { readonly kind: 'free'; readonly free: FreeSlot }
  | { readonly kind: 'none'; readonly reasons: string[] };

/** A transaction cancelled because it collided with another one: nothing written, to be tried again. */
function collided(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e.name === 'TransactionConflictException') return true;
    if (e.name === 'TransactionCanceledException') {
      const reasons = (e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
      return (
        reasons.some((r) => r.Code === 'TransactionConflict') &&
        !reasons.some((r) => r.Code === 'ConditionalCheckFailed')
      );
    }
  }
  return false;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One of the two limits an automatic containment is held to, with its slots' partition: its account's, or
 * the organization's.
 */
interface Limit {
  readonly limit: number;
  /** Whose slots they are, as the reasons say it: the account's id, or `the organization`. */
  readonly owner: string;
  /** The label of a slot's write in the transaction (a refusal names it). */
  readonly label: (slot: number) => string;
  /** Why the finding waits for a person when every slot is held. */
  readonly full: (count: number, holders: readonly AutomaticContainment[]) => string;
  readonly read: () => Promise<AccountSlots>;
  readonly write: (free: FreeSlot) => TransactItem;
}

/** The account's limit and the organization's, for this opening. */
function limitsOf(deps: OpeningDeps, request: OpeningRequest): readonly [Limit, Limit] {
  const { finding, incidentId, resource, now } = request;
  const rules = accountRules(deps.settings, finding.account);
  const organizationLimit = deps.settings.organization.maxAutomaticContainmentsPerHour;
  return [
    {
      limit: rules.limit,
      owner: finding.account,
      label: slotLabel,
      full: (count, holders) =>
        blastRadiusReason(finding.account, rules.limit, count, holders, rules.limitFrom),
      read: () => deps.queries.automaticSlots(finding.account, now),
      write: (free) => deps.queries.slotWrite(finding.account, free, incidentId, resource.id, now),
    },
    {
      limit: organizationLimit,
      owner: 'the organization',
      label: organizationSlotLabel,
      full: (count, holders) => organizationLimitReason(organizationLimit, count, holders),
      read: () => deps.queries.organizationSlots(now),
      write: (free) =>
        deps.queries.organizationSlotWrite(finding.account, free, incidentId, resource.id, now),
    },
  ];
}

/**
 * Why the slots the lock read say what no router wrote: each slot dated in the future counts against the
 * limit until a person removes it.
 */
function forgedSlotNotes(
  deps: OpeningDeps,
  request: OpeningRequest,
  limit: Limit,
  slots: AccountSlots | undefined,
): string[] {
  const { now, incidentId } = request;
  const forged = (slots?.holders ?? []).filter(
    (holder) => holder.incidentId !== incidentId && datedInTheFuture(holder, now),
  );
  return forged.map((holder) => {
    deps.logger.warn('a blast-radius slot is dated in the future', { ...holder, owner: limit.owner });
    return `blast-radius slot ${holder.slot} of ${limit.owner} says ${holder.incidentId} took it at ${holder.takenAt}, later than now: no router wrote that, and it counts against the limit until a person removes it`;
  });
}

/**
 * The slot of a limit an automatic containment takes: its own (a take-over of a delivery that took one), a
 * free one, or none, with why. An expired slot is free only once its holder's record says so
 * ({@link slotStillHeld}); each holder's verdict is asked once per finding (`verdicts`).
 */
async function chooseSlot(
  deps: HolderDeps,
  request: OpeningRequest,
  limit: Limit,
  slots: AccountSlots,
  verdicts: Map<string, string | undefined>,
): Promise<SlotChoice> {
  const { incidentId, now } = request;
  if (slots.holders.some((holder) => holder.incidentId === incidentId)) return { kind: 'held' };
  const kept: { holder: AutomaticContainment; reason: string }[] = [];
  if (slots.holders.length < limit.limit) {
    for (const free of freeSlots(slots, limit.limit, incidentId)) {
      const { previous } = free;
      if (previous !== undefined) {
        const key = `${limit.owner}#${free.slot}#${previous.incidentId}#${previous.takenAt}`;
        if (!verdicts.has(key)) verdicts.set(key, await slotStillHeld(deps, limit.owner, previous, now));
        const reason = verdicts.get(key);
        if (reason !== undefined) {
          kept.push({ holder: previous, reason });
          continue;
        }
      }
      return { kind: 'free', free };
    }
  }
  const holders = [...slots.holders, ...kept.map((k) => k.holder)];
  return { kind: 'none', reasons: [limit.full(holders.length, holders), ...kept.map((k) => k.reason)] };
}

/**
 * The recorder's `verified` with each incident read once per opening: an expired holder of the account's
 * slot is often the expired holder of an organization slot too, and is judged with one read.
 */
function onceEach(deps: OpeningDeps): HolderDeps {
  const records = new Map<string, Promise<VerifiedRecord>>();
  return {
    logger: deps.logger,
    recorder: {
      verified: (incidentId: string) => {
        let record = records.get(incidentId);
        if (record === undefined) {
          record = deps.recorder.verified(incidentId);
          // Awaited by each caller; this only keeps an early failure from being reported unhandled.
          record.catch(() => undefined);
          records.set(incidentId, record);
        }
        return record;
      },
    },
  };
}

/**
 * Opens the finding's incident with its triage step, the finding's link, the open marker and (automatic)
 * the account's and the organization's slots in one transaction; or joins the marker's holder when that
 * may be joined. Rounds: one (the transaction) when the marker and never-taken slots are as the lock's
 * reads found them; one more per holder to judge (the marker's, expired slots' together) and per refusal
 * (a slot taken: a Query of its partition, then again).
 *
 * A take-over may find the incident opened by the delivery it took over: its triage is then appended, with
 * the same writes beside it.
 */
export async function openIncident(deps: OpeningDeps, request: OpeningRequest): Promise<Opening> {
  const { finding, incidentId, resource, playbook, claimedAt, now } = request;
  const markerNotes: string[] = [];
  const limitReasons: string[] = [];
  const limits = limitsOf(deps, request);
  const forgedNotes = [
    ...forgedSlotNotes(deps, request, limits[0], request.slots),
    ...forgedSlotNotes(deps, request, limits[1], request.organizationSlots),
  ];
  const verdicts = new Map<string, string | undefined>();
  const slotDeps = onceEach(deps);
  let holder = request.marker;
  /** The holder last judged and refused: the marker's write is conditioned on it. */
  let refused: string | undefined;
  let withMarker = true;
  let exists = false;
  /** Each limit's slots as last read (undefined: not read, or could not be). */
  const slots: [AccountSlots | undefined, AccountSlots | undefined] = [
    request.slots,
    request.organizationSlots,
  ];
  let mode = request.mode;
  let collisions = 0;
  // Each refused slot is one another incident took: at most each limit's many, beside the refused holders.
  const attempts = limits[0].limit + limits[1].limit + MAX_REFUSED_HOLDERS + 5;
  for (let attempt = 1; attempt <= attempts + collisions; attempt++) {
    if (withMarker && holder !== undefined && holder !== incidentId && holder !== refused) {
      const verdict = await joinable(deps, holder, finding, resource);
      if (verdict.join) return { kind: 'joined', holder, incident: verdict.incident };
      refused = holder;
      markerNotes.push(verdict.reason);
      if (markerNotes.length >= MAX_REFUSED_HOLDERS) {
        deps.logger.warn('an open-resource marker keeps changing: the incident opens without it', {
          resourceId: resource.id,
          incidentId,
        });
        markerNotes.push(
          `the open-resource marker of ${resource.id} kept moving to incidents that cannot be joined: this incident opens without it, and later findings on ${resource.id} do not join it`,
        );
        withMarker = false;
      }
    }
    const taking: { limit: Limit; free: FreeSlot }[] = [];
    if (mode === 'automatic') {
      // Both limits' slots are chosen together (a holder to judge for each is one round, not two).
      const choices = await Promise.all(
        limits.map((limit, i): Promise<SlotChoice> => {
          const read = slots[i];
          if (read !== undefined) return chooseSlot(slotDeps, request, limit, read, verdicts);
          const reason = `blast-radius counter of ${limit.owner} unavailable: sent to a person`;
          return Promise.resolve({ kind: 'none', reasons: [reason] });
        }),
      );
      const full = choices.flatMap((choice) => (choice.kind === 'none' ? choice.reasons : []));
      if (full.length > 0) {
        mode = 'approval-first';
        limitReasons.push(...full);
      } else {
        choices.forEach((choice, i) => {
          const limit = limits[i];
          if (choice.kind === 'free' && limit !== undefined) taking.push({ limit, free: choice.free });
        });
      }
    }
    const alongside: AlongsideWrite[] = [
      {
        label: 'finding',
        write: deps.queries.findingWrite(finding, finding.id, { incidentId, claimedAt }),
      },
      ...(withMarker && holder !== incidentId
        ? [{ label: 'open-marker', write: deps.queries.markerWrite(finding, resource, incidentId, holder) }]
        : []),
      ...taking.map(({ limit, free }) => ({ label: limit.label(free.slot), write: limit.write(free) })),
    ];
    const reasons = [...request.reasons, ...markerNotes, ...forgedNotes, ...limitReasons];
    const triage: StepInput = {
      phase: 'identification',
      action: 'triage',
      status: 'succeeded',
      actor: 'automation',
      input: {
        findingId: finding.id,
        source: finding.source,
        type: finding.type,
        severity: finding.severity,
      },
      changes: { playbook, mode, resource: { type: resource.type, id: resource.id } },
      note: reasons.join('; '),
    };
    try {
      if (exists) await deps.recorder.appendStep(incidentId, triage, { alongside });
      else {
        await deps.recorder.openIncidentWith(
          incidentFrom(finding, playbook, resource, incidentId, request.rehearsal),
          { steps: [triage], alongside },
        );
        emitMetrics({ [METRICS.incidentsOpened]: { value: 1, unit: 'Count' } }, { timestamp: now });
      }
      return { kind: 'opened', mode, reasons };
    } catch (error) {
      // A take-over finds the incident an earlier delivery opened: its triage is appended instead.
      if (!exists && error instanceof ValidationError && /already exists/.test(error.message)) {
        exists = true;
        continue;
      }
      if (collided(error) && collisions < MAX_COLLISIONS) {
        collisions++;
        await pause(Math.random() * Math.min(50, collisions * 5));
        continue;
      }
      if (!(error instanceof ConditionsFailedError)) throw error;
      const failed = new Map(error.failed.map((f) => [f.label, f]));
      if (failed.has('finding')) {
        const item = failed.get('finding')?.item;
        return item === undefined ? { kind: 'taken-over' } : { kind: 'taken-over', finding: item };
      }
      const marker = failed.get('open-marker');
      if (marker !== undefined) {
        const named = marker.item?.incidentId;
        if (marker.item !== undefined && typeof named !== 'string') {
          // A marker no router wrote (it names no incident): it cannot be joined nor replaced by name.
          markerNotes.push(
            `the open-resource marker of ${resource.id} names no incident: this incident opens without it, and later findings on ${resource.id} do not join it`,
          );
          withMarker = false;
        }
        holder = typeof named === 'string' ? named : undefined;
      }
      // Each limit whose slot was taken meanwhile is read again (both together when both were).
      await Promise.all(
        limits.map(async (limit, i) => {
          if (!taking.some((t) => t.limit === limit && failed.has(limit.label(t.free.slot)))) return;
          try {
            slots[i] = await limit.read();
          } catch (readError) {
            // Fail closed: without the slots the limit cannot be kept.
            mode = 'approval-first';
            limitReasons.push(
              `blast-radius counter of ${limit.owner} unavailable (${describeError(readError).message}): sent to a person`,
            );
          }
        }),
      );
    }
  }
  throw new WriteConflictError(
    `could not open incident ${incidentId} for finding ${finding.id}: its marker, slot or finding kept changing`,
  );
}
