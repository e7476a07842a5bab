/**
 * What the local engine finds in a template: Cordon's functions (`cordon:entry`), its playbooks
 * (`cordon:playbook`) and a playbook's plain Amazon States Language.
 */
import { TemplateError } from './errors.ts';
import { isRecord } from './intrinsics.ts';
import { TemplateResolver } from './template.ts';
import {
  type CfnTemplate,
  ENTRY_METADATA,
  PLAYBOOK_METADATA,
  type ResolveOptions,
  type TemplateFunction,
  type TemplatePlaybook,
} from './template-types.ts';

/** Every `AWS::Lambda::Function`, with its entry (if any) and resolved environment. */
export function listFunctions(resolver: TemplateResolver): TemplateFunction[] {
  const out: TemplateFunction[] = [];
  for (const [logicalId, resource] of Object.entries(resolver.resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const entry = resource.Metadata?.[ENTRY_METADATA];
    const environment: Record<string, string> = {};
    const env = resource.Properties?.Environment;
    const variables = isRecord(env) ? env.Variables : undefined;
    if (isRecord(variables)) {
      for (const [key, value] of Object.entries(variables)) {
        const resolved = resolver.resolve(value, `${logicalId}.Environment.Variables.${key}`);
        if (resolved !== undefined)
          environment[key] = typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
      }
    }
    const timeout = resource.Properties?.Timeout;
    const memory = resource.Properties?.MemorySize;
    out.push({
      logicalId,
      name: resolver.physicalName(logicalId),
      arn: resolver.arn(logicalId),
      entry: typeof entry === 'string' ? entry : undefined,
      environment,
      timeoutSeconds: typeof timeout === 'number' ? timeout : 3,
      memorySize: typeof memory === 'number' ? memory : 128,
    });
  }
  return out;
}

/** Every state machine with `cordon:playbook` metadata, in template order. */
export function listPlaybooks(resolver: TemplateResolver): TemplatePlaybook[] {
  const out: TemplatePlaybook[] = [];
  for (const [logicalId, resource] of Object.entries(resolver.resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const id = resource.Metadata?.[PLAYBOOK_METADATA];
    if (typeof id !== 'string') continue;
    out.push({ id, logicalId, name: resolver.physicalName(logicalId), arn: resolver.arn(logicalId) });
  }
  return out;
}

/**
 * The plain Amazon States Language of a state machine resource: its `DefinitionString` (or
 * `Definition`) with every intrinsic resolved and `DefinitionSubstitutions` applied. Useful on its own
 * for `asl-validator`. Throws {@link UnsupportedIntrinsicError} or {@link TemplateError}.
 */
export function renderDefinition(
  template: CfnTemplate | TemplateResolver,
  logicalId: string,
  options: ResolveOptions = {},
): Record<string, unknown> {
  const resolver = template instanceof TemplateResolver ? template : new TemplateResolver(template, options);
  const resource = resolver.resource(logicalId);
  if (resource.Type !== 'AWS::StepFunctions::StateMachine') {
    throw new TemplateError(`"${logicalId}" is a ${resource.Type}, not an AWS::StepFunctions::StateMachine`);
  }
  const props = resource.Properties ?? {};
  const substitutions: Record<string, string> = {};
  if (isRecord(props.DefinitionSubstitutions)) {
    for (const [key, value] of Object.entries(props.DefinitionSubstitutions)) {
      substitutions[key] = resolver.resolveString(value, `${logicalId}.DefinitionSubstitutions.${key}`);
    }
  }
  const substitute = (text: string): string =>
    text.replace(/\$\{([^}]+)\}/g, (whole: string, key: string) => substitutions[key] ?? whole);
  let definition: unknown;
  if (props.DefinitionString !== undefined) {
    const text = substitute(resolver.resolveString(props.DefinitionString, `${logicalId}.DefinitionString`));
    try {
      definition = JSON.parse(text);
    } catch (error) {
      throw new TemplateError(`${logicalId}.DefinitionString is not JSON`, { cause: error });
    }
  } else if (props.Definition !== undefined) {
    const resolved = resolver.resolve(props.Definition, `${logicalId}.Definition`);
    definition = JSON.parse(substitute(JSON.stringify(resolved)));
  } else {
    throw new TemplateError(
      `${logicalId} has neither DefinitionString nor Definition (DefinitionS3Location is not supported)`,
    );
  }
  if (!isRecord(definition)) throw new TemplateError(`${logicalId}'s definition is not a JSON object`);
  return definition;
}
