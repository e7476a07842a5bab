import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import {
  ApprovalSettingsSchema,
  checkApprovalSettings,
  readApprovalConfig,
} from '../../../functions/approval/config.ts';

const audit = {
  CORDON_TABLE_NAME: 'cordon-audit',
  CORDON_RECORD_KEY: 'alias/cordon-record',
  CORDON_ANCHOR_BUCKET: 'cordon-anchor-123456789012-us-east-1',
};

function check(value: unknown): { settings: unknown; issues: string[] } {
  const issues: string[] = [];
  return { settings: checkApprovalSettings(value, issues), issues };
}

describe("the approval functions' settings, checked by hand at cold start", () => {
  it('read the approvers, the sender and the console principals, with the default', () => {
    const config = readApprovalConfig({
      ...audit,
      CORDON_APPROVAL_SETTINGS: JSON.stringify({
        approvers: ['a@example.com'],
        sender: 's@example.com',
        x: 1,
      }),
    });
    expect(config).toEqual({
      tableName: 'cordon-audit',
      recordKey: 'alias/cordon-record',
      anchorBucket: 'cordon-anchor-123456789012-us-east-1',
      approvers: ['a@example.com'],
      sender: 's@example.com',
      consolePrincipals: [],
    });
  });

  it('name every bad field and what it must be', () => {
    expect(() =>
      readApprovalConfig({
        ...audit,
        CORDON_APPROVAL_SETTINGS: JSON.stringify({
          approvers: ['a@example.com', 'nobody'],
          consolePrincipals: ['arn:aws:sts::*:assumed-role/*', 'arn:aws:iam::123456789012:user/alice', 7],
        }),
      }),
    ).toThrow(
      'CORDON_APPROVAL_SETTINGS is invalid: approvers.1: must be an email address; sender: must be an email address; ' +
        'consolePrincipals.0: must name the users or roles of the people who decide, not match every one; ' +
        'consolePrincipals.2: must be a string',
    );
    expect(check({ approvers: [], sender: 's@example.com' }).issues).toEqual([
      'approvers: must list at least one approver',
    ]);
    expect(check({ approvers: 'a@example.com', sender: 's@example.com' }).issues).toEqual([
      'approvers: must be a list',
    ]);
    expect(check([]).issues).toEqual(['(root): must be an object']);
  });

  it('accept and refuse what the schema does, with the same fields named', () => {
    const cases: unknown[] = [
      { approvers: ['a@example.com'], sender: 's@example.com' },
      {
        approvers: ['a@example.com'],
        sender: 's@example.com',
        consolePrincipals: ['arn:aws:iam::*:role/Responder'],
      },
      { approvers: ['a@example.com'], sender: 's@example' },
      { approvers: [], sender: 's@example.com' },
      { approvers: ['a@b.c', 'x y@b.c'], sender: 's@example.com', consolePrincipals: ['*'] },
      {
        approvers: ['a@b.c'],
        sender: 's@example.com',
        consolePrincipals: ['arn:aws:sts::*:assumed-role/*/*'],
      },
      { approvers: ['a@b.c'], sender: 5, consolePrincipals: null },
      null,
    ];
    for (const value of cases) {
      const schema = z.safeParse(ApprovalSettingsSchema, value);
      const hand = check(value);
      expect(hand.settings, JSON.stringify(value)).toEqual(schema.success ? schema.data : undefined);
      const fields = (issues: string[]) => issues.map((i) => i.split(':')[0]);
      expect(fields(hand.issues), JSON.stringify(value)).toEqual(
        schema.success ? [] : schema.error.issues.map((i) => (i.path.length ? i.path.join('.') : '(root)')),
      );
    }
  });
});
