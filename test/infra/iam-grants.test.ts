/**
 * Security review of the stack's IAM: for every Lambda function, the AWS actions its code can call (from
 * its own esbuild bundle: the project modules that end up in it, scanned for `new XxxCommand(` of each SDK
 * client they import) against the actions its role's policies grant in the synthesized template.
 *
 * Nothing may be granted that no code calls (Lambda's logging and X-Ray tracing apart), and nothing may be
 * called that is not granted. The comparison is static and errs towards "can call": a module that is in
 * the bundle counts whole, so a class with one unused method that sends a command still counts it.
 *
 * Some grants exist only when the settings call for them: `iam:PassRole` to EC2, which re-associating an
 * instance profile needs, is granted on the settings' `instanceRoles` and not at all when there are none.
 * The comparison runs on a stack with instance roles configured; a test of its own says what a stack
 * without them leaves ungranted.
 *
 * The action functions are declared (functions/actions/<name>/action.ts, listed in functions/actions/index.ts):
 * for each, what its bundle calls, what its declaration says it calls, and what the template grants it are
 * the same list, the record's own calls apart.
 *
 * Every action's bundle holds the responder layer (functions/shared/responder.ts), which assumes a member's
 * responder role (`RESPONDER_CALLS`): its call is granted only to the actions that act where the finding is
 * (not `inHub`, with clients: what define-action's placed dependencies do) and only when the settings name
 * the organization; the comparison runs on a stack that names one. The responder role of the member
 * template is granted exactly the union of those actions' declared calls.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import settingsFile from '../../cordon.config.ts';
import * as declared from '../../functions/actions/index.ts';
import { type ActionFacts, iamCalls } from '../../functions/shared/define-action.ts';
import { RESPONDER_CALLS } from '../../functions/shared/responder.ts';
import { buildApp } from '../../infra/cordon-app.ts';
import { fromRoot, REPO_ROOT } from '../../infra/paths.ts';
import { synthStack } from '../support/app.ts';

/** Instance roles for the stack the comparison runs on: with them, the release may pass a role to EC2. */
const INSTANCE_ROLES = ['web-role', '/app/*'];

/** An organization with a unit, for the stack the comparison runs on. */
const ORGANIZATION = {
  id: 'o-a1b2c3d4e5',
  externalId: 'cordon-test-external-id',
  organizationalUnits: ['ou-ab12-cd34ef56'],
  unitAccounts: { 'ou-ab12-cd34ef56': ['210987654321'] },
  regions: ['eu-west-1'],
};

/** The stack with instance roles and the organization configured, unbundled. */
function stackWithInstanceRoles() {
  return buildApp({
    nag: false,
    app: { context: { 'aws:cdk:bundling-stacks': [] } },
    stack: { settings: { ...settingsFile, instanceRoles: INSTANCE_ROLES, organization: ORGANIZATION } },
  }).stack;
}

/** What the responder layer in every action's bundle calls: assuming a member's responder role. */
const RESPONDER_LAYER = new Set(iamCalls({ calls: RESPONDER_CALLS }));

/** Whether an action acts where its finding is, so assumes a member's responder role: not in the hub only, with clients. */
const actsInPlace = (action: ActionFacts) => action.inHub !== true && Object.keys(action.calls).length > 0;

/** The declaration whose handler an entry is, if any. */
const declarationOf = (entry: string) =>
  Object.values(declared).find((a) => entry === `functions/actions/${a.name}/handler.ts`) as
    | ActionFacts
    | undefined;

/** The IAM service prefix of each SDK package the functions may import. */
const SERVICE_OF_PACKAGE: Readonly<Record<string, string>> = {
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-iam': 'iam',
  '@aws-sdk/client-auto-scaling': 'autoscaling',
  '@aws-sdk/client-elastic-load-balancing': 'elasticloadbalancing',
  '@aws-sdk/client-elastic-load-balancing-v2': 'elasticloadbalancing',
  '@aws-sdk/client-sesv2': 'ses',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-sts': 'sts',
  '@aws-sdk/client-backup': 'backup',
  '@aws-sdk/client-kms': 'kms',
  '@aws-sdk/client-s3': 's3',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/lib-dynamodb': 'dynamodb',
};

/**
 * Commands whose IAM action is not their name without `Command`. `null`: needs no permission
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
 */
const ACTION_OF_COMMAND: Readonly<Record<string, Readonly<Record<string, string | null>>>> = {
  dynamodb: {
    GetCommand: 'GetItem',
    PutCommand: 'PutItem',
    UpdateCommand: 'UpdateItem',
    DeleteCommand: 'DeleteItem',
    QueryCommand: 'Query',
    ScanCommand: 'Scan',
    BatchGetCommand: 'BatchGetItem',
    BatchWriteCommand: 'BatchWriteItem',
    BatchGetItemCommand: 'BatchGetItem',
    BatchWriteItemCommand: 'BatchWriteItem',
    // The items of a transaction decide its actions (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
    TransactWriteCommand: 'transact-write',
    TransactWriteItemsCommand: 'transact-write',
    TransactGetCommand: 'GetItem',
    TransactGetItemsCommand: 'GetItem',
  },
  sts: { GetCallerIdentityCommand: null },
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html: "you must have READ access to the bucket" (s3:ListBucket);
  // https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html: s3:ListBucketVersions.
  s3: { ListObjectsV2Command: 'ListBucket', ListObjectVersionsCommand: 'ListBucketVersions' },
};

/** What a transaction item kind needs. */
const TRANSACT_ITEM_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
};

/**
 * Actions an API call needs besides its own, because it passes a role: associating an instance profile
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html, "Dependent
 * actions") and starting a Backup job with a role (https://docs.aws.amazon.com/aws-backup/latest/devguide/access-control.html).
 */
const DEPENDENT_ACTIONS: Readonly<Record<string, readonly string[]>> = {
  'ec2:AssociateIamInstanceProfile': ['iam:PassRole'],
  'ec2:ReplaceIamInstanceProfileAssociation': ['iam:PassRole'],
  'backup:StartRestoreJob': ['iam:PassRole'],
  'backup:StartBackupJob': ['iam:PassRole'],
};

/** Granted to every function by the Lambda runtime's needs, not by its code: logs and active tracing. */
const PLATFORM_ACTIONS = new Set([
  'logs:CreateLogStream',
  'logs:PutLogEvents',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
]);

/**
 * Granted for the Lambda service's own use by the functions with an on-failure destination (the router's
 * failed asynchronous invocations go to the dead-letter queue), not by their code.
 */
const DESTINATION_ACTIONS: Readonly<Record<string, ReadonlySet<string>>> = {
  'functions/router/handler.ts': new Set(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']),
};

/** The text of a call's argument list, from just after its `(` to its matching `)`. */
function argumentsAt(source: string, open: number): string {
  let depth = 0;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return source.slice(open + 1, i);
  }
  return source.slice(open + 1);
}

/** The SDK command classes a module imports, by local name, with the package each comes from. */
function sdkImports(source: string): { named: Map<string, string>; namespaces: Map<string, string> } {
  const named = new Map<string, string>();
  const namespaces = new Map<string, string>();
  for (const m of source.matchAll(/import\s+(type\s+)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/[^']+)'/g)) {
    if (m[1] !== undefined) continue;
    for (const raw of (m[2] ?? '').split(',')) {
      const spec = raw.trim();
      if (spec === '' || spec.startsWith('type ')) continue;
      const [imported = '', local = imported] = spec.split(/\s+as\s+/);
      if (imported.endsWith('Command')) named.set(local.trim(), `${m[3]}#${imported.trim()}`);
    }
  }
  for (const m of source.matchAll(/import\s+\*\s+as\s+(\w+)\s+from\s*'(@aws-sdk\/[^']+)'/g)) {
    namespaces.set(m[1] ?? '', m[2] ?? '');
  }
  return { named, namespaces };
}

/**
 * The IAM actions (`service:Action`) one project module can call, with where each is sent from. `source`
 * is the module as written (for its imports and line numbers); `code` is what of it is in the bundle
 * (esbuild drops unused functions, and renames an import on a clash by adding a digit: `QueryCommand2`).
 */
function callsInModule(source: string, code: string, file: string): Map<string, string> {
  const calls = new Map<string, string>();
  const { named, namespaces } = sdkImports(source);
  // esbuild turns `ns.XxxCommand` into a bare `XxxCommand`: a bare name may come from a namespace import.
  const onlyNamespace = namespaces.size === 1 ? [...namespaces.values()][0] : undefined;
  for (const m of code.matchAll(/new\s+(?:(\w+)\.)?(\w+Command)\d*\s*\(/g)) {
    const local = m[2] ?? '';
    let pkg: string | undefined;
    let command = local;
    if (m[1] !== undefined) pkg = namespaces.get(m[1]);
    else {
      const found = named.get(local);
      if (found !== undefined) [pkg = '', command = local] = found.split('#');
      else pkg = onlyNamespace;
    }
    if (pkg === undefined) continue;
    const service = SERVICE_OF_PACKAGE[pkg];
    if (service === undefined) throw new Error(`${file}: no IAM service known for ${pkg} (${command})`);
    const mapped = ACTION_OF_COMMAND[service]?.[command];
    if (mapped === null) continue;
    const at = source.search(new RegExp(`new\\s+(\\w+\\.)?${local}\\s*\\(`));
    const where = `${file}:${at < 0 ? '?' : source.slice(0, at).split('\n').length}`;
    const args = argumentsAt(code, (m.index ?? 0) + m[0].length - 1);
    if (mapped === 'transact-write') {
      const itemKinds = (text: string) =>
        [...text.matchAll(/\b(Put|Update|Delete|ConditionCheck)\s*:/g)].map((k) => k[1] ?? '');
      // Items built apart from the call (the recorder's own, then the caller's) are read from the module.
      let kinds = itemKinds(args);
      if (kinds.length === 0) kinds = itemKinds(code);
      if (kinds.length === 0) throw new Error(`${where}: a transaction whose items cannot be read`);
      for (const kind of kinds) calls.set(`${service}:${TRANSACT_ITEM_ACTIONS[kind]}`, where);
      continue;
    }
    const action = `${service}:${mapped ?? command.replace(/Command$/, '')}`;
    calls.set(action, where);
    const dependents = [...(DEPENDENT_ACTIONS[action] ?? [])];
    // Tagging on creation needs ec2:CreateTags (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html).
    if (service === 'ec2' && /\bTagSpecifications\b/.test(args)) dependents.push('ec2:CreateTags');
    for (const dependent of dependents) {
      if (!calls.has(dependent)) calls.set(dependent, `${where} (needed by ${action})`);
    }
  }
  return calls;
}

/**
 * Bundles entries as the stack does (unminified, so that module boundaries and names stay readable) and
 * returns, per entry, each project module's code that made it into its bundle.
 */
async function projectModules(entries: readonly string[]): Promise<Map<string, Map<string, string>>> {
  const result = await build({
    entryPoints: entries.map(fromRoot),
    absWorkingDir: REPO_ROOT,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    mainFields: ['module', 'main'],
    external: [...builtinModules, ...builtinModules.map((m) => `node:${m}`)],
    metafile: true,
    write: false,
    outdir: 'iam-grants-out',
    outbase: REPO_ROOT,
    logLevel: 'silent',
  });
  const metafile: Metafile = result.metafile;
  const modules = new Map<string, Map<string, string>>();
  for (const [outputPath, output] of Object.entries(metafile.outputs)) {
    if (output.entryPoint === undefined) continue;
    const file = result.outputFiles.find((f) => f.path === fromRoot(outputPath));
    if (file === undefined) throw new Error(`esbuild wrote no ${outputPath}`);
    const project = new Set(
      Object.entries(output.inputs)
        .filter(([path, input]) => path.startsWith('functions/') && input.bytesInOutput > 0)
        .map(([path]) => path),
    );
    // Each module's code follows a `// <path>` line in an unminified bundle.
    const sections = new Map<string, string>();
    let current: string | undefined;
    let lines: string[] = [];
    const flush = () => {
      if (current !== undefined && project.has(current)) sections.set(current, lines.join('\n'));
    };
    for (const line of file.text.split('\n')) {
      const header = /^\/\/ (\S+\.(?:[cm]?[jt]s|json))$/.exec(line);
      if (header) {
        flush();
        current = header[1];
        lines = [];
      } else lines.push(line);
    }
    flush();
    const missing = [...project].filter((p) => !sections.has(p));
    if (missing.length > 0)
      throw new Error(`no code found in the bundle of ${output.entryPoint} for ${missing.join(', ')}`);
    modules.set(output.entryPoint, sections);
  }
  return modules;
}

/** The actions an entry's bundle can call, each with one place it is sent from. */
async function callsOfEntries(entries: readonly string[]): Promise<Map<string, Map<string, string>>> {
  const modules = await projectModules(entries);
  const byEntry = new Map<string, Map<string, string>>();
  for (const entry of entries) {
    const sections = modules.get(entry);
    if (sections === undefined) throw new Error(`esbuild made no bundle for ${entry}`);
    const calls = new Map<string, string>();
    for (const [file, code] of sections) {
      for (const [action, where] of callsInModule(readFileSync(fromRoot(file), 'utf8'), code, file)) {
        if (!calls.has(action)) calls.set(action, where);
      }
    }
    byEntry.set(entry, calls);
  }
  return byEntry;
}

interface CfnResource {
  readonly Type: string;
  readonly Metadata?: Record<string, unknown>;
  readonly Properties?: Record<string, unknown>;
}
interface PolicyStatementJson {
  readonly Effect: string;
  readonly Action?: string | string[];
  readonly NotAction?: unknown;
}
interface PolicyDocumentJson {
  readonly Statement: PolicyStatementJson[];
}

/** A Lambda function of a template, its handler module and the logical id of its role. */
interface TemplateFunction {
  readonly logicalId: string;
  readonly entry: string | undefined;
  readonly roleId: string | undefined;
}

function templateFunctions(resources: Record<string, CfnResource>): TemplateFunction[] {
  return Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
    .map(([logicalId, r]) => {
      const role = r.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | undefined;
      const entry = r.Metadata?.['cordon:entry'];
      return {
        logicalId,
        entry: typeof entry === 'string' ? entry : undefined,
        roleId: role?.['Fn::GetAtt']?.[0],
      };
    });
}

/** Every action a role's policies (attached policies and its own inline ones) allow. */
function grantedActions(resources: Record<string, CfnResource>, roleId: string): Set<string> {
  const documents: PolicyDocumentJson[] = [];
  for (const resource of Object.values(resources)) {
    const roles = resource.Properties?.Roles as { Ref?: string }[] | undefined;
    const policy = resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy';
    if (policy && roles?.some((r) => r.Ref === roleId)) {
      documents.push(resource.Properties?.PolicyDocument as PolicyDocumentJson);
    }
  }
  const inline = resources[roleId]?.Properties?.Policies as
    | { PolicyDocument: PolicyDocumentJson }[]
    | undefined;
  for (const policy of inline ?? []) documents.push(policy.PolicyDocument);
  const actions = new Set<string>();
  for (const statement of documents.flatMap((d) => d.Statement)) {
    if (statement.Effect !== 'Allow') continue;
    if (statement.NotAction !== undefined) throw new Error(`role ${roleId} has a NotAction statement`);
    for (const action of [statement.Action ?? []].flat()) actions.add(action);
  }
  return actions;
}

/** What one function is granted that no code calls, and calls without a grant. */
interface GrantComparison {
  readonly function: string;
  readonly entry: string;
  readonly unused: readonly string[];
  readonly ungranted: readonly string[];
}

/**
 * Compares each function's grants with its calls; `calls` by entry as {@link callsOfEntries} gives them.
 * `organization`: whether the stack names the organization. The responder layer's call in an action's bundle
 * is expected granted exactly when the action acts in place and the organization is named; otherwise it is
 * never sent (the action acts in the hub), and a grant of it is reported as unused.
 */
function compareGrants(
  resources: Record<string, CfnResource>,
  calls: ReadonlyMap<string, ReadonlyMap<string, string>>,
  organization: boolean,
): GrantComparison[] {
  return templateFunctions(resources).map((fn) => {
    if (fn.entry === undefined || fn.roleId === undefined) {
      throw new Error(`function ${fn.logicalId} has no cordon:entry metadata or no role of its own`);
    }
    const found = calls.get(fn.entry);
    if (found === undefined) throw new Error(`no calls computed for ${fn.entry}`);
    const action = declarationOf(fn.entry);
    const assumes = organization && action !== undefined && actsInPlace(action);
    const called = new Map(
      [...found].filter(([a]) => !(action !== undefined && RESPONDER_LAYER.has(a) && !assumes)),
    );
    const granted = grantedActions(resources, fn.roleId);
    return {
      function: fn.logicalId,
      entry: fn.entry,
      unused: [...granted]
        .filter(
          (a) =>
            !called.has(a) &&
            !PLATFORM_ACTIONS.has(a) &&
            !(fn.entry !== undefined && DESTINATION_ACTIONS[fn.entry]?.has(a)),
        )
        .sort(),
      ungranted: [...called.keys()]
        .filter((a) => !granted.has(a))
        .map((a) => `${a} (${called.get(a)})`)
        .sort(),
    };
  });
}

/**
 * What every function's recorder calls (the audit table, the record key, the anchor) and what the responder
 * layer calls (compared by {@link compareGrants}): no action's own.
 */
const RECORD_SERVICES = ['dynamodb', 'kms', 's3'];
const ownCall = (action: string) =>
  !RECORD_SERVICES.includes(action.split(':')[0] ?? '') && !RESPONDER_LAYER.has(action);

/** What a declaration says its function calls, as IAM actions: its calls and the PassRole it declares. */
function declaredCalls(action: ActionFacts): string[] {
  const passes = action.passRestoreRole || action.passInstanceRoles ? ['iam:PassRole'] : [];
  return [...new Set([...iamCalls(action), ...passes])].sort();
}

/**
 * Each declared action against its bundle's calls and its function's grants (the record's apart): what the
 * code calls and the declaration does not say, what it says and the code does not call, and what the
 * template grants otherwise than declared.
 */
function compareDeclarations(
  actions: readonly ActionFacts[],
  calls: ReadonlyMap<string, ReadonlyMap<string, string>>,
  resources: Record<string, CfnResource>,
): string[] {
  const functions = templateFunctions(resources);
  return actions.flatMap((action) => {
    const entry = `functions/actions/${action.name}/handler.ts`;
    const fn = functions.find((f) => f.entry === entry);
    const called = calls.get(entry);
    if (fn?.roleId === undefined || called === undefined)
      return [`${action.name}: no function has entry ${entry}`];
    const says = declaredCalls(action);
    const sends = [...called.keys()].filter(ownCall).sort();
    const granted = [...grantedActions(resources, fn.roleId)]
      .filter((a) => ownCall(a) && !PLATFORM_ACTIONS.has(a))
      .sort();
    return [
      ...sends
        .filter((a) => !says.includes(a))
        .map((a) => `${action.name}: calls ${a} (${called.get(a)}), undeclared`),
      ...says
        .filter((a) => !sends.includes(a))
        .map((a) => `${action.name}: declares ${a}, which its code does not call`),
      ...says.filter((a) => !granted.includes(a)).map((a) => `${action.name}: declares ${a}, not granted`),
      ...granted.filter((a) => !says.includes(a)).map((a) => `${action.name}: granted ${a}, undeclared`),
    ];
  });
}

/** The findings of a comparison, one line each, for a failure message. */
function findings(comparisons: readonly GrantComparison[]): string[] {
  return comparisons.flatMap((c) => [
    ...c.unused.map((a) => `${c.entry}: granted ${a}, which no code calls`),
    ...c.ungranted.map((a) => `${c.entry}: calls ${a} with no grant`),
  ]);
}

describe('IAM grants against the calls each function makes', () => {
  let calls: Map<string, Map<string, string>>;
  let resources: Record<string, CfnResource>;

  beforeAll(async () => {
    resources = Template.fromStack(stackWithInstanceRoles()).toJSON().Resources;
    const entries = templateFunctions(resources).flatMap((f) => (f.entry === undefined ? [] : [f.entry]));
    calls = await callsOfEntries([...new Set(entries)]);
  }, 120_000);

  it('finds the handler module of every function of the stack, and the calls in its bundle', () => {
    const functions = templateFunctions(resources);
    expect(functions.length).toBeGreaterThanOrEqual(20);
    expect(functions.filter((f) => f.entry === undefined || f.roleId === undefined)).toEqual([]);
    // Every function records: its bundle reaches the audit table.
    for (const [entry, called] of calls) expect(called.has('dynamodb:PutItem'), entry).toBe(true);
    expect(
      calls.get('functions/actions/ec2-isolate/handler.ts')?.has('ec2:ModifyNetworkInterfaceAttribute'),
    ).toBe(true);
  });

  it('grants no function an action its code does not call, and every call it makes', () => {
    expect(findings(compareGrants(resources, calls, true))).toEqual([]);
  });

  it('grants the responder layer only to the actions that act in place, and only with the organization', () => {
    for (const [entry, called] of calls) {
      if (declarationOf(entry) !== undefined) expect(called.has('sts:AssumeRole'), entry).toBe(true);
    }
    const assumers = (template: Record<string, CfnResource>) =>
      templateFunctions(template)
        .filter((fn) => fn.roleId !== undefined && grantedActions(template, fn.roleId).has('sts:AssumeRole'))
        .map((fn) => fn.entry)
        .sort();
    const acting = Object.values(declared)
      .filter((a) => actsInPlace(a as ActionFacts))
      .map((a) => `functions/actions/${a.name}/handler.ts`)
      .sort();
    expect(assumers(resources)).toEqual(acting);
    expect(acting).not.toContain('functions/actions/notify/handler.ts');
    expect(acting).not.toContain('functions/actions/record-note/handler.ts');
    // Without the organization no function may assume any role, and the layer's call is never sent.
    const defaults = synthStack().template.toJSON().Resources as Record<string, CfnResource>;
    expect(assumers(defaults)).toEqual([]);
    expect(findings(compareGrants(defaults, calls, false)).filter((f) => f.includes('sts:'))).toEqual([]);
    // Taken for a stack with the organization, the same grants miss the layer's call.
    expect(findings(compareGrants(defaults, calls, true))).toContainEqual(
      expect.stringMatching(
        /^functions\/actions\/ec2-isolate\/handler\.ts: calls sts:AssumeRole \(.*\) with no grant$/,
      ),
    );
  });

  it("grants a member's responder role exactly the union of what the actions that act in place declare", () => {
    const stack = stackWithInstanceRoles();
    const template = stack.responders?.stage.template() as { Resources: Record<string, CfnResource> };
    const roleId = stack.responders?.stage.stack.getLogicalId(
      stack.responders.stage.stack.role.node.defaultChild as never,
    );
    if (roleId === undefined) throw new Error('the stack has no responder template');
    const acting = Object.values(declared).filter((a) => actsInPlace(a as ActionFacts)) as ActionFacts[];
    const union = new Set(acting.flatMap((a) => declaredCalls(a)));
    expect([...grantedActions(template.Resources, roleId)].sort()).toEqual([...union].sort());
    // Every service an action acting in place calls, and not the hub's email.
    expect(
      [...union]
        .map((a) => a.split(':')[0])
        .filter((s, i, all) => all.indexOf(s) === i)
        .sort(),
    ).toEqual(['autoscaling', 'backup', 'ec2', 'elasticloadbalancing', 'iam']);
  });

  it('leaves only the release ungranted a PassRole when no instance roles are configured, and grants none', () => {
    const defaults = synthStack().template.toJSON().Resources as Record<string, CfnResource>;
    const passes = findings(compareGrants(defaults, calls, false)).filter((f) => f.includes('iam:PassRole'));
    // AWS refuses the association then, and the release refuses a profile whose role is not listed.
    expect(passes).toEqual([
      expect.stringMatching(
        /^functions\/actions\/ec2-release\/handler\.ts: calls iam:PassRole \(.*\) with no grant$/,
      ),
    ]);
    const passers = templateFunctions(defaults)
      .filter((fn) => fn.roleId !== undefined && grantedActions(defaults, fn.roleId).has('iam:PassRole'))
      .map((fn) => fn.entry);
    expect(passers).toEqual(['functions/actions/recover-start-restore/handler.ts']);
  });

  it('reports an extra grant given to one function of a freshly built stack', () => {
    const stack = stackWithInstanceRoles();
    const tag = stack.actions.get('ec2-tag');
    if (!tag) throw new Error('the stack has no ec2-tag function');
    tag.addToRolePolicy(new iam.PolicyStatement({ actions: ['ec2:RebootInstances'], resources: ['*'] }));
    const comparisons = compareGrants(Template.fromStack(stack).toJSON().Resources, calls, true);
    expect(findings(comparisons)).toContain(
      'functions/actions/ec2-tag/handler.ts: granted ec2:RebootInstances, which no code calls',
    );
  });

  it('declares for each action exactly what its bundle calls and its function is granted', () => {
    const actions = Object.values(declared);
    expect(actions.length).toBeGreaterThanOrEqual(22);
    expect(compareDeclarations(actions, calls, resources)).toEqual([]);
    // The comparison sees each action's own calls: one declared with no client calls nothing of AWS.
    expect(declaredCalls(declared.ec2Tag)).toEqual(['ec2:CreateTags', 'ec2:DescribeInstances']);
    expect(declaredCalls(declared.recordNote)).toEqual([]);
  });

  it('reports a declaration that says more or less than its code calls', () => {
    const tag = declared.ec2Tag;
    const more = { ...tag, calls: { ec2: [...tag.calls.ec2, 'RebootInstances'] } };
    const less = { ...declared.ec2Snapshot, calls: { ec2: ['DescribeInstances', 'DescribeSnapshots'] } };
    const reported = compareDeclarations([more, less], calls, resources);
    expect(reported).toContain('ec2-tag: declares ec2:RebootInstances, which its code does not call');
    expect(reported).toContain('ec2-tag: declares ec2:RebootInstances, not granted');
    expect(reported).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ec2-snapshot: calls ec2:CreateSnapshots \(functions\/.*\), undeclared$/),
        'ec2-snapshot: granted ec2:CreateSnapshots, undeclared',
      ]),
    );
  });

  it('reports a call whose grant was taken away', () => {
    const edited = structuredClone(resources);
    for (const resource of Object.values(edited)) {
      const document = resource.Properties?.PolicyDocument as PolicyDocumentJson | undefined;
      for (const statement of document?.Statement ?? []) {
        const actions = [statement.Action ?? []].flat().filter((a) => a !== 'ec2:StopInstances');
        (statement as { Action?: string[] }).Action = actions;
      }
    }
    const reported = findings(compareGrants(edited, calls, true));
    expect(
      reported.some((f) => /ec2-eradicate\/handler\.ts: calls ec2:StopInstances \(functions\//.test(f)),
    ).toBe(true);
  });

  it('reads the actions of a transaction from its items, and needs no grant for GetCallerIdentity', () => {
    const source = [
      "import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';",
      "import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';",
      "import * as ec2 from '@aws-sdk/client-ec2';",
      "import type { GetCommand } from '@aws-sdk/lib-dynamodb';",
      'await c.send(new TransactWriteCommand({ TransactItems: [{ Put: {} }, { ConditionCheck: {} }] }));',
      'await c.send(new GetCallerIdentityCommand({}));',
      'await c.send(new ec2.AssociateIamInstanceProfileCommand({}));',
      'const x: GetCommand | undefined = undefined; new Other.ThingCommand();',
    ].join('\n');
    expect([...callsInModule(source, source, 'x.ts').keys()].sort()).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:PutItem',
      'ec2:AssociateIamInstanceProfile',
      'iam:PassRole',
    ]);
  });
});
