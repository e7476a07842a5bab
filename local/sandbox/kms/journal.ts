/** KMS's changes as its journal records them, how each applies to the state, and KMS as a journaled service. */
import * as z from 'zod/mini';
import type { AccountState } from '../state.ts';
import { aliasArn, DAY_MS, exists, keyArn, kmsError, notPendingDeletion, resolveKey } from './keys.ts';

const keySchema = z.object({
  keyId: z.string(),
  keySpec: z.enum(['SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512']),
  keyUsage: z.enum(['ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC']),
  description: z.string(),
  creationDate: z.number(),
  enabled: z.boolean(),
  deletionDate: z.optional(z.number()),
  pendingWindowInDays: z.optional(z.number()),
  policy: z.string(),
  tags: z.record(z.string(), z.string()),
  material: z.string(),
});

export const eventSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('CreateKey'), at: z.number(), key: keySchema }),
  z.object({ op: z.literal('CreateAlias'), at: z.number(), aliasName: z.string(), targetKeyId: z.string() }),
  z.object({ op: z.literal('DisableKey'), at: z.number(), keyId: z.string() }),
  z.object({ op: z.literal('EnableKey'), at: z.number(), keyId: z.string() }),
  z.object({
    op: z.literal('ScheduleKeyDeletion'),
    at: z.number(),
    keyId: z.string(),
    pendingWindowInDays: z.number(),
  }),
]);

/** A change to KMS, as its journal records it. */
export type KmsEvent = z.infer<typeof eventSchema>;

export function prepareKms(state: AccountState, event: KmsEvent): () => unknown {
  const { kms } = state;
  switch (event.op) {
    case 'CreateKey': {
      const key = event.key;
      if (kms.keys[key.keyId]) {
        throw kmsError('AlreadyExistsException', `Key '${keyArn(state, key.keyId)}' already exists`);
      }
      return () => {
        kms.keys[key.keyId] = { ...key, tags: { ...key.tags } };
      };
    }
    case 'CreateAlias': {
      // A deleted key's aliases went with it.
      const taken = kms.aliases[event.aliasName];
      if (taken && exists(kms.keys[taken.targetKeyId], event.at)) {
        throw kmsError(
          'AlreadyExistsException',
          `An alias with the name ${aliasArn(state, event.aliasName)} already exists`,
        );
      }
      notPendingDeletion(state, resolveKey(state, event.targetKeyId, event.at, false));
      return () => {
        kms.aliases[event.aliasName] = {
          aliasName: event.aliasName,
          targetKeyId: event.targetKeyId,
          creationDate: event.at,
        };
      };
    }
    case 'DisableKey':
    case 'EnableKey': {
      const key = resolveKey(state, event.keyId, event.at, false);
      notPendingDeletion(state, key);
      return () => {
        key.enabled = event.op === 'EnableKey';
      };
    }
    case 'ScheduleKeyDeletion': {
      const key = resolveKey(state, event.keyId, event.at, false);
      notPendingDeletion(state, key);
      return () => {
        key.enabled = false;
        key.deletionDate = event.at + event.pendingWindowInDays * DAY_MS;
        key.pendingWindowInDays = event.pendingWindowInDays;
      };
    }
  }
}
