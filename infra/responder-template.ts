/**
 * The responder template: what each member account of the organization holds for Cordon, a stack of its
 * own (in a stage of its own, so that `cdk deploy` of the hub never deploys it) that the hub's StackSet
 * deploys to the settings' organizational units (infra/constructs/responders.ts) and that a person deploys
 * as a plain stack where a service-managed StackSet does not reach (the management account: README,
 * "Deploy").
 *
 * - The responder role (`organization.responderRoleName`): assumed only by the hub's action roles (the
 *   parameter `CordonActionRoleArns`, which the StackSet fills), with the settings' external id, from
 *   within the organization (`aws:PrincipalOrgID`). It is granted exactly the union of what the actions
 *   that act where the finding is call (their declarations, functions/actions/<name>/action.ts), under
 *   their conditions, scoped to this account and the regions covered, with the same denies on the roles
 *   that must never be touched (its own and its restore role among them) and on protected roles.
 * - The member's restore role (`<responderRoleName>-restore`): AWS Backup restores with a role of the
 *   account the recovery point is in, and a role of the hub cannot be passed here, so the recovery of an
 *   instance of a member needs one of the member's own. The responder role may pass it, to AWS Backup only.
 *
 * The template is env-agnostic: `${AWS::AccountId}` is the member's, and its first covered region is the
 * hub's (known at synth, else `${AWS::Region}`: the StackSet deploys it in the hub's region).
 */
import {
  CfnParameter,
  CliCredentialsStackSynthesizer,
  Stack,
  type StackProps,
  Stage,
  type StageSynthesisOptions,
} from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { type ActionFacts, type Conditions, iamCalls } from '#shared/define-action';
import type { Settings } from '#shared/settings';
import { RestoreRole } from './constructs/restore-role.ts';
import { coveredRegions, grantDeclared } from './declared-grants.ts';
import { acknowledge } from './nag.ts';
import type { RoleScope } from './role-guards.ts';

/** The template's parameter the hub's StackSet fills with its action roles' ARNs. */
export const ACTION_ROLES_PARAMETER = 'CordonActionRoleArns';

/** The responder stack's construct id, in its stage: its template file is `<stage>-Responder.template.json`. */
export const RESPONDER_STACK_ID = 'Responder';

/** Whether an action acts where the finding is (with the member's responder role there), or only in the hub. */
export function actsInPlace(action: ActionFacts): boolean {
  return action.inHub !== true && Object.keys(action.calls).length > 0;
}

/**
 * What the responder role is granted, as one declaration: the union of the calls of every action that acts
 * in place, and of their conditions. A call is conditioned only when every action that makes it is, with
 * every block any of them gives (the call is allowed when any holds); PassRole when any action passes one.
 */
export function responderFacts(actions: readonly ActionFacts[]): ActionFacts {
  const acting = actions.filter(actsInPlace);
  const calls: Record<string, string[]> = {};
  for (const action of acting) {
    for (const [key, list] of Object.entries(action.calls) as [string, readonly string[]][]) {
      calls[key] = [...new Set([...(calls[key] ?? []), ...list])];
    }
  }
  const conditions: Record<string, Conditions[]> = {};
  for (const call of new Set(acting.flatMap((a) => iamCalls(a)))) {
    const makers = acting.filter((a) => iamCalls(a).includes(call));
    if (makers.some((a) => a.conditions?.[call] === undefined)) continue;
    const blocks = new Map<string, Conditions>();
    for (const block of makers.flatMap((a) => a.conditions?.[call] ?? [])) {
      blocks.set(JSON.stringify(block), block);
    }
    conditions[call] = [...blocks.values()];
  }
  return {
    name: 'responder',
    phase: 'containment',
    description: "What Cordon's actions do in a member account",
    calls: calls as ActionFacts['calls'],
    conditions,
    passRestoreRole: acting.some((a) => a.passRestoreRole === true),
    passInstanceRoles: acting.some((a) => a.passInstanceRoles === true),
  };
}

/** The name of a member's restore role: its responder role's, and `-restore`. */
export function memberRestoreRoleName(settings: Settings): string {
  const name = `${settings.organization.responderRoleName}-restore`;
  if (name.length > 64) {
    throw new Error(
      `organization.responderRoleName must be at most 56 characters (its restore role is <name>-restore, at most 64), got "${settings.organization.responderRoleName}"`,
    );
  }
  return name;
}

/** A principal of the role ARNs a CommaDelimitedList parameter holds. */
class RoleArnsPrincipal extends iam.PrincipalBase {
  constructor(private readonly arns: string[]) {
    super();
  }

  get policyFragment(): iam.PrincipalPolicyFragment {
    return new iam.PrincipalPolicyFragment({ AWS: this.arns });
  }

  override toString(): string {
    return `RoleArnsPrincipal(${ACTION_ROLES_PARAMETER})`;
  }

  override dedupeString(): string | undefined {
    return undefined;
  }
}

export interface ResponderStackProps extends StackProps {
  /** The validated settings; `organization.id` and `organization.externalId` are required. */
  readonly settings: Settings;
  /** Every action declaration (functions/actions/index.ts): the role gets the union of those that act in place. */
  readonly actions: readonly ActionFacts[];
  /** The hub's region, when known at synth: the first region covered. Default the template's own region. */
  readonly hubRegion?: string;
}

/** The responder template's stack. */
export class ResponderStack extends Stack {
  /** The role the hub's actions assume in this account. */
  readonly role: iam.Role;
  /** The role AWS Backup restores with in this account, which the responder role may pass. */
  readonly restoreRole: RestoreRole | undefined;
  /** `CordonActionRoleArns`: who may assume the role. */
  readonly callers: CfnParameter;

  constructor(scope: Construct, id: string, props: ResponderStackProps) {
    super(scope, id, {
      description: "Cordon's responder role: what Cordon's actions may do in this account",
      synthesizer: new CliCredentialsStackSynthesizer(),
      analyticsReporting: false,
      ...props,
    });
    const { settings } = props;
    const { id: organizationId, externalId, responderRoleName } = settings.organization;
    if (organizationId === undefined || externalId === undefined) {
      throw new Error('ResponderStack: organization.id and organization.externalId are required');
    }
    const facts = responderFacts(props.actions);
    const restoreName = facts.passRestoreRole ? memberRestoreRoleName(settings) : undefined;
    const roles: RoleScope = {
      partition: this.partition,
      account: this.account,
      ownRoles: [responderRoleName, ...(restoreName ? [restoreName] : [])],
    };
    const regions = coveredRegions(props.hubRegion ?? this.region, settings);

    this.callers = new CfnParameter(this, ACTION_ROLES_PARAMETER, {
      type: 'CommaDelimitedList',
      description:
        "The ARNs of the hub's action roles, the only principals that may assume the responder role",
    });
    this.role = new iam.Role(this, 'Role', {
      roleName: responderRoleName,
      description:
        "Assumed by Cordon's action functions in the security account, to contain and recover in this account",
      assumedBy: new RoleArnsPrincipal(this.callers.valueAsList).withConditions({
        StringEquals: { 'sts:ExternalId': externalId, 'aws:PrincipalOrgID': organizationId },
      }),
    });
    grantDeclared(
      this,
      facts,
      settings,
      {
        partition: this.partition,
        account: this.account,
        regions,
        roles,
        where: 'the member account',
        declaredIn: 'the declarations of the actions that act in place, functions/actions/*/action.ts',
      },
      { add: (statement) => this.role.addToPrincipalPolicy(statement), role: this.role },
    );
    if (restoreName !== undefined) {
      this.restoreRole = new RestoreRole(this, 'RestoreRole', {
        settings,
        roleName: restoreName,
        regions,
        roles,
      });
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [this.restoreRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'backup.amazonaws.com' } },
        }),
      );
    }
    acknowledge(
      this.role,
      'AwsSolutions-IAM5[Resource::*]',
      'Granted on "*" only the Describe, Get and List calls the actions make (they support no resource-level permissions) and the AWS Backup calls on whichever recovery point and restore job the incident\'s resource has; every change is kept to this account and the regions covered.',
    );
  }
}

/**
 * The stage that holds the responder template. Synthesized with the app, into its own folder of the cloud
 * assembly (`cdk.out/assembly-<id>/`), and never deployed by `cdk deploy` of the hub.
 */
export class ResponderStage extends Stage {
  readonly stack: ResponderStack;

  constructor(scope: Construct, id: string, props: ResponderStackProps) {
    super(scope, id);
    this.stack = new ResponderStack(this, RESPONDER_STACK_ID, props);
  }

  /** The template, as CloudFormation reads it (the StackSet's body). */
  template(options?: StageSynthesisOptions): Record<string, unknown> {
    return this.synth(options).getStackArtifact(this.stack.artifactId).template;
  }

  /** The template's file, in the cloud assembly the app was synthesized into. */
  templateFile(options?: StageSynthesisOptions): string {
    return this.synth(options).getStackArtifact(this.stack.artifactId).templateFullPath;
  }
}
