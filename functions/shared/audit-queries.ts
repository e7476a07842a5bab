/**
 * The record's access patterns, each one Query on the table or an index (never a Scan), plus the small
 * conditional writes that correlation and de-duplication rely on.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DocumentSender } from './audit.ts';
import { INDEX, keys } from './audit-table.ts';
import type { Incident, IncidentStatus, Step } from './domain.ts';

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

const INCIDENT_FIELDS_TO_DROP = new Set([
  'pk',
  'sk',
  'gsi1pk',
  'gsi1sk',
  'gsi2pk',
  'gsi2sk',
  'gsi3pk',
  'gsi3sk',
]);

function clean<T>(item: Record<string, unknown>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!INCIDENT_FIELDS_TO_DROP.has(k)) out[k] = v;
  return out as T;
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

  /** Removes a resource's open marker when its incident closes. */
  async releaseOpen(resourceId: string, incidentId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.openMarker(resourceId),
          ConditionExpression: 'incidentId = :id',
          ExpressionAttributeValues: { ':id': incidentId },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /**
   * Records a finding id once. Returns true the first time; false for a repeat delivery, whose count and
   * last-seen time are raised instead.
   */
  async recordFinding(
    findingId: string,
    incidentId: string,
    count: number,
    lastSeen: string,
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
            firstRecorded: lastSeen,
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

  /** What is recorded of a finding id, if it was seen. */
  async finding(
    findingId: string,
  ): Promise<{ incidentId: string; count: number; lastSeen: string } | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.finding(findingId), ConsistentRead: true }),
    );
    return result.Item as { incidentId: string; count: number; lastSeen: string } | undefined;
  }
}
