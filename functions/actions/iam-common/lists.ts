/**
 * An IAM user's lists, every page of each. IAM pages with `Marker` while `IsTruncated` is true, and "might
 * return fewer than the MaxItems number of results even when there are more results available"
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAccessKeys.html), so a key, device or policy
 * can be on a later page even for a user with a handful. A user that does not exist is
 * `ResourceNotFoundError` ({@link iamCall}).
 */
import {
  type AccessKeyMetadata,
  type AttachedPolicy,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListMFADevicesCommand,
  ListUserPoliciesCommand,
  type MFADevice,
} from '@aws-sdk/client-iam';
import { allItems, iamMarker } from '#shared/pages';
import { type IamSender, iamCall } from './iam.ts';

/** The most IAM returns in a page (MaxItems 1 to 1000). */
const MAX_ITEMS = 1000;

/** Every item of one of the user's lists: `send` makes the call for a marker, `items` reads a page. */
function everyPage<P extends { IsTruncated?: boolean | undefined; Marker?: string | undefined }, T>(
  command: string,
  userName: string,
  send: (page: { UserName: string; MaxItems: number; Marker: string | undefined }) => Promise<P>,
  items: (page: P) => readonly T[] | undefined,
): Promise<T[]> {
  const doing = `iam:${command} ${userName}`;
  return allItems({
    doing,
    fetch: (Marker) =>
      iamCall(doing, `IAM user ${userName}`, () => send({ UserName: userName, MaxItems: MAX_ITEMS, Marker })),
    next: iamMarker(doing),
    items,
  });
}

/** Every access key of the user, every page of ListAccessKeys. */
export function userAccessKeys(iam: IamSender, userName: string): Promise<AccessKeyMetadata[]> {
  return everyPage(
    'ListAccessKeys',
    userName,
    (input) => iam.send(new ListAccessKeysCommand(input)),
    (page) => page.AccessKeyMetadata,
  );
}

/** Every MFA device of the user, every page of ListMFADevices. */
export function userMfaDevices(iam: IamSender, userName: string): Promise<MFADevice[]> {
  return everyPage(
    'ListMFADevices',
    userName,
    (input) => iam.send(new ListMFADevicesCommand(input)),
    (page) => page.MFADevices,
  );
}

/** The names of every inline policy of the user, every page of ListUserPolicies. */
export function userPolicyNames(iam: IamSender, userName: string): Promise<string[]> {
  return everyPage(
    'ListUserPolicies',
    userName,
    (input) => iam.send(new ListUserPoliciesCommand(input)),
    (page) => page.PolicyNames,
  );
}

/** Every managed policy attached to the user, every page of ListAttachedUserPolicies. */
export function userAttachedPolicies(iam: IamSender, userName: string): Promise<AttachedPolicy[]> {
  return everyPage(
    'ListAttachedUserPolicies',
    userName,
    (input) => iam.send(new ListAttachedUserPoliciesCommand(input)),
    (page) => page.AttachedPolicies,
  );
}
