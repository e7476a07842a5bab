/**
 * How the console's reads are planned and paged: the filters of a list, the key that serves it (see the
 * table in cli/queries.ts), the FilterExpression for what the key cannot select, and the continuation
 * token bound to the list's filters.
 */
import type { QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { KEY_ATTRIBUTES, keys, SEAL_ATTRIBUTES, withoutAttributes } from '#shared/audit-table';
import type { IncidentStatus } from '#shared/domain';
import { ValidationError } from '#shared/errors';

/** Filters of `cordon incidents list`. Times are ISO, inclusive. */
export interface IncidentFilter {
  readonly since: string;
  readonly until: string;
  readonly status?: IncidentStatus;
  readonly type?: string;
  readonly resource?: string;
  readonly minSeverity?: number;
  readonly account?: string;
  /** The region the incidents are in (`--in-region`): the finding's, not the console's. */
  readonly region?: string;
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
  readonly index: 'by-ref' | 'by-status' | 'by-time' | 'by-place';
  readonly key: string;
  /**
   * Conditions applied after the key, by the incident field they test: a FilterExpression on the index, or,
   * when the key selects links rather than incidents (`via`), in memory on the incidents got.
   */
  readonly filters: readonly IncidentField[];
  /**
   * `BatchGet`: the key selects items that point at incidents (a resource's links, a region's place items),
   * and the incidents are got by id, 100 keys a request.
   */
  readonly via?: 'BatchGet';
}

/** The incident fields a list may filter on. */
export type IncidentField = 'findingType' | 'status' | 'severity' | 'account' | 'region';

/** The condition a filter of the list puts on a field: what the FilterExpression and the memory filter test. */
export function conditionsOf(
  filter: IncidentFilter,
  fields: readonly IncidentField[],
): (readonly [IncidentField, '=' | '>=', string | number])[] {
  const value: Record<IncidentField, readonly [IncidentField, '=' | '>=', string | number] | undefined> = {
    findingType: filter.type === undefined ? undefined : ['findingType', '=', filter.type],
    status: filter.status === undefined ? undefined : ['status', '=', filter.status],
    severity: filter.minSeverity === undefined ? undefined : ['severity', '>=', filter.minSeverity],
    account: filter.account === undefined ? undefined : ['account', '=', filter.account],
    region: filter.region === undefined ? undefined : ['region', '=', filter.region],
  };
  return fields.flatMap((field) => {
    const condition = value[field];
    return condition ? [condition] : [];
  });
}

/** Whether an incident meets conditions (the memory filter after a BatchGet). */
export function meets(
  incident: object,
  conditions: readonly (readonly [IncidentField, '=' | '>=', string | number])[],
): boolean {
  return conditions.every(([field, op, value]) => {
    const actual = (incident as Record<string, unknown>)[field];
    return op === '=' ? actual === value : typeof actual === 'number' && actual >= Number(value);
  });
}

/** An item as the console shows it: without its keys and the record's seal. */
export function strip<T>(item: Record<string, unknown>): T {
  return withoutAttributes<T>(item, KEY_ATTRIBUTES, SEAL_ATTRIBUTES);
}

/**
 * Chooses the key for a list: resource (by-ref), else account (by-place, the incident items), else region
 * (by-place, the place items, then the incidents by BatchGet), else finding type (by-ref), else status
 * (by-status), else time (by-time, month by month). What the key does not select is filtered.
 */
export function planIncidents(filter: IncidentFilter): IncidentPlan {
  let plan: Omit<IncidentPlan, 'filters'>;
  /** The field the key selects by, so not filtered on. */
  let keyed: IncidentField | undefined;
  if (filter.resource !== undefined) {
    plan = { index: 'by-ref', key: keys.resourceRef(filter.resource), via: 'BatchGet' };
  } else if (filter.account !== undefined) {
    plan = { index: 'by-place', key: keys.account(filter.account) };
    keyed = 'account';
  } else if (filter.region !== undefined) {
    plan = { index: 'by-place', key: keys.region(filter.region), via: 'BatchGet' };
    keyed = 'region';
  } else if (filter.type !== undefined) {
    plan = { index: 'by-ref', key: keys.type(filter.type) };
    keyed = 'findingType';
  } else if (filter.status !== undefined) {
    plan = { index: 'by-status', key: keys.status(filter.status) };
    keyed = 'status';
  } else {
    plan = { index: 'by-time', key: 'MONTH#<yyyy-mm>' };
  }
  const asked: Record<IncidentField, boolean> = {
    region: filter.region !== undefined,
    findingType: filter.type !== undefined,
    status: filter.status !== undefined,
    severity: filter.minSeverity !== undefined,
    account: filter.account !== undefined,
  };
  const filters = (Object.keys(asked) as IncidentField[]).filter((field) => asked[field] && field !== keyed);
  return { ...plan, filters };
}

export interface Token {
  readonly v: 1;
  /** What the token pages through: the filters apart from the time range. */
  readonly q: string;
  readonly since: string;
  readonly until: string;
  /** The month the next page starts in (by-time only). */
  readonly m?: string;
  readonly k?: Record<string, unknown>;
}

export function fingerprint(parts: Record<string, unknown>): string {
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
export function filterExpression(
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

export function merge(
  a: Partial<QueryCommandInput>,
  b: Partial<QueryCommandInput>,
): Partial<QueryCommandInput> {
  const names = { ...a.ExpressionAttributeNames, ...b.ExpressionAttributeNames };
  const values = { ...a.ExpressionAttributeValues, ...b.ExpressionAttributeValues };
  return {
    ...a,
    ...b,
    ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
    ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
  };
}
