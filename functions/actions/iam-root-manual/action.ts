/** `iam-root-manual`: records that a root credential finding needs a person, with the steps to take. */
import { defineAction } from '#shared/define-action';
import { ROOT_MANUAL_ACTION, rootManual } from './core.ts';

export const action = defineAction({
  name: ROOT_MANUAL_ACTION,
  phase: 'containment',
  description: 'Says what to do by hand for root credentials',
  clients: {},
  calls: {},
  // Destructured, the settings are read and validated at cold start, as every IAM action's are, though
  // the steps need none of them.
  deps: ({ settings: _read }) => ({}),
  core: rootManual,
});
