/**
 * Serving a listing as AWS does, split over pages, to an `aws-sdk-client-mock` command: page `i` carries a
 * token for page `i + 1` except the last; the token a request passes says which page it gets. `onlyFirst`
 * is the answer a caller that ignores tokens sees: the first page, with no token.
 */
type Input = Record<string, unknown>;

/** How a service names its tokens: where the request passes one, and where the answer gives the next. */
export interface TokenShape {
  /** The request's field: `NextToken`, `Marker`. */
  readonly request: string;
  /** The answer's field: `NextToken`, `NextMarker`, `Marker` (IAM, with `IsTruncated`). */
  readonly answer: string;
  /** IAM: the answer also says `IsTruncated`. */
  readonly truncated?: boolean;
}

export const EC2_TOKENS: TokenShape = { request: 'NextToken', answer: 'NextToken' };
export const ELB_TOKENS: TokenShape = { request: 'Marker', answer: 'NextMarker' };
export const IAM_TOKENS: TokenShape = { request: 'Marker', answer: 'Marker', truncated: true };

/** The answer to each request, following the page the request's token names. */
export function paged<P extends object>(pages: readonly P[], shape: TokenShape): (input: Input) => P {
  return (input) => {
    const token = input[shape.request];
    const index = token === undefined ? 0 : Number(String(token).replace(/^page-/, ''));
    const page = pages[index];
    if (page === undefined) throw new Error(`no page for token ${String(token)}`);
    const last = index === pages.length - 1;
    return {
      ...page,
      ...(last ? {} : { [shape.answer]: `page-${index + 1}` }),
      ...(shape.truncated ? { IsTruncated: !last } : {}),
    };
  };
}

/** What a caller that reads only the first page would see: the first page, its token dropped. */
export function onlyFirst<P extends object>(pages: readonly P[]): () => P {
  return () => {
    const page = pages[0];
    if (page === undefined) throw new Error('no pages');
    return page;
  };
}
