/**
 * A large audit record for measuring the console's reads: 10,000 incidents with 10 steps each (and their
 * resource links and place items), in 10 accounts and 2 regions, generated deterministically, loaded with
 * parallel BatchWrites, and a document client that counts what each read read and returned. The console's
 * scale test and `npm run bench` use it.
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DocumentSender } from '#shared/audit';
import { keys } from '#shared/audit-table';
import { PLACE_ITEM_MARK } from '#shared/audit-verify';
import type { IncidentStatus } from '#shared/domain';
import { openingHash, stepHash } from '#shared/hash-chain';
import type { RecordSeal } from '#shared/seal';

export const INCIDENTS = 10_000;
export const STEPS_PER_INCIDENT = 10;
const TYPES = Array.from({ length: 20 }, (_, i) => `Type:EC2/Finding${i}`);
const ACCOUNTS = Array.from({ length: 10 }, (_, i) => String(100000000000 + i));
/** Every other incident is in the second region (not drawn from the generator: the rest stays as it was). */
const REGIONS = ['us-east-1', 'eu-west-1'] as const;
const APPROVERS = Array.from({ length: 5 }, (_, i) => `approver${i}@example.com`);
const START = Date.parse('2025-12-01T00:00:00.000Z');
const SPAN = Date.parse('2026-11-28T00:00:00.000Z') - START;

/** A deterministic generator (mulberry32), so that every run loads the same record. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function statusOf(r: number): IncidentStatus {
  if (r < 0.1) return 'open';
  if (r < 0.3) return 'contained';
  if (r < 0.5) return 'recovered';
  return 'closed';
}

/** The items of the record, keyed as the recorder writes them. */
export function records(): Record<string, unknown>[] {
  const rnd = random(42);
  const items: Record<string, unknown>[] = [];
  for (let n = 0; n < INCIDENTS; n++) {
    const id = `inc-${String(n).padStart(5, '0')}`;
    const openedAt = new Date(START + Math.floor((n / INCIDENTS) * SPAN)).toISOString();
    const status = statusOf(rnd());
    const findingType = TYPES[Math.floor(rnd() * TYPES.length)] ?? '';
    const resourceId = `i-${String(n % 3000).padStart(8, '0')}`;
    const timeKey = `${openedAt}#${id}`;
    // Drawn in the order they always were: severity, then account.
    const severity = 1 + Math.floor(rnd() * 10);
    const account = ACCOUNTS[Math.floor(rnd() * ACCOUNTS.length)] ?? '';
    const region = REGIONS[n % 2] ?? '';
    const incident: Record<string, unknown> = {
      ...keys.incident(id),
      gsi1pk: keys.month(openedAt),
      gsi1sk: timeKey,
      gsi2pk: keys.status(status),
      gsi2sk: timeKey,
      gsi3pk: keys.type(findingType),
      gsi3sk: timeKey,
      gsi4pk: keys.account(account),
      gsi4sk: timeKey,
      id,
      status,
      title: `${findingType} on ${resourceId}`,
      findingType,
      severity,
      account,
      region,
      resources: [{ type: 'instance', id: resourceId }],
      playbook: 'ec2-compromise',
      openedAt,
      firstSeen: openedAt,
      lastSeen: openedAt,
      lastSeq: STEPS_PER_INCIDENT,
    };
    // What the incident was opened with, and the status its record then changed (the step after the last).
    const opening = { ...incident, status: 'open', [PLACE_ITEM_MARK]: true } as Record<string, unknown>;
    for (const key of [
      'pk',
      'sk',
      'gsi1pk',
      'gsi1sk',
      'gsi2pk',
      'gsi2sk',
      'gsi3pk',
      'gsi3sk',
      'gsi4pk',
      'gsi4sk',
    ])
      delete opening[key];
    delete opening.lastSeq;
    incident.opening = opening;
    incident.openingHash = openingHash(opening);
    items.push(incident);
    items.push({
      ...keys.resource(id, resourceId),
      gsi3pk: keys.resourceRef(resourceId),
      gsi3sk: timeKey,
      incidentId: id,
      resourceId,
      openedAt,
    });
    items.push({
      ...keys.place(id),
      gsi4pk: keys.region(region),
      gsi4sk: timeKey,
      incidentId: id,
      account,
      region,
      openedAt,
    });
    let prevHash = String(incident.openingHash);
    for (let seq = 1; seq <= STEPS_PER_INCIDENT; seq++) {
      const at = new Date(Date.parse(openedAt) + seq * 1000).toISOString();
      const actor = seq === 6 ? (APPROVERS[n % APPROVERS.length] ?? '') : 'automation';
      const step: Record<string, unknown> = {
        ...keys.step(id, seq),
        gsi3pk: keys.actor(actor),
        gsi3sk: `${at}#${id}#${seq}`,
        phase: seq < 6 ? 'containment' : 'eradication',
        action: seq === 6 ? 'approval-decision' : seq === 2 ? 'ec2-isolate' : `action-${seq}`,
        status: 'succeeded',
        actor,
        incidentId: id,
        account,
        region,
        seq,
        startedAt: at,
        recordedAt: at,
        prevHash,
        // The last step is the one that set the incident's status.
        ...(seq === STEPS_PER_INCIDENT && status !== 'open' ? { incident: { status } } : {}),
      };
      step.hash = stepHash(step);
      prevHash = String(step.hash);
      items.push(step);
    }
    incident.lastHash = prevHash;
  }
  return items;
}

/**
 * Anchors one incident of the record, as the recorder would have as it wrote it: its opening and every
 * step. (Anchoring all 110,000 would only slow the load: verify reads the one incident it verifies.)
 */
export async function anchorIncident(
  seal: RecordSeal,
  items: readonly Record<string, unknown>[],
  incidentId: string,
): Promise<void> {
  const pk = keys.incident(incidentId).pk;
  for (const item of items) {
    if (item.pk !== pk) continue;
    if (item.sk === 'INCIDENT') await seal.anchor({ incidentId, seq: 0, hash: String(item.openingHash) });
    else if (typeof item.seq === 'number')
      await seal.anchor({ incidentId, seq: item.seq, hash: String(item.hash) });
  }
}

export async function load(
  doc: DynamoDBDocumentClient,
  tableName: string,
  items: Record<string, unknown>[],
): Promise<void> {
  const batches: Record<string, unknown>[][] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  await Promise.all(
    Array.from({ length: 24 }, async () => {
      for (let batch = batches.shift(); batch; batch = batches.shift()) {
        let pending = batch.map((Item) => ({ PutRequest: { Item } }));
        while (pending.length > 0) {
          const result = await doc.send(new BatchWriteCommand({ RequestItems: { [tableName]: pending } }));
          pending = (result.UnprocessedItems?.[tableName] ?? []) as typeof pending;
        }
      }
    }),
  );
}

export interface Meter {
  commands: string[];
  read: number;
  returned: number;
}

/** A document client that counts what each read read and returned: ScannedCount and Count, or items got. */
export function metered(doc: DocumentSender): { client: DocumentSender; meter: Meter } {
  const meter: Meter = { commands: [], read: 0, returned: 0 };
  const client = {
    send: async (command: { constructor: { name: string } }) => {
      const result = (await doc.send(command as Parameters<DocumentSender['send']>[0])) as Record<
        string,
        unknown
      >;
      meter.commands.push(command.constructor.name);
      if (typeof result.ScannedCount === 'number') {
        meter.read += result.ScannedCount;
        meter.returned += typeof result.Count === 'number' ? result.Count : 0;
      } else if ('Item' in result || command.constructor.name === 'GetCommand') {
        const n = result.Item ? 1 : 0;
        meter.read += 1;
        meter.returned += n;
      } else if (result.Responses) {
        const n = Object.values(result.Responses as Record<string, unknown[]>).reduce(
          (s, r) => s + r.length,
          0,
        );
        meter.read += n;
        meter.returned += n;
      }
      return result;
    },
  } as DocumentSender;
  return { client, meter };
}
