/** Where a restore lands and with which role: the hub's defaults, or in a member the member's own restore role. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '#shared/errors';
import { readRestoreDefaults } from '../../../functions/actions/recover-common/config.ts';

const env = {
  CORDON_RESTORE_ROLE_ARN: 'arn:aws:iam::123456789012:role/cordon-restore',
  CORDON_RESTORE_SUBNET_ID: 'subnet-0abc',
  CORDON_RESTORE_SECURITY_GROUP_IDS: 'sg-01, sg-02',
  CORDON_MEMBER_RESTORE_ROLE: 'cordon-responder-restore',
  CORDON_PARTITION: 'aws-us-gov',
};

describe('the restore defaults', () => {
  it("are the hub's role, subnet and groups in the hub", () => {
    expect(readRestoreDefaults(env)).toEqual({
      restoreRoleArn: 'arn:aws:iam::123456789012:role/cordon-restore',
      subnetId: 'subnet-0abc',
      securityGroupIds: ['sg-01', 'sg-02'],
    });
  });

  it("are the member's own restore role in a member, never the hub's, and not the hub's network", () => {
    expect(readRestoreDefaults(env, { account: '210987654321' })).toEqual({
      restoreRoleArn: 'arn:aws-us-gov:iam::210987654321:role/cordon-responder-restore',
    });
  });

  it('name no role in a member when the stack set none, so the restore says what is missing', () => {
    const { CORDON_MEMBER_RESTORE_ROLE: _, ...without } = env;
    expect(readRestoreDefaults(without, { account: '210987654321' })).toEqual({});
  });

  it('refuse a member restore role that is not a role name', () => {
    expect(() =>
      readRestoreDefaults(
        { ...env, CORDON_MEMBER_RESTORE_ROLE: 'arn:aws:iam::1:role/x' },
        { account: '210987654321' },
      ),
    ).toThrow(ConfigError);
  });
});
