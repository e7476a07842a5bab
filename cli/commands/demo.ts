/**
 * `cordon demo` (`npm run demo`): a game day on the laptop, with no AWS account. It starts the local
 * store in the project's state folder, opens an incident from a real GuardDuty finding, records steps
 * through the deployed record-note handler and its audit middleware, prints the timeline and verifies
 * the hash chain.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { AuditRecorder } from '#shared/audit';
import { ENV } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { LOCAL_TABLE, openStateStore, stateDir } from '../../local/state.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/store.ts';
import { timeline } from '../format.ts';

const FIXTURE = fileURLToPath(
  new URL('../../test/fixtures/events/guardduty/ec2-backdoor-c2-dns.eventbridge.json', import.meta.url),
);

interface GuardDutyEvent {
  account: string;
  region: string;
  detail: {
    id: string;
    type: string;
    title: string;
    severity: number;
    resource: { instanceDetails?: { instanceId?: string } };
    service: { eventFirstSeen: string; eventLastSeen: string };
  };
}

export interface DemoOptions {
  readonly out?: (line: string) => void;
  readonly stateDir?: string;
}

/** Runs the demo; returns the exit status. */
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dir = options.stateDir ?? stateDir();
  out(`Cordon demo: no AWS account, no network. State folder: ${dir}`);
  out('Starting the local store (DynamoDB Local)...');
  const store = await openStateStore(dir);
  try {
    // Everything below talks to the local store only.
    Object.assign(process.env, {
      [ENV.tableName]: LOCAL_TABLE,
      AWS_ENDPOINT_URL_DYNAMODB: store.endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    });
    const recorder = new AuditRecorder({ client: makeDocumentClient(), tableName: LOCAL_TABLE });
    const event = JSON.parse(readFileSync(FIXTURE, 'utf8')) as GuardDutyEvent;
    const finding = event.detail;
    out(`Finding: ${finding.type} (severity ${finding.severity}) in ${event.account}/${event.region}`);
    const instanceId = finding.resource.instanceDetails?.instanceId ?? 'unknown';
    const incident = await recorder.openIncident({
      title: finding.title,
      findingType: finding.type,
      severity: finding.severity,
      account: event.account,
      region: event.region,
      resources: [{ type: 'instance', id: instanceId }],
      firstSeen: new Date(finding.service.eventFirstSeen).toISOString(),
      lastSeen: new Date(finding.service.eventLastSeen).toISOString(),
    });
    out(`Opened incident ${incident.id} for ${instanceId}`);
    await recorder.appendStep(incident.id, {
      phase: 'identification',
      action: 'open-incident',
      status: 'succeeded',
      actor: 'automation',
      input: {
        findingId: finding.id,
        source: join('test/fixtures/events/guardduty', 'ec2-backdoor-c2-dns.eventbridge.json'),
      },
      note: `opened from GuardDuty finding ${finding.id}`,
    });

    const { handler } = await import('../../functions/actions/record-note/handler.ts');
    const context = { functionName: 'RecordNote', awsRequestId: 'demo' } as Context;
    await handler({ incidentId: incident.id, note: 'Demo: the instance owner was paged.' }, context);
    try {
      await handler({ incidentId: incident.id, note: '' }, context);
    } catch (error) {
      out(`A bad note was refused and recorded as failed: ${(error as Error).message}`);
    }

    out('');
    out(`Timeline of ${incident.id}:`);
    out(timeline(await recorder.steps(incident.id)));
    out('');
    const verified = await recorder.verify(incident.id);
    if (!verified.ok) {
      out(`Chain BROKEN at step ${verified.brokenSeq}: ${verified.reason}`);
      return 1;
    }
    out(`Chain verified: ${verified.steps} steps, head ${verified.lastHash.slice(0, 16)}...`);
    return 0;
  } finally {
    await store.close();
  }
}
