/**
 * Each function writes only what it owns in the audit table: its grants on the table, read off the
 * synthesized template, against its declaration in infra/table-access.ts. No statement on the table may
 * come without a `dynamodb:LeadingKeys` condition, none names an index, and a function that gains access
 * to more items than it declares fails here.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/cordon-app.ts';
import { tableAccessOf } from '../../infra/table-access.ts';
import { synthStack } from '../support/app.ts';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}
interface Resource {
  readonly Type: string;
  readonly Metadata?: Record<string, unknown>;
  readonly Properties?: Record<string, unknown>;
}

/** Every function's table statements, by its handler module. */
function tableStatements(resources: Record<string, Resource>): Map<string, Statement[]> {
  const out = new Map<string, Statement[]>();
  for (const fn of Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Function')) {
    const entry = String(fn.Metadata?.['cordon:entry']);
    const roleId = (fn.Properties?.Role as { 'Fn::GetAtt': [string] } | undefined)?.['Fn::GetAtt'][0];
    const statements = Object.values(resources)
      .filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          ((r.Properties?.Roles as { Ref: string }[] | undefined) ?? []).some((ref) => ref.Ref === roleId),
      )
      .flatMap(
        (r) => (r.Properties?.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [],
      )
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('dynamodb:')));
    out.set(entry, statements);
  }
  return out;
}

/** A function's table access as granted: prefix → actions, each sorted. */
function granted(statements: readonly Statement[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of statements) {
    const prefixes = [
      s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'] ?? [],
    ].flat() as string[];
    for (const prefix of prefixes) {
      out[prefix] = [...new Set([...(out[prefix] ?? []), ...[s.Action].flat()])].sort();
    }
  }
  return out;
}

/** A function's table access as declared. */
function declared(entry: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const access of tableAccessOf(entry)) {
    out[`${access.prefix}*`] = [
      ...new Set([...(out[`${access.prefix}*`] ?? []), ...access.actions.map((a) => `dynamodb:${a}`)]),
    ].sort();
  }
  return out;
}

/** Where a function's grants differ from its declaration, one line each. */
function differences(byEntry: ReadonlyMap<string, Statement[]>): string[] {
  const out: string[] = [];
  for (const [entry, statements] of byEntry) {
    const have = granted(statements);
    const want = declared(entry);
    for (const prefix of new Set([...Object.keys(have), ...Object.keys(want)])) {
      const extra = (have[prefix] ?? []).filter((a) => !(want[prefix] ?? []).includes(a));
      const missing = (want[prefix] ?? []).filter((a) => !(have[prefix] ?? []).includes(a));
      if (extra.length > 0) out.push(`${entry}: ${extra.join(', ')} on ${prefix}, not declared`);
      if (missing.length > 0)
        out.push(`${entry}: ${missing.join(', ')} on ${prefix}, declared but not granted`);
    }
  }
  return out;
}

let resources: Record<string, Resource>;
let byEntry: Map<string, Statement[]>;
beforeAll(() => {
  resources = synthStack().template.toJSON().Resources;
  byEntry = tableStatements(resources);
});

describe('each function writes only what it owns in the audit table', () => {
  it('grants no function a table action without a partition-key condition, and none on an index', () => {
    const tableId = Object.entries(resources).find(([, r]) => r.Type === 'AWS::DynamoDB::Table')?.[0];
    expect(byEntry.size).toBeGreaterThanOrEqual(25);
    for (const [entry, statements] of byEntry) {
      expect(statements.length, entry).toBeGreaterThan(0);
      for (const s of statements) {
        expect(s.Effect, entry).toBe('Allow');
        expect(s.Resource, entry).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
        expect(Object.keys(s.Condition ?? {}), entry).toEqual(['ForAllValues:StringLike']);
        const prefixes = s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'];
        expect(prefixes, entry).toEqual([expect.stringMatching(/^[A-Z-]+#([a-z]+#)?\*$/)]);
        expect(
          [s.Action].flat().some((a) => /Scan|BatchWrite|\*$/.test(a)),
          entry,
        ).toBe(false);
      }
    }
  });

  it('grants each function exactly its declared items (infra/table-access.ts), nothing more', () => {
    expect(differences(byEntry)).toEqual([]);
  });

  it('lets only the three functions that end incidents delete, and only open markers', () => {
    const deleters = [...byEntry]
      .filter(([, statements]) => statements.some((s) => [s.Action].flat().includes('dynamodb:DeleteItem')))
      .map(([entry, statements]) => [
        entry,
        granted(statements.filter((s) => [s.Action].flat().includes('dynamodb:DeleteItem'))),
      ]);
    expect(deleters.sort()).toEqual([
      ['functions/actions/mark-incident/handler.ts', { 'OPEN#*': ['dynamodb:DeleteItem'] }],
      ['functions/lifecycle/handler.ts', { 'OPEN#*': ['dynamodb:DeleteItem'] }],
      ['functions/playbook-ended/handler.ts', { 'OPEN#*': ['dynamodb:DeleteItem'] }],
    ]);
  });

  it('lets only the request function write task tokens and only the decision function read them', () => {
    const touching = [...byEntry]
      .map(([entry, statements]) => [entry, granted(statements)['APPROVAL-TOKEN#*']] as const)
      .filter(([, actions]) => actions !== undefined);
    expect(touching.sort()).toEqual([
      ['functions/approval/decide/handler.ts', ['dynamodb:GetItem']],
      ['functions/approval/request/handler.ts', ['dynamodb:PutItem']],
    ]);
  });

  it('fails when a function gains more than it declares', () => {
    const { stack } = buildApp({ nag: false, app: { context: { 'aws:cdk:bundling-stacks': [] } } });
    const tag = stack.actions.get('ec2-tag');
    if (!tag) throw new Error('the stack has no ec2-tag function');
    // What a careless change would do: the whole table, or a prefix more.
    stack.audit.table.grantReadData(tag);
    tag.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem'],
        resources: [stack.audit.table.tableArn],
        conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['APPROVAL-TOKEN#*'] } },
      }),
    );
    const edited = tableStatements(Template.fromStack(stack).toJSON().Resources);
    expect(differences(edited)).toContain(
      'functions/actions/ec2-tag/handler.ts: dynamodb:GetItem on APPROVAL-TOKEN#*, not declared',
    );
    const statements = edited.get('functions/actions/ec2-tag/handler.ts') ?? [];
    expect(statements.some((s) => s.Condition === undefined)).toBe(true);
  });
});
