/**
 * CloudFormation's intrinsic functions as the local engine evaluates them: `Ref`, `Fn::GetAtt`, `Fn::Join`,
 * `Fn::Sub`, `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Fn::Base64` and `AWS::NoValue`; any other
 * `Fn::*` throws an {@link UnsupportedIntrinsicError} naming it and where it was found. What a `Ref` or a
 * `GetAtt` gives comes from the {@link IntrinsicScope} (the template's resolver).
 */
import { TemplateError, UnsupportedIntrinsicError } from './errors.ts';
import type { CfnTemplate } from './template-types.ts';

/** `AWS::NoValue`: removes the property or list item it stands in. */
export const NO_VALUE = Symbol('AWS::NoValue');

/** What resolving needs of the template: names, attributes and mappings. */
export interface IntrinsicScope {
  readonly template: CfnTemplate;
  refValue(name: string, where: string): unknown;
  getAtt(logicalId: string, attribute: string): string;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Resolves every intrinsic in `value` (`where` names its place, for errors); may return {@link NO_VALUE}. */
export function resolveValue(scope: IntrinsicScope, value: unknown, where: string): unknown {
  if (Array.isArray(value)) {
    return value
      .map((item, i) => resolveValue(scope, item, `${where}[${i}]`))
      .filter((item) => item !== NO_VALUE);
  }
  if (!isRecord(value)) return value;
  const keys = Object.keys(value);
  const only = keys.length === 1 ? keys[0] : undefined;
  if (only !== undefined && (only === 'Ref' || only.startsWith('Fn::') || only === 'Condition')) {
    return intrinsic(scope, only, value[only], `${where}.${only}`);
  }
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    const resolved = resolveValue(scope, value[key], `${where}.${key}`);
    if (resolved !== NO_VALUE) out[key] = resolved;
  }
  return out;
}

function intrinsic(scope: IntrinsicScope, name: string, arg: unknown, where: string): unknown {
  switch (name) {
    case 'Ref': {
      const target = resolveValue(scope, arg, where);
      if (typeof target !== 'string') throw new TemplateError(`Ref needs a string at ${where}`);
      return scope.refValue(target, where);
    }
    case 'Fn::GetAtt': {
      const resolved = resolveValue(scope, arg, where);
      const parts = typeof resolved === 'string' ? splitOnce(resolved, '.') : resolved;
      if (
        !Array.isArray(parts) ||
        parts.length !== 2 ||
        typeof parts[0] !== 'string' ||
        typeof parts[1] !== 'string'
      ) {
        throw new TemplateError(`Fn::GetAtt needs [logicalId, attribute] at ${where}`);
      }
      return scope.getAtt(parts[0], parts[1]);
    }
    case 'Fn::Join': {
      if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') {
        throw new TemplateError(`Fn::Join needs [delimiter, list] at ${where}`);
      }
      const list = resolveValue(scope, arg[1], `${where}[1]`);
      if (!Array.isArray(list)) throw new TemplateError(`Fn::Join needs a list at ${where}[1]`);
      return list.map((item, i) => asString(item, `${where}[1][${i}]`)).join(arg[0]);
    }
    case 'Fn::Sub':
      return sub(scope, arg, where);
    case 'Fn::Select': {
      if (!Array.isArray(arg) || arg.length !== 2)
        throw new TemplateError(`Fn::Select needs [index, list] at ${where}`);
      const index = Number(resolveValue(scope, arg[0], `${where}[0]`));
      const list = resolveValue(scope, arg[1], `${where}[1]`);
      if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
        throw new TemplateError(`Fn::Select index ${index} out of range at ${where}`);
      }
      return list[index];
    }
    case 'Fn::Split': {
      if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') {
        throw new TemplateError(`Fn::Split needs [delimiter, string] at ${where}`);
      }
      return asString(resolveValue(scope, arg[1], `${where}[1]`), `${where}[1]`).split(arg[0]);
    }
    case 'Fn::FindInMap': {
      const parts = resolveValue(scope, arg, where);
      if (!Array.isArray(parts) || parts.length < 3)
        throw new TemplateError(`Fn::FindInMap needs 3 keys at ${where}`);
      const [map, top, second] = parts.map((part) => asString(part, where));
      const found =
        map === undefined || top === undefined || second === undefined
          ? undefined
          : scope.template.Mappings?.[map]?.[top]?.[second];
      if (found === undefined) throw new TemplateError(`Fn::FindInMap found nothing at ${where}`);
      return found;
    }
    case 'Fn::Base64':
      return Buffer.from(asString(resolveValue(scope, arg, where), where)).toString('base64');
    default:
      throw new UnsupportedIntrinsicError(name, `at ${where}`);
  }
}

function asString(value: unknown, where: string): string {
  if (value === NO_VALUE) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TemplateError(`Expected a string at ${where}, got ${JSON.stringify(value)}`);
}

function sub(scope: IntrinsicScope, arg: unknown, where: string): string {
  let text: unknown = arg;
  let vars: Record<string, unknown> = {};
  if (Array.isArray(arg)) {
    text = arg[0];
    const rawVars = arg[1];
    if (isRecord(rawVars)) vars = rawVars;
  }
  if (typeof text !== 'string') throw new TemplateError(`Fn::Sub needs a string at ${where}`);
  return text.replace(/\$\{(!?)([^}]*)\}/g, (_whole: string, bang: string, name: string) => {
    if (bang === '!') return `\${${name}}`;
    if (name in vars) return asString(resolveValue(scope, vars[name], `${where}.${name}`), where);
    const [id, attribute] = splitOnce(name, '.');
    if (attribute !== undefined && id !== undefined && scope.template.Resources?.[id] !== undefined) {
      return scope.getAtt(id, attribute);
    }
    return asString(scope.refValue(name, where), where);
  });
}

export function splitOnce(text: string, separator: string): [string, string] | [string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}
