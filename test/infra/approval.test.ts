import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ApprovalApi } from '../../infra/constructs/approval-api.ts';
import { AuditTable } from '../../infra/constructs/audit-table.ts';
import { acknowledgeStack } from '../../infra/nag.ts';
import { ApprovalGate } from '../../playbooks/parts/approval-gate.ts';

const MACHINE = 'cordon-ec2-compromise';

/** A stack with the audit table, the approval API, and one playbook with a gate, as CordonStack wires them. */
function build(options: { acknowledge?: boolean } = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'ApprovalTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  const audit = new AuditTable(stack, 'Audit');
  const approvals = new ApprovalApi(stack, 'Approvals', {
    table: audit,
    approvers: ['alice@example.com', 'bob@example.com'],
    sender: 'cordon@example.com',
    stateMachineNames: [MACHINE],
  });
  const gate = new ApprovalGate(stack, 'Approve termination', {
    functions: approvals,
    failure: new sfn.Fail(stack, 'Failed'),
    action: 'terminate-instance',
    summary: { happened: sfn.JsonPath.stringAt('$.happened'), done: 'Isolated.', asks: 'Terminate.' },
    timeout: Duration.minutes(30),
  });
  gate.approved.next(new sfn.Succeed(stack, 'Terminated'));
  gate.rejected.next(new sfn.Succeed(stack, 'Kept'));
  const machine = new sfn.StateMachine(stack, 'Playbook', {
    stateMachineName: MACHINE,
    definitionBody: sfn.DefinitionBody.fromChainable(gate),
  });
  if (options.acknowledge ?? true) acknowledgeStack(stack);
  return { app, stack, approvals, gate, machine, template: Template.fromStack(stack) };
}

/** The table and the API alone: what cdk-nag judges of this construct (playbooks are judged with theirs). */
function buildApiOnly(options: { acknowledge?: boolean } = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'ApprovalApiOnly', { env: { account: '123456789012', region: 'eu-west-1' } });
  const approvals = new ApprovalApi(stack, 'Approvals', {
    table: new AuditTable(stack, 'Audit'),
    approvers: ['alice@example.com'],
    sender: 'cordon@example.com',
    stateMachineNames: [MACHINE],
  });
  if (options.acknowledge ?? true) acknowledgeStack(stack);
  return { app, stack, approvals };
}

/** Every logical id a value refers to: `Ref`, `Fn::GetAtt`, and `${Id}` / `${Id.Attr}` in `Fn::Sub`. */
function referencesIn(value: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(value)) for (const v of value) referencesIn(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string') out.add(v);
      else if (key === 'Fn::GetAtt') out.add(String(Array.isArray(v) ? v[0] : String(v).split('.')[0]));
      else if (key === 'Fn::Sub') {
        const text = Array.isArray(v) ? String(v[0]) : String(v);
        for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)/g)) if (m[1]) out.add(m[1]);
        referencesIn(v, out);
      } else referencesIn(v, out);
    }
  }
  return out;
}

/** A dependency cycle among a template's resources (their logical ids), or [] when there is none. */
function findCycle(template: {
  Resources?: Record<string, { Properties?: unknown; DependsOn?: string | string[] }>;
}): string[] {
  const resources = template.Resources ?? {};
  const edges = new Map<string, string[]>();
  for (const [id, resource] of Object.entries(resources)) {
    const refs = referencesIn(resource.Properties, new Set());
    for (const d of [resource.DependsOn ?? []].flat()) refs.add(d);
    edges.set(
      id,
      [...refs].filter((r) => r in resources),
    );
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] => {
    if (state.get(id) === 'done') return [];
    if (state.get(id) === 'visiting') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'visiting');
    path.push(id);
    for (const next of edges.get(id) ?? []) {
      const cycle = visit(next);
      if (cycle.length > 0) return cycle;
    }
    path.pop();
    state.set(id, 'done');
    return [];
  };
  for (const id of edges.keys()) {
    const cycle = visit(id);
    if (cycle.length > 0) return cycle;
  }
  return [];
}

function definitionOf(template: Template): Record<string, { Type: string } & Record<string, unknown>> {
  const [machine] = Object.values(template.findResources('AWS::StepFunctions::StateMachine'));
  const props = (machine?.Properties ?? {}) as { DefinitionString?: { 'Fn::Join': [string, unknown[]] } };
  const parts = props.DefinitionString?.['Fn::Join'][1] ?? [];
  // Intrinsics (function ARNs) sit inside JSON strings: stand them in with a plain word.
  const json = parts.map((part) => (typeof part === 'string' ? part : 'x')).join('');
  return (JSON.parse(json) as { States: Record<string, { Type: string } & Record<string, unknown>> }).States;
}

describe('ApprovalGate', () => {
  it('is a waitForTaskToken Lambda task with TimeoutSeconds, catching the rejection and the timeout, and checks every approval in the record', () => {
    const states = definitionOf(build().template);
    // The gate's entry is noted first: the request, the timeout and the check all name it.
    expect(states['Approve termination: enter']).toMatchObject({
      Type: 'Pass',
      Parameters: { 'enteredTime.$': '$$.State.EnteredTime' },
      ResultPath: '$.approvalGate',
      Next: 'Approve termination',
    });
    const task = states['Approve termination'];
    expect(task).toMatchObject({
      Type: 'Task',
      Resource: expect.stringContaining('lambda:invoke.waitForTaskToken'),
      TimeoutSeconds: 1800,
      ResultPath: '$.approval',
    });
    const payload = (task?.Parameters as { Payload?: Record<string, unknown> } | undefined)?.Payload;
    expect(payload).toMatchObject({
      'taskToken.$': '$$.Task.Token',
      'incidentId.$': '$.incidentId',
      'executionArn.$': '$$.Execution.Id',
      // The deadline counts from the gate's entry, just before the task's: no link outlives the token.
      'enteredTime.$': '$.approvalGate.enteredTime',
      'reasons.$': '$.reasons',
      gate: 'Approve termination',
      action: 'terminate-instance',
      timeoutSeconds: 1800,
      defaultDecision: 'reject',
      'resource.$': '$.resource',
    });
    const failure = { ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Failed' };
    expect(task?.Catch).toEqual([
      {
        ErrorEquals: ['ApprovalRejected'],
        ResultPath: '$.approval',
        Next: 'Approve termination: read rejection',
      },
      { ErrorEquals: ['States.Timeout'], ResultPath: '$.approval', Next: 'Approve termination: timed out' },
      failure,
    ]);
    // An approval goes through the check of the record before the approved branch, whatever it said.
    expect(task?.Next).toBe('Approve termination: check the record');
    // The timeout and the check hold the record to this gate's task and to the gate's own default.
    const sameTask = {
      'executionArn.$': '$$.Execution.Id',
      gate: 'Approve termination',
      'enteredTime.$': '$.approvalGate.enteredTime',
      defaultDecision: 'reject',
    };
    expect(states['Approve termination: check the record']).toMatchObject({
      Type: 'Task',
      Next: 'Approve termination: approved',
      Catch: [failure],
      Parameters: sameTask,
    });
    expect(states['Approve termination: timed out']).toMatchObject({
      Next: 'Approve termination: default after timeout',
      Catch: [failure],
      Parameters: sameTask,
    });
    expect(states['Approve termination: default after timeout']).toMatchObject({
      Choices: [
        {
          Variable: '$.approval.decision',
          StringEquals: 'approve',
          Next: 'Approve termination: check the record',
        },
      ],
      Default: 'Approve termination: rejected',
    });
    expect(states['Approve termination: record rejection']?.Next).toBe('Approve termination: rejected');
  });

  it('refuses a timeout under a minute, naming the value', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'X');
    const functions = build().approvals;
    expect(
      () =>
        new ApprovalGate(stack, 'Gate', {
          failure: new sfn.Fail(stack, 'Failed'),
          functions,
          action: 'a',
          summary: { happened: 'h', done: 'd', asks: 'a' },
          timeout: Duration.seconds(5),
        }),
    ).toThrow(/timeout must be whole seconds from 60 to 604800, got 5/);
  });
});

describe('ApprovalApi', () => {
  it('lets the decision function call exactly SendTaskSuccess and SendTaskFailure on the named state machines', () => {
    const { template } = build();
    const policies = template.findResources('AWS::IAM::Policy');
    const statements = Object.values(policies).flatMap(
      (p) =>
        (
          p.Properties as {
            PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] };
          }
        ).PolicyDocument.Statement,
    );
    const states = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('states:')));
    expect(states).toHaveLength(1);
    expect(states[0]?.Action).toEqual(['states:SendTaskSuccess', 'states:SendTaskFailure']);
    expect(JSON.stringify(states[0]?.Resource)).toContain(`:stateMachine:${MACHINE}`);
    // By name, not by reference to the state machine: no dependency on it, so no cycle.
    expect(JSON.stringify(states[0]?.Resource)).not.toMatch(/Playbook|GetAtt/);
  });

  it('grants ses:SendEmail on the sender identity only (request, timeout, and the decision function telling of a refusal)', () => {
    const { template } = build();
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        (
          p.Properties as {
            PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] };
          }
        ).PolicyDocument.Statement,
    );
    const ses = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('ses:')));
    expect(ses).toHaveLength(3);
    for (const s of ses) {
      expect(s.Action).toBe('ses:SendEmail');
      expect(JSON.stringify(s.Resource)).toContain(':identity/cordon@example.com');
    }
  });

  it('throttles the default stage, logs access without the path, routes GET and POST /approvals/{id}, and the console route with IAM', () => {
    const { template } = build();
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
    });
    const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0];
    const format = (stage?.Properties as { AccessLogSettings?: { Format?: string } } | undefined)
      ?.AccessLogSettings?.Format;
    expect(format).not.toMatch(/\$context\.path|rawPath/);
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => (r.Properties as { RouteKey: string }).RouteKey,
    );
    expect(routes.sort()).toEqual([
      'GET /approvals/{id}',
      'POST /approvals/{id}',
      'POST /console/approvals/{requestId}',
      'POST /console/incidents/{id}/assign',
      'POST /console/incidents/{id}/close',
      'POST /console/incidents/{id}/note',
    ]);
    for (const key of [
      'POST /console/approvals/{requestId}',
      'POST /console/incidents/{id}/close',
      'POST /console/incidents/{id}/note',
      'POST /console/incidents/{id}/assign',
    ]) {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
        RouteKey: key,
        AuthorizationType: 'AWS_IAM',
      });
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', { PayloadFormatVersion: '2.0' });
  });

  it("gives the request function the settings and the API's URL, and every approval function the settings", () => {
    const { template } = build();
    const settings = JSON.stringify({
      approvers: ['alice@example.com', 'bob@example.com'],
      sender: 'cordon@example.com',
      consolePrincipals: [],
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CORDON_APPROVAL_SETTINGS: settings,
          CORDON_APPROVAL_BASE_URL: { 'Fn::GetAtt': [Match.stringLikeRegexp('ApprovalsApi'), 'ApiEndpoint'] },
        }),
      },
    });
    // The decision, check and lifecycle functions go by the console principals; the timeout by the sender.
    const withSettings = Object.values(template.findResources('AWS::Lambda::Function')).filter(
      (f) =>
        (f.Properties as { Environment?: { Variables?: Record<string, unknown> } }).Environment?.Variables
          ?.CORDON_APPROVAL_SETTINGS === settings,
    );
    expect(withSettings).toHaveLength(5);
  });

  it('hands the console principals to the functions, and refuses a pattern of every principal', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Z');
    const audit = new AuditTable(stack, 'Audit');
    const base = {
      table: audit,
      sender: 'c@example.com',
      approvers: ['a@example.com'],
      stateMachineNames: ['m'],
    };
    const sso = 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_SecurityResponder_*/*';
    new ApprovalApi(stack, 'A', { ...base, consolePrincipals: [sso] });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          CORDON_APPROVAL_SETTINGS: JSON.stringify({
            approvers: ['a@example.com'],
            sender: 'c@example.com',
            consolePrincipals: [sso],
          }),
        }),
      },
    });
    for (const bad of [
      'arn:aws:sts::*:assumed-role/*/*',
      '*',
      'alice@example.com',
      'arn:aws:iam::*:role/*',
    ]) {
      expect(() => new ApprovalApi(stack, `B${bad.length}`, { ...base, consolePrincipals: [bad] })).toThrow(
        /consolePrincipals must be IAM user, role or assumed-role ARN patterns that name people's roles/,
      );
    }
  });

  it('makes no dependency cycle between the API URL, the functions and the state machine', () => {
    const { app, stack } = build();
    const assembly = app.synth();
    expect(() => assembly.getStackByName(stack.stackName).template).not.toThrow();
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('Circular|F3004'));
    expect(warnings).toEqual([]);
    const messages = JSON.stringify(assembly.getStackByName(stack.stackName).messages);
    expect(messages).not.toMatch(/Circular|F3004/);
    expect(findCycle(assembly.getStackByName(stack.stackName).template)).toEqual([]);
  });

  it('is cdk-nag AwsSolutions clean, each acknowledgement with its reason', () => {
    const { app, stack } = buildApiOnly();
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    expect(
      report.violations.map(
        (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
      ),
    ).toEqual([]);
  });

  it('acknowledges only APIG4 and COG4 on the routes, beyond the stack-wide ones', () => {
    const { app, stack } = buildApiOnly({ acknowledge: false });
    const rules = new Set(new AwsSolutionsChecks(app).validateScope(stack).violations.map((v) => v.ruleName));
    expect([...rules].sort()).toEqual(['AwsSolutions-IAM5[Resource::*]']);
  });

  it('refuses approvers that are not addresses and state machine names that are not names', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Y');
    const audit = new AuditTable(stack, 'Audit');
    const base = {
      table: audit,
      sender: 'c@example.com',
      approvers: ['a@example.com'],
      stateMachineNames: ['m'],
    };
    expect(() => new ApprovalApi(stack, 'A', { ...base, approvers: ['nobody'] })).toThrow(
      /approvers must be/,
    );
    expect(() => new ApprovalApi(stack, 'B', { ...base, stateMachineNames: ['arn:aws:states:x'] })).toThrow(
      /stateMachineNames/,
    );
  });
});
