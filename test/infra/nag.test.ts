import { App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/cordon-app.ts';
import { CordonStack } from '../../infra/cordon-stack.ts';
import { STACK_ACKNOWLEDGEMENTS } from '../../infra/nag.ts';

const noBundling = { context: { 'aws:cdk:bundling-stacks': [] } };

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the stack', () => {
    const { app, stack } = buildApp({ nag: false, app: noBundling });
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    expect(
      report.violations.map(
        (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
      ),
    ).toEqual([]);
  });

  it('gives every acknowledgement a reason', () => {
    for (const ack of STACK_ACKNOWLEDGEMENTS) expect(ack.reason.length).toBeGreaterThan(40);
  });

  it('acknowledges only wildcard grants: without the acknowledgements that is all cdk-nag reports', () => {
    const app = new App(noBundling);
    const stack = new CordonStack(app, 'Cordon', { acknowledgeNag: false });
    const rules = new AwsSolutionsChecks(app).validateScope(stack).violations.map((v) => v.ruleName);
    expect(rules).toContain('AwsSolutions-IAM5[Resource::*]');
    expect(rules.filter((r) => !r.startsWith('AwsSolutions-IAM5['))).toEqual([]);
  });
});
