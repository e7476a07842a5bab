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
export function strip<T>(item: Record<string, unknown>): T {
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
