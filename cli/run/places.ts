/**
 * Where a run acted: the AWS calls each account and region of the sandbox organization answered since a
 * mark, as `cordon run` and the demo print them after each playbook, so that a member's containment is
 * seen to act in the member (and the hub to have only assumed its role and sent the emails).
 */
import type { LocalOrganization } from '../../local/sandbox/organization.ts';

/** How many calls each place had answered, by `<account>/<region>`. */
export type CallMark = ReadonlyMap<string, number>;

const key = (account: string, region: string) => `${account}/${region}`;

/** The calls answered so far, per place. */
export function markCalls(organization: LocalOrganization): CallMark {
  return new Map(
    organization
      .places()
      .map((p) => [key(p.account, p.region), organization.sandbox(p.account, p.region).calls.length]),
  );
}

/** Reads: what describes and changes nothing. */
const READ = /^(Describe|Get|List|Head)/;

/**
 * One line per place that answered calls since `since`: the account (hub, member or outside the
 * organization), the region, the changes made there by command, and how many reads.
 */
export function actedIn(organization: LocalOrganization, since: CallMark): string[] {
  const roles = new Map(
    organization
      .accounts()
      .map((a) => [a.account, a.hub ? 'the hub' : a.inOrganization ? 'member' : 'outside the organization']),
  );
  const lines: string[] = [];
  for (const { account, region } of organization.places()) {
    const calls = organization.sandbox(account, region).calls.slice(since.get(key(account, region)) ?? 0);
    if (calls.length === 0) continue;
    const changes = new Map<string, number>();
    let reads = 0;
    let failed = 0;
    for (const call of calls) {
      // A DryRun's DryRunOperation is EC2 saying the call would succeed: a check, not a change or a failure.
      if ((call.input as { DryRun?: unknown } | undefined)?.DryRun === true) continue;
      if (call.error) failed++;
      if (READ.test(call.command)) reads++;
      else changes.set(call.command, (changes.get(call.command) ?? 0) + 1);
    }
    const done = [...changes].map(([command, n]) => (n > 1 ? `${command} x${n}` : command));
    lines.push(
      `account ${account} (${roles.get(account) ?? 'unknown'}), region ${region}: ${
        done.length ? done.join(', ') : 'no changes'
      }; ${reads} read(s)${failed ? `, ${failed} call(s) failed` : ''}`,
    );
  }
  return lines;
}
