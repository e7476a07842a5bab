/**
 * Following every page of an AWS listing. A Describe or List call returns one page and a token for the
 * rest, and AWS may return fewer items than asked for, even when ids are given, with a token for the rest
 * (EC2: https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-pagination.html; IAM:
 * "IAM might return fewer than the MaxItems number of results even when there are more results available",
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAccessKeys.html). A caller that reads only
 * the first page decides on part of the account, so every listing in `functions/` goes through here.
 *
 * The token names differ by service; the caller says where the next one is:
 * - EC2, Auto Scaling, Backup: `NextToken` ({@link nextToken});
 * - ELB (both): `NextMarker`, passed back as `Marker` ({@link nextMarker});
 * - IAM: `Marker` when `IsTruncated` ({@link iamMarker});
 * - S3 ListObjectVersions: `NextKeyMarker` and `NextVersionIdMarker` when `IsTruncated`;
 * - DynamoDB Query: `LastEvaluatedKey`, passed back as `ExclusiveStartKey` (1 MB per page).
 *
 * A token already followed ends the listing with {@link PagingError} instead of looping. Imports nothing
 * but the errors, so that it adds nothing to a function's cold start.
 */
import { PagingError } from './errors.ts';

/** At most this many pages are read: more means a service that never ends its listing. */
export const MAX_PAGES = 10_000;

/** One listing: how to fetch a page from a token, and where the next token is. */
export interface Listing<P, K> {
  /** Names the call for errors, e.g. `ec2:DescribeInstances i-1`. */
  readonly doing: string;
  /** Fetches the page after `token` (undefined: the first page). Wrap the call in `awsCall` here. */
  readonly fetch: (token: K | undefined) => Promise<P>;
  /** The token of the next page, undefined on the last. */
  readonly next: (page: P) => K | undefined;
}

const tokenKey = (token: unknown): string => (typeof token === 'string' ? token : JSON.stringify(token));

/** Yields every page of a listing, in order; `break` stops fetching. */
export async function* eachPage<P, K = string>(listing: Listing<P, K>): AsyncGenerator<P, void, undefined> {
  const seen = new Set<string>();
  let token: K | undefined;
  for (let count = 1; ; count++) {
    const page = await listing.fetch(token);
    yield page;
    token = listing.next(page);
    if (token === undefined) return;
    const key = tokenKey(token);
    if (seen.has(key)) {
      throw new PagingError(`${listing.doing}: AWS gave back a page token already followed, ${key}`);
    }
    if (count >= MAX_PAGES) throw new PagingError(`${listing.doing}: more than ${MAX_PAGES} pages`);
    seen.add(key);
  }
}

/** Every item of every page of a listing, in order. */
export async function allItems<P, T, K = string>(
  listing: Listing<P, K> & { readonly items: (page: P) => readonly T[] | undefined },
): Promise<T[]> {
  const out: T[] = [];
  for await (const page of eachPage(listing)) out.push(...(listing.items(page) ?? []));
  return out;
}

/** EC2, Auto Scaling, Backup: `NextToken` (an empty string counts as none). */
export const nextToken = (page: { readonly NextToken?: string | undefined }): string | undefined =>
  page.NextToken || undefined;

/** ELB and ELBv2: `NextMarker`. */
export const nextMarker = (page: { readonly NextMarker?: string | undefined }): string | undefined =>
  page.NextMarker || undefined;

/**
 * IAM: `Marker`, present when `IsTruncated` is true
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/Pagination.html). Truncated without a marker is a
 * {@link PagingError}: the rest could not be read.
 */
export function iamMarker(
  doing: string,
): (page: {
  readonly IsTruncated?: boolean | undefined;
  readonly Marker?: string | undefined;
}) => string | undefined {
  return (page) => {
    if (page.IsTruncated !== true) return undefined;
    if (!page.Marker) throw new PagingError(`${doing}: IAM said the list is truncated but gave no Marker`);
    return page.Marker;
  };
}

/** DynamoDB Query: `LastEvaluatedKey`. */
export const lastEvaluatedKey = (page: {
  readonly LastEvaluatedKey?: Record<string, unknown> | undefined;
}): Record<string, unknown> | undefined => page.LastEvaluatedKey;
