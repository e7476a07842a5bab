/**
 * IAM: users, access keys, login profiles, MFA devices, policies, roles and instance profiles. Every List
 * pages as IAM does (`MaxItems`, `Marker`, `IsTruncated`: {@link IAM_PAGING}).
 */
import type { HandlerMap } from './context.ts';
import { roleHandlers } from './iam/roles.ts';
import { userHandlers } from './iam/users.ts';

export { IAM_PAGING } from './iam/common.ts';

/** IAM commands the sandbox simulates. */
export const iamHandlers: HandlerMap = { ...userHandlers, ...roleHandlers };
