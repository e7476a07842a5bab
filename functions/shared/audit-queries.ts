/**
 * The record's access patterns, each one Query on the table or an index (never a Scan), plus the writes
 * that correlation and de-duplication make in the router's transactions. The finding records
 * (de-duplication of deliveries) are in functions/shared/audit-findings.ts, the base class; the
 * blast-radius slots in functions/shared/audit-slots.ts (re-exported here).
 */
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DocumentSender } from './audit.ts';
import { FindingRecords } from './audit-findings.ts';
import { type AccountSlots, type AutomaticContainment, type FreeSlot, SlotsTable } from './audit-slots.ts';
import {
  INDEX,
  KEY_ATTRIBUTES,
  keys,
  type Place,
  resourceKey,
  SEAL_ATTRIBUTES,
  withoutAttributes,
} from './audit-table.ts';
import type { TransactItem } from './audit-transactions.ts';
import type { Incident, IncidentStatus, Step } from './domain.ts';

export {
  type FindingChange,
  type FindingClaim,
  type FindingRecord,
  findingRecordOf,
} from './audit-findings.ts';
export {
  type AccountSlots,
  AUTOMATIC_WINDOW_MINUTES,
  type AutomaticContainment,
  datedInTheFuture,
  type FreeSlot,
  freeSlots,
  organizationSlotLabel,
  SLOT_CLOCK_SKEW_MS,
  slotLabel,
} from './audit-slots.ts';

import { allItems, lastEvaluatedKey } from './pages.ts';

/** What a resource's open marker is keyed by, with its place: its type (global or regional) and id. */
export interface MarkedResource {
  readonly type: string;
  readonly id: string;
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

export class AuditQueries extends FindingRecords {
  private readonly slots: SlotsTable;

  constructor(client: DocumentSender, tableName: string) {
    super(client, tableName);
    this.slots = new SlotsTable(client, tableName);
  }

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

  /**
   * The open incident for a resource of a place, if any: its marker is keyed by {@link resourceKey}, so the
   * same instance id in two accounts (or regions) has two markers, and one key's in two regions one.
   */
  async openIncidentFor(place: Place, resource: MarkedResource): Promise<string | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.openMarker(resourceKey(place, resource)),
        ConsistentRead: true,
      }),
    );
    const incidentId = result.Item?.incidentId;
    return typeof incidentId === 'string' ? incidentId : undefined;
  }

  /**
   * The write that points a resource's open marker (of its place) at `incidentId`, for a transaction (the router's
   * opening): on the condition that the resource has no marker (`expected` undefined) or that its marker
   * still names `expected` (a holder found not to be joined). The marker comes back when it fails.
   */
  markerWrite(place: Place, resource: MarkedResource, incidentId: string, expected?: string): TransactItem {
    const key = resourceKey(place, resource);
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...keys.openMarker(key),
          incidentId,
          resourceKey: key,
          resourceId: resource.id,
          account: place.account,
          region: place.region,
        },
        ...(expected === undefined
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: 'incidentId = :expected',
              ExpressionAttributeValues: { ':expected': expected },
            }),
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  /** See {@link SlotsTable.slotWrite}. */
  slotWrite(
    account: string,
    free: FreeSlot,
    incidentId: string,
    resourceId: string,
    now: Date,
  ): TransactItem {
    return this.slots.slotWrite(account, free, incidentId, resourceId, now);
  }

  /** See {@link SlotsTable.organizationSlotWrite}. */
  organizationSlotWrite(
    account: string,
    free: FreeSlot,
    incidentId: string,
    resourceId: string,
    now: Date,
  ): TransactItem {
    return this.slots.organizationSlotWrite(account, free, incidentId, resourceId, now);
  }

  /** See {@link SlotsTable.organizationSlots}. */
  organizationSlots(now: Date): Promise<AccountSlots> {
    return this.slots.organizationSlots(now);
  }

  /** See {@link SlotsTable.automaticContainments}. */
  automaticContainments(account: string, now: Date): Promise<AutomaticContainment[]> {
    return this.slots.automaticContainments(account, now);
  }

  /** See {@link SlotsTable.automaticSlots}. */
  automaticSlots(account: string, now: Date): Promise<AccountSlots> {
    return this.slots.automaticSlots(account, now);
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

  /** The events rejected on a day (`yyyy-mm-dd`), oldest first: every page (an event may be 300 KB). */
  async rejections(day: string): Promise<{ at: string; reason: string; event: unknown }[]> {
    const items = await allItems({
      doing: `dynamodb:Query REJECTED#${day}`,
      fetch: (ExclusiveStartKey) =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `REJECTED#${day}` },
            ExclusiveStartKey,
          }),
        ),
      next: lastEvaluatedKey,
      items: (page) => page.Items,
    });
    return items as { at: string; reason: string; event: unknown }[];
  }
}
