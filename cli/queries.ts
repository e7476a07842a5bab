/**
 * The console's reads, each a Query on the table or one of its indexes (never a Scan), planned so that
 * the most selective key does the work and a filter only removes what the key could not:
 *
 * | question                          | key                                           | filter (if asked)                 |
 * |-----------------------------------|-----------------------------------------------|-----------------------------------|
 * | incidents naming a resource       | by-ref `RESOURCE#<id>`, then a BatchGet       | status, type, severity, account (in memory, on the incidents got) |
 * | incidents of a finding type       | by-ref `TYPE#<type>`, time range on the key   | status, severity, account         |
 * | incidents with a status           | by-status `STATUS#<status>`, time range       | severity, account                 |
 * | incidents in a time range         | by-time `MONTH#<yyyy-mm>`, month by month     | severity, account                 |
 * | steps an actor took               | by-ref `ACTOR#<actor>`, time range            | action, incident                  |
 * | steps of one incident             | table `INCIDENT#<id>`, `STEP#` prefix         | actor, action, time               |
 *
 * Severity and account are in no key: a filter on them reads what the key selects and keeps the matches.
 * Every read is counted in {@link ReadStats} so that tests (and `--debug-reads`) can show what it cost.
 */
import { BatchGetCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { DocumentSender, StoredIncident } from '#shared/audit';
import { monthsBetween } from '#shared/audit-queries';
import { INDEX, KEY_ATTRIBUTES, keys, SEAL_ATTRIBUTES, withoutAttributes } from '#shared/audit-table';
import { INCIDENT_STATUSES, type IncidentStatus, type Step } from '#shared/domain';
import { ValidationError } from '#shared/errors';

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

/** Filters of `cordon incidents list`. Times are ISO, inclusive. */
export interface IncidentFilter {
  readonly since: string;
  readonly until: string;
  readonly status?: IncidentStatus;
  readonly type?: string;
  readonly resource?: string;
  readonly minSeverity?: number;
  readonly account?: string;
}

/** Filters of `cordon steps`. */
export interface StepFilter {
  readonly actor?: string;
  readonly action?: string;
  readonly incident?: string;
  readonly since?: string;
  readonly until?: string;
}

/** A page of results and the token for the next one (absent on the last). */
export interface ResultPage<T> {
  readonly items: T[];
  readonly nextToken?: string;
}

/** Which key serves a list, and what is filtered after it: printed by `--explain`, checked by tests. */
export interface IncidentPlan {
  readonly index: 'by-ref' | 'by-status' | 'by-time';
  readonly key: string;
  /** Conditions applied after the key (a FilterExpression, or in memory for a resource). */
  readonly filters: readonly string[];
}

/** An item as the console shows it: without its keys and the record's seal. */
function strip<T>(item: Record<string, unknown>): T {
  return withoutAttributes<T>(item, KEY_ATTRIBUTES, SEAL_ATTRIBUTES);
}

/** Chooses the key for a list: resource, else finding type, else status, else time. */
export function planIncidents(filter: IncidentFilter): IncidentPlan {
  const filters: string[] = [];
  const add = (condition: string | false) => {
    if (condition) filters.push(condition);
  };
  let plan: Omit<IncidentPlan, 'filters'>;
  if (filter.resource !== undefined) {
    plan = { index: 'by-ref', key: keys.resourceRef(filter.resource) };
    add(filter.type !== undefined && 'findingType');
    add(filter.status !== undefined && 'status');
  } else if (filter.type !== undefined) {
    plan = { index: 'by-ref', key: keys.type(filter.type) };
    add(filter.status !== undefined && 'status');
  } else if (filter.status !== undefined) {
    plan = { index: 'by-status', key: keys.status(filter.status) };
  } else {
    plan = { index: 'by-time', key: 'MONTH#<yyyy-mm>' };
  }
  add(filter.minSeverity !== undefined && 'severity');
  add(filter.account !== undefined && 'account');
  return { ...plan, filters };
}

interface Token {
  readonly v: 1;
  /** What the token pages through: the filters apart from the time range. */
  readonly q: string;
  readonly since: string;
  readonly until: string;
  /** The month the next page starts in (by-time only). */
  readonly m?: string;
  readonly k?: Record<string, unknown>;
}

function fingerprint(parts: Record<string, unknown>): string {
  return JSON.stringify(Object.entries(parts).filter(([, v]) => v !== undefined));
}

/** A continuation token: opaque to the user, base64url JSON to us. */
export function encodeToken(token: Token): string {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

/** Reads a continuation token back, or says why it cannot. */
export function decodeToken(text: string, query: string): Token {
  let token: Partial<Token>;
  try {
    token = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Token>;
  } catch {
    throw new ValidationError('--next-token', ['is not a token this console printed']);
  }
  if (token.v !== 1 || typeof token.since !== 'string' || typeof token.until !== 'string') {
    throw new ValidationError('--next-token', ['is not a token this console printed']);
  }
  if (token.q !== query) {
    throw new ValidationError('--next-token', [
      'belongs to a list with other filters: repeat the filters of the list that printed it',
    ]);
  }
  return token as Token;
}

/** Builds a FilterExpression from conditions; names and values are `#f0`/`:f0`... */
function filterExpression(
  conditions: readonly (readonly [string, '=' | '>=' | '<=', unknown])[],
): Partial<QueryCommandInput> {
  if (conditions.length === 0) return {};
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const parts = conditions.map(([field, op, value], i) => {
    names[`#f${i}`] = field;
    values[`:f${i}`] = value;
    return `#f${i} ${op} :f${i}`;
  });
  return {
    FilterExpression: parts.join(' AND '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

function merge(a: Partial<QueryCommandInput>, b: Partial<QueryCommandInput>): Partial<QueryCommandInput> {
  const names = { ...a.ExpressionAttributeNames, ...b.ExpressionAttributeNames };
  const values = { ...a.ExpressionAttributeValues, ...b.ExpressionAttributeValues };
  return {
    ...a,
    ...b,
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}

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
    });
    const token = page.nextToken === undefined ? undefined : decodeToken(page.nextToken, q);
    const since = token?.since ?? filter.since;
    const until = token?.until ?? filter.until;
    const range = {
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :low AND :high',
      ExpressionAttributeValues: { ':low': since, ':high': `${until}\uffff` },
      ScanIndexForward: false,
    };
    const filters = filterExpression([
      ...(filter.resource === undefined && filter.type !== undefined && filter.status !== undefined
        ? [['status', '=', filter.status] as const]
        : []),
      ...(filter.resource === undefined && filter.minSeverity !== undefined
        ? [['severity', '>=', filter.minSeverity] as const]
        : []),
      ...(filter.resource === undefined && filter.account !== undefined
        ? [['account', '=', filter.account] as const]
        : []),
    ]);
    const items: StoredIncident[] = [];
    const remaining = () => page.limit - items.length;
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
          items.push(...result.items.map((item) => strip<StoredIncident>(item)));
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

    const [pkName, skName] = plan.index === 'by-status' ? ['gsi2pk', 'gsi2sk'] : ['gsi3pk', 'gsi3sk'];
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
          filter.resource === undefined ? filters : {},
        ),
        Limit: remaining(),
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      });
      if (filter.resource === undefined) {
        items.push(...result.items.map((item) => strip<StoredIncident>(item)));
      } else {
        const ids = result.items.map((item) => String(item.incidentId));
        const incidents = await this.incidentsById(ids);
        items.push(
          ...incidents.filter(
            (incident) =>
              (filter.status === undefined || incident.status === filter.status) &&
              (filter.type === undefined || incident.findingType === filter.type) &&
              (filter.minSeverity === undefined || incident.severity >= filter.minSeverity) &&
              (filter.account === undefined || incident.account === filter.account),
          ),
        );
      }
      startKey = result.next;
    } while (startKey && remaining() > 0);
    return done(startKey ? { k: startKey } : undefined);
  }

  /** Every incident opened in a range, newest first (for `stats` and `verify --all`). */
  async allIncidents(since: string, until: string): Promise<StoredIncident[]> {
    const out: StoredIncident[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.listIncidents(
        { since, until },
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
