/**
 * The core of `recover-validate`: checks the instance a restore created before the incident counts as
 * recovered. It must be `running`, pass both status checks (system and instance `ok`:
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-system-instance-status-check.html), have
 * its root volume and every EBS volume `attached`, and carry no isolation group. A definite failure
 * (stopped, impaired, a volume detached, an isolation group) throws {@link RecoveryValidationError}; an
 * instance still starting (pending, checks `initializing`, a volume `attaching`) throws
 * {@link RecoveryNotReadyError}, which the playbook retries with a backoff. It changes nothing.
 *
 * AWS calls: ec2:DescribeInstances, ec2:DescribeInstanceStatus.
 */
import { DescribeInstanceStatusCommand } from '@aws-sdk/client-ec2';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { awsCall } from '#shared/aws';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import { allItems, nextToken } from '#shared/pages';
import { describeInstance, type Ec2Sender } from '../ec2-common/instance.ts';
import { RecoveryNotReadyError, RecoveryValidationError } from '../recover-common/errors.ts';
import { ISOLATION_GROUP_PREFIX, RecoverEventSchema, resourceIdOf } from '../recover-common/recovery.ts';

/** The event of `recover-validate`. */
export const ValidateInputSchema = lazySchema(() =>
  z.extend(RecoverEventSchema, {
    /** `recover-check-restore`'s `output.createdResourceArn`: the restored instance. */
    createdResourceArn: z
      .string()
      .check(z.regex(/^arn:aws[a-z-]*:ec2:[^:]*:\d*:instance\/i-[0-9a-f]+$/, 'must be an EC2 instance ARN')),
  }),
);

/** What the core needs. */
export interface ValidateDeps {
  readonly ec2: Ec2Sender;
}

/** Validates the restored instance; throws when it is not (yet) what recovery needs. */
export async function validateRestore(deps: ValidateDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(ValidateInputSchema, event, 'recover-validate input');
  const id = resourceIdOf(input.createdResourceArn);
  const instance = await describeInstance(deps.ec2, id);
  const failures: string[] = [];
  const waiting: string[] = [];
  const checks: string[] = [];

  const state = instance.State?.Name ?? 'unknown';
  if (state === 'running') checks.push('running');
  else if (state === 'pending') waiting.push('the instance is pending');
  else failures.push(`the instance is ${state}, not running`);

  if (state === 'running') {
    const doing = `ec2:DescribeInstanceStatus ${id}`;
    const statuses = await allItems({
      doing,
      fetch: (NextToken) =>
        awsCall(doing, () =>
          deps.ec2.send(
            new DescribeInstanceStatusCommand({ InstanceIds: [id], IncludeAllInstances: true, NextToken }),
          ),
        ),
      next: nextToken,
      items: (page) => page.InstanceStatuses,
    });
    const status = statuses.find((s) => s.InstanceId === id);
    for (const [name, summary] of [
      ['system', status?.SystemStatus?.Status],
      ['instance', status?.InstanceStatus?.Status],
    ] as const) {
      if (summary === 'ok') checks.push(`${name} status check ok`);
      else if (summary === undefined || summary === 'initializing' || summary === 'insufficient-data') {
        waiting.push(`the ${name} status check is ${summary ?? 'not reported yet'}`);
      } else failures.push(`the ${name} status check is ${summary}`);
    }
  }

  const mappings = instance.BlockDeviceMappings ?? [];
  if (!mappings.some((m) => m.DeviceName === instance.RootDeviceName)) {
    failures.push(`the root volume (${instance.RootDeviceName ?? 'no root device'}) is not attached`);
  }
  for (const mapping of mappings) {
    const volume = `${mapping.Ebs?.VolumeId ?? 'a volume'} at ${mapping.DeviceName}`;
    const attachment = mapping.Ebs?.Status;
    if (attachment === 'attached') checks.push(`${volume} attached`);
    else if (attachment === 'attaching') waiting.push(`${volume} is attaching`);
    else failures.push(`${volume} is ${attachment ?? 'in an unknown state'}`);
  }

  const isolation = (instance.SecurityGroups ?? []).filter((g) =>
    (g.GroupName ?? '').startsWith(ISOLATION_GROUP_PREFIX),
  );
  if (isolation.length > 0) {
    failures.push(`it carries the isolation group ${isolation.map((g) => g.GroupId).join(', ')}`);
  }

  if (failures.length > 0) throw new RecoveryValidationError(id, failures);
  if (waiting.length > 0) throw new RecoveryNotReadyError(id, waiting);
  return {
    status: 'succeeded',
    before: { instanceId: id, state, volumes: mappings.map((m) => m.Ebs?.VolumeId ?? '') },
    changes: { calls: [] },
    evidence: [id],
    note: `restored instance ${id} is running, passes its status checks and has its volumes attached`,
    ...(input.dryRun ? { dryRun: true } : {}),
    output: {
      instanceId: id,
      sourceInstanceId: input.instanceId,
      valid: true,
      reasons: [],
      checks,
      availabilityZone: instance.Placement?.AvailabilityZone ?? null,
    },
  };
}
