/**
 * Approval link ids: 32 bytes from the system's CSPRNG, base64url (43 characters). Only their SHA-256 is
 * stored, so a reader of the table cannot make a working link.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Makes a new link id. */
export type LinkIdSource = () => string;

export const randomLinkIds: LinkIdSource = () => randomBytes(32).toString('base64url');

const LINK_ID = /^[A-Za-z0-9_-]{43}$/;

/** True for something shaped like a link id; anything else is refused before the table is read. */
export function isLinkId(value: string): boolean {
  return LINK_ID.test(value);
}

/** The SHA-256 of a link id, hex: the only form the table holds. */
export function hashLinkId(linkId: string): string {
  return createHash('sha256').update(linkId, 'utf8').digest('hex');
}

/** The link an approver opens: `<baseUrl>/approvals/<link id>`. */
export function linkUrl(baseUrl: string, linkId: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/approvals/${linkId}`;
}
