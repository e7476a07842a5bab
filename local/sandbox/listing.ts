/**
 * One way to describe and list, for every simulated service: pick the items by id (an id that does not
 * exist fails with the service's error), keep those the filters match, and cut the rest into pages as
 * AWS does, with the service's own names for the page size and the token.
 *
 * A token is opaque to the caller and bound to the request it continues: the command, the ids, the
 * filters and everything else the request said but the page fields. A token from another request, or one
 * made up, fails with the service's error for a bad token, as AWS's do. Pages are cut by position in the
 * service's stable order, so an item added between two pages may be seen twice or not at all, which AWS
 * also allows.
 *
 * AWS may return fewer items than a page could hold, with a token for the rest: a caller must follow the
 * token whatever the page size. `pageCap` (a sandbox option) makes every page hold at most that many
 * items, even where AWS documents "all items" when no page size is asked, so that a test shows each
 * caller follows every page.
 */
import { createHash } from 'node:crypto';
import type { CallContext } from './context.ts';
import { fail, wildcardMatch } from './context.ts';
import type { TagMap } from './state.ts';

/** How a service cuts one list into pages: the sizes a request may ask for and the size it gets by default. */
export interface PageRules {
  /** Smallest and largest page size a request may ask for; outside, the request fails. */
  readonly min: number;
  readonly max: number;
  /** The page size when the request names none: a number, or `all` where AWS documents that it returns every item. */
  readonly default: number | 'all';
  /** The service's error for a page size out of range: AWS's code and message. */
  readonly badSize: (size: number, rules: PageRules) => readonly [code: string, message: string];
  /** The service's error for a token it did not give for this request. */
  readonly badToken: (token: string) => readonly [code: string, message: string];
}

/** AWS's message for a page size out of range, as the query APIs (IAM, ELB, Auto Scaling) word it. */
export function sizeConstraint(field: string, size: number, rules: PageRules): string {
  const bound =
    size < rules.min ? `greater than or equal to ${rules.min}` : `less than or equal to ${rules.max}`;
  return `1 validation error detected: Value '${size}' at '${field}' failed to satisfy constraint: Member must have value ${bound}`;
}

/** What a request said about paging, read from the service's own field names. */
export interface PageRequest {
  /** `MaxResults`, `MaxItems`, `PageSize`, `MaxRecords`, `Limit`... as the request gave it. */
  readonly size?: number | undefined;
  /** `NextToken`, `Marker`... as the request gave it. */
  readonly token?: string | undefined;
  /**
   * The rest of the request, which a token is bound to (ids, filters, the resource listed). Leave out the
   * page fields themselves.
   */
  readonly scope?: unknown;
}

/** One page, and the token for the next one when there is more. */
export interface Page<T> {
  readonly items: T[];
  readonly next?: string;
}

interface Cursor {
  readonly command: string;
  readonly scope: string;
  readonly offset: number;
}

const fingerprint = (value: unknown): string =>
  createHash('sha256')
    .update(JSON.stringify(value ?? null))
    .digest('base64url')
    .slice(0, 16);

function encode(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decode(token: string): Cursor | undefined {
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      typeof value.command === 'string' &&
      typeof value.scope === 'string' &&
      typeof value.offset === 'number' &&
      Number.isInteger(value.offset) &&
      value.offset >= 0
    ) {
      return value as Cursor;
    }
  } catch {
    // not a token the sandbox made
  }
  return undefined;
}

/**
 * The page of `items` (all of them, in the service's stable order) that the request asks for. Fails with
 * the service's error for a size out of range or a token that is not this request's.
 */
export function page<T>(
  ctx: CallContext,
  items: readonly T[],
  request: PageRequest,
  rules: PageRules,
): Page<T> {
  const { size, token } = request;
  if (size !== undefined && (!Number.isInteger(size) || size < rules.min || size > rules.max)) {
    const [code, message] = rules.badSize(size, rules);
    fail(ctx, code, message);
  }
  const scope = fingerprint(request.scope);
  let offset = 0;
  if (token !== undefined && token !== '') {
    const cursor = decode(token);
    if (!cursor || cursor.command !== ctx.command || cursor.scope !== scope || cursor.offset > items.length) {
      const [code, message] = rules.badToken(token);
      fail(ctx, code, message);
    }
    offset = cursor.offset;
  }
  const asked = size ?? (rules.default === 'all' ? Number.POSITIVE_INFINITY : rules.default);
  const length = Math.min(asked, ctx.pageCap ?? Number.POSITIVE_INFINITY);
  const end = Math.min(items.length, offset + Math.max(1, length));
  const out: Page<T> = { items: items.slice(offset, end) };
  return end < items.length ? { ...out, next: encode({ command: ctx.command, scope, offset: end }) } : out;
}

/** Picks items by id; every id the request names must exist, else the service's not-found error. */
export interface IdSelection<T> {
  /** The ids the request names; none or empty selects every item. */
  readonly ids?: readonly string[] | undefined;
  /** The item of an id, or undefined when it does not exist (or no longer does, for this command). */
  readonly lookup: (id: string) => T | undefined;
  /** Every item, in the service's stable order. */
  readonly all: () => readonly T[];
  /** AWS's error when ids do not exist: given all of the missing ones, in the order requested. */
  readonly notFound: (missing: readonly string[]) => readonly [code: string, message: string];
}

/** The items a request's ids select, in the order requested; every item when it names none. */
export function select<T>(ctx: CallContext, selection: IdSelection<T>): T[] {
  const { ids } = selection;
  if (!ids?.length) return [...selection.all()];
  const missing = ids.filter((id) => selection.lookup(id) === undefined);
  if (missing.length > 0) {
    const [code, message] = selection.notFound(missing);
    fail(ctx, code, message);
  }
  return [...new Set(ids)].map((id) => selection.lookup(id) as T);
}

/** The values of a named filter for an item, or undefined when the service has no such filter. */
export type FilterFields<T> = (item: T, name: string) => readonly string[] | undefined;

/** A filter as EC2 (and Auto Scaling, Backup's by-name filters) give it: a name and the values to match. */
export interface NamedFilter {
  readonly Name?: string | undefined;
  readonly Values?: readonly string[] | undefined;
}

/**
 * Keeps the items every filter matches (a filter matches when any of its values matches, with `*` and `?`
 * wildcards). `tag:<key>`, `tag-key` and `tag-value` come from `tagsOf`. An unknown filter name fails with
 * `unknown`'s error (EC2's `InvalidParameterValue`).
 */
export function filter<T>(
  ctx: CallContext,
  items: readonly T[],
  filters: readonly NamedFilter[] | undefined,
  fields: FilterFields<T>,
  options: {
    readonly tagsOf?: (item: T) => TagMap;
    readonly unknown?: (name: string) => readonly [code: string, message: string];
  } = {},
): T[] {
  let result = [...items];
  const unknown = options.unknown ?? ((name) => ['InvalidParameterValue', `The filter '${name}' is invalid`]);
  for (const given of filters ?? []) {
    const name = given.Name ?? '';
    const wanted = given.Values ?? [];
    result = result.filter((item) => {
      const tags = options.tagsOf?.(item);
      let values: readonly string[] | undefined;
      if (tags && name.startsWith('tag:')) {
        const value = tags[name.slice(4)];
        values = value === undefined ? [] : [value];
      } else if (tags && name === 'tag-key') values = Object.keys(tags);
      else if (tags && name === 'tag-value') values = Object.values(tags);
      else values = fields(item, name);
      if (values === undefined) {
        const [code, message] = unknown(name);
        fail(ctx, code, message);
      }
      return values.some((value) => wanted.some((pattern) => wildcardMatch(pattern, value)));
    });
  }
  return result;
}

/** Everything a describe or list needs: selection by id, filters, paging. */
export interface ListSpec<T> extends IdSelection<T> {
  readonly filters?: {
    readonly given: readonly NamedFilter[] | undefined;
    readonly fields: FilterFields<T>;
    readonly tagsOf?: (item: T) => TagMap;
    /** The service's error for a filter name it does not know; default EC2's `InvalidParameterValue`. */
    readonly unknown?: (name: string) => readonly [code: string, message: string];
  };
  /** Keeps items by what the request says besides ids and filters (a state, a resource ARN...). */
  readonly where?: (item: T) => boolean;
  readonly paging: PageRules;
  readonly request: PageRequest;
}

/** Selects by id, filters, and returns the page asked for. */
export function list<T>(ctx: CallContext, spec: ListSpec<T>): Page<T> {
  const chosen = select(ctx, spec);
  const kept = spec.where ? chosen.filter(spec.where) : chosen;
  const filtered = spec.filters
    ? filter(ctx, kept, spec.filters.given, spec.filters.fields, {
        ...(spec.filters.tagsOf ? { tagsOf: spec.filters.tagsOf } : {}),
        ...(spec.filters.unknown ? { unknown: spec.filters.unknown } : {}),
      })
    : kept;
  return page(ctx, filtered, spec.request, spec.paging);
}
