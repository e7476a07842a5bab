/**
 * `npm run bench`: Cordon's figures, measured on this machine with no network, in one run. Prints each
 * part's table, then every figure of issue 16's table beside its goal, and writes bench/results.json (the
 * parts, and `figures`: `{ name, value, goal, goalOp, unit, met }`).
 *
 * `BENCH_QUICK=1` shortens the run to check that the bench works (fewer findings and steps; the console's
 * 100,000 steps and the bundles left out, their figures not measured; `BENCH_BUNDLES=1` keeps the
 * bundles). `BENCH_BUNDLES=0` leaves the bundles out of a full run. A run with a part left out is not
 * the one to quote: it writes its results beside the system's temporary files, not bench/results.json.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startLocalStore } from '../local/store.ts';
import { type BundleFigures, bundleTable, measureBundles } from './bundles.ts';
import { type ConsoleFigures, measureConsole } from './console.ts';
import { CallCounter } from './counting.ts';
import { benchFigures, figureTable } from './figures.ts';
import { measurePlaybook, type PlaybookFigures, type Scenario } from './playbooks.ts';
import { measureRecord, type RecordFigures, recordTable } from './record.ts';
import { measureRouter, type RouterFigures, routerTable } from './router.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.CORDON_LOG_LEVEL = 'silent';

const QUICK = process.env.BENCH_QUICK === '1';
const BUNDLES = QUICK ? process.env.BENCH_BUNDLES === '1' : process.env.BENCH_BUNDLES !== '0';
const COMPLETE = !QUICK && BUNDLES;
/** Seconds each part took. */
const timings: Record<string, number> = {};
async function timed<T>(part: string, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    timings[part] = (timings[part] ?? 0) + (performance.now() - start) / 1000;
  }
}

// Before any local runtime starts: its switch answers simulated calls and never passes them on, so the
// counter must be ahead of it on every client the factory makes.
const counter = new CallCounter();
counter.install();

// A VPC with an id of AWS's form: the settings' isolationGroups take only those (the sandbox's default
// VPC is `vpc-default`).
const VPC = {
  vpcs: [{ id: 'vpc-0be0c000000000001', isDefault: true, subnets: [{ id: 'subnet-0be0c000000000001' }] }],
};
const twoInterfaces = (id: string) => ({
  ...VPC,
  instances: [
    {
      id,
      networkInterfaces: [{ groups: ['sg-web'] }, { groups: ['sg-web', 'sg-admin'] }],
      volumes: [{ size: 8 }, { size: 20 }],
      profile: 'web-profile',
    },
  ],
  autoScalingGroups: [{ name: 'web-asg', instances: [id], targetGroups: ['web'] }],
  targetGroups: [{ name: 'web', targets: [id] }],
});
const oneInterface = (id: string) => ({ ...VPC, instances: [{ id, volumes: [{ size: 8 }] }] });
const WEB = 'i-0be0c000000000001';

const DIRECT_1 = 'ec2, 1 interface, direct isolation';
const DIRECT_2 = 'ec2, 2 interfaces, direct isolation';
const TWO_STEP_2 = 'ec2, 2 interfaces, two-step (default)';

const SCENARIOS: Scenario[] = [
  {
    name: DIRECT_1,
    playbook: 'ec2-compromise',
    settings: { ec2: { isolation: 'direct' } },
    seed: oneInterface(WEB),
    resource: { type: 'instance', id: WEB },
    containedAt: 'Isolate',
    prepareGroups: true,
  },
  {
    name: DIRECT_2,
    playbook: 'ec2-compromise',
    settings: { ec2: { isolation: 'direct' } },
    seed: twoInterfaces(WEB),
    resource: { type: 'instance', id: WEB },
    containedAt: 'Isolate',
    prepareGroups: true,
  },
  {
    name: TWO_STEP_2,
    playbook: 'ec2-compromise',
    seed: twoInterfaces(WEB),
    resource: { type: 'instance', id: WEB },
    containedAt: 'Isolate',
    prepareGroups: true,
  },
  {
    name: "iam, an IAM user's key",
    playbook: 'iam-credential-compromise',
    seed: {
      iam: {
        users: [
          {
            name: 'alice',
            accessKeys: [{ id: 'AKIABENCH00000000001' }, { id: 'AKIABENCH00000000002' }],
            loginProfile: true,
          },
        ],
      },
    },
    resource: {
      type: 'access-key',
      id: 'AKIABENCH00000000001',
      details: { userType: 'IAMUser', userName: 'alice' },
    },
    containedAt: 'Contain the key',
  },
];

const store = await startLocalStore();
const results: PlaybookFigures[] = [];
let router: RouterFigures;
let console_: ConsoleFigures | undefined;
let record: RecordFigures;
const started = performance.now();
try {
  process.stderr.write('measuring the record per step and per action...\n');
  record = await timed('record', () => measureRecord(store, counter, QUICK ? { steps: 20, actions: 5 } : {}));
  for (const scenario of SCENARIOS) {
    process.stderr.write(`measuring ${scenario.name}...\n`);
    results.push(await timed('playbooks', () => measurePlaybook(store, scenario, counter)));
  }
  process.stderr.write('measuring the router...\n');
  router = await timed('router', () =>
    measureRouter(
      store,
      counter,
      QUICK ? { findings: 40, correlated: 20, duplicates: 100, samples: 3, puts: 200 } : {},
    ),
  );
  if (!QUICK) {
    process.stderr.write('loading 10,000 incidents and 100,000 steps for the console...\n');
    console_ = await timed('console', () => measureConsole(store));
  }
} finally {
  await store.stop();
}
// Last, with the store stopped, so that nothing else competes for the CPU while load times are taken.
let bundles: BundleFigures[] | undefined;
if (BUNDLES)
  bundles = await timed('bundles', () =>
    measureBundles({ log: (line) => process.stderr.write(`${line}\n`) }),
  );
const seconds = (performance.now() - started) / 1000;
const scenario = (name: string) => results.find((f) => f.scenario === name);
const figures = benchFigures({
  router,
  record,
  ec2: { direct1: scenario(DIRECT_1), direct2: scenario(DIRECT_2), twoStep2: scenario(TWO_STEP_2) },
  ...(bundles ? { bundles } : { bundlesSkipped: QUICK ? 'a quick run' : 'BENCH_BUNDLES=0' }),
  ...(console_ ? { console: console_ } : { consoleSkipped: 'a quick run' }),
});

const row = (f: PlaybookFigures) =>
  [
    f.scenario.padEnd(38),
    f.status.padEnd(9),
    `${f.untilContained.transitions}/${f.untilContained.invocations}/${f.untilContained.awsCalls}`.padEnd(17),
    `${f.total.transitions}/${f.total.invocations}/${f.total.awsCalls}`.padEnd(17),
    `${f.untilContained.recordCalls}/${f.total.recordCalls}`.padEnd(13),
    `${f.untilContained.sealCalls}/${f.total.sealCalls}`,
  ].join('  ');
console.log(
  [
    'scenario'.padEnd(38),
    'status'.padEnd(9),
    'until contained'.padEnd(17),
    'total'.padEnd(17),
    'record calls'.padEnd(13),
    'seal calls',
  ].join('  '),
);
console.log(
  "(transitions / Lambda invocations / AWS calls; record calls: the audit record's DynamoDB calls until contained / in total; seal calls: the record key's KMS and the anchor's S3 calls, until contained / in total)",
);
for (const f of results) console.log(row(f));
console.log('');
for (const line of routerTable(router)) console.log(line);
console.log('');
for (const line of recordTable(record)) console.log(line);
console.log('');
if (bundles) {
  for (const line of bundleTable(bundles)) console.log(line);
  console.log('');
}
if (console_) {
  console.log(
    `console read amplification at ${console_.incidents} incidents and ${console_.steps} steps (loaded in ${console_.loadSeconds.toFixed(1)} s; goal: at most 1.1 items read per item returned):`,
  );
  for (const q of console_.queries) {
    console.log(
      `  ${q.query.padEnd(32)} ${String(q.read).padStart(6)} read / ${String(q.returned).padStart(6)} returned = ${q.perReturned.toFixed(3)}`,
    );
  }
  console.log('');
}
console.log(
  `every figure beside its goal${COMPLETE ? '' : ' (a run with parts left out: not the figures to quote)'}, measured in ${seconds.toFixed(0)} s (${Object.entries(
    timings,
  )
    .map(([part, s]) => `${part} ${s.toFixed(0)} s`)
    .join(', ')}):`,
);
for (const line of figureTable(figures)) console.log(line);
// A run with parts left out is not the one to quote: its results go beside the system's temporary files.
const resultsFile = COMPLETE
  ? fileURLToPath(new URL('./results.json', import.meta.url))
  : join(tmpdir(), 'cordon-bench-results.partial.json');
if (!COMPLETE) process.stderr.write(`parts left out: results in ${resultsFile}\n`);
writeFileSync(
  resultsFile,
  `${JSON.stringify(
    {
      measuredAt: new Date().toISOString(),
      node: process.version,
      quick: QUICK,
      complete: COMPLETE,
      seconds,
      timings,
      figures,
      playbooks: results,
      router,
      record,
      bundles,
      console: console_,
    },
    null,
    2,
  )}\n`,
);
