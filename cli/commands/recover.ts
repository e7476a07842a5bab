/**
 * `cordon recover <incident-id>`: starts the deployed `recover` playbook for an incident, for an operator
 * with AWS credentials. The playbook itself asks the approvers before it restores anything.
 *
 * It acts on what the record says (the instance, when it was first seen), so it reads the record verified
 * and refuses on a break. It writes nothing to the record itself (only Cordon's functions hold the record
 * key): who started the recovery is in the execution's input, which the approval request records.
 */
import { type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import type { Command } from 'commander';
import type { AuditRecorder } from '#shared/audit';
import { awsCall } from '#shared/aws';
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

export interface RecoverDeps {
  readonly recorder: Pick<AuditRecorder, 'verified'>;
  readonly sfn: Pick<SFNClient, 'send'>;
  readonly sts: Pick<STSClient, 'send'>;
  /** The state machines' region. */
  readonly region: string;
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
  const caller = await awsCall('sts:GetCallerIdentity', () =>
    deps.sts.send(new GetCallerIdentityCommand({})),
  );
  const arn = caller.Arn ?? '';
  const account = caller.Account ?? '';
  const partition = arn.split(':')[1] ?? 'aws';
  const stateMachineArn = `arn:${partition}:states:${deps.region}:${account}:stateMachine:cordon-${RECOVER_PLAYBOOK}`;
  const finding = {
    id: `recover-${incidentId}`,
    source: 'manual' as const,
    type: incident.findingType,
    title: incident.title,
    severity: incident.severity,
    resources: incident.resources,
    account: incident.account,
    region: incident.region,
    firstSeen: incident.firstSeen,
    lastSeen: incident.lastSeen,
  };
  const mode = options.dryRun ? 'dry-run' : 'automatic';
  const input = playbookInput(incidentId, finding, resource, mode, [`started by ${arn} with cordon recover`]);
  const name = executionName(incidentId, RECOVER_PLAYBOOK);
  const started = await awsCall(`states:StartExecution ${name}`, () =>
    deps.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) })),
  );
  return { executionArn: started.executionArn ?? '', input };
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
