/**
 * `npm run bench`: Cordon's figures, measured on this machine with no network. Prints a table and
 * writes bench/results.json.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startLocalStore } from '../local/store.ts';
import { type BundleFigures, bundleTable, measureBundles } from './bundles.ts';
import { type ConsoleFigures, measureConsole } from './console.ts';
import { measurePlaybook, type PlaybookFigures, type Scenario } from './playbooks.ts';
import { measureRecord, type RecordFigures, recordTable } from './record.ts';
import { measureRouter, type RouterFigures, routerTable } from './router.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.CORDON_LOG_LEVEL = 'silent';

const twoInterfaces = (id: string) => ({
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
const oneInterface = (id: string) => ({ instances: [{ id, volumes: [{ size: 8 }] }] });
const WEB = 'i-0be0c000000000001';

const SCENARIOS: Scenario[] = [
  {
    name: 'ec2, 1 interface, direct isolation',
    playbook: 'ec2-compromise',
    settings: { ec2: { isolation: 'direct' } },
    seed: oneInterface(WEB),
    resource: { type: 'instance', id: WEB },
    containedAt: 'Isolate',
  },
  {
    name: 'ec2, 2 interfaces, direct isolation',
    playbook: 'ec2-compromise',
    settings: { ec2: { isolation: 'direct' } },
    seed: twoInterfaces(WEB),
    resource: { type: 'instance', id: WEB },
    containedAt: 'Isolate',
  },
  {
    name: 'ec2, 2 interfaces, two-step (default)',
    playbook: 'ec2-compromise',
    seed: twoInterfaces(WEB),
    resource: { type: 'instance', id: WEB },
    containedAt: 'Isolate',
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
let console_: ConsoleFigures;
let record: RecordFigures;
try {
  process.stderr.write('measuring the record per step...\n');
  record = await measureRecord(store);
  for (const scenario of SCENARIOS) {
    process.stderr.write(`measuring ${scenario.name}...\n`);
    results.push(await measurePlaybook(store, scenario));
  }
  process.stderr.write('measuring the router...\n');
  router = await measureRouter(store);
  process.stderr.write('loading 10,000 incidents and 100,000 steps for the console...\n');
  console_ = await measureConsole(store);
} finally {
  await store.stop();
}
// Last, with the store stopped, so that nothing else competes for the CPU while load times are taken.
const runs = Number(process.env.BENCH_LOAD_RUNS ?? 9);
const bundles: BundleFigures[] = await measureBundles({
  runs: Number.isInteger(runs) ? runs : 9,
  log: (line) => process.stderr.write(`${line}\n`),
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
for (const line of bundleTable(bundles)) console.log(line);
console.log('');
console.log(
  `console read amplification at ${console_.incidents} incidents and ${console_.steps} steps (loaded in ${console_.loadSeconds.toFixed(1)} s; goal: at most 1.1 items read per item returned):`,
);
for (const q of console_.queries) {
  console.log(
    `  ${q.query.padEnd(32)} ${String(q.read).padStart(6)} read / ${String(q.returned).padStart(6)} returned = ${q.perReturned.toFixed(3)}`,
  );
}
writeFileSync(
  fileURLToPath(new URL('./results.json', import.meta.url)),
  `${JSON.stringify(
    {
      measuredAt: new Date().toISOString(),
      node: process.version,
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
