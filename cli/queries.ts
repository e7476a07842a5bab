/**
 * The console's reads, each a Query on the table or one of its indexes (never a Scan), planned so that
 * the most selective key does the work and a filter only removes what the key could not:
 *
 * | question                          | key                                           | filter (if asked)                 |
 * |-----------------------------------|-----------------------------------------------|-----------------------------------|
 * | incidents naming a resource       | by-ref `RESOURCE#<id>`, then a BatchGet       | region, type, status, severity, account (in memory, on the incidents got) |
 * | incidents in an account           | by-place `ACCOUNT#<account>`, time range      | region, type, status, severity    |
 * | incidents in a region             | by-place `REGION#<region>` (place items), time range, then a BatchGet | type, status, severity (in memory) |
 * | incidents of a finding type       | by-ref `TYPE#<type>`, time range on the key   | status, severity                  |
 * | incidents with a status           | by-status `STATUS#<status>`, time range       | severity                          |
 * | incidents in a time range         | by-time `MONTH#<yyyy-mm>`, month by month     | severity                          |
 * | steps an actor took               | by-ref `ACTOR#<actor>`, time range            | action, incident                  |
 * | steps of one incident             | table `INCIDENT#<id>`, `STEP#` prefix         | actor, action, time               |
 *
 * Severity is in no key: a filter on it reads what the key selects and keeps the matches. Every BatchGet
 * follows its UnprocessedKeys, and every Query its pages, until the page asked for is full.
 * Every read is counted in {@link ReadStats} so that tests (and `--debug-reads`) can show what it cost.
 */
import { BatchGetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { DocumentSender, StoredIncident } from '#shared/audit';
import { monthsBetween } from '#shared/audit-queries';
import { INDEX, keys } from '#shared/audit-table';
import { INCIDENT_STATUSES, type Step } from '#shared/domain';
import { ValidationError } from '#shared/errors';
import {
  conditionsOf,
  decodeToken,
  encodeToken,
  filterExpression,
  fingerprint,
  type IncidentFilter,
  type IncidentPlan,
  meets,
  merge,
  planIncidents,
  type ResultPage,
  type StepFilter,
  strip,
  type Token,
} from './queries/plan.ts';

/** What the reads of a command cost: items DynamoDB read (ScannedCount, gets) against items it returned. */
export interface ReadStats {
  queries: number;
  /** Items the queries read (ScannedCount) plus items the gets read. */
  read: number;
  /** Items the queries and gets returned (Count, items got). */
  returned: number;
  /** Items read by BatchGet or Get (each reads exactly the item it returns). */
  got: number;
}

/** The key attributes of each index a list reads one partition of. */
const INDEX_KEYS: Record<Exclude<IncidentPlan['index'], 'by-time'>, readonly [string, string]> = {
  'by-status': ['gsi2pk', 'gsi2sk'],
  'by-ref': ['gsi3pk', 'gsi3sk'],
  'by-place': ['gsi4pk', 'gsi4sk'],
};

/** The console's read side of the audit table. */
export class ConsoleQueries {
  /** What every read so far cost. */
  readonly stats: ReadStats = { queries: 0, read: 0, returned: 0, got: 0 };

  constructor(
    private readonly client: DocumentSender,
    readonly tableName: string,
  ) {}

  /** One Query request, counted. */
  private async query(input: Omit<QueryCommandInput, 'TableName'>) {
    const result = await this.client.send(new QueryCommand({ TableName: this.tableName, ...input }));
    this.stats.queries++;
    this.stats.read += result.ScannedCount ?? 0;
    this.stats.returned += result.Count ?? 0;
    return { items: (result.Items ?? []) as Record<string, unknown>[], next: result.LastEvaluatedKey };
  }

  /** Incidents by id, in the order given, by BatchGet (100 keys a request); missing ones are left out. */
  async incidentsById(ids: readonly string[]): Promise<StoredIncident[]> {
    const found = new Map<string, StoredIncident>();
    for (let i = 0; i < ids.length; i += 100) {
      let pending: Record<string, unknown>[] = [...new Set(ids.slice(i, i + 100))].map((id) =>
        keys.incident(id),
      );
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0)
          await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));
        const result = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending } } }),
        );
        const items = result.Responses?.[this.tableName] ?? [];
        this.stats.read += items.length;
        this.stats.returned += items.length;
        this.stats.got += items.length;
        for (const item of items) {
          const incident = strip<StoredIncident>(item);
          found.set(incident.id, incident);
        }
        pending = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return ids.flatMap((id) => {
      const incident = found.get(id);
      return incident ? [incident] : [];
    });
  }

  /** A page of incidents, newest first, from the key {@link planIncidents} chooses. */
  async listIncidents(
    filter: IncidentFilter,
    page: { limit: number; nextToken?: string },
  ): Promise<ResultPage<StoredIncident> & { plan: IncidentPlan }> {
    const plan = planIncidents(filter);
    const q = fingerprint({
      status: filter.status,
      type: filter.type,
      resource: filter.resource,
      minSeverity: filter.minSeverity,
      account: filter.account,
      region: filter.region,
    });
    const token = page.nextToken === undefined ? undefined : decodeToken(page.nextToken, q);
    const since = token?.since ?? filter.since;
    const until = token?.until ?? filter.until;
    const range = {
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
      ExpressionAttributeValues: { ':low': since, ':high': `${until}\uffff` },
      ScanIndexForward: false,
    };
    const conditions = conditionsOf(filter, plan.filters);
    // What the key selects is incidents (filtered on the index) or links to them (filtered once got).
    const filters = plan.via === 'BatchGet' ? {} : filterExpression(conditions);
    const items: StoredIncident[] = [];
    const remaining = () => page.limit - items.length;
    const take = async (found: Record<string, unknown>[]) => {
      if (plan.via !== 'BatchGet') {
        items.push(...found.map((item) => strip<StoredIncident>(item)));
        return;
      }
      const incidents = await this.incidentsById(found.map((item) => String(item.incidentId)));
      items.push(...incidents.filter((incident) => meets(incident, conditions)));
    };
    const done = (next: Omit<Token, 'v' | 'q' | 'since' | 'until'> | undefined) => ({
      items,
      plan,
      ...(next ? { nextToken: encodeToken({ v: 1, q, since, until, ...next }) } : {}),
    });

    if (plan.index === 'by-time') {
      const months = monthsBetween(since, until);
      const start = token?.m ? Math.max(0, months.indexOf(token.m)) : 0;
      let startKey = token?.k;
      for (let i = start; i < months.length; i++) {
        const month = months[i] ?? '';
        do {
          const result = await this.query({
            IndexName: INDEX.byTime,
            ...merge(
              {
                ...range,
                ExpressionAttributeNames: { '#pk': 'gsi1pk', '#sk': 'gsi1sk' },
                ExpressionAttributeValues: {
                  ...range.ExpressionAttributeValues,
                  ':pk': keys.month(`${month}-01`),
                },
              },
              filters,
            ),
            Limit: remaining(),
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          });
          await take(result.items);
          startKey = result.next;
        } while (startKey && remaining() > 0);
        if (remaining() <= 0) {
          const nextMonth = months[i + 1];
          return done(startKey ? { m: month, k: startKey } : nextMonth ? { m: nextMonth } : undefined);
        }
        startKey = undefined;
      }
      return done(undefined);
    }

    const [pkName, skName] = INDEX_KEYS[plan.index];
    let startKey = token?.k;
    do {
      const result = await this.query({
        IndexName: plan.index,
        ...merge(
          {
            ...range,
            ExpressionAttributeNames: { '#pk': pkName, '#sk': skName },
            ExpressionAttributeValues: { ...range.ExpressionAttributeValues, ':pk': plan.key },
          },
          filters,
        ),
        Limit: remaining(),
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      });
      await take(result.items);
      startKey = result.next;
    } while (startKey && remaining() > 0);
    return done(startKey ? { k: startKey } : undefined);
  }

  /**
   * Every incident opened in a range, newest first (for `stats` and `verify --all`); in one account or
   * region when asked, read from by-place.
   */
  async allIncidents(
    since: string,
    until: string,
    where: Pick<IncidentFilter, 'account' | 'region'> = {},
  ): Promise<StoredIncident[]> {
    const out: StoredIncident[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.listIncidents(
        { since, until, ...where },
        { limit: 1000, ...(nextToken ? { nextToken } : {}) },
      );
      out.push(...page.items);
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }

  /** Every incident of all time, whatever its status: the four status partitions, newest first in each. */
  async everyIncident(): Promise<StoredIncident[]> {
    const out: StoredIncident[] = [];
    for (const status of INCIDENT_STATUSES) {
      let nextToken: string | undefined;
      do {
        const page = await this.listIncidents(
          { since: '0000', until: '9999', status },
          { limit: 1000, ...(nextToken ? { nextToken } : {}) },
        );
        out.push(...page.items);
        nextToken = page.nextToken;
      } while (nextToken);
    }
    return out;
  }

  /** Every step of an incident, in order (a Query on its partition with the `STEP#` prefix). */
  async steps(incidentId: string): Promise<Step[]> {
    const out: Step[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const result = await this.query({
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.incident(incidentId).pk, ':prefix': keys.stepPrefix },
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      });
      out.push(...result.items.map((item) => strip<Step>(item)));
      startKey = result.next;
    } while (startKey);
    return out;
  }

  /**
   * A page of steps: an actor's, newest first, from by-ref `ACTOR#<actor>` with the time range on the key;
   * or one incident's, in order. `--action` (and `--incident` with an actor) filter what the key selects.
   */
  async listSteps(
    filter: StepFilter,
    page: { limit: number; nextToken?: string },
  ): Promise<ResultPage<Step>> {
    if (filter.actor === undefined && filter.incident === undefined) {
      throw new ValidationError('steps', [
        'pass --actor <who> (steps are indexed by actor) or --incident <id>; the actors are automation and the approvers',
      ]);
    }
    const q = fingerprint({ actor: filter.actor, action: filter.action, incident: filter.incident });
    const token = page.nextToken === undefined ? undefined : decodeToken(page.nextToken, q);
    const since = token?.since ?? filter.since ?? '0000';
    const until = token?.until ?? filter.until ?? '9999';
    let input: Omit<QueryCommandInput, 'TableName'>;
    if (filter.actor !== undefined) {
      input = {
        IndexName: INDEX.byRef,
        ...merge(
          {
            KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
            ExpressionAttributeNames: { '#pk': 'gsi3pk', '#sk': 'gsi3sk' },
            ExpressionAttributeValues: {
              ':pk': keys.actor(filter.actor),
              ':low': since,
              ':high': `${until}\uffff`,
            },
          },
          filterExpression([
            ...(filter.action !== undefined ? [['action', '=', filter.action] as const] : []),
            ...(filter.incident !== undefined ? [['incidentId', '=', filter.incident] as const] : []),
          ]),
        ),
        ScanIndexForward: false,
      };
    } else {
      input = merge(
        {
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: {
            ':pk': keys.incident(filter.incident ?? '').pk,
            ':prefix': keys.stepPrefix,
          },
        },
        filterExpression([
          ...(filter.action !== undefined ? [['action', '=', filter.action] as const] : []),
          ...(filter.since !== undefined ? [['startedAt', '>=', since] as const] : []),
          ...(filter.until !== undefined ? [['startedAt', '<=', `${until}\uffff`] as const] : []),
        ]),
      );
    }
    const items: Step[] = [];
    let startKey = token?.k;
    do {
      const result = await this.query({
        ...input,
        Limit: page.limit - items.length,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      });
      items.push(...result.items.map((item) => strip<Step>(item)));
      startKey = result.next;
    } while (startKey && items.length < page.limit);
    return {
      items,
      ...(startKey ? { nextToken: encodeToken({ v: 1, q, since, until, k: startKey }) } : {}),
    };
  }
}
