/**
 * The record's reads follow every page: the DynamoDB Queries (`LastEvaluatedKey`) of the blast-radius
 * slots, the rejections, the approvals console and a verified record's partition, and the anchors' S3
 * ListObjectVersions.
 */
import { createHmac } from 'node:crypto';
import { ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ApprovalStore } from '../../../functions/approval/store.ts';
import { AuditRecorder, type DocumentSender } from '../../../functions/shared/audit.ts';
import { AuditQueries, freeSlots } from '../../../functions/shared/audit-queries.ts';
import { keys } from '../../../functions/shared/audit-table.ts';
import { anchorKey, KmsS3Seal, type RecordSeal } from '../../../functions/shared/seal.ts';

/** A document client whose Query answers `pages` in turn, each with a LastEvaluatedKey but the last. */
function queryPages(pages: readonly Record<string, unknown>[][]): {
  client: DocumentSender;
  inputs: unknown[];
} {
  const inputs: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      if (!(command instanceof QueryCommand)) throw new Error('only Query is expected');
      inputs.push(command.input);
      const start = command.input.ExclusiveStartKey as { page?: number } | undefined;
      const index = start?.page ?? 0;
      return {
        Items: pages[index] ?? [],
        ...(index < pages.length - 1 ? { LastEvaluatedKey: { page: index + 1 } } : {}),
      };
    },
  } as unknown as DocumentSender;
  return { client, inputs };
}

const NOW = new Date('2026-11-10T12:00:00.000Z');
const slot = (n: number, takenAt: string, incidentId: string) => ({
  ...keys.automaticSlot('111122223333', n),
  takenAt,
  incidentId,
  resourceId: `i-${n}`,
});

describe('the blast-radius slots across pages', () => {
  it('would take a slot that is held on the second page; with every page it refuses at the limit', async () => {
    // Limit 2: slot 0 held on page 1, slot 1 held on page 2 (a page ends at 1 MB, whatever the items).
    const pages = [
      [slot(0, '2026-11-10T11:30:00.000Z', 'inc-a')],
      [slot(1, '2026-11-10T11:50:00.000Z', 'inc-b')],
    ];
    const firstPage = new AuditQueries(queryPages(pages.slice(0, 1)).client, 'audit');
    expect((await firstPage.automaticSlots('111122223333', NOW)).holders).toHaveLength(1);

    const { client, inputs } = queryPages(pages);
    const queries = new AuditQueries(client, 'audit');
    const slots = await queries.automaticSlots('111122223333', NOW);
    expect(slots.holders.map((h) => h.incidentId)).toEqual(['inc-a', 'inc-b']);
    expect(inputs).toHaveLength(2);
    // What the router's opening chooses from: both places held, and no slot free.
    expect(slots.holders.map((h) => h.slot)).toEqual([0, 1]);
    expect(freeSlots(slots, 2, 'inc-c')).toEqual([]);
  });

  it('reads every page of the rejections of a day', async () => {
    const rejection = (n: number) => ({ at: `2026-11-10T0${n}:00:00Z`, reason: `r${n}`, event: {} });
    const { client } = queryPages([[rejection(1)], [], [rejection(3)]]);
    const rejections = await new AuditQueries(client, 'audit').rejections('2026-11-10');
    expect(rejections.map((r) => r.reason)).toEqual(['r1', 'r3']);
  });
});

describe('the approvals console across pages', () => {
  it('fills the limit from later pages and asks each page only for what is missing', async () => {
    const request = (n: number) => ({ requestId: `req-${n}`, status: 'pending' });
    const { client, inputs } = queryPages([[request(1)], [request(2), request(3)], [request(4)]]);
    const found = await new ApprovalStore(client, 'audit').byStatus('pending', 3);
    expect(found.map((r) => r.requestId)).toEqual(['req-1', 'req-2', 'req-3']);
    expect(inputs.map((i) => (i as { Limit: number }).Limit)).toEqual([3, 2]);
  });
});

describe('the anchors across pages', () => {
  const s3Mock = mockClient(S3Client);
  afterEach(() => s3Mock.reset());
  const seal = () =>
    new KmsS3Seal({
      keyId: 'k',
      bucket: 'anchors',
      kms: { send: async () => ({}) } as never,
      s3: new S3Client({}),
    });
  const hash = (c: string) => c.repeat(64);

  it('sees a delete marker on the last page over an anchor listed on the first', async () => {
    const key = anchorKey({ incidentId: 'inc-1', seq: 1, hash: hash('a') });
    const other = anchorKey({ incidentId: 'inc-1', seq: 2, hash: hash('b') });
    s3Mock.on(ListObjectVersionsCommand).callsFake((input: { KeyMarker?: string }) => {
      if (input.KeyMarker === undefined)
        return { Versions: [{ Key: key }], IsTruncated: true, NextKeyMarker: key, NextVersionIdMarker: 'v1' };
      if (input.KeyMarker === key)
        return {
          Versions: [{ Key: other }],
          IsTruncated: true,
          NextKeyMarker: other,
          NextVersionIdMarker: 'v2',
        };
      return { DeleteMarkers: [{ Key: key }], IsTruncated: false };
    });
    const anchors = await seal().anchors('inc-1');
    expect(anchors).toEqual([
      { incidentId: 'inc-1', seq: 1, hash: hash('a'), hidden: true },
      { incidentId: 'inc-1', seq: 2, hash: hash('b') },
    ]);
    expect(
      s3Mock.commandCalls(ListObjectVersionsCommand).map((c) => c.args[0].input.VersionIdMarker),
    ).toEqual([undefined, 'v1', 'v2']);
  });

  it('refuses a listing that repeats its markers instead of looping', async () => {
    s3Mock
      .on(ListObjectVersionsCommand)
      .resolves({ Versions: [], IsTruncated: true, NextKeyMarker: 'k', NextVersionIdMarker: 'v' });
    await expect(seal().anchors('inc-1')).rejects.toThrow(/already followed/);
  });
});

describe("a verified record's partition across pages", () => {
  /** A key of the test's own, and no anchors: every step is vouched for by its MAC alone. */
  const seal: RecordSeal = {
    keyId: 'k',
    bucket: 'anchors',
    mac: async (message) => createHmac('sha256', 'test key').update(message).digest('base64'),
    verify: async (message, mac) => createHmac('sha256', 'test key').update(message).digest('base64') === mac,
    anchor: async () => undefined,
    anchors: async () => [],
  };
  const note = { phase: 'identification', action: 'note', status: 'noted', actor: 'automation' } as const;

  it('reads the incident item and every page of its steps with one Query; without the last page the head shows the loss', async () => {
    // The record as a recorder writes it: the incident, its link and three steps in one transaction.
    let written: Record<string, unknown>[] = [];
    const writer = new AuditRecorder({
      client: {
        send: async (command: unknown) => {
          if (!(command instanceof TransactWriteCommand)) throw new Error('only the transaction is expected');
          written = (command.input.TransactItems ?? []).map((t) => t.Put?.Item ?? {});
          return {};
        },
      } as unknown as DocumentSender,
      tableName: 'audit',
      seal,
    });
    const { incident } = await writer.openIncidentWith(
      {
        title: 'paged',
        findingType: 'Test:EC2/Thing',
        severity: 5,
        account: '123456789012',
        region: 'us-east-1',
        resources: [{ type: 'instance', id: 'i-1' }],
        firstSeen: '2026-11-01T00:00:00.000Z',
        lastSeen: '2026-11-01T00:00:00.000Z',
      },
      { steps: [note, note, note] },
    );
    const bySk = [...written].sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
    expect(bySk.map((item) => String(item.sk).split('#')[0])).toEqual([
      'INCIDENT',
      'PLACE',
      'RESOURCE',
      'STEP',
      'STEP',
      'STEP',
    ]);
    const pages = [bySk.slice(0, 3), bySk.slice(3, 4), bySk.slice(4)];

    const { client, inputs } = queryPages(pages);
    const record = await new AuditRecorder({ client, tableName: 'audit', seal }).verified(incident.id);
    expect(record.steps.map((s) => s.seq)).toEqual([1, 2, 3]);
    expect(inputs).toHaveLength(3);
    expect(
      new Set(inputs.map((i) => (i as { KeyConditionExpression: string }).KeyConditionExpression)),
    ).toEqual(new Set(['pk = :pk']));

    const cut = queryPages(pages.slice(0, 2));
    await expect(
      new AuditRecorder({ client: cut.client, tableName: 'audit', seal }).verified(incident.id),
    ).rejects.toThrow(/does not verify: tail-truncated at step 2/);
  });
});
