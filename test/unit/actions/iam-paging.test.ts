/** The IAM actions read every page (`Marker` while `IsTruncated`) of a user's lists. */
import {
  DeleteAccessKeyCommand,
  GetAccessKeyLastUsedCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListAttachedUserPoliciesCommand,
  ListMFADevicesCommand,
  ListUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  userAccessKeys,
  userAttachedPolicies,
  userMfaDevices,
  userPolicyNames,
} from '../../../functions/actions/iam-common/lists.ts';
import { deleteKey } from '../../../functions/actions/iam-delete-key/core.ts';
import { ResourceNotFoundError } from '../../../functions/shared/errors.ts';
import { IAM_TOKENS, onlyFirst, paged } from '../support-pages.ts';

const iamMock = mockClient(IAMClient);
afterEach(() => iamMock.reset());

const KEY = 'AKIAIOSFODNN7EXAMPLE';
const keyPages = [
  {
    AccessKeyMetadata: [
      { AccessKeyId: 'AKIAOTHERKEY00000001', Status: 'Active' as const, UserName: 'alice' },
    ],
  },
  { AccessKeyMetadata: [{ AccessKeyId: KEY, Status: 'Inactive' as const, UserName: 'alice' }] },
];

describe('iam-delete-key across pages', () => {
  const run = () =>
    deleteKey({ iam: new IAMClient({}) }, { incidentId: 'inc-1', userName: 'alice', accessKeyId: KEY });

  it('finds and deletes a key listed on page 2, where the first page alone says the user has no such key', async () => {
    iamMock
      .on(GetAccessKeyLastUsedCommand)
      .resolves({ AccessKeyLastUsed: { ServiceName: 'N/A', Region: 'N/A' } });
    iamMock.on(ListAccessKeysCommand).callsFake(onlyFirst(keyPages));
    await expect(run()).rejects.toThrow(ResourceNotFoundError);
    expect(iamMock.commandCalls(DeleteAccessKeyCommand)).toHaveLength(0);

    iamMock.on(ListAccessKeysCommand).callsFake(paged(keyPages, IAM_TOKENS));
    iamMock.on(DeleteAccessKeyCommand).resolves({});
    const result = await run();
    expect(result).toMatchObject({
      status: 'succeeded',
      before: { key: { accessKeyId: KEY, status: 'Inactive' } },
    });
    expect(iamMock.commandCalls(DeleteAccessKeyCommand)[0]?.args[0].input).toEqual({
      UserName: 'alice',
      AccessKeyId: KEY,
    });
  });
});

describe("a user's lists across pages", () => {
  it('reads keys, MFA devices, inline and attached policies from every page, passing back each Marker', async () => {
    const iam = new IAMClient({});
    iamMock.on(ListAccessKeysCommand).callsFake(paged(keyPages, IAM_TOKENS));
    iamMock
      .on(ListMFADevicesCommand)
      .callsFake(
        paged(
          [
            { MFADevices: [] },
            { MFADevices: [{ SerialNumber: 'arn:mfa/alice', UserName: 'alice', EnableDate: new Date() }] },
          ],
          IAM_TOKENS,
        ),
      );
    iamMock
      .on(ListUserPoliciesCommand)
      .callsFake(
        paged(
          [{ PolicyNames: ['a'] }, { PolicyNames: ['b'] }, { PolicyNames: ['cordon-revoke-inc-1'] }],
          IAM_TOKENS,
        ),
      );
    iamMock
      .on(ListAttachedUserPoliciesCommand)
      .callsFake(
        paged(
          [
            { AttachedPolicies: [] },
            { AttachedPolicies: [{ PolicyName: 'Admin', PolicyArn: 'arn:aws:iam::aws:policy/Admin' }] },
          ],
          IAM_TOKENS,
        ),
      );

    expect((await userAccessKeys(iam, 'alice')).map((k) => k.AccessKeyId)).toEqual([
      'AKIAOTHERKEY00000001',
      KEY,
    ]);
    expect((await userMfaDevices(iam, 'alice')).map((d) => d.SerialNumber)).toEqual(['arn:mfa/alice']);
    expect(await userPolicyNames(iam, 'alice')).toEqual(['a', 'b', 'cordon-revoke-inc-1']);
    expect((await userAttachedPolicies(iam, 'alice')).map((p) => p.PolicyName)).toEqual(['Admin']);
    expect(iamMock.commandCalls(ListUserPoliciesCommand).map((c) => c.args[0].input.Marker)).toEqual([
      undefined,
      'page-1',
      'page-2',
    ]);
  });

  it('refuses a page that says it is truncated without a Marker', async () => {
    iamMock.on(ListAccessKeysCommand).resolves({ AccessKeyMetadata: [], IsTruncated: true });
    await expect(userAccessKeys(new IAMClient({}), 'alice')).rejects.toThrow(/truncated but gave no Marker/);
  });
});
