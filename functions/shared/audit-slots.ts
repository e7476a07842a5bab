/**
 * The blast-radius slots: each account has `settings.maxAutomaticContainmentsPerHour` slots, items under
 * the account's key, and an automatic containment takes one for {@link AUTOMATIC_WINDOW_MINUTES} minutes,
 * by a conditional update, so that two routers never both take the last place. Read by the router's policy
 * (who holds the slots) and written when it decides to contain without a person: the router makes the
 * update ({@link SlotsTable.slotWrite}) in the transaction that opens the incident and records it
 * automatic, so that the record never says automatic without the slot, nor the slot without the record.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { TransactItem } from './audit-findings.ts';
import type { DocumentSender } from './audit-reader.ts';
import { keys } from './audit-table.ts';
import { allItems, lastEvaluatedKey } from './pages.ts';

/** How long an automatic containment counts against its account's blast-radius limit. */
export const AUTOMATIC_WINDOW_MINUTES = 60;

/** An automatic containment holding one of its account's blast-radius slots. */
export interface AutomaticContainment {
  readonly slot: number;
  readonly incidentId: string;
  /** The resource it contains. */
  readonly resourceId: string;
  /** When it was taken (ISO 8601). */
  readonly takenAt: string;
}

/**
 * How far ahead of a router's clock a slot's `takenAt` may be and still be a router's writing (the clock
 * skew between two Lambda hosts is far smaller): a slot dated later was edited.
 */
export const SLOT_CLOCK_SKEW_MS = 5 * 60_000;

/** An account's blast-radius slots as read at a time. */
export interface AccountSlots {
  /**
   * The automatic containments that hold a slot: taken within the window, or dated in the future (an
   * edited slot counts rather than frees a place: see {@link datedInTheFuture}), oldest first.
   */
  readonly holders: AutomaticContainment[];
  /** The slots whose holder was taken before the window: free, unless their holder's record says otherwise. */
  readonly expired: AutomaticContainment[];
}

/** True when a slot is dated more than {@link SLOT_CLOCK_SKEW_MS} after `now`: no router wrote that. */
export function datedInTheFuture(holder: AutomaticContainment, now: Date): boolean {
  return holder.takenAt > new Date(now.getTime() + SLOT_CLOCK_SKEW_MS).toISOString();
}

/** What {@link AuditQueries.reserveAutomatic} is asked for. */
export interface AutomaticReservationRequest {
  readonly account: string;
  readonly incidentId: string;
  readonly resourceId: string;
  /** `settings.maxAutomaticContainmentsPerHour`: the account's slots are `0` to `limit - 1`. */
  readonly limit: number;
  readonly now: Date;
  /** The slots as read for this finding a moment before, to save a Query; they are read when absent. */
  readonly known?: AccountSlots;
  /**
   * Asked before an expired slot is taken over: a reason when its holder's record shows that the slot is
   * still held (its `takenAt` was moved back), undefined when it may be taken. Without it, an expired slot
   * is taken as its `takenAt` says.
   */
  readonly stillHeld?: (expired: AutomaticContainment) => Promise<string | undefined>;
}

/** A slot taken, or the containments that hold them all (with why any expired slot still counts). */
export type AutomaticReservation =
  | { readonly reserved: true; readonly slot: number }
  | {
      readonly reserved: false;
      readonly holders: AutomaticContainment[];
      /** Why expired slots were not taken: {@link AutomaticReservationRequest.stillHeld}'s reasons. */
      readonly kept: string[];
    };

/** The oldest time a slot's holder may have been taken at and still count at `now`, exclusive. */
function windowStart(now: Date): string {
  return new Date(now.getTime() - AUTOMATIC_WINDOW_MINUTES * 60_000).toISOString();
}

/** Every live slot counts, even one whose holder fields are not what the router wrote: it fails closed. */
function slotHolder(item: Record<string, unknown>): AutomaticContainment {
  const { sk, incidentId, resourceId, takenAt } = item;
  const slot = Number(String(sk).slice(keys.automaticSlotPrefix.length));
  return {
    slot: Number.isInteger(slot) ? slot : -1,
    incidentId: typeof incidentId === 'string' ? incidentId : 'an unknown incident',
    resourceId: typeof resourceId === 'string' ? resourceId : 'an unknown resource',
    takenAt: String(takenAt),
  };
}

/** A number derived from an id (FNV-1a), to start each incident's search for a free slot elsewhere. */
function spread(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** A slot that may be taken: never taken, or expired (its holder then named, for the condition). */
export interface FreeSlot {
  readonly slot: number;
  /** The expired holder, undefined for a slot that has no item. */
  readonly previous?: AutomaticContainment;
}

/**
 * The slots of `limit` an incident may try to take, in the order to try them: those never taken first
 * (no holder's record needs reading before them), then the expired ones, each group starting at a slot
 * derived from the incident id so that concurrent routers spread over them.
 */
export function freeSlots(slots: AccountSlots, limit: number, incidentId: string): FreeSlot[] {
  const used = new Set(slots.holders.map((holder) => holder.slot));
  const expired = new Map(slots.expired.map((holder) => [holder.slot, holder]));
  const free = Array.from({ length: limit }, (_, slot) => slot).filter((slot) => !used.has(slot));
  if (free.length === 0) return [];
  const start = spread(incidentId) % free.length;
  const ordered = [...free.slice(start), ...free.slice(0, start)].map((slot) => {
    const previous = expired.get(slot);
    return previous === undefined ? { slot } : { slot, previous };
  });
  return [...ordered.filter((s) => s.previous === undefined), ...ordered.filter((s) => s.previous)];
}

/** The update that takes a slot, on the condition that it is free as it was read. */
function slotUpdate(
  tableName: string,
  account: string,
  free: FreeSlot,
  incidentId: string,
  resourceId: string,
  now: Date,
) {
  const { previous } = free;
  return {
    TableName: tableName,
    Key: keys.automaticSlot(account, free.slot),
    UpdateExpression: 'SET takenAt = :now, incidentId = :incident, resourceId = :resource',
    ConditionExpression:
      previous === undefined
        ? 'attribute_not_exists(pk) OR takenAt <= :since'
        : 'takenAt <= :since AND incidentId = :previous',
    ExpressionAttributeValues: {
      ':now': now.toISOString(),
      ':since': windowStart(now),
      ':incident': incidentId,
      ':resource': resourceId,
      ...(previous === undefined ? {} : { ':previous': previous.incidentId }),
    },
  };
}

/** The label of a slot's write in a transaction, as a refusal names it. */
export const slotLabel = (slot: number) => `slot ${slot}`;

/** An account's slots in the audit table; {@link AuditQueries} answers through it. */
export class SlotsTable {
  constructor(
    private readonly client: DocumentSender,
    readonly tableName: string,
  ) {}

  /**
   * The automatic containments that hold one of an account's blast-radius slots at `now`: those taken
   * less than {@link AUTOMATIC_WINDOW_MINUTES} minutes before it (or dated in the future), oldest first.
   */
  async automaticContainments(account: string, now: Date): Promise<AutomaticContainment[]> {
    return (await this.automaticSlots(account, now)).holders;
  }

  /**
   * An account's blast-radius slots at `now`: who holds one, and which were taken before the window. One
   * Query of the account's slots (strongly consistent, so a slot just taken is seen), however many
   * incidents the account has; a slot never taken has no item.
   */
  async automaticSlots(account: string, now: Date): Promise<AccountSlots> {
    const since = windowStart(now);
    const holders: AutomaticContainment[] = [];
    const expired: AutomaticContainment[] = [];
    const slots = await allItems({
      doing: `dynamodb:Query the slots of ${account}`,
      fetch: (ExclusiveStartKey) =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: {
              ':pk': keys.automaticSlots(account),
              ':prefix': keys.automaticSlotPrefix,
            },
            ConsistentRead: true,
            ExclusiveStartKey,
          }),
        ),
      next: lastEvaluatedKey,
      items: (page) => page.Items,
    });
    for (const item of slots) {
      const holder = slotHolder(item);
      // A slot whose time is not a string is not what a router wrote: it counts (see slotHolder).
      (typeof item.takenAt === 'string' && holder.takenAt <= since ? expired : holders).push(holder);
    }
    const order = (a: AutomaticContainment, b: AutomaticContainment) =>
      a.takenAt < b.takenAt ? -1 : a.takenAt > b.takenAt ? 1 : a.slot - b.slot;
    return { holders: holders.sort(order), expired: expired.sort(order) };
  }

  /**
   * The write that takes a free slot for an incident, for a transaction (the router's opening): the same
   * conditional update {@link reserveAutomatic} makes, its item returned when the condition fails, so the
   * refusal names who took the slot meanwhile.
   */
  slotWrite(
    account: string,
    free: FreeSlot,
    incidentId: string,
    resourceId: string,
    now: Date,
  ): TransactItem {
    return {
      Update: {
        ...slotUpdate(this.tableName, account, free, incidentId, resourceId, now),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  /**
   * Takes one of an account's `limit` blast-radius slots for an incident, atomically: a conditional
   * UpdateItem on a slot that was never taken or whose holder is at least
   * {@link AUTOMATIC_WINDOW_MINUTES} minutes old, so two routers can never both take the last place and
   * no transaction is needed. An incident that already holds a slot (a take-over of a delivery that died
   * after reserving) keeps it rather than taking a second.
   *
   * A slot's item is not evidence: anyone who can write the table can date it. Dated in the future, it
   * counts (a place is never freed by an edit; see {@link datedInTheFuture}). Dated before the window, it is
   * taken over only once `stillHeld` (when given) finds nothing in its holder's record against it, and
   * only from that holder (the update's condition names it).
   *
   * Calls: one Query (none when `known` is given: the slots as {@link automaticSlots} read them for this
   * finding), then at most one UpdateItem per free slot (and one `stillHeld` per expired one), starting at
   * a slot derived from the incident id so that concurrent routers spread over the free slots, then one
   * Query for the holders when every free slot was taken meanwhile. A slot that frees itself during the
   * call is not retried: the finding goes to a person, never past the limit.
   *
   * Exact while the limit is unchanged; within 60 minutes of lowering it, slots above the new limit still
   * count but routers racing for the last free places below it may overshoot by as many as they hold.
   */
  async reserveAutomatic(request: AutomaticReservationRequest): Promise<AutomaticReservation> {
    const { account, incidentId, resourceId, limit, now } = request;
    const slots = request.known ?? (await this.automaticSlots(account, now));
    const live = slots.holders;
    const held = live.find((holder) => holder.incidentId === incidentId);
    if (held !== undefined) return { reserved: true, slot: held.slot };
    if (live.length >= limit) return { reserved: false, holders: [...live], kept: [] };
    const kept: { holder: AutomaticContainment; reason: string }[] = [];
    for (const free of freeSlots(slots, limit, incidentId)) {
      const { previous, slot } = free;
      if (previous !== undefined && request.stillHeld !== undefined) {
        const reason = await request.stillHeld(previous);
        if (reason !== undefined) {
          kept.push({ holder: previous, reason });
          continue;
        }
      }
      try {
        await this.client.send(
          new UpdateCommand(slotUpdate(this.tableName, account, free, incidentId, resourceId, now)),
        );
        return { reserved: true, slot };
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    const holders = await this.automaticContainments(account, now);
    for (const { holder } of kept) if (!holders.some((h) => h.slot === holder.slot)) holders.push(holder);
    return { reserved: false, holders, kept: kept.map((k) => k.reason) };
  }
}
