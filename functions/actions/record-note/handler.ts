/** The Lambda entry of `record-note`, built from its declaration (./action.ts). */
import { actionHandler } from '#shared/define-action';
import { action } from './action.ts';

export const handler = actionHandler(action);
