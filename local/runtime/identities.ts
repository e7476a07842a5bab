/**
 * Who each of the template's functions is when it calls AWS on the local runtime: the session of its own
 * role, as Lambda gives it (`arn:aws:sts::<account>:assumed-role/<role>/<function>`), the caller the hub's
 * sandbox names in `GetCallerIdentity` and an `AccessDenied`, and the principal a member's responder role
 * trusts (the role's ARN). The action functions' roles are what a seeded member's responder role trusts.
 */

import { type CfnTemplate, TemplateResolver } from '../engine/index.ts';
import type { Caller } from '../sandbox/index.ts';
import { roleIdOf } from '../table-guard/template.ts';

/** The functions of an action (`cordon:entry` under functions/actions/), whose roles a responder role trusts. */
const ACTION_ENTRY = /^functions\/actions\//;

export interface FunctionIdentities {
  /** The caller of each function with `cordon:entry` and a role of the template, by logical id. */
  readonly callers: ReadonlyMap<string, Caller>;
  /** The roles of the action functions, as ARNs, sorted, each once. */
  readonly actionRoleArns: readonly string[];
}

/** A stable, AWS-looking role id (`AROA` and 17 characters) from the role's ARN. */
function roleIdFor(roleArn: string): string {
  let hash = 0n;
  for (const char of roleArn) hash = (hash * 131n + BigInt(char.codePointAt(0) ?? 0)) % 2n ** 85n;
  return `AROA${hash.toString(32).toUpperCase().padStart(17, '0').slice(-17)}`;
}

/** Every function's caller, and the action roles, from the synthesized template. */
export function functionIdentities(
  template: CfnTemplate,
  options: { readonly accountId: string; readonly region: string },
): FunctionIdentities {
  const resolver = new TemplateResolver(template, options);
  const callers = new Map<string, Caller>();
  const actionRoles = new Set<string>();
  for (const [id, resource] of Object.entries(resolver.resources)) {
    const entry = resource.Metadata?.['cordon:entry'];
    if (resource.Type !== 'AWS::Lambda::Function' || typeof entry !== 'string') continue;
    const roleId = roleIdOf(resource.Properties?.Role);
    if (roleId === undefined || resolver.resources[roleId]?.Type !== 'AWS::IAM::Role') continue;
    // A role CloudFormation names has a generated name; its logical id stands in for it (as the table guard's).
    const roleName = resolver.physicalName(roleId);
    const session = resolver.physicalName(id);
    const principalArn = `arn:aws:iam::${options.accountId}:role/${roleName}`;
    callers.set(id, {
      arn: `arn:aws:sts::${options.accountId}:assumed-role/${roleName}/${session}`,
      userId: `${roleIdFor(principalArn)}:${session}`,
      account: options.accountId,
      principalArn,
    });
    if (ACTION_ENTRY.test(entry)) actionRoles.add(principalArn);
  }
  return { callers, actionRoleArns: [...actionRoles].sort() };
}
