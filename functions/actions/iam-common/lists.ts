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

/** Every access key of the user, every page of ListAccessKeys. */
export function userAccessKeys(iam: IamSender, userName: string): Promise<AccessKeyMetadata[]> {
  const doing = `iam:ListAccessKeys ${userName}`;
  return allItems({
    doing,
    fetch: (Marker) =>
      iamCall(doing, `IAM user ${userName}`, () =>
        iam.send(new ListAccessKeysCommand({ UserName: userName, MaxItems: MAX_ITEMS, Marker })),
      ),
    next: iamMarker(doing),
    items: (page) => page.AccessKeyMetadata,
  });
}

/** Every MFA device of the user, every page of ListMFADevices. */
export function userMfaDevices(iam: IamSender, userName: string): Promise<MFADevice[]> {
  const doing = `iam:ListMFADevices ${userName}`;
  return allItems({
    doing,
    fetch: (Marker) =>
      iamCall(doing, `IAM user ${userName}`, () =>
        iam.send(new ListMFADevicesCommand({ UserName: userName, MaxItems: MAX_ITEMS, Marker })),
      ),
    next: iamMarker(doing),
    items: (page) => page.MFADevices,
  });
}

/** The names of every inline policy of the user, every page of ListUserPolicies. */
export function userPolicyNames(iam: IamSender, userName: string): Promise<string[]> {
  const doing = `iam:ListUserPolicies ${userName}`;
  return allItems({
    doing,
    fetch: (Marker) =>
      iamCall(doing, `IAM user ${userName}`, () =>
        iam.send(new ListUserPoliciesCommand({ UserName: userName, MaxItems: MAX_ITEMS, Marker })),
      ),
    next: iamMarker(doing),
    items: (page) => page.PolicyNames,
  });
}

/** Every managed policy attached to the user, every page of ListAttachedUserPolicies. */
export function userAttachedPolicies(iam: IamSender, userName: string): Promise<AttachedPolicy[]> {
  const doing = `iam:ListAttachedUserPolicies ${userName}`;
  return allItems({
    doing,
    fetch: (Marker) =>
      iamCall(doing, `IAM user ${userName}`, () =>
        iam.send(new ListAttachedUserPoliciesCommand({ UserName: userName, MaxItems: MAX_ITEMS, Marker })),
      ),
    next: iamMarker(doing),
    items: (page) => page.AttachedPolicies,
  });
}
