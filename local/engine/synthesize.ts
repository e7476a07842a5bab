/**
 * Synthesizes a CDK app or stack in-process for the engine: the template of the one stack holding
 * `cordon:playbook` state machines, and its region and account when they are concrete.
 */
import type { App, Stack } from 'aws-cdk-lib';
import { TemplateError } from './errors.ts';
import type { CfnTemplate } from './template-types.ts';

interface StackArtifactLike {
  readonly template: unknown;
  readonly stackName: string;
  readonly environment: { readonly account: string; readonly region: string };
}

interface AssemblyLike {
  readonly stacks: readonly StackArtifactLike[];
  getStackArtifact(artifactId: string): StackArtifactLike;
}

export interface Synthesized {
  readonly template: CfnTemplate;
  readonly region: string | undefined;
  readonly account: string | undefined;
}

function concrete(value: string): string | undefined {
  return /^unknown-|\$\{Token/.test(value) ? undefined : value;
}

function fromArtifact(artifact: StackArtifactLike): Synthesized {
  return {
    template: artifact.template as CfnTemplate,
    region: concrete(artifact.environment.region),
    account: concrete(artifact.environment.account),
  };
}

export function synthesize(scope: App | Stack): Synthesized {
  if ('artifactId' in scope) {
    const root = scope.node.root as unknown as { synth?: () => AssemblyLike };
    if (typeof root.synth !== 'function')
      throw new TemplateError('The stack is not in an App; cannot synthesize');
    return fromArtifact(root.synth().getStackArtifact(scope.artifactId));
  }
  const assembly = (scope as unknown as { synth(): AssemblyLike }).synth();
  const withPlaybooks = assembly.stacks.filter((stack) =>
    JSON.stringify(stack.template).includes('"cordon:playbook"'),
  );
  const [only, ...others] = withPlaybooks;
  if (only === undefined || others.length > 0) {
    throw new TemplateError(
      `Expected exactly one stack with cordon:playbook state machines, found ${withPlaybooks.length}; pass the stack instead`,
    );
  }
  return fromArtifact(only);
}
