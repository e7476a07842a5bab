/**
 * `cordon recover <incident-id>`: starts the deployed `recover` playbook for an incident, for an operator
 * with AWS credentials. The playbook itself asks the approvers before it restores anything.
 *
 * It acts on what the record says (the instance, when it was first seen), so it reads the record verified
 * and refuses on a break. It writes nothing to the record itself (only Cordon's functions hold the record
 * key): who started the recovery is in the execution's input, which the approval request records.
 */
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { Command } from 'commander';
import type { AuditRecorder } from '#shared/audit';
import { awsCall } from '#shared/aws';
import { makeClient } from '#shared/clients';
import type { Finding, Incident, Resource } from '#shared/domain';
import { ValidationError } from '#shared/errors';
import { executionName, type PlaybookInput, playbookInput } from '#shared/playbook-input';
import { RECOVER_PLAYBOOK } from '../../playbooks/recovery.ts';
import { withConnection } from '../connection.ts';
import {
  type CommonFlags,
  type ConsoleContext,
  connectionFlags,
  parseIncidentId,
  withCommonOptions,
} from '../context.ts';

/** What starting a deployed playbook needs: the verified record, and Step Functions and STS clients. */
export interface DeployedPlaybookDeps {
  readonly recorder: Pick<AuditRecorder, 'verified'>;
  readonly sfn: Pick<SFNClient, 'send'>;
  readonly sts: Pick<STSClient, 'send'>;
  /** The state machines' region. */
  readonly region: string;
}

export type RecoverDeps = DeployedPlaybookDeps;

/** The finding a playbook run on an existing incident starts from: what its verified record says. */
export function incidentFinding(incident: Incident, source: string): Finding {
  return {
    id: `${source}-${incident.id}`,
    source: 'manual',
    type: incident.findingType,
    title: incident.title,
    severity: incident.severity,
    resources: incident.resources,
    account: incident.account,
    region: incident.region,
    firstSeen: incident.firstSeen,
    lastSeen: incident.lastSeen,
  };
}

/**
 * Starts the deployed state machine `cordon-<playbook>` on a verified incident's `resource`, as the caller
 * (named in the input's reasons, `started by <arn> with cordon <command>`); idempotent per incident and
 * playbook (the execution name is derived).
 */
export async function startDeployedPlaybook(
  deps: DeployedPlaybookDeps,
  incident: Incident,
  playbook: string,
  resource: Resource,
  options: { command: string; dryRun?: boolean },
): Promise<{ executionArn: string; input: PlaybookInput }> {
  const caller = await awsCall('sts:GetCallerIdentity', () =>
    deps.sts.send(new GetCallerIdentityCommand({})),
  );
  const arn = caller.Arn ?? '';
  const partition = arn.split(':')[1] ?? 'aws';
  const stateMachineArn = `arn:${partition}:states:${deps.region}:${caller.Account ?? ''}:stateMachine:cordon-${playbook}`;
  const input = playbookInput(
    incident.id,
    incidentFinding(incident, options.command),
    resource,
    options.dryRun ? 'dry-run' : 'automatic',
    [`started by ${arn} with cordon ${options.command}`],
  );
  const name = executionName(incident.id, playbook);
  const started = await awsCall(`states:StartExecution ${name}`, () =>
    deps.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })),
  );
  return { executionArn: started.executionArn ?? '', input };
}

/** The SFN and STS clients of a region (`--region`, else `AWS_REGION`). */
export function regionClients(region: string | undefined): {
  sfn: SFNClient;
  sts: STSClient;
  region: string;
} {
  const resolved = region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!resolved) throw new ValidationError('--region', ['is required (or AWS_REGION)']);
  return {
    sfn: makeClient(SFNClient, { service: 'SFN', region: resolved }),
    sts: makeClient(STSClient, { service: 'STS', region: resolved }),
    region: resolved,
  };
}

/** Starts `recover` for an incident's instance; idempotent per incident (the execution name is derived). */
export async function startRecovery(
  deps: RecoverDeps,
  incidentId: string,
  options: { dryRun?: boolean } = {},
): Promise<{ executionArn: string; input: PlaybookInput }> {
  // RecordTamperedError on a break: recovery from a record that does not verify is refused.
  const { incident } = await deps.recorder.verified(incidentId);
  const resource = incident.resources.find((r) => r.type === 'instance');
  if (!resource) {
    throw new ValidationError('incident', [`${incidentId} names no instance: recovery restores instances`]);
  }
  return startDeployedPlaybook(deps, incident, RECOVER_PLAYBOOK, resource, {
    command: 'recover',
    ...(options.dryRun ? { dryRun: true } : {}),
  });
}

/** Adds `recover` to the console. */
export function registerRecoverCommand(
  cli: Command,
  ctx: ConsoleContext,
  clients: (region: string | undefined) => {
    sfn: Pick<SFNClient, 'send'>;
    sts: Pick<STSClient, 'send'>;
    region: string;
  },
): Command {
  return withCommonOptions(
    cli
      .command('recover <incident-id>')
      .description(
        "Start the recover playbook for an incident's instance: it asks the approvers, then restores the newest backup taken before the incident was first seen",
      ),
  )
    .option('--dry-run', 'report which recovery point a recovery would use, and change nothing')
    .action(async (id: string, flags: CommonFlags & { dryRun?: boolean }) => {
      if (flags.local) {
        throw new ValidationError('--local', [
          'recover starts the deployed playbook; to rehearse, use cordon run --playbook recover --event <file>',
        ]);
      }
      const incidentId = parseIncidentId(id);
      const { sfn, sts, region } = clients(flags.region);
      const started = await withConnection(ctx.connect, connectionFlags(flags), (connection) =>
        startRecovery({ recorder: connection.recorder, sfn, sts, region }, incidentId, {
          dryRun: flags.dryRun === true,
        }),
      );
      ctx.io.out(`started ${started.executionArn}`);
      ctx.io.out('The approvers now get an email; nothing is restored before one of them approves.');
    });
}
