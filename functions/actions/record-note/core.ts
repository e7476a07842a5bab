/** The core of `record-note`: validates a note for an incident. The audit middleware records it. */
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';

export const RecordNoteInputSchema = lazySchema(() =>
  z.looseObject({
    incidentId: z.string().check(z.minLength(1, 'must not be empty')),
    note: z
      .string()
      .check(z.minLength(1, 'must not be empty'), z.maxLength(10_000, 'must be at most 10,000 characters')),
  }),
);
export type RecordNoteInput = z.infer<typeof RecordNoteInputSchema>;

/** Appends a note: the finished step carries it, the started step carries the input it came with. */
export async function recordNote(input: unknown): Promise<ActionResult> {
  const { note } = parseOrThrow(RecordNoteInputSchema, input, 'record-note input');
  return { status: 'succeeded', note };
}
