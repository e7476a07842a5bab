/**
 * KMS: HMAC keys (`GenerateMac`, `VerifyMac`) and symmetric encryption keys, with aliases and the key
 * lifecycle (disable, enable, schedule deletion). MACs are real HMACs (node:crypto) under per-key random
 * material that no command returns. Key policies are kept but not evaluated: use the seed's `denied`.
 */
import * as z from 'zod/mini';
import type { JournaledService } from './context.ts';
import { kmsHandlers } from './kms/handlers.ts';
import { eventSchema, type KmsEvent, prepareKms } from './kms/journal.ts';

export type { KmsEvent } from './kms/journal.ts';
export { emptyKms, keyArn, keyFromSeed } from './kms/keys.ts';

/** KMS as a journaled service: its handlers, and how a journal line is read back and applied. */
export const kmsService: JournaledService<KmsEvent> = {
  handlers: kmsHandlers,
  prepare: prepareKms,
  parse: (value) => {
    const result = eventSchema.safeParse(value);
    return result.success ? { event: result.data } : { problem: z.prettifyError(result.error) };
  },
};
