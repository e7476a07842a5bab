import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReadableStream as ShimmedReadableStream } from '#shared/stream-web';
import { esbuildOptionsOf } from '../../bench/bundles.ts';
import { ACTION_BUNDLING, ActionFunction, STREAM_WEB_SHIM } from '../../infra/constructs/action-function.ts';
import { mapTrace, readMap } from '../../infra/map-trace.ts';
import { fromRoot } from '../../infra/paths.ts';
import { synthStack } from '../support/app.ts';

const require = createRequire(import.meta.url);

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

describe('the record-note action function', () => {
  const { stack, template } = synthStack();
  const functionId = stack.getLogicalId(stack.recordNote.node.defaultChild as never);
  const fn = template.toJSON().Resources[functionId];

  it('runs on Node.js 22 or newer, on arm64, traced, with its handler module in its metadata', () => {
    expect(fn.Properties.Runtime).toMatch(/^nodejs(2[2-9]|[3-9]\d)\.x$/);
    expect(fn.Properties.Architectures).toEqual(['arm64']);
    expect(fn.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    expect(fn.Properties.Environment.Variables.CORDON_TABLE_NAME).toBe('cordon-audit');
    expect(fn.Metadata['cordon:entry']).toBe('functions/actions/record-note/handler.ts');
    expect(fn.Properties.LoggingConfig.LogGroup).toBeDefined();
  });

  it('has a role with no managed policy, whose policy names only its items of the table, the record key, the anchors, its logs and X-Ray', () => {
    const roleId = fn.Properties.Role['Fn::GetAtt'][0];
    const role = template.toJSON().Resources[roleId];
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const policies = Object.values(
      template.toJSON().Resources as Record<
        string,
        { Type: string; Properties: { Roles: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } } }
      >,
    ).filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((ref) => ref.Ref === roleId));
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    const byAction = new Map<string, unknown[]>();
    const conditionOf = new Map<string, unknown>();
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const action of [s.Action].flat()) {
        byAction.set(action, [s.Resource].flat());
        conditionOf.set(action, (s as { Condition?: unknown }).Condition);
      }
    }
    const tableId = stack.getLogicalId(stack.audit.table.node.defaultChild as never);
    const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
    // The table only (no index), and only the items of an incident: its partition key starts INCIDENT#.
    for (const action of ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem']) {
      expect(byAction.get(action), action).toEqual([tableArn]);
      expect(conditionOf.get(action), action).toEqual({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['INCIDENT#*'] },
      });
    }
    const keyId = stack.getLogicalId(stack.audit.key.node.defaultChild as never);
    expect(byAction.get('kms:GenerateMac')).toEqual([{ 'Fn::GetAtt': [keyId, 'Arn'] }]);
    expect(byAction.get('kms:VerifyMac')).toEqual([{ 'Fn::GetAtt': [keyId, 'Arn'] }]);
    const bucketId = stack.getLogicalId(stack.audit.anchorBucket.node.defaultChild as never);
    expect(byAction.get('s3:PutObject')).toEqual([
      { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/anchors/*']] },
    ]);
    expect(byAction.get('s3:ListBucketVersions')).toEqual([{ 'Fn::GetAtt': [bucketId, 'Arn'] }]);
    expect([...byAction.keys()].filter((a) => a.startsWith('dynamodb:')).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    // Nothing may delete or scan the record.
    expect([...byAction.keys()].some((a) => /Delete|Scan|\*/.test(a))).toBe(false);
    // Only X-Ray is granted on "*".
    const onStar = [...byAction].filter(([, resources]) => resources.includes('*')).map(([a]) => a);
    expect(onStar.sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    expect(byAction.get('logs:PutLogEvents')).toHaveLength(1);
  });
});

describe('how every function is bundled and started', () => {
  const { template } = synthStack();
  const functions = Object.values(
    template.toJSON().Resources as Record<
      string,
      { Type: string; Properties: { Environment?: { Variables?: Record<string, unknown> } } }
    >,
  ).filter((r) => r.Type === 'AWS::Lambda::Function');

  it('starts no function with --enable-source-maps or any NODE_OPTIONS', () => {
    expect(functions.length).toBeGreaterThan(20);
    for (const fn of functions) expect(fn.Properties.Environment?.Variables?.NODE_OPTIONS).toBeUndefined();
  });

  it('keeps a source map of positions and names, and gives middy the node:stream/web shim', () => {
    expect(ACTION_BUNDLING).toMatchObject({
      format: 'esm',
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      externalModules: [],
    });
    expect(ACTION_BUNDLING.sourceMapMode).toBeUndefined();
    expect(ACTION_BUNDLING.esbuildArgs).toEqual({ '--alias:node:stream/web': `./${STREAM_WEB_SHIM}` });
    // The bench reproduces exactly these options.
    expect(esbuildOptionsOf(ACTION_BUNDLING)).toMatchObject({
      sourcemap: 'linked',
      sourcesContent: false,
      alias: { 'node:stream/web': `./${STREAM_WEB_SHIM}` },
    });
  });
});

describe('a function as NodejsFunction bundles it', () => {
  let outdir: string;
  let asset: string;
  const env = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    CORDON_LOG_LEVEL: 'silent',
    CORDON_TABLE_NAME: 'cordon-audit',
    CORDON_RECORD_KEY: 'alias/cordon-record',
    CORDON_ANCHOR_BUCKET: 'cordon-anchor-123456789012-us-east-1',
  };

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'cordon-bundle-'));
    // Asset metadata names the bundle's folder in cdk.out, as the CLI's synth does.
    const app = new App({ outdir, context: { 'aws:cdk:enable-asset-metadata': true } });
    const stack = new Stack(app, 'BundleTest');
    const fn = new ActionFunction(stack, 'RecordNote', {
      entry: 'functions/actions/record-note/handler.ts',
      description: 'bundling test',
    });
    const assembly = app.synth();
    const resource = assembly.getStackByName('BundleTest').template.Resources[
      stack.getLogicalId(fn.node.defaultChild as never)
    ] as { Metadata: Record<string, string> };
    asset = join(outdir, resource.Metadata['aws:asset:path'] ?? 'missing');
  });
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));

  /** Runs `script` (an ES module's body) in a fresh node, as Lambda starts the function: no NODE_OPTIONS. */
  function run(script: string, bundle = join(asset, 'index.mjs')) {
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...env, BUNDLE: pathToFileURL(bundle).href },
      encoding: 'utf8',
    });
    expect(child.status, child.stderr).toBe(0);
    return child.stdout;
  }

  it('holds no import of node:stream/web, and does not load it at import', async () => {
    const code = readFileSync(join(asset, 'index.mjs'), 'utf8');
    expect(code).not.toContain('node:stream/web');
    expect(code).toMatch(/\/\/# sourceMappingURL=index\.mjs\.map\s*$/);
    // The same bundle without the alias, beside it: what middy's import loads.
    const control = join(outdir, 'no-alias.mjs');
    await build({
      ...esbuildOptionsOf(ACTION_BUNDLING),
      alias: {},
      sourcemap: false,
      entryPoints: [fromRoot('functions/actions/record-note/handler.ts')],
      outfile: control,
    });
    const loaded = (file: string) =>
      JSON.parse(
        run(
          'await import(process.env.BUNDLE); process.stdout.write(JSON.stringify(process.moduleLoadList.filter((m) => /stream\\/web|webstreams/.test(m))));',
          file,
        ),
      ) as string[];
    // The SDK's checksum stream (S3 PutObject, the anchors) reads the global ReadableStream, which loads
    // its own two modules; middy's import loaded node:stream/web and all of web streams besides.
    const web =
      /^NativeModule (stream\/web|internal\/webstreams\/(transformstream|encoding|adapters|compression))$/;
    expect(loaded(control).filter((m) => web.test(m))).toContain('NativeModule stream/web');
    expect(loaded(join(asset, 'index.mjs')).filter((m) => web.test(m))).toEqual([]);
  });

  it('still runs its handler through middy', () => {
    const out = run(
      'const { handler } = await import(process.env.BUNDLE); try { await handler({}, {}); } catch (e) { process.stdout.write(e.message); }',
    );
    expect(out).toBe(
      'record-note event is invalid: incidentId: Invalid input: expected string, received undefined',
    );
  });

  it("keeps a map of Cordon's sources and the SDK's, without their text, that maps a trace offline", () => {
    const map = readMap(asset);
    expect(map.sourcesContent ?? []).toEqual([]);
    expect(map.sources.some((s) => s.endsWith('functions/shared/audit-middleware.ts'))).toBe(true);
    expect(map.sources.some((s) => s.endsWith(STREAM_WEB_SHIM))).toBe(true);
    const trace = run(
      'const { handler } = await import(process.env.BUNDLE); try { await handler({}, {}); } catch (e) { process.stdout.write(e.stack); }',
    );
    expect(trace).toMatch(/index\.mjs:\d+:\d+/);
    const mapped = mapTrace(trace, map);
    expect(mapped).toMatch(/functions\/shared\/domain\.ts:\d+:\d+/);
    expect(mapped).toMatch(/functions\/shared\/audit-middleware\.ts:\d+:\d+/);
    expect(mapped).not.toMatch(/index\.mjs:\d+:\d+/);
    expect(existsSync(join(asset, 'index.mjs.map'))).toBe(true);
  });
});

describe('the node:stream/web that middy is given', () => {
  it('recognises a web ReadableStream, as the real class does, and nothing else', () => {
    const isWebStream = (value: unknown) => value instanceof ShimmedReadableStream;
    expect(isWebStream(new ReadableStream())).toBe(true);
    expect(
      isWebStream(new (require('node:stream/web') as typeof import('node:stream/web')).ReadableStream()),
    ).toBe(true);
    expect(isWebStream({})).toBe(false);
    expect(isWebStream('body')).toBe(false);
    expect(isWebStream(Readable.from(['body']))).toBe(false);
  });
});
