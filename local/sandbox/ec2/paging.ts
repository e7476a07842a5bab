/**
 * One EC2 Describe: pick by ids (AWS's not-found error), filter with EC2's filters, and page with
 * `MaxResults` / `NextToken` as each command's API reference says, through the shared listing.
 *
 * Page sizes are those of the EC2 service model (botocore `ec2/2016-11-15/service-2.json`, the source of
 * the API reference, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html#api-pagination):
 * most Describes take 5 to 1000 and fail outside it; DescribeVolumes (5 to 500) and DescribeSnapshots
 * (5 to 1000) return at most their maximum when asked for more; with no `MaxResults` every Describe here
 * returns every item. Some refuse `MaxResults` together with ids ("You cannot specify this parameter and
 * the instance IDs parameter in the same request").
 */
import type { Filter } from '@aws-sdk/client-ec2';
import type { CallContext } from '../context.ts';
import { fail } from '../context.ts';
import type { FilterFields, PageRules } from '../listing.ts';
import { list } from '../listing.ts';
import type { AccountState, TagMap } from '../state.ts';

/** EC2's page rules: a size from `min` to `max`, every item by default. */
export function ec2Paging(min: number, max: number): PageRules {
  return {
    min,
    max,
    default: 'all',
    // AWS's messages, e.g. "Value ( 1 ) for parameter maxResults is invalid. Expecting a value greater than 5."
    badSize: (size, rules) =>
      size < rules.min
        ? [
            'InvalidParameterValue',
            `Value ( ${size} ) for parameter maxResults is invalid. Expecting a value greater than ${rules.min}.`,
          ]
        : [
            'InvalidParameterValue',
            `Value ( ${size} ) for parameter maxResults is invalid. Expecting a value less than or equal to ${rules.max}.`,
          ],
    badToken: (token) => [
      'InvalidParameterValue',
      `Value ( ${token} ) for parameter NextToken is invalid. The token is invalid.`,
    ],
  };
}

/** How one command pages. */
export interface Ec2PageSpec {
  readonly rules: PageRules;
  /** A larger `MaxResults` is read as the maximum instead of failing (DescribeVolumes, DescribeSnapshots). */
  readonly capsAtMax?: boolean;
  /** The query name of the ids parameter when `MaxResults` may not go with it (`instancesSet`...). */
  readonly exclusiveIds?: string;
}

const DEFAULT_PAGING: Ec2PageSpec = { rules: ec2Paging(5, 1000) };

/** The paging and filter fields every EC2 Describe request has. */
export interface Ec2ListInput {
  readonly MaxResults?: number | undefined;
  readonly NextToken?: string | undefined;
  readonly Filters?: Filter[] | undefined;
  readonly DryRun?: boolean | undefined;
}

/** What one EC2 Describe selects, filters and returns: data, so that no two handlers repeat the block. */
export interface Ec2DescribeSpec<I extends Ec2ListInput, T, O> {
  /** Default: 5 to 1000 items a page, every item when no size is asked, ids and `MaxResults` together. */
  readonly paging?: Ec2PageSpec;
  /** Selection by id, for a command that takes ids: every id named must exist. */
  readonly byId?: {
    /** The ids the request names; none: every item. */
    readonly ids: (input: I) => readonly string[] | undefined;
    readonly lookup: (state: AccountState, id: string) => T | undefined;
    /** AWS's error for the ids that do not exist. */
    readonly notFound: (missing: readonly string[]) => readonly [code: string, message: string];
  };
  /** Every item, in the sandbox's stable order. */
  readonly all: (state: AccountState) => readonly T[];
  /** The values of each filter the command knows, for an item; undefined for a name it does not know. */
  readonly fields: (state: AccountState) => FilterFields<T>;
  /** The id whose tags `tag:<key>`, `tag-key` and `tag-value` read; none: the items have no tags. */
  readonly tagId?: (item: T) => string;
  /** Keeps items by what the request says besides ids and filters. */
  readonly where?: (input: I) => ((item: T) => boolean) | undefined;
  /** The response for one page of items. */
  readonly output: (ctx: CallContext, items: T[]) => O;
}

/** A Describe handler from its spec: the one place EC2 selects by id, filters and pages. */
export function describe<I extends Ec2ListInput, T, O>(
  spec: Ec2DescribeSpec<I, T, O>,
): (ctx: CallContext, input: I) => O & { NextToken?: string } {
  return (ctx, input) => {
    const { MaxResults, NextToken, DryRun: _dryRun, ...scope } = input;
    const paging = spec.paging ?? DEFAULT_PAGING;
    const { byId } = spec;
    const ids = byId?.ids(input);
    if (paging.exclusiveIds && MaxResults !== undefined && ids?.length) {
      fail(
        ctx,
        'InvalidParameterCombination',
        `The parameter ${paging.exclusiveIds} cannot be used with the parameter maxResults`,
      );
    }
    const size =
      paging.capsAtMax && MaxResults !== undefined ? Math.min(MaxResults, paging.rules.max) : MaxResults;
    const { state } = ctx;
    const tagId = spec.tagId;
    const tagsOf = (item: T): TagMap => (tagId ? (state.ec2.tags[tagId(item)] ?? {}) : {});
    const where = spec.where?.(input);
    const page = list(ctx, {
      ids,
      lookup: (id) => byId?.lookup(state, id),
      all: () => spec.all(state),
      // Without byId there are no ids, and nothing can be missing.
      notFound: byId?.notFound ?? (() => ['InvalidParameterValue', 'This request takes no ids']),
      filters: { given: input.Filters, fields: spec.fields(state), tagsOf },
      ...(where ? { where } : {}),
      paging: paging.rules,
      request: { size, token: NextToken, scope },
    });
    const out = spec.output(ctx, page.items);
    return { ...out, ...(page.next === undefined ? {} : { NextToken: page.next }) };
  };
}
