/**
 * What the organization answers for a call it cannot place: credentials it never issued, credentials that
 * expired, or a region the account does not have. AWS answers a call in a region not enabled for the
 * account (an opt-in region) as it answers unknown credentials, since the region has never heard of them
 * (https://docs.aws.amazon.com/accounts/latest/reference/manage-acct-regions.html): EC2's `AuthFailure`,
 * STS's and IAM's `InvalidClientTokenId`, S3's `InvalidAccessKeyId`, and the others'
 * `UnrecognizedClientException`, all HTTP 403. The sandbox adds to AWS's message the account and region
 * the call was for, so that a test or a game day reads why.
 */
import { awsError, type ServiceName } from '../errors.ts';

/** A place (account, region) the organization does not have was asked of it by name. */
export class OrganizationPlaceError extends Error {
  override readonly name: string = 'OrganizationPlaceError';
}

function invalidCredentials(service: ServiceName, why: string): Error {
  const [code, message] =
    service === 'EC2'
      ? ['AuthFailure', 'AWS was not able to validate the provided access credentials']
      : service === 'STS' || service === 'IAM'
        ? ['InvalidClientTokenId', 'The security token included in the request is invalid']
        : service === 'S3'
          ? ['InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.']
          : ['UnrecognizedClientException', 'The security token included in the request is invalid.'];
  return awsError(service, code, `${message} (sandbox: ${why})`, { httpStatusCode: 403 });
}

/** A call in a region the account does not have (not enabled for it). */
export function regionNotEnabled(
  service: ServiceName,
  account: string,
  region: string,
  regions: readonly string[],
): Error {
  return invalidCredentials(
    service,
    `account ${account} has no region ${region}; its regions are ${regions.join(', ')}`,
  );
}

/** A call with an access key the organization never issued. */
export function unknownCredentials(service: ServiceName, accessKeyId: string): Error {
  return invalidCredentials(service, `no session of the organization has access key ${accessKeyId}`);
}

/** A call with a session's credentials after their expiration. */
export function expiredCredentials(service: ServiceName, accessKeyId: string, expiration: number): Error {
  const code =
    service === 'EC2' || service === 'STS' || service === 'IAM' ? 'ExpiredToken' : 'ExpiredTokenException';
  return awsError(
    service,
    code,
    `The security token included in the request is expired (sandbox: ${accessKeyId} expired at ${new Date(expiration).toISOString()})`,
    { httpStatusCode: 403 },
  );
}
