/**
 * The hub's side of acting in the organization's member accounts, when the settings name the organization
 * (`organization.id` and `organization.externalId`):
 *
 * - the responder template (infra/responder-template.ts), synthesized with the app in a stage of its own;
 * - the roles of the actions that act where the finding is may assume the responder role of any account of
 *   the organization (`aws:ResourceOrgID`), and only those roles are named in its trust (the template's
 *   `CordonActionRoleArns`); every action function is told the hub's account, the role's name, the external
 *   id and the partition (functions/shared/responder.ts reads them);
 * - when `organization.organizationalUnits` is not empty, a service-managed StackSet, run from this account
 *   as the organization's delegated administrator, that deploys the template to every account of those
 *   units, now and as accounts join them, in the hub's region (IAM is global).
 */
import { Annotations, CfnOutput, Fn, Lazy, type Stack, Stage, Token } from 'aws-cdk-lib';
import * as cloudformation from 'aws-cdk-lib/aws-cloudformation';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { ActionFacts } from '#shared/define-action';
import type { Settings } from '#shared/settings';
import { acknowledge } from '../nag.ts';
import {
  ACTION_ROLES_PARAMETER,
  actsInPlace,
  memberRestoreRoleName,
  ResponderStage,
} from '../responder-template.ts';
import { shown } from '../role-guards.ts';
import type { ActionFunction } from './action-function.ts';

/** What the action functions are told of the organization (functions/shared/responder.ts reads it). */
export const RESPONDER_ENV = {
  /** The hub's account: a place in another account is a member's. */
  account: 'CORDON_ACCOUNT',
  /** The responder role's name, the same in every member. */
  role: 'CORDON_RESPONDER_ROLE',
  externalId: 'CORDON_EXTERNAL_ID',
  /** The partition of the role's ARN. */
  partition: 'CORDON_PARTITION',
  /** The member's restore role's name, to the actions that start restores. */
  restoreRole: 'CORDON_MEMBER_RESTORE_ROLE',
} as const;

/** Whether the settings name the organization: its id and the external id the responder role requires. */
export function organizationIsSet(settings: Settings): boolean {
  return settings.organization.id !== undefined && settings.organization.externalId !== undefined;
}

export interface RespondersProps {
  /** The validated settings; their organization must be set ({@link organizationIsSet}). */
  readonly settings: Settings;
  /** Every action declaration (functions/actions/index.ts). */
  readonly declarations: readonly ActionFacts[];
  /** Their functions, by action name. */
  readonly functions: ReadonlyMap<string, ActionFunction>;
}

export class Responders extends Construct {
  /** The stage of the responder template; its stack is the template. */
  readonly stage: ResponderStage;
  /** The functions that may assume the responder role: those of the actions that act in place. */
  readonly callers: readonly ActionFunction[];
  /** The StackSet that deploys the template to the organizational units; none when the settings name none. */
  readonly stackSet: cloudformation.CfnStackSet | undefined;

  constructor(scope: Stack, id: string, props: RespondersProps) {
    super(scope, id);
    const stack = scope;
    const { settings } = props;
    const { id: organizationId, externalId, responderRoleName, organizationalUnits } = settings.organization;
    if (organizationId === undefined || externalId === undefined) {
      throw new Error('Responders: organization.id and organization.externalId are required');
    }
    const app = Stage.of(stack);
    if (app === undefined) throw new Error(`Responders: stack ${stack.node.path} is in no app`);
    this.stage = new ResponderStage(app, `${stack.node.id}Responder`, {
      settings,
      actions: props.declarations,
      ...(Token.isUnresolved(stack.region) ? {} : { hubRegion: stack.region }),
    });

    const callers: ActionFunction[] = [];
    const roleArn = `arn:${stack.partition}:iam::*:role/${responderRoleName}`;
    for (const action of props.declarations) {
      const fn = props.functions.get(action.name);
      if (fn === undefined) throw new Error(`Responders: no function for the action ${action.name}`);
      fn.addEnvironment(RESPONDER_ENV.account, stack.account);
      fn.addEnvironment(RESPONDER_ENV.role, responderRoleName);
      fn.addEnvironment(RESPONDER_ENV.externalId, externalId);
      fn.addEnvironment(RESPONDER_ENV.partition, stack.partition);
      // An action that acts only in the hub, or calls nothing of AWS, never assumes the role.
      if (!actsInPlace(action)) continue;
      if (action.passRestoreRole)
        fn.addEnvironment(RESPONDER_ENV.restoreRole, memberRestoreRoleName(settings));
      fn.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['sts:AssumeRole'],
          resources: [roleArn],
          conditions: { StringEquals: { 'aws:ResourceOrgID': organizationId } },
        }),
      );
      acknowledge(
        fn.executionRole,
        `AwsSolutions-IAM5[Resource::arn:${shown(stack.partition, 'Partition')}:iam::*:role/${responderRoleName}]`,
        `${action.name} acts in whichever member account a finding is in: it may assume the responder role (${responderRoleName}) of any account, only of the organization ${organizationId} (aws:ResourceOrgID), and the role trusts only this stack's action roles, with the external id, from the organization.`,
      );
      callers.push(fn);
    }
    this.callers = callers;
    const callerArns = Fn.join(
      ',',
      callers.map((fn) => fn.executionRole.roleArn),
    );
    // For the accounts the StackSet does not reach (the management account): the template's parameter.
    new CfnOutput(stack, 'ResponderCallerRoleArns', {
      value: callerArns,
      description: `The ${ACTION_ROLES_PARAMETER} parameter of the responder template, for deploying it by hand`,
    });

    const missing = organizationalUnits.filter(
      (unit) => settings.organization.unitAccounts[unit] === undefined,
    );
    if (missing.length > 0) {
      Annotations.of(stack).addWarningV2(
        'cordon:units-not-prepared',
        `organization.organizationalUnits ${missing.join(', ')}: no accounts known for them (organization.unitAccounts), so the router puts none of their accounts in scope: run cordon prepare, then deploy.`,
      );
    }
    this.stackSet =
      organizationalUnits.length === 0
        ? undefined
        : new cloudformation.CfnStackSet(this, 'StackSet', {
            stackSetName: `${stack.stackName}-responder`,
            description: "Cordon's responder role in every account of the organizational units",
            permissionModel: 'SERVICE_MANAGED',
            // This account is the delegated administrator of StackSets (README, "Deploy").
            callAs: 'DELEGATED_ADMIN',
            autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
            capabilities: ['CAPABILITY_NAMED_IAM'],
            // Operations queue rather than fail when one is already running (a deployment during an update).
            managedExecution: { Active: true },
            operationPreferences: {
              // A quarter of the accounts at a time; one in ten may fail (a role of that name already there)
              // before the operation stops, so that a mistake does not reach every account.
              maxConcurrentPercentage: 25,
              failureTolerancePercentage: 10,
              regionConcurrencyType: 'PARALLEL',
            },
            stackInstancesGroup: [
              {
                deploymentTargets: { organizationalUnitIds: [...organizationalUnits] },
                // IAM is global: one stack per account, in the hub's region.
                regions: [stack.region],
              },
            ],
            templateBody: Lazy.string({ produce: () => JSON.stringify(this.stage.template()) }),
            parameters: [
              {
                parameterKey: ACTION_ROLES_PARAMETER,
                parameterValue: callerArns,
              },
            ],
          });
  }
}
