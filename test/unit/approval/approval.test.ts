import { describe, expect, it } from 'vitest';
import { readApprovalRequestConfig } from '../../../functions/approval/config.ts';
import { requestEmail } from '../../../functions/approval/email.ts';
import { hashLinkId, isLinkId, linkUrl, randomLinkIds } from '../../../functions/approval/links.ts';
import type { ApprovalRequest } from '../../../functions/approval/model.ts';
import { decisionPage, notFoundPage, PAGE_HEADERS } from '../../../functions/approval/page.ts';

const request: ApprovalRequest = {
  requestId: 'r-1',
  incidentId: 'inc-1',
  executionArn: 'arn:aws:states:us-east-1:123456789012:execution:m:inc-1',
  gate: 'Gate',
  action: 'terminate-instance',
  phase: 'eradication',
  resource: { type: 'instance', id: 'i-1<script>' },
  summary: { happened: 'a <b>bold</b> claim', done: 'isolated', asks: 'terminate' },
  finding: {
    findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
    title: 't',
    severity: 9.5,
    account: '123456789012',
    region: 'us-east-1',
  },
  approvers: ['a@example.com'],
  requestedAt: '2026-11-01T00:00:00.000Z',
  expiresAt: '2026-11-01T01:00:00.000Z',
  defaultDecision: 'reject',
  status: 'pending',
};

describe('approval links', () => {
  it('are 43 base64url characters from 32 random bytes, each different', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => randomLinkIds()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isLinkId(id)).toBe(true);
  });

  it('are stored as a SHA-256 that does not contain the id', () => {
    const id = randomLinkIds();
    expect(hashLinkId(id)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashLinkId(id)).not.toContain(id);
  });

  it('refuse anything not shaped like a link id', () => {
    for (const bad of ['', 'x', `${'A'.repeat(42)}=`, 'A'.repeat(44), `${'A'.repeat(42)}/`])
      expect(isLinkId(bad)).toBe(false);
  });

  it('join the base URL without a double slash', () => {
    expect(linkUrl('https://x.example.com/', 'abc')).toBe('https://x.example.com/approvals/abc');
  });
});

describe('the decision page', () => {
  it('escapes every value and has no script', () => {
    const html = decisionPage(request, 'a@example.com');
    expect(html).toContain('i-1&lt;script&gt;');
    expect(html).toContain('a &lt;b&gt;bold&lt;/b&gt; claim');
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('9.5 (Critical)');
  });

  it('sends headers that forbid scripts, framing, caching and referrers', () => {
    expect(PAGE_HEADERS['content-security-policy']).toMatch(
      /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+';/,
    );
    expect(PAGE_HEADERS).toMatchObject({
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
  });

  it('says nothing in a 404', () => {
    expect(notFoundPage()).not.toMatch(/expired|decided|approval/i);
  });
});

describe('the approval email', () => {
  it('carries the link, the facts and the expiry in text and escaped HTML', () => {
    const email = requestEmail(request, 'a@example.com', 'https://x.example.com/approvals/LINK');
    expect(email.text).toContain('https://x.example.com/approvals/LINK');
    expect(email.text).toContain('Backdoor:EC2/C&CActivity.B!DNS');
    expect(email.html).toContain('Backdoor:EC2/C&amp;CActivity.B!DNS');
    expect(email.html).not.toContain('<b>bold</b>');
    expect(email.text).toContain('until 2026-11-01T01:00:00.000Z');
    expect(email.text).toContain('the request is rejected');
  });
});

describe('the request function configuration', () => {
  const env = {
    CORDON_TABLE_NAME: 'cordon-audit',
    CORDON_RECORD_KEY: 'alias/cordon-record',
    CORDON_ANCHOR_BUCKET: 'cordon-anchor-123456789012-us-east-1',
    CORDON_APPROVAL_SETTINGS: '{"approvers":["a@example.com"],"sender":"c@example.com"}',
    CORDON_APPROVAL_BASE_URL: 'https://abc.execute-api.us-east-1.amazonaws.com/',
  };

  it('reads the approvers, the sender and the base URL', () => {
    expect(readApprovalRequestConfig(env)).toEqual({
      tableName: 'cordon-audit',
      recordKey: 'alias/cordon-record',
      anchorBucket: 'cordon-anchor-123456789012-us-east-1',
      approvers: ['a@example.com'],
      sender: 'c@example.com',
      consolePrincipals: [],
      baseUrl: 'https://abc.execute-api.us-east-1.amazonaws.com',
    });
  });

  it('reads who may decide from the console, and refuses a pattern of every principal', () => {
    const sso = 'arn:aws:sts::*:assumed-role/AWSReservedSSO_SecurityResponder_*/*';
    const settings = (consolePrincipals: string[]) => ({
      ...env,
      CORDON_APPROVAL_SETTINGS: JSON.stringify({
        approvers: ['a@example.com'],
        sender: 'c@example.com',
        consolePrincipals,
      }),
    });
    expect(readApprovalRequestConfig(settings([sso])).consolePrincipals).toEqual([sso]);
    for (const bad of ['arn:aws:sts::*:assumed-role/*/*', 'arn:aws:iam::123456789012:user/*', 'dana']) {
      expect(() => readApprovalRequestConfig(settings([bad]))).toThrow(/consolePrincipals\.0: must/);
    }
  });

  it('names what is wrong', () => {
    expect(() =>
      readApprovalRequestConfig({ ...env, CORDON_APPROVAL_SETTINGS: '{"approvers":[],"sender":"x"}' }),
    ).toThrow(
      /CORDON_APPROVAL_SETTINGS is invalid: approvers: must list at least one approver; sender: must be an email address/,
    );
    expect(() =>
      readApprovalRequestConfig({ ...env, CORDON_APPROVAL_BASE_URL: 'http://example.com' }),
    ).toThrow(/CORDON_APPROVAL_BASE_URL must be an https URL/);
    expect(() => readApprovalRequestConfig({ ...env, CORDON_APPROVAL_SETTINGS: undefined })).toThrow(
      /CORDON_APPROVAL_SETTINGS is required/,
    );
  });
});
