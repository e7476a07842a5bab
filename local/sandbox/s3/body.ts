/** Object bodies: read from what the SDK was given, and handed back as the stream the SDK returns. */
import { Readable } from 'node:stream';
import type { SdkStreamMixin } from '@smithy/types';

/**
 * PutObject's input with its body as bytes. The SDK takes a string, bytes, a Node or web stream or a Blob;
 * the sandbox reads a stream or Blob before answering (and before logging the call).
 */
export async function withBodyBytes(input: object): Promise<object> {
  if (!('Body' in input)) return input;
  const body: unknown = input.Body;
  if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) return input;
  if (body instanceof Blob) return { ...input, Body: new Uint8Array(await body.arrayBuffer()) };
  if (typeof body === 'object' && body !== null && Symbol.asyncIterator in body) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<unknown>) {
      if (typeof chunk === 'string') chunks.push(Buffer.from(chunk, 'utf8'));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
      else throw new TypeError(`PutObject Body stream gave a ${typeof chunk}, expected bytes or strings`);
    }
    return { ...input, Body: new Uint8Array(Buffer.concat(chunks)) };
  }
  throw new TypeError(
    `PutObject Body must be a string, a Uint8Array, a stream or a Blob, got ${typeof body}`,
  );
}

export function bodyBytes(body: unknown): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  throw new TypeError('PutObject Body must be read into bytes first (withBodyBytes)');
}

/**
 * A GetObject body: a Node stream with the SDK's helpers (`transformToString`, `transformToByteArray`,
 * `transformToWebStream`), each of which consumes the stream and may be called once, as the SDK's.
 */
export function bodyStream(bytes: Buffer): Readable & SdkStreamMixin {
  const stream = Readable.from([bytes], { objectMode: false });
  let transformed = false;
  const claim = (): void => {
    if (transformed) throw new Error('The stream has already been transformed.');
    transformed = true;
  };
  const collect = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const mixin: SdkStreamMixin = {
    transformToByteArray: async () => {
      claim();
      return new Uint8Array(await collect());
    },
    transformToString: async (encoding?: string) => {
      claim();
      const data = await collect();
      if (encoding === undefined || Buffer.isEncoding(encoding)) return data.toString(encoding);
      return new TextDecoder(encoding).decode(data);
    },
    transformToWebStream: () => {
      claim();
      return Readable.toWeb(stream) as unknown as ReturnType<SdkStreamMixin['transformToWebStream']>;
    },
  };
  return Object.assign(stream, mixin);
}
