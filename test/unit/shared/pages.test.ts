import { describe, expect, it } from 'vitest';
import { PagingError } from '../../../functions/shared/errors.ts';
import { allItems, eachPage, iamMarker, nextToken } from '../../../functions/shared/pages.ts';

interface Page {
  items: string[];
  NextToken?: string;
}

describe('following pages', () => {
  it('reads every page in order, passing back each token', async () => {
    const pages: Record<string, Page> = {
      first: { items: ['a'], NextToken: 't1' },
      t1: { items: [], NextToken: 't2' },
      t2: { items: ['b', 'c'] },
    };
    const asked: (string | undefined)[] = [];
    const items = await allItems({
      doing: 'test:List',
      fetch: async (token: string | undefined) => {
        asked.push(token);
        return pages[token ?? 'first'] as Page;
      },
      next: nextToken,
      items: (page) => page.items,
    });
    expect(items).toEqual(['a', 'b', 'c']);
    expect(asked).toEqual([undefined, 't1', 't2']);
  });

  it('refuses a token it already followed rather than looping', async () => {
    let calls = 0;
    const listing = {
      doing: 'test:List loop',
      fetch: async () => {
        calls++;
        return { items: ['x'], NextToken: calls % 2 === 0 ? 'b' : 'a' };
      },
      next: nextToken,
      items: (page: Page) => page.items,
    };
    await expect(allItems(listing)).rejects.toThrow(PagingError);
    await expect(allItems({ ...listing, doing: 'again' })).rejects.toThrow(/already followed, [ab]/);
    // a, b, then a again: three pages, no more.
    expect(calls).toBe(6);
  });

  it('refuses a token that is an object seen before (DynamoDB LastEvaluatedKey)', async () => {
    const listing = {
      doing: 'dynamodb:Query',
      fetch: async () => ({ Items: [1], LastEvaluatedKey: { pk: 'P', sk: 'S' } }),
      next: (page: { LastEvaluatedKey?: Record<string, unknown> }) => page.LastEvaluatedKey,
    };
    const pages: unknown[] = [];
    await expect(
      (async () => {
        for await (const page of eachPage(listing)) pages.push(page);
      })(),
    ).rejects.toThrow(PagingError);
    expect(pages).toHaveLength(2);
  });

  it('stops fetching when the caller breaks', async () => {
    let calls = 0;
    for await (const page of eachPage({
      doing: 'test:List',
      fetch: async (token: string | undefined) => {
        calls++;
        return { n: Number(token ?? 0), NextToken: String(Number(token ?? 0) + 1) };
      },
      next: nextToken,
    })) {
      if (page.n === 2) break;
    }
    expect(calls).toBe(3);
  });

  it('takes an empty NextToken as the end', async () => {
    const items = await allItems({
      doing: 'test:List',
      fetch: async () => ({ items: ['only'], NextToken: '' }),
      next: nextToken,
      items: (page: Page) => page.items,
    });
    expect(items).toEqual(['only']);
  });

  it('refuses an IAM page that says it is truncated but gives no Marker', () => {
    const next = iamMarker('iam:ListAccessKeys alice');
    expect(next({ IsTruncated: false, Marker: 'ignored' })).toBeUndefined();
    expect(next({ IsTruncated: true, Marker: 'm1' })).toBe('m1');
    expect(() => next({ IsTruncated: true })).toThrow(/truncated but gave no Marker/);
  });
});
