import { describe, expect, it } from 'vitest';
import { recordNote } from '../../../functions/actions/record-note/core.ts';

describe('record-note', () => {
  it('returns the note for the finished step', async () => {
    expect(await recordNote({ incidentId: 'inc-1', note: 'owner paged' })).toEqual({
      status: 'succeeded',
      note: 'owner paged',
    });
  });

  it('refuses an empty or oversized note, naming the field', async () => {
    await expect(recordNote({ incidentId: 'inc-1', note: '' })).rejects.toThrow('note: must not be empty');
    await expect(recordNote({ incidentId: 'inc-1', note: 'x'.repeat(10_001) })).rejects.toThrow(
      'note: must be at most 10,000 characters',
    );
  });
});
