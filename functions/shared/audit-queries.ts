/**
 * The record's access patterns, each one Query on the table or an index (never a Scan), plus the small
 * conditional writes that correlation and de-duplication rely on.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DocumentSender } from './audit.ts';
import { INDEX, KEY_ATTRIBUTES, keys, SEAL_ATTRIBUTES, withoutAttributes } from './audit-table.ts';
import type { Incident, IncidentStatus, Step } from './domain.ts';

/** What the record keeps of a finding id. */
export interface FindingRecord {
  findingId: string;
  incidentId: string;
  status: 'routing' | 'routed' | 'failed';
  claimedAt: string;
  /** The reporter's own count (GuardDuty's `service.count`), the highest delivered. */
  count: number;
  lastSeen: string;
  /** How many times it was delivered to the router. */
  deliveries: number;
}

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

export interface Page<T> {
  items: T[];
  /** Pass back to get the next page; absent on the last. */
  next?: Record<string, unknown>;
}

export interface RangeOptions {
  /** ISO time, inclusive. */
  readonly since?: string;
  /** ISO time, inclusive. */
  readonly until?: string;
  readonly limit?: number;
  readonly next?: Record<string, unknown>;
}

function clean<T>(item: Record<string, unknown>): T {
  return withoutAttributes<T>(item, KEY_ATTRIBUTES, SEAL_ATTRIBUTES);
}

/** The months from `since` to `until`, newest first, as `yyyy-mm`. */
export function monthsBetween(since: string, until: string): string[] {
  const months: string[] = [];
  let year = Number(until.slice(0, 4));
  let month = Number(until.slice(5, 7));
  const stop = since.slice(0, 7);
  for (;;) {
    const key = `${year}-${String(month).padStart(2, '0')}`;
    months.push(key);
    if (key <= stop) return months;
    month--;
    if (month === 0) {
      month = 12;
      year--;
    }
  }
}

export class AuditQueries {
  constructor(
    private readonly client: DocumentSender,
    readonly tableName: string,
  ) {}

  private async page<T>(
    index: string | undefined,
    pkName: string,
    pk: string,
    skName: string,
    options: RangeOptions,
    suffixLow = '',
    suffixHigh = '\uffff',
  ): Promise<Page<T>> {
    const since = options.since ?? '0000';
    const until = options.until ?? '9999';
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
        ExpressionAttributeNames: { '#pk': pkName, '#sk': skName },
        ExpressionAttributeValues: {
          ':pk': pk,
          ':low': `${since}${suffixLow}`,
          ':high': `${until}${suffixHigh}`,
        },
        ScanIndexForward: false,
        Limit: options.limit,
        ExclusiveStartKey: options.next,
      }),
    );
    return {
      items: (result.Items ?? []).map((item: Record<string, unknown>) => clean<T>(item)),
      next: result.LastEvaluatedKey,
    };
  }

  /** Incidents opened in one month (`yyyy-mm`) within the range, newest first. */
  incidentsInMonth(month: string, options: RangeOptions = {}): Promise<Page<Incident>> {
    return this.page(INDEX.byTime, 'gsi1pk', `MONTH#${month}`, 'gsi1sk', options);
  }

  /** Incidents opened in a time range, newest first, across months. */
  async incidentsBetween(since: string, until: string, limit = 1000): Promise<Incident[]> {
    const out: Incident[] = [];
    for (const month of monthsBetween(since, until)) {
      let next: Record<string, unknown> | undefined;
      do {
        const page = await this.incidentsInMonth(month, { since, until, limit: limit - out.length, next });
        out.push(...page.items);
        next = page.next;
      } while (next && out.length < limit);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** Incidents with a status, newest first. */
  incidentsByStatus(status: IncidentStatus, options: RangeOptions = {}): Promise<Page<Incident>> {
    return this.page(INDEX.byStatus, 'gsi2pk', keys.status(status), 'gsi2sk', options);
  }

  /** Incidents of a finding type, newest first. */
  incidentsByType(findingType: string, options: RangeOptions = {}): Promise<Page<Incident>> {
    return this.page(INDEX.byRef, 'gsi3pk', keys.type(findingType), 'gsi3sk', options);
  }

  /** Incidents that named a resource (instance id, access key, role, bucket), newest first: their ids. */
  async incidentIdsByResource(resourceId: string, options: RangeOptions = {}): Promise<Page<string>> {
    const page = await this.page<{ incidentId: string }>(
      INDEX.byRef,
      'gsi3pk',
      keys.resourceRef(resourceId),
      'gsi3sk',
      options,
    );
    return { items: page.items.map((item) => item.incidentId), next: page.next };
  }

  /** Steps an actor took (who approved what), newest first. */
  stepsByActor(actor: string, options: RangeOptions = {}): Promise<Page<Step>> {
    return this.page(INDEX.byRef, 'gsi3pk', keys.actor(actor), 'gsi3sk', options);
  }

  /** The open incident for a resource, if any. */
  async openIncidentFor(resourceId: string): Promise<string | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.openMarker(resourceId), ConsistentRead: true }),
    );
    return result.Item?.incidentId as string | undefined;
  }

  /**
   * Marks a resource as having an open incident. Returns the incident that holds the marker: this one if
   * it won, another if another writer got there first.
   */
  async claimOpen(resourceId: string, incidentId: string): Promise<string> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.openMarker(resourceId), incidentId, resourceId },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return incidentId;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const holder = await this.openIncidentFor(resourceId);
      return holder ?? (await this.claimOpen(resourceId, incidentId));
    }
  }

  /**
   * Moves a resource's open marker from `expected` (a holder found not to be joined: closed, not on the
   * resource, or a record that does not verify) to `incidentId`, by a conditional put on the holder read.
   * Returns the incident that holds the marker after it: `incidentId` if it won, else whoever moved it
   * first (or claimed it afresh once it was released).
   */
  async replaceOpen(resourceId: string, expected: string, incidentId: string): Promise<string> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.openMarker(resourceId), incidentId, resourceId },
          ConditionExpression: 'incidentId = :expected',
          ExpressionAttributeValues: { ':expected': expected },
        }),
      );
      return incidentId;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const holder = await this.openIncidentFor(resourceId);
      return holder ?? (await this.claimOpen(resourceId, incidentId));
    }
  }

  /**
   * Records a finding id once, as being routed to `incidentId`. Returns true the first time; false for a
   * repeat delivery.
   */
  async recordFinding(
    findingId: string,
    incidentId: string,
    count: number,
    lastSeen: string,
    claimedAt = new Date().toISOString(),
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.finding(findingId),
            findingId,
            incidentId,
            count,
            lastSeen,
            deliveries: 1,
            status: 'routing',
            claimedAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return false;
    }
  }

  /** Marks a finding `routed` (its playbook started, or nothing to do) or `failed` (a retry may take it over). */
  async setFindingStatus(findingId: string, status: 'routed' | 'failed', decision?: unknown): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.finding(findingId),
        UpdateExpression: decision === undefined ? 'SET #status = :s' : 'SET #status = :s, decision = :d',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues:
          decision === undefined ? { ':s': status } : { ':s': status, ':d': decision },
      }),
    );
  }

  /**
   * Takes over the routing of a finding whose earlier delivery failed, or stalled since before
   * `staleBefore`: true for exactly one caller.
   */
  async takeOverFinding(findingId: string, staleBefore: string, now: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.finding(findingId),
          UpdateExpression: 'SET #status = :routing, claimedAt = :now',
          ConditionExpression: '#status = :failed OR (#status = :routing AND claimedAt < :stale)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':routing': 'routing',
            ':failed': 'failed',
            ':stale': staleBefore,
            ':now': now,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Records a repeat delivery of a finding: one more delivery, and its count and last-seen time raised
   * when the delivery reports higher ones (GuardDuty re-sends a finding with a higher `service.count`).
   */
  async recordRepeat(findingId: string, count: number, lastSeen: string): Promise<FindingRecord> {
    const result = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.finding(findingId),
        UpdateExpression: 'ADD deliveries :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    let record = result.Attributes as FindingRecord;
    if (count > record.count || lastSeen > record.lastSeen) {
      try {
        const raised = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.finding(findingId),
            UpdateExpression: 'SET #count = :count, lastSeen = :lastSeen',
            ConditionExpression: '#count < :count OR lastSeen < :lastSeen',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: {
              ':count': Math.max(count, record.count),
              ':lastSeen': lastSeen > record.lastSeen ? lastSeen : record.lastSeen,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        record = raised.Attributes as FindingRecord;
      } catch (error) {
        // Another delivery raised it further meanwhile.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return record;
  }

  /** Points a finding at the incident it joined. */
  async linkFinding(findingId: string, incidentId: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.finding(findingId),
        UpdateExpression: 'SET incidentId = :id',
        ExpressionAttributeValues: { ':id': incidentId },
      }),
    );
  }

  /** What is recorded of a finding id, if it was seen. */
  async finding(findingId: string): Promise<FindingRecord | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.finding(findingId), ConsistentRead: true }),
    );
    return result.Item as FindingRecord | undefined;
  }

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
    let next: Record<string, unknown> | undefined;
    do {
      const result = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': keys.automaticSlots(account),
            ':prefix': keys.automaticSlotPrefix,
          },
          ConsistentRead: true,
          ExclusiveStartKey: next,
        }),
      );
      for (const item of result.Items ?? []) {
        const holder = slotHolder(item);
        // A slot whose time is not a string is not what a router wrote: it counts (see slotHolder).
        (typeof item.takenAt === 'string' && holder.takenAt <= since ? expired : holders).push(holder);
      }
      next = result.LastEvaluatedKey;
    } while (next !== undefined);
    const order = (a: AutomaticContainment, b: AutomaticContainment) =>
      a.takenAt < b.takenAt ? -1 : a.takenAt > b.takenAt ? 1 : a.slot - b.slot;
    return { holders: holders.sort(order), expired: expired.sort(order) };
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
    const used = new Set(live.map((holder) => holder.slot));
    const expired = new Map(slots.expired.map((holder) => [holder.slot, holder]));
    const free = Array.from({ length: limit }, (_, slot) => slot).filter((slot) => !used.has(slot));
    const start = spread(incidentId) % free.length;
    const kept: { holder: AutomaticContainment; reason: string }[] = [];
    for (const slot of [...free.slice(start), ...free.slice(0, start)]) {
      const previous = expired.get(slot);
      if (previous !== undefined && request.stillHeld !== undefined) {
        const reason = await request.stillHeld(previous);
        if (reason !== undefined) {
          kept.push({ holder: previous, reason });
          continue;
        }
      }
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.automaticSlot(account, slot),
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
          }),
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

  /** Keeps an event the router could not handle, whole, with the reason. */
  async recordRejection(id: string, at: string, reason: string, event: unknown): Promise<void> {
    let stored: unknown = event;
    // An item holds at most 400 KB: a larger event is kept as text, cut, and says so.
    const text = JSON.stringify(event) ?? String(event);
    if (text.length > 300_000) stored = { truncated: true, text: text.slice(0, 300_000) };
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { ...keys.rejection(at, id), at, reason, event: stored },
      }),
    );
  }

  /** The events rejected on a day (`yyyy-mm-dd`), oldest first. */
  async rejections(day: string): Promise<{ at: string; reason: string; event: unknown }[]> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `REJECTED#${day}` },
      }),
    );
    return (result.Items ?? []) as { at: string; reason: string; event: unknown }[];
  }
}
