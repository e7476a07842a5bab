/**
 * What the bundles give `@middy/core` for `node:stream/web` (an esbuild alias, infra/constructs/action-function.ts):
 * middy imports `ReadableStream` only to ask whether a streamed response's body is one
 * (`body instanceof ReadableStream`), and loading `node:stream/web` costs 1 to 3 ms of a cold start for
 * that. This `ReadableStream` answers the same question with Node's global `ReadableStream` (the same
 * class), read when the question is asked, so that nothing of web streams loads at import. Cordon's
 * functions stream no responses; nothing else in their bundles imports `node:stream/web`, and the
 * test of the bundling options holds that this alias replaces only what middy uses.
 */
export const ReadableStream: { [Symbol.hasInstance](value: unknown): boolean } = {
  [Symbol.hasInstance]: (value: unknown): boolean => value instanceof globalThis.ReadableStream,
};
