/**
 * Every declared action, one line each: the stack makes a function of each (infra/action-functions.ts)
 * and grants it what its declaration calls. Only infra and the tests import this list; a function's
 * bundle holds its own declaration, never the others'.
 */
export { action as ec2CheckSnapshots } from './ec2-check-snapshots/action.ts';
export { action as ec2Detach } from './ec2-detach/action.ts';
export { action as ec2Eradicate } from './ec2-eradicate/action.ts';
export { action as ec2Isolate } from './ec2-isolate/action.ts';
export { action as ec2ProtectEvidence } from './ec2-protect-evidence/action.ts';
export { action as ec2Release } from './ec2-release/action.ts';
export { action as ec2RevokeSessions } from './ec2-revoke-sessions/action.ts';
export { action as ec2Snapshot } from './ec2-snapshot/action.ts';
export { action as ec2Tag } from './ec2-tag/action.ts';
export { action as iamContainUserKey } from './iam-contain-user-key/action.ts';
export { action as iamDeleteKey } from './iam-delete-key/action.ts';
export { action as iamRelease } from './iam-release/action.ts';
export { action as iamRevokeRoleSessions } from './iam-revoke-role-sessions/action.ts';
export { action as iamRootManual } from './iam-root-manual/action.ts';
export { action as markIncident } from './mark-incident/action.ts';
export { action as notify } from './notify/action.ts';
export { action as recordNote } from './record-note/action.ts';
export { action as recoverCheckRestore } from './recover-check-restore/action.ts';
export { action as recoverChoosePoint } from './recover-choose-point/action.ts';
export { action as recoverFromSnapshots } from './recover-from-snapshots/action.ts';
export { action as recoverStartRestore } from './recover-start-restore/action.ts';
export { action as recoverValidate } from './recover-validate/action.ts';
