/** S3 as a journaled service: its commands, its changes, and how a journal line is read. */
import * as z from 'zod/mini';
import type { JournaledService } from '../context.ts';
import { s3Handlers } from './handlers.ts';
import { eventSchema, prepareS3, type S3Event } from './journal.ts';

/** S3 as a journaled service. */
export const s3Service: JournaledService<S3Event> = {
  handlers: s3Handlers,
  prepare: prepareS3,
  parse: (value) => {
    const result = eventSchema.safeParse(value);
    return result.success ? { event: result.data } : { problem: z.prettifyError(result.error) };
  },
};
