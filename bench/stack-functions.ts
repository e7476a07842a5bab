/**
 * The stack's functions as the bench loads them: each one's construct id, handler module and environment,
 * read from the synthesized template with its tokens rendered to plain strings (placeholders for what only
 * a deployment knows), so that a handler's configuration reads succeed as they do on Lambda.
 */
import { buildApp } from '../infra/cordon-app.ts';

interface CfnFunction {
  readonly Type: string;
  readonly Metadata?: Record<string, unknown>;
  readonly Properties?: { Environment?: { Variables?: Record<string, unknown> } };
}

/** A plausible ARN for a resource of a CloudFormation type (`AWS::IAM::Role` → an IAM role ARN). */
function arnOf(type: string | undefined, logicalId: string): string {
  // A KMS key's ARN ends in its key id, a UUID: the functions check its shape.
  if (type === 'AWS::KMS::Key')
    return 'arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000';
  const [, service = 'bench', kind = 'resource'] = (type ?? '').split('::');
  const svc = service.toLowerCase();
  const region = svc === 'iam' ? '' : 'us-east-1';
  return `arn:aws:${svc}:${region}:123456789012:${kind.replace(/^[A-Z]/, (c) => c.toLowerCase())}/${logicalId}`;
}

/** A CloudFormation value as a plain string, with placeholders for what only a deployment knows. */
function render(value: unknown, resources: Readonly<Record<string, CfnFunction>>): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    const ref = object.Ref;
    if (typeof ref === 'string') {
      const pseudo: Record<string, string> = {
        'AWS::Region': 'us-east-1',
        'AWS::AccountId': '123456789012',
        'AWS::Partition': 'aws',
        'AWS::URLSuffix': 'amazonaws.com',
      };
      return pseudo[ref] ?? ref.toLowerCase();
    }
    const join = object['Fn::Join'];
    if (Array.isArray(join)) {
      const [separator, parts] = join as [string, unknown[]];
      return parts.map((part) => render(part, resources)).join(separator);
    }
    const getAtt = object['Fn::GetAtt'];
    if (Array.isArray(getAtt)) {
      const attribute = String(getAtt[1]);
      if (/(Endpoint|Url)$/.test(attribute)) return 'https://bench.execute-api.us-east-1.amazonaws.com';
      if (attribute.endsWith('Arn')) return arnOf(resources[String(getAtt[0])]?.Type, String(getAtt[0]));
      return String(getAtt[0]).toLowerCase();
    }
  }
  throw new Error(`cannot render ${JSON.stringify(value)} as an environment value`);
}

/** The stack's functions: the construct path's id, the handler module and its environment. */
export function stackFunctions(): { id: string; entry: string; env: Record<string, string> }[] {
  const { app, stack } = buildApp({ nag: false, app: { context: { 'aws:cdk:bundling-stacks': [] } } });
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, CfnFunction>;
  };
  return Object.entries(template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function' && typeof r.Metadata?.['cordon:entry'] === 'string')
    .map(([id, r]) => ({
      id,
      entry: String(r.Metadata?.['cordon:entry']),
      env: Object.fromEntries(
        Object.entries(r.Properties?.Environment?.Variables ?? {}).map(([k, v]) => [
          k,
          render(v, template.Resources),
        ]),
      ),
    }));
}
