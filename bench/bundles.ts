/**
 * Each function's bundle against a bundle of only the SDK clients it needs: sizes, and module load time in
 * a fresh `node` process, the two measured side by side (interleaved, alternating which goes first) in
 * one run, median of `runs` each.
 *
 * The function's bundle is made as the stack makes it (`infra/constructs/action-function.ts`: minified
 * ESM for node22, `module` before `main`, the `createRequire` banner, the SDK bundled). The clients-only
 * bundle imports the same SDK client packages (those in the function bundle's metafile) and makes one
 * client of each, as the handlers do at module scope. The difference is what Cordon's own code (its
 * modules, middy, zod/mini) adds to the cold start of the clients it needs; the goal is at most 5%.
 *
 * Both are loaded with the function's environment from the synthesized template (tokens rendered to
 * plain strings), so that the handler's configuration reads succeed as they do on Lambda. Source maps
 * are left out of both (the stack ships them, with `--enable-source-maps`, which this does not measure).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { buildApp } from '../infra/cordon-app.ts';
import { fromRoot, REPO_ROOT } from '../infra/paths.ts';

/** The goal: Cordon's own code adds at most this much to the clients' load time. */
export const LOAD_OVERHEAD_GOAL = 0.05;

export interface BundleFigures {
  readonly function: string;
  readonly entry: string;
  /** The SDK packages in the bundle. */
  readonly clients: readonly string[];
  readonly bytes: { readonly cordon: number; readonly clientsOnly: number };
  /** Milliseconds, medians. `process`: spawn to exit; `import`: the `import()` alone, inside the process. */
  readonly load: {
    readonly process: { readonly cordon: number; readonly clientsOnly: number };
    readonly import: { readonly cordon: number; readonly clientsOnly: number };
  };
  /** (cordon − clients only) / clients only, of the process and the import times. */
  readonly overhead: { readonly process: number; readonly import: number };
  readonly runs: number;
  /** Why the bundles could not be loaded, when they could not. */
  readonly error?: string;
}

const BANNER =
  "import { createRequire as __cordonRequire } from 'node:module'; const require = __cordonRequire(import.meta.url);";

/** esbuild options as `ActionFunction` bundles (aws-cdk-lib's NodejsFunction with its `bundling`). */
const STACK_BUNDLING: BuildOptions & { metafile: true } = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  mainFields: ['module', 'main'],
  banner: { js: BANNER },
  absWorkingDir: REPO_ROOT,
  metafile: true,
  logLevel: 'silent',
};

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

/**
 * The SDK client packages whose client a bundle holds, from its metafile: a package counts when its
 * `...Client` module is in the output (a package imported only for an error class or a type does not).
 */
function sdkPackages(metafile: Metafile): string[] {
  const packages = new Set<string>();
  for (const output of Object.values(metafile.outputs)) {
    for (const [path, input] of Object.entries(output.inputs)) {
      const m =
        /node_modules\/(@aws-sdk\/(?:client-[a-z0-9-]+|lib-dynamodb))\/dist-[a-z]+\/[A-Za-z0-9]+Client\.js$/.exec(
          path,
        );
      if (m?.[1] && input.bytesInOutput > 0) packages.add(m[1]);
    }
  }
  return [...packages].sort();
}

/** The client class a package exports: the shortest export named `...Client`. */
async function clientExport(pkg: string): Promise<string> {
  const module = (await import(pkg)) as Record<string, unknown>;
  const names = Object.keys(module)
    .filter((n) => /^[A-Z][A-Za-z0-9]*Client$/.test(n) && typeof module[n] === 'function')
    .sort((a, b) => a.length - b.length);
  const [name] = names;
  if (name === undefined) throw new Error(`${pkg} exports no client class`);
  return name;
}

/** An entry that loads the packages and makes one client of each, as a handler does at module scope. */
async function clientsOnlyEntry(packages: readonly string[]): Promise<string> {
  const lines: string[] = [];
  const made: string[] = [];
  for (const [i, pkg] of packages.entries()) {
    const name = await clientExport(pkg);
    lines.push(`import { ${name} as C${i} } from '${pkg}';`);
    if (pkg === '@aws-sdk/lib-dynamodb') {
      lines.push("import { DynamoDBClient as D } from '@aws-sdk/client-dynamodb';");
      made.push(`C${i}.from(new D({ region: 'us-east-1' }))`);
    } else made.push(`new C${i}({ region: 'us-east-1' })`);
  }
  lines.push(`globalThis.__clients = [${made.join(', ')}];`, 'export const handler = async () => undefined;');
  return lines.join('\n');
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** The child: imports the module named by BENCH_MODULE, prints how long the import took, exits. */
const CHILD = [
  'const start = performance.now();',
  'await import(process.env.BENCH_MODULE);',
  'process.stdout.write(String(performance.now() - start));',
  'process.exit(0);',
].join(' ');

/** Loads a module in a fresh process: the process's wall time and the import's own time, in ms. */
function loadOnce(file: string, env: Record<string, string>): { process: number; import: number } {
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...env, BENCH_MODULE: pathToFileURL(file).href },
    encoding: 'utf8',
  });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  if (child.status !== 0) throw new Error(`loading ${file} failed: ${child.stderr.slice(-600)}`);
  return { process: wall, import: Number(child.stdout) };
}

export interface BundleBenchOptions {
  /** Loads of each bundle; the median is kept. Default 9, at least 7. */
  readonly runs?: number;
  readonly log?: (line: string) => void;
}

/** Measures every function of the stack. */
export async function measureBundles(options: BundleBenchOptions = {}): Promise<BundleFigures[]> {
  const runs = Math.max(7, options.runs ?? 9);
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'cordon-bundles-'));
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    CORDON_LOG_LEVEL: 'silent',
  };
  const figures: BundleFigures[] = [];
  try {
    for (const fn of stackFunctions()) {
      log(`bundling ${fn.entry}...`);
      const cordonFile = join(dir, `${fn.id}.mjs`);
      const cordon = await build({
        ...STACK_BUNDLING,
        entryPoints: [fromRoot(fn.entry)],
        outfile: cordonFile,
      });
      const packages = sdkPackages(cordon.metafile);
      const clientsFile = join(dir, `${fn.id}.clients.mjs`);
      await build({
        ...STACK_BUNDLING,
        // Its bare imports resolve from the repository's node_modules, as the function's do.
        stdin: {
          contents: await clientsOnlyEntry(packages),
          resolveDir: REPO_ROOT,
          sourcefile: 'clients-only.mjs',
        },
        outfile: clientsFile,
      });

      log(`loading ${fn.entry} and its clients, ${runs} times each...`);
      const env = { ...baseEnv, ...fn.env };
      const samples: Record<'cordon' | 'clients', { process: number; import: number }[]> = {
        cordon: [],
        clients: [],
      };
      const bytes = { cordon: statSync(cordonFile).size, clientsOnly: statSync(clientsFile).size };
      // One warm-up of each (file system cache), then interleaved, alternating which goes first.
      try {
        loadOnce(cordonFile, env);
        loadOnce(clientsFile, env);
      } catch (error) {
        // A function that cannot load with the rendered environment is reported, not fatal to the run.
        const nan = { cordon: Number.NaN, clientsOnly: Number.NaN };
        figures.push({
          function: fn.id,
          entry: fn.entry,
          clients: packages,
          bytes,
          load: { process: nan, import: nan },
          overhead: { process: Number.NaN, import: Number.NaN },
          runs: 0,
          error: (error instanceof Error ? error.message : String(error))
            .split('\n')
            .filter((l) => l.trim())
            .at(-1),
        });
        continue;
      }
      for (let i = 0; i < runs; i++) {
        if (i % 2 === 0) {
          samples.cordon.push(loadOnce(cordonFile, env));
          samples.clients.push(loadOnce(clientsFile, env));
        } else {
          samples.clients.push(loadOnce(clientsFile, env));
          samples.cordon.push(loadOnce(cordonFile, env));
        }
      }
      const load = {
        process: {
          cordon: median(samples.cordon.map((s) => s.process)),
          clientsOnly: median(samples.clients.map((s) => s.process)),
        },
        import: {
          cordon: median(samples.cordon.map((s) => s.import)),
          clientsOnly: median(samples.clients.map((s) => s.import)),
        },
      };
      figures.push({
        function: fn.id,
        entry: fn.entry,
        clients: packages,
        bytes,
        load,
        overhead: {
          process: (load.process.cordon - load.process.clientsOnly) / load.process.clientsOnly,
          import: (load.import.cordon - load.import.clientsOnly) / load.import.clientsOnly,
        },
        runs,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;

/** The table `npm run bench` prints. */
export function bundleTable(figures: readonly BundleFigures[]): string[] {
  const lines = [
    [
      'function (handler)'.padEnd(40),
      'bundle'.padStart(9),
      'clients'.padStart(9),
      'process ms'.padStart(15),
      'Δ'.padStart(7),
      'import ms'.padStart(15),
      'Δ'.padStart(7),
      'goal',
    ].join('  '),
    `(bundle sizes minified; load: median ms of a fresh node process, Cordon's bundle/clients only; "process" spawn to exit, "import" the import() alone; goal: import Δ ≤ ${LOAD_OVERHEAD_GOAL * 100}%)`,
  ];
  for (const f of figures) {
    if (f.error !== undefined) {
      lines.push(
        `${f.entry.padEnd(40)}  ${kb(f.bytes.cordon).padStart(9)}  ${kb(f.bytes.clientsOnly).padStart(9)}  could not load: ${f.error}`,
      );
      continue;
    }
    lines.push(
      [
        f.entry
          .replace(/^functions\//, '')
          .replace(/\/handler\.ts$/, '')
          .padEnd(40),
        kb(f.bytes.cordon).padStart(9),
        kb(f.bytes.clientsOnly).padStart(9),
        `${f.load.process.cordon.toFixed(0)}/${f.load.process.clientsOnly.toFixed(0)}`.padStart(15),
        pct(f.overhead.process).padStart(7),
        `${f.load.import.cordon.toFixed(0)}/${f.load.import.clientsOnly.toFixed(0)}`.padStart(15),
        pct(f.overhead.import).padStart(7),
        f.overhead.import <= LOAD_OVERHEAD_GOAL ? 'met' : 'MISSED',
      ].join('  '),
    );
  }
  const measured = figures.filter((f) => f.error === undefined);
  const met = measured.filter((f) => f.overhead.import <= LOAD_OVERHEAD_GOAL).length;
  lines.push(
    `goal met by ${met} of ${measured.length} functions measured (${figures.length - measured.length} could not load)`,
  );
  return lines;
}
