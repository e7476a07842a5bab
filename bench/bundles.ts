/**
 * Each function's cold start against a bundle of only the SDK clients it needs: the CPU time of the
 * handler module's `import()` in a fresh `node` process (`process.cpuUsage` around the import), the two
 * measured side by side in one run, interleaved (the order turns each round) and paired by round.
 *
 * Three bundles are loaded in each round:
 * - the function as bundled: made with the stack's own options (`ACTION_BUNDLING` of
 *   infra/constructs/action-function.ts, translated to esbuild's API), loaded with no `NODE_OPTIONS`;
 * - the function as deployed: the same bundle, its source map beside it as the asset has it, loaded with
 *   the `NODE_OPTIONS` of its synthesized environment;
 * - the clients only: the same SDK client packages (those whose client is in the function bundle's
 *   metafile), one client of each made at module scope as the handlers do, bundled the same way, with no
 *   source map and no `NODE_OPTIONS`.
 *
 * `overheadPercent` is the median over rounds of (function ÷ clients only − 1) × 100, and
 * `deployedOverheadPercent` the same of the deployed function: what Cordon's own code (its modules,
 * middy, zod/mini) and its deployment choices add to the cold start of the clients it needs. The goal is
 * at most 5. CPU time, not wall-clock time: on a shared two-core machine the wall clock measures the
 * neighbours. At least 21 rounds (`BENCH_BUNDLE_ROUNDS` may lower it for a quick look; the table then
 * says so); `BENCH_BUNDLE_ONLY` (comma-separated parts of handler paths) measures only those functions.
 *
 * Every bundle is loaded with the function's environment from the synthesized template (tokens rendered
 * to plain strings), so that the handler's configuration reads succeed as they do on Lambda.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { ACTION_BUNDLING } from '../infra/constructs/action-function.ts';
import { fromRoot, REPO_ROOT } from '../infra/paths.ts';
import { stackFunctions } from './stack-functions.ts';

export { stackFunctions };

/** The goal: Cordon's own code adds at most this many percent to the clients' import CPU time. */
export const LOAD_OVERHEAD_GOAL_PERCENT = 5;

/** The fewest rounds a reported figure rests on, unless `BENCH_BUNDLE_ROUNDS` asks for a quick look. */
export const MIN_ROUNDS = 21;

export interface BundleFigures {
  readonly function: string;
  readonly entry: string;
  /** The SDK packages in the bundle. */
  readonly clients: readonly string[];
  /** Bytes: the function's bundle, its source map (0 when none is made) and the clients-only bundle. */
  readonly bytes: { readonly cordon: number; readonly sourceMap: number; readonly clientsOnly: number };
  /** The `NODE_OPTIONS` the function is deployed with ('' when none). */
  readonly nodeOptions: string;
  /** Milliseconds of CPU time (user + system) inside `import()`, medians over the rounds. */
  readonly cpu: { readonly cordon: number; readonly deployed: number; readonly clientsOnly: number };
  /** Median over rounds of (function as bundled ÷ clients only − 1) × 100. */
  readonly overheadPercent: number;
  /** Median over rounds of (function as deployed ÷ clients only − 1) × 100. */
  readonly deployedOverheadPercent: number;
  readonly rounds: number;
  /** Why the bundles could not be loaded, when they could not. */
  readonly error?: string;
}

/**
 * The stack's bundling options (aws-cdk-lib's `NodejsFunction` passes them to the esbuild CLI) as esbuild
 * API options. An option this does not know throws, so that the bench cannot drift from the stack.
 */
export function esbuildOptionsOf(bundling: BundlingOptions): BuildOptions {
  const known = new Set([
    'format',
    'target',
    'minify',
    'sourceMap',
    'sourcesContent',
    'mainFields',
    'externalModules',
    'banner',
    'esbuildArgs',
  ]);
  for (const key of Object.keys(bundling)) {
    if (!known.has(key)) throw new Error(`bench/bundles.ts: bundling option ${key} is not reproduced`);
  }
  if (bundling.sourceMapMode !== undefined)
    throw new Error('bench/bundles.ts: sourceMapMode is not reproduced');
  // The CLI's `--alias:<from>=<to>`: NodejsFunction writes `{ '--alias:<from>': '<to>' }` so, and
  // `{ '--alias': '<from>=<to>' }` too.
  const alias: Record<string, string> = {};
  for (const [arg, value] of Object.entries(bundling.esbuildArgs ?? {})) {
    const m =
      typeof value !== 'string'
        ? null
        : arg === '--alias'
          ? /^([^=]+)=(.+)$/.exec(value)
          : /^--alias:(.+)$/.exec(arg) && [arg, arg.slice('--alias:'.length), value];
    if (!m?.[1] || !m[2]) throw new Error(`bench/bundles.ts: esbuild argument ${arg} is not reproduced`);
    alias[m[1]] = m[2];
  }
  return {
    bundle: true,
    platform: 'node',
    format: bundling.format === 'esm' ? 'esm' : 'cjs',
    ...(bundling.target === undefined ? {} : { target: bundling.target }),
    minify: bundling.minify ?? false,
    // The CLI's `--sourcemap`: a linked map file beside the bundle.
    sourcemap: bundling.sourceMap ? 'linked' : false,
    sourcesContent: bundling.sourcesContent ?? true,
    ...(bundling.mainFields === undefined ? {} : { mainFields: bundling.mainFields }),
    external: bundling.externalModules ?? [],
    ...(bundling.banner === undefined ? {} : { banner: { js: bundling.banner } }),
    alias,
    // The CLI resolves relative alias paths from the working directory: the repository's root.
    absWorkingDir: REPO_ROOT,
    logLevel: 'silent',
  };
}

const STACK_BUNDLING: BuildOptions = esbuildOptionsOf(ACTION_BUNDLING);

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

/** The child: imports the module named by BENCH_MODULE, prints the import's CPU time in ms, exits. */
const CHILD = [
  'const before = process.cpuUsage();',
  'await import(process.env.BENCH_MODULE);',
  'const used = process.cpuUsage(before);',
  'process.stdout.write(String((used.user + used.system) / 1000));',
  'process.exit(0);',
].join(' ');

/** Loads a module in a fresh process; the CPU time, in ms, of its `import()`. */
function loadOnce(file: string, env: Record<string, string>): number {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...env, BENCH_MODULE: pathToFileURL(file).href },
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`loading ${file} failed: ${child.stderr.slice(-600)}`);
  const ms = Number(child.stdout);
  if (!Number.isFinite(ms)) throw new Error(`loading ${file} printed "${child.stdout.slice(0, 200)}"`);
  return ms;
}

export interface BundleBenchOptions {
  /** Rounds per function; at least {@link MIN_ROUNDS} (the default), unless `BENCH_BUNDLE_ROUNDS` is set. */
  readonly runs?: number;
  readonly log?: (line: string) => void;
  /** Environment to read `BENCH_BUNDLE_ROUNDS` and `BENCH_BUNDLE_ONLY` from; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** How many rounds: at least {@link MIN_ROUNDS}, or `BENCH_BUNDLE_ROUNDS` (at least 3) for a quick look. */
export function roundsOf(runs: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const quick = Number(env.BENCH_BUNDLE_ROUNDS);
  if (env.BENCH_BUNDLE_ROUNDS !== undefined && Number.isInteger(quick)) return Math.max(3, quick);
  return Math.max(MIN_ROUNDS, runs ?? MIN_ROUNDS);
}

/** Measures every function of the stack (or those `BENCH_BUNDLE_ONLY` names). */
export async function measureBundles(options: BundleBenchOptions = {}): Promise<BundleFigures[]> {
  const env0 = options.env ?? process.env;
  const rounds = roundsOf(options.runs, env0);
  const only = (env0.BENCH_BUNDLE_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
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
    const functions = stackFunctions().filter(
      (fn) => only.length === 0 || only.some((part) => fn.entry.includes(part)),
    );
    for (const fn of functions) {
      log(`bundling ${fn.entry}...`);
      // Each function in its own folder, as its asset: `index.mjs` and, when made, `index.mjs.map`.
      const fnDir = join(dir, fn.id);
      mkdirSync(fnDir);
      const cordonFile = join(fnDir, 'index.mjs');
      const cordon = await build({
        ...STACK_BUNDLING,
        entryPoints: [fromRoot(fn.entry)],
        outfile: cordonFile,
        metafile: true,
      });
      const packages = sdkPackages(cordon.metafile);
      const clientsFile = join(dir, `${fn.id}.clients.mjs`);
      await build({
        ...STACK_BUNDLING,
        sourcemap: false,
        // Its bare imports resolve from the repository's node_modules, as the function's do.
        stdin: {
          contents: await clientsOnlyEntry(packages),
          resolveDir: REPO_ROOT,
          sourcefile: 'clients-only.mjs',
        },
        outfile: clientsFile,
      });
      const { NODE_OPTIONS: nodeOptions = '', ...fnEnv } = fn.env;
      const bare = { ...baseEnv, ...fnEnv };
      const deployed = nodeOptions === '' ? bare : { ...bare, NODE_OPTIONS: nodeOptions };
      const mapFile = `${cordonFile}.map`;
      const bytes = {
        cordon: statSync(cordonFile).size,
        sourceMap: existsSync(mapFile) ? statSync(mapFile).size : 0,
        clientsOnly: statSync(clientsFile).size,
      };
      const loads: readonly (() => number)[] = [
        () => loadOnce(cordonFile, bare),
        () => loadOnce(cordonFile, deployed),
        () => loadOnce(clientsFile, bare),
      ];
      log(`loading ${fn.entry}, as bundled and as deployed, and its clients: ${rounds} rounds...`);
      // One warm-up of each (file system cache).
      try {
        for (const load of loads) load();
      } catch (error) {
        // A function that cannot load with the rendered environment is reported, not fatal to the run.
        figures.push({
          function: fn.id,
          entry: fn.entry,
          clients: packages,
          bytes,
          nodeOptions,
          cpu: { cordon: Number.NaN, deployed: Number.NaN, clientsOnly: Number.NaN },
          overheadPercent: Number.NaN,
          deployedOverheadPercent: Number.NaN,
          rounds: 0,
          error: (error instanceof Error ? error.message : String(error))
            .split('\n')
            .filter((l) => l.trim())
            .at(-1),
        });
        continue;
      }
      const samples: [number[], number[], number[]] = [[], [], []];
      for (let round = 0; round < rounds; round++) {
        // The order turns each round, so that none of the three always runs first or last.
        for (let k = 0; k < loads.length; k++) {
          const which = (round + k) % loads.length;
          samples[which]?.push(loads[which]?.() ?? Number.NaN);
        }
      }
      const [cordonMs, deployedMs, clientsMs] = samples;
      const paired = (ms: readonly number[]) =>
        median(ms.map((m, round) => (m / (clientsMs[round] ?? Number.NaN) - 1) * 100));
      figures.push({
        function: fn.id,
        entry: fn.entry,
        clients: packages,
        bytes,
        nodeOptions,
        cpu: { cordon: median(cordonMs), deployed: median(deployedMs), clientsOnly: median(clientsMs) },
        overheadPercent: paired(cordonMs),
        deployedOverheadPercent: paired(deployedMs),
        rounds,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const pct = (x: number) => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
const met = (f: BundleFigures) =>
  f.overheadPercent <= LOAD_OVERHEAD_GOAL_PERCENT && f.deployedOverheadPercent <= LOAD_OVERHEAD_GOAL_PERCENT;

/** The table `npm run bench` prints. */
export function bundleTable(figures: readonly BundleFigures[]): string[] {
  const lines = [
    [
      'function (handler)'.padEnd(34),
      'bundle'.padStart(8),
      'map'.padStart(8),
      'clients'.padStart(8),
      'CPU ms'.padStart(14),
      'Δ'.padStart(7),
      'deployed'.padStart(8),
      'Δ'.padStart(7),
      'goal',
    ].join('  '),
    `(CPU time inside import() in a fresh node process, median ms: Cordon's bundle/clients only; deployed: with its NODE_OPTIONS and source map; Δ: median of paired rounds; goal: both Δ ≤ ${LOAD_OVERHEAD_GOAL_PERCENT}%)`,
  ];
  for (const f of figures) {
    const name = f.entry
      .replace(/^functions\//, '')
      .replace(/\/handler\.ts$/, '')
      .padEnd(34);
    const sizes = [kb(f.bytes.cordon), kb(f.bytes.sourceMap), kb(f.bytes.clientsOnly)].map((s) =>
      s.padStart(8),
    );
    if (f.error !== undefined) {
      lines.push(`${[name, ...sizes].join('  ')}  could not load: ${f.error}`);
      continue;
    }
    lines.push(
      [
        name,
        ...sizes,
        `${f.cpu.cordon.toFixed(1)}/${f.cpu.clientsOnly.toFixed(1)}`.padStart(14),
        pct(f.overheadPercent).padStart(7),
        f.cpu.deployed.toFixed(1).padStart(8),
        pct(f.deployedOverheadPercent).padStart(7),
        met(f) ? 'met' : 'MISSED',
      ].join('  '),
    );
  }
  const measured = figures.filter((f) => f.error === undefined);
  const rounds = Math.min(...measured.map((f) => f.rounds));
  lines.push(
    `goal met by ${measured.filter(met).length} of ${measured.length} functions measured (${figures.length - measured.length} could not load), ${rounds} rounds each${rounds < MIN_ROUNDS ? ` (a quick look: fewer than ${MIN_ROUNDS})` : ''}`,
  );
  return lines;
}
