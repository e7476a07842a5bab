/** `record-note`: appends a note to an incident's record. */
import { defineAction } from '#shared/define-action';
import { recordNote } from './core.ts';

export const action = defineAction({
  name: 'record-note',
  phase: 'lessons-learned',
  description: 'Appends a note to an incident',
  clients: {},
  calls: {},
  deps: () => ({}),
  core: (_deps, event) => recordNote(event),
});
