/** The Lambda entry of `iam-revoke-role-sessions`, built from its declaration (./action.ts). */
import { actionHandler } from '#shared/define-action';
import { action } from './action.ts';

export const handler = actionHandler(action);
