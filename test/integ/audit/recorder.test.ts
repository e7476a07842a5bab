import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder, NewIncident } from '#shared/audit';
import { AuditQueries } from '#shared/audit-queries';
import { keys } from '#shared/audit-table';
import { sequentialIds, steppingClock } from '#shared/clock';
import { ValidationError } from '#shared/errors';
import { createTestTable, type TestTable } from '../../support/store.ts';

const incidentInput = (overrides: Partial<NewIncident> = {}): NewIncident => ({
  title: 'Backdoor:EC2/C&CActivity.B!DNS on i-99999999',
  findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
  severity: 8,
  account: '123456789012',
  region: 'us-east-1',
  resources: [{ type: 'instance', id: 'i-99999999' }],
  firstSeen: '2026-11-01T10:00:00.000Z',
  lastSeen: '2026-11-01T10:05:00.000Z',
  ...overrides,
});

let table: TestTable;
let recorder: AuditRecorder;

beforeAll(async () => {
  table = await createTestTable();
  recorder = table.recorder();
});
afterAll(async () => {
  await table.drop();
});

describe('the audit recorder on DynamoDB Local', () => {
  it('keeps 1,000 steps from 8 concurrent writers contiguous and chained', async () => {
    const incident = await recorder.openIncident(incidentInput());
    const writers = Array.from({ length: 8 }, () => table.recorder());
    const perWriter = 125;
    await Promise.all(
      writers.map(async (writer, w) => {
        for (let i = 0; i < perWriter; i++) {
          await writer.appendStep(incident.id, {
            phase: 'containment',
            action: `writer-${w}`,
            status: 'noted',
            actor: 'automation',
            note: `step ${i} of writer ${w}`,
          });
        }
      }),
    );
    const steps = await recorder.steps(incident.id);
    expect(steps).toHaveLength(1000);
    expect(steps.map((s) => s.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
    for (let w = 0; w < 8; w++)
      expect(steps.filter((s) => s.action === `writer-${w}`)).toHaveLength(perWriter);
    const result = await recorder.verify(incident.id);
    expect(result).toMatchObject({ ok: true, steps: 1000 });
    expect((await recorder.getIncident(incident.id)).lastSeq).toBe(1000);
  });

  describe('verify', () => {
    async function chainOfFive(): Promise<string> {
      const incident = await recorder.openIncident(incidentInput());
      for (let i = 1; i <= 5; i++) {
        await recorder.appendStep(incident.id, {
          phase: 'containment',
          action: 'isolate-instance',
          status: i % 2 ? 'started' : 'succeeded',
          actor: 'automation',
          input: { instanceId: 'i-99999999', n: i },
          before: { groups: ['sg-1', 'sg-2'] },
          evidence: [`snap-${i}`],
        });
      }
      expect(await recorder.verify(incident.id)).toMatchObject({ ok: true, steps: 5 });
      return incident.id;
    }

    const stored = async (incidentId: string, seq: number) =>
      (await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.step(incidentId, seq) })))
        .Item as Record<string, unknown>;

    it('names the step whose field was changed, for every field of a stored step', async () => {
      const incidentId = await chainOfFive();
      const original = await stored(incidentId, 3);
      // The MAC is left out: the hash does not cover it, and an anchored step's MAC is not read.
      const fields = Object.keys(original).filter((f) => !['pk', 'sk', 'hash', 'mac'].includes(f));
      expect(fields.length).toBeGreaterThan(10);
      for (const field of fields) {
        const value = original[field];
        const changed =
          typeof value === 'number'
            ? value + 1
            : typeof value === 'string'
              ? `${value}x`
              : { tampered: true };
        await table.doc.send(
          new UpdateCommand({
            TableName: table.tableName,
            Key: keys.step(incidentId, 3),
            UpdateExpression: 'SET #f = :v',
            ExpressionAttributeNames: { '#f': field },
            ExpressionAttributeValues: { ':v': changed },
          }),
        );
        const result = await recorder.verify(incidentId);
        expect(result, `changing ${field}`).toMatchObject({ ok: false, brokenSeq: 3 });
        await table.doc.send(new PutCommand({ TableName: table.tableName, Item: original }));
        expect(await recorder.verify(incidentId)).toMatchObject({ ok: true });
      }
    });

    it('names a deleted step in the middle', async () => {
      const incidentId = await chainOfFive();
      await table.doc.send(new DeleteCommand({ TableName: table.tableName, Key: keys.step(incidentId, 2) }));
      const result = await recorder.verify(incidentId);
      expect(result).toMatchObject({ ok: false, brokenSeq: 2 });
      if (!result.ok) expect(result.reason).toContain('step 2 is missing');
    });

    it('names a deleted last step', async () => {
      const incidentId = await chainOfFive();
      await table.doc.send(new DeleteCommand({ TableName: table.tableName, Key: keys.step(incidentId, 5) }));
      expect(await recorder.verify(incidentId)).toMatchObject({ ok: false, brokenSeq: 5 });
    });

    it('names a step whose hash was recomputed after an edit: it no longer matches its anchor', async () => {
      const incidentId = await chainOfFive();
      const { stepHash } = await import('#shared/hash-chain');
      const item = await stored(incidentId, 2);
      const forged: Record<string, unknown> = { ...item, actor: 'someone-else' };
      forged.hash = stepHash(forged);
      await table.doc.send(new PutCommand({ TableName: table.tableName, Item: forged }));
      // Step 2 now hashes right, but its hash is not the one anchored for it.
      expect(await recorder.verify(incidentId)).toMatchObject({
        ok: false,
        brokenSeq: 2,
        kind: 'step-edited',
      });
    });
  });

  describe('bad input', () => {
    it('refuses an incident that fails its schema, naming the field, and writes nothing', async () => {
      const before = table.commands.length;
      await expect(recorder.openIncident(incidentInput({ account: '42', resources: [] }))).rejects.toThrow(
        /account: must be a 12-digit AWS account id; resources: must name at least one resource/,
      );
      expect(table.commands.slice(before)).toEqual([]);
    });

    it('refuses a step that fails its schema, naming the field, and writes nothing', async () => {
      const incident = await recorder.openIncident(incidentInput());
      const before = table.commands.length;
      const bad = { phase: 'containment', action: 'x', status: 'done', actor: '' } as unknown as Parameters<
        AuditRecorder['appendStep']
      >[1];
      const error = await recorder.appendStep(incident.id, bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(String(error)).toMatch(/status: .*; actor: must not be empty/);
      expect(table.commands.slice(before).filter((c) => c !== 'GetCommand' && c !== 'QueryCommand')).toEqual(
        [],
      );
      expect(await recorder.steps(incident.id)).toEqual([]);
    });

    it('refuses a step for an incident that does not exist', async () => {
      await expect(
        recorder.appendStep('no-such-incident', {
          phase: 'containment',
          action: 'x',
          status: 'noted',
          actor: 'a',
        }),
      ).rejects.toThrow('incident no-such-incident does not exist');
    });

    it('refuses a second incident with the same id', async () => {
      await recorder.openIncident(incidentInput({ id: 'fixed-id' }));
      await expect(recorder.openIncident(incidentInput({ id: 'fixed-id' }))).rejects.toThrow(
        /already exists/,
      );
    });
  });

  it('asks the key to vouch for what it chains onto once per writer: not for its own steps, nor after verifying', async () => {
    const incident = await recorder.openIncident(incidentInput());
    const note = { phase: 'identification', action: 'note', status: 'noted', actor: 'automation' } as const;
    const kms = () => {
      const calls = table.trust.sandbox.calls.filter((c) => c.service === 'KMS');
      return { verify: calls.filter((c) => c.command === 'VerifyMac').length };
    };
    const start = kms();
    // Its own opening and its own last step: no VerifyMac.
    await recorder.appendStep(incident.id, note);
    await recorder.appendStep(incident.id, note);
    expect(kms().verify - start.verify).toBe(0);
    // Another writer (another Lambda container) checks the tip once, then chains onto its own steps.
    const other = table.recorder();
    await other.appendStep(incident.id, note);
    await other.appendStep(incident.id, note);
    expect(kms().verify - start.verify).toBe(1);
    // A writer that has just verified the record chains onto the tip it verified.
    const reader = table.recorder();
    await reader.verified(incident.id);
    const afterVerify = kms().verify;
    await reader.appendStep(incident.id, note);
    expect(kms().verify - afterVerify).toBe(0);
    expect(await recorder.verify(incident.id)).toMatchObject({ ok: true, steps: 5 });
  });

  it('serves every access pattern with a Query, never a Scan', async () => {
    const t = await createTestTable('patterns');
    const rec = t.recorder({
      clock: steppingClock('2026-10-30T23:59:00.000Z', 60_000),
      ids: sequentialIds('inc'),
    });
    const q = new AuditQueries(t.doc, t.tableName);
    const a = await rec.openIncident(incidentInput({ resources: [{ type: 'instance', id: 'i-aaa' }] }));
    const b = await rec.openIncident(
      incidentInput({
        findingType: 'UnauthorizedAccess:IAMUser/TorIPCaller',
        resources: [{ type: 'access-key', id: 'AKIAEXAMPLE' }],
      }),
    );
    await rec.appendStep(a.id, {
      phase: 'eradication',
      action: 'approve',
      status: 'succeeded',
      actor: 'alice@example.com',
    });
    await rec.updateIncident(a.id, { status: 'contained', containedAt: '2026-10-31T00:10:00.000Z' });
    // The router's own writes: the resource's open marker, and the finding's lock.
    await t.doc.send(
      new TransactWriteCommand({
        TransactItems: [q.markerWrite(a, { type: 'instance', id: 'i-aaa' }, a.id)],
      }),
    );
    await q.claimFinding({
      place: a,
      findingId: 'finding-1',
      incidentId: a.id,
      count: 1,
      lastSeen: a.lastSeen,
      claimedAt: a.openedAt,
    });
    t.commands.length = 0;

    const incident = await rec.getIncident(a.id);
    const steps = await rec.steps(a.id);
    const inRange = await q.incidentsBetween('2026-10-01T00:00:00.000Z', '2026-11-30T00:00:00.000Z');
    const contained = await q.incidentsByStatus('contained');
    const open = await q.incidentsByStatus('open');
    const byResource = await q.incidentIdsByResource('AKIAEXAMPLE');
    const byType = await q.incidentsByType('UnauthorizedAccess:IAMUser/TorIPCaller');
    const byActor = await q.stepsByActor('alice@example.com');
    const openFor = await q.openIncidentFor(a, { type: 'instance', id: 'i-aaa' });
    const seen = await q.finding(a, 'finding-1');

    expect(incident.status).toBe('contained');
    // The status change is a step of its own, written with the change.
    expect(steps.map((s) => s.action)).toEqual(['approve', 'incident-update']);
    expect(inRange.map((i) => i.id)).toEqual([b.id, a.id]);
    expect(contained.items.map((i) => i.id)).toEqual([a.id]);
    expect(open.items.map((i) => i.id)).toEqual([b.id]);
    expect(byResource.items).toEqual([b.id]);
    expect(byType.items.map((i) => i.id)).toEqual([b.id]);
    expect(byActor.items.map((s) => s.action)).toEqual(['approve']);
    expect(openFor).toBe(a.id);
    expect(seen?.incidentId).toBe(a.id);
    expect(t.commands.length).toBeGreaterThan(0);
    expect(t.commands.filter((c) => c !== 'QueryCommand' && c !== 'GetItemCommand')).toEqual([]);
    expect(t.commands).not.toContain('ScanCommand');
    await t.drop();
  });
});
