/**
 * Compiles a playbook of the template for the interpreter: its definition rendered with local ARNs and
 * validated as Step Functions would (ARNs, paths), its Task states mapped to what runs them, every direct
 * Lambda ARN checked against the template's functions.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type CompiledDefinition, compileDefinition } from './definition.ts';
import { DefinitionInvalidError, UnsupportedResourceError } from './errors.ts';
import type { LambdaRunner } from './lambda.ts';
import type { TemplateResolver } from './template.ts';
import { renderDefinition } from './template-contents.ts';
import type { TemplatePlaybook } from './template-types.ts';

/** A playbook ready to run: its compiled definition and the interpreter's state machine. */
export interface CompiledPlaybook extends CompiledDefinition {
  readonly playbook: TemplatePlaybook;
  readonly machine: StateMachine;
}

/** Compiles `playbook`; throws `DefinitionInvalidError` or `UnsupportedResourceError` naming the state. */
export function compilePlaybook(
  resolver: TemplateResolver,
  lambdas: Pick<LambdaRunner, 'find'>,
  playbook: TemplatePlaybook,
): CompiledPlaybook {
  const plain = renderDefinition(resolver, playbook.logicalId);
  try {
    new StateMachine(plain as unknown as StateMachineDefinition, {
      validationOptions: { checkArn: true, checkPaths: true },
    });
  } catch (error) {
    throw new DefinitionInvalidError(
      `Playbook ${playbook.id}: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  const compiledDefinition = compileDefinition(plain);
  for (const spec of compiledDefinition.tasks.values()) {
    if (spec.kind === 'lambda' && spec.style === 'arn' && spec.functionName !== undefined) {
      const fn = lambdas.find(spec.functionName);
      if (fn === undefined)
        throw new UnsupportedResourceError(spec.stateName, spec.resource, 'no such function in the template');
    }
  }
  const machine = new StateMachine(compiledDefinition.definition as unknown as StateMachineDefinition, {
    validationOptions: { noValidate: true },
  });
  return { ...compiledDefinition, playbook, machine };
}
