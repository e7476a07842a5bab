/**
 * The blast-radius slots: each account has as many slots as its limit (`maxAutomaticContainmentsPerHour`,
 * or its `organization.perAccount` one), items under the account's key, and the organization as many as
 * `organization.maxAutomaticContainmentsPerHour`, under its own key. An automatic containment takes one of
 * its account's and one of the organization's for {@link AUTOMATIC_WINDOW_MINUTES} minutes, by conditional
 * updates, so that two routers never both take the last place of either. Read by the router's policy (who
 * holds the slots) and written when it decides to contain without a person: the router makes both updates
 * ({@link SlotsTable.slotWrite}, {@link SlotsTable.organizationSlotWrite}) in the transaction that opens the
 * incident and records it automatic, so that the record never says automatic without the slots, nor a slot
 * without the record.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DocumentSender } from './audit-reader.ts';
import { keys } from './audit-table.ts';
import type { TransactItem } from './audit-transactions.ts';
import { allItems, lastEvaluatedKey } from './pages.ts';

/** How long an automatic containment counts against its account's blast-radius limit. */
export const AUTOMATIC_WINDOW_MINUTES = 60;

/** An automatic containment holding one of its account's (or the organization's) blast-radius slots. */
export interface AutomaticContainment {
  readonly slot: number;
  readonly incidentId: string;
  /** The account it contains in: given for an organization slot (an account's slot is its own). */
  readonly account?: string;
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

/** An account's (or the organization's) blast-radius slots as read at a time. */
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

/** The oldest time a slot's holder may have been taken at and still count at `now`, exclusive. */
function windowStart(now: Date): string {
  return new Date(now.getTime() - AUTOMATIC_WINDOW_MINUTES * 60_000).toISOString();
}

/** Every live slot counts, even one whose holder fields are not what the router wrote: it fails closed. */
function slotHolder(item: Record<string, unknown>): AutomaticContainment {
  const { sk, incidentId, resourceId, takenAt, account } = item;
  const slot = Number(String(sk).slice(keys.automaticSlotPrefix.length));
  return {
    slot: Number.isInteger(slot) ? slot : -1,
    incidentId: typeof incidentId === 'string' ? incidentId : 'an unknown incident',
    ...(typeof account === 'string' ? { account } : {}),
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

/** The label of an account slot's write in a transaction, as a refusal names it. */
export const slotLabel = (slot: number) => `slot ${slot}`;

/** The label of an organization slot's write in a transaction, as a refusal names it. */
export const organizationSlotLabel = (slot: number) => `organization slot ${slot}`;

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
  automaticSlots(account: string, now: Date): Promise<AccountSlots> {
    return this.slotsIn(keys.automaticSlots(account), `the slots of ${account}`, now);
  }

  /**
   * The organization's blast-radius slots at `now`, as {@link automaticSlots} reads an account's: one Query
   * of their partition, each holder naming the account it contains in.
   */
  organizationSlots(now: Date): Promise<AccountSlots> {
    return this.slotsIn(keys.organizationSlots, "the organization's slots", now);
  }

  private async slotsIn(pk: string, what: string, now: Date): Promise<AccountSlots> {
    const since = windowStart(now);
    const holders: AutomaticContainment[] = [];
    const expired: AutomaticContainment[] = [];
    const slots = await allItems({
      doing: `dynamodb:Query ${what}`,
      fetch: (ExclusiveStartKey) =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': pk, ':prefix': keys.automaticSlotPrefix },
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
   * The write that takes a free slot of an account for an incident, for a transaction (the router's
   * opening): an update on the condition that the slot is free as it was read (never taken or expired; an
   * expired one only from the holder read, whose record the router checked), its item returned when the
   * condition fails, so the refusal names who took the slot meanwhile.
   */
  slotWrite(
    account: string,
    free: FreeSlot,
    incidentId: string,
    resourceId: string,
    now: Date,
  ): TransactItem {
    return takeSlot(
      this.tableName,
      keys.automaticSlot(account, free.slot),
      free,
      { incidentId, resourceId },
      now,
    );
  }

  /**
   * The write that takes a free slot of the organization, as {@link slotWrite} takes an account's, naming
   * the account the containment is in: in the same transaction as the account's slot.
   */
  organizationSlotWrite(
    account: string,
    free: FreeSlot,
    incidentId: string,
    resourceId: string,
    now: Date,
  ): TransactItem {
    return takeSlot(
      this.tableName,
      keys.organizationSlot(free.slot),
      free,
      { incidentId, resourceId, account },
      now,
    );
  }
}

/** The conditional update that takes a free slot (see {@link SlotsTable.slotWrite}). */
function takeSlot(
  tableName: string,
  key: { pk: string; sk: string },
  free: FreeSlot,
  holder: { incidentId: string; resourceId: string; account?: string },
  now: Date,
): TransactItem {
  const { previous } = free;
  return {
    Update: {
      TableName: tableName,
      Key: key,
      UpdateExpression: `SET takenAt = :now, incidentId = :incident, resourceId = :resource${holder.account === undefined ? '' : ', account = :account'}`,
      ConditionExpression:
        previous === undefined
          ? 'attribute_not_exists(pk) OR takenAt <= :since'
          : 'takenAt <= :since AND incidentId = :previous',
      ExpressionAttributeValues: {
        ':now': now.toISOString(),
        ':since': windowStart(now),
        ':incident': holder.incidentId,
        ':resource': holder.resourceId,
        ...(holder.account === undefined ? {} : { ':account': holder.account }),
        ...(previous === undefined ? {} : { ':previous': previous.incidentId }),
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    },
  };
}
