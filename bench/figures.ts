/**
 * The bench's figures, each beside its goal: what `npm run bench` prints last and writes to
 * bench/results.json as `figures`. `met` is computed from the value and the goal, never written by hand;
 * a figure that could not be measured has no value and is not met. A figure with no goal is there to be
 * read beside one that has (the calls beside the rounds, the seal's calls beside the record's).
 */
import type { BundleFigures } from './bundles.ts';
import type { ConsoleFigures } from './console.ts';
import type { PlaybookFigures } from './playbooks.ts';
import type { RecordFigures } from './record.ts';
import type { RouterFigures } from './router.ts';

export type GoalOp = '<=' | '>=';

export interface Figure {
  /** Short, lowercase with dashes: `router-new-finding-dynamodb-rounds`. */
  readonly name: string;
  /** Null when it could not be measured (the note says why). */
  readonly value: number | null;
  /** Null for an informational figure. */
  readonly goal: number | null;
  readonly goalOp: GoalOp | null;
  readonly unit: string;
  /** Whether the value meets the goal; null for an informational figure. */
  readonly met: boolean | null;
  readonly note?: string;
}

export interface FigureInput {
  readonly name: string;
  readonly value: number | null | undefined;
  readonly unit: string;
  /** `['<=', 3]`: at most 3. Absent for an informational figure. */
  readonly goal?: readonly [GoalOp, number];
  readonly note?: string;
}

/** Whether `value` meets `goal`: false when there is no finite value. */
export function meets(value: number | null, op: GoalOp, goal: number): boolean {
  if (value === null || !Number.isFinite(value)) return false;
  return op === '<=' ? value <= goal : value >= goal;
}

export function figure(input: FigureInput): Figure {
  const value =
    input.value === undefined || input.value === null || !Number.isFinite(input.value) ? null : input.value;
  const [goalOp, goal] = input.goal ?? [null, null];
  return {
    name: input.name,
    value,
    goal,
    goalOp,
    unit: input.unit,
    met: goalOp === null || goal === null ? null : meets(value, goalOp, goal),
    ...(input.note !== undefined ? { note: input.note } : value === null ? { note: 'not measured' } : {}),
  };
}

function shown(value: number | null): string {
  if (value === null) return 'not measured';
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(3);
}

/** The lines `npm run bench` prints: every figure beside its goal. */
export function figureTable(figures: readonly Figure[]): string[] {
  const width = Math.max(...figures.map((f) => f.name.length), 6);
  const lines = [
    `${'figure'.padEnd(width)}  ${'value'.padStart(12)}  ${'goal'.padEnd(9)}  ${'met'.padEnd(6)}  unit`,
  ];
  for (const f of figures) {
    const goal = f.goalOp === null || f.goal === null ? '' : `${f.goalOp} ${shown(f.goal)}`;
    const met = f.met === null ? '' : f.met ? 'met' : 'MISSED';
    const note = f.note ? ` (${f.note})` : '';
    lines.push(
      `${f.name.padEnd(width)}  ${shown(f.value).padStart(12)}  ${goal.padEnd(9)}  ${met.padEnd(6)}  ${f.unit}${note}`,
    );
  }
  const goals = figures.filter((f) => f.met !== null);
  lines.push(`${goals.filter((f) => f.met).length} of ${goals.length} goals met`);
  return lines;
}

/** What one run measured, for {@link benchFigures}; absent parts were not measured. */
export interface Measured {
  readonly router: RouterFigures;
  readonly record: RecordFigures;
  /** The EC2 scenarios: direct with 1 and 2 interfaces, two-step with 2. */
  readonly ec2: {
    readonly direct1?: PlaybookFigures;
    readonly direct2?: PlaybookFigures;
    readonly twoStep2?: PlaybookFigures;
  };
  readonly bundles?: readonly BundleFigures[];
  /** Why the bundles were not measured, when they were not. */
  readonly bundlesSkipped?: string;
  readonly console?: ConsoleFigures;
  readonly consoleSkipped?: string;
}

const ROUNDS = 'sequential round trips';

/** The worst function's value of a `BundleFigures` field (C's), or why there is none. */
function coldStart(
  m: Measured,
  field: 'overheadPercent' | 'deployedOverheadPercent',
): { value: number | null; note: string } {
  if (!m.bundles) return { value: null, note: `not measured: ${m.bundlesSkipped ?? 'bundles not measured'}` };
  const values = m.bundles.map((b) => ({ name: b.function, value: b[field] }));
  const missing = values.filter((v) => !Number.isFinite(v.value));
  if (missing.length > 0 || values.length === 0)
    return {
      value: null,
      note: `not measured: ${missing.length} of ${values.length} functions have no ${field}`,
    };
  const worst = values.reduce((a, b) => (b.value > a.value ? b : a));
  return { value: worst.value, note: `the most of ${values.length} functions, ${worst.name}` };
}

/**
 * The EC2 figures of one scenario: its EC2 calls until the call that isolated, and its EC2 calls and rounds
 * until the containing state exits (with the checks made after isolating).
 */
function ec2Figures(name: string, goal: number, f: PlaybookFigures | undefined): Figure[] {
  const byService = f?.untilContainedByService;
  const counts = byService ? (byService.EC2 ?? { calls: 0, rounds: 0 }) : undefined;
  const isolated = byService ? f?.ec2CallsUntilIsolated : undefined;
  const notes: string[] = [];
  if (!f) notes.push('not measured: the scenario did not run');
  else if (!byService) notes.push(`not measured: the containing state never exited (${f.status})`);
  else {
    if (f.status !== 'SUCCEEDED') notes.push(`the playbook ended ${f.status}`);
    if (f.notPrepared) notes.push(`groups not prepared: ${f.notPrepared}`);
    else if (f.prepared) notes.push('groups prepared before the incident');
  }
  const note = notes.length ? { note: notes.join('; ') } : {};
  return [
    figure({ name, value: isolated, unit: 'EC2 calls', goal: ['<=', goal], ...note }),
    figure({
      name: name.replace('-until-isolated-', '-in-containing-state-'),
      value: counts?.calls,
      unit: 'EC2 calls, with the checks after isolating',
    }),
    figure({
      name: name.replace('-calls-until-isolated-', '-rounds-in-containing-state-'),
      value: counts?.rounds,
      unit: `EC2 ${ROUNDS}, with the checks after isolating`,
    }),
  ];
}

/** A kind of delivery's DynamoDB rounds, beside their goal, and its DynamoDB calls (the worst delivery). */
function deliveryFigures(kind: string, d: RouterFigures['perDelivery']['repeat'], goal: number): Figure[] {
  return [
    figure({
      name: `router-${kind}-dynamodb-rounds`,
      value: d.worst.rounds.DynamoDB,
      unit: `DynamoDB ${ROUNDS}`,
      goal: ['<=', goal],
    }),
    figure({ name: `router-${kind}-dynamodb-calls`, value: d.worst.calls.DynamoDB, unit: 'DynamoDB calls' }),
  ];
}

/** Every figure of the table, each beside its goal, and the informational ones beside them. */
export function benchFigures(m: Measured): Figure[] {
  const r = m.router.perDelivery;
  const rec = m.record;
  const cold = coldStart(m, 'overheadPercent');
  const deployed = coldStart(m, 'deployedOverheadPercent');
  const consoleWorst = m.console ? Math.max(...m.console.queries.map((q) => q.perReturned)) : null;
  return [
    ...deliveryFigures('new-finding', r.newFinding, 3),
    figure({
      name: 'router-new-finding-sfn-calls',
      value: r.newFinding.worst.calls.SFN,
      unit: 'SFN calls',
      goal: ['<=', 1],
    }),
    figure({
      name: 'router-new-finding-all-services-rounds',
      value: r.newFinding.worst.rounds.all,
      unit: `${ROUNDS}, every service (DynamoDB, SFN, KMS, S3)`,
    }),
    ...deliveryFigures('repeat', r.repeat, 1),
    ...deliveryFigures('correlated', r.correlated, 3),
    figure({
      name: 'router-throughput-ratio',
      value: m.router.throughputRatio,
      unit: 'router findings/s ÷ bare conditional PutItem/s, concurrency 8',
      goal: ['>=', 0.15],
    }),
    figure({
      name: 'router-findings-per-second',
      value: m.router.throughput.findingsPerSecond,
      unit: 'findings/s',
    }),
    figure({
      name: 'router-writes-only-ratio',
      value: m.router.writesOnly.ratio,
      unit: "the router's writes for a new finding, no router code, per second ÷ bare conditional PutItem/s: the ceiling of router-throughput-ratio here",
    }),
    figure({
      name: 'bare-conditional-putitem-per-second',
      value: m.router.barePuts.putsPerSecond,
      unit: 'PutItem/s',
    }),
    figure({
      name: 'recorder-dynamodb-calls-per-step',
      value: rec.worstStep.calls.DynamoDB,
      unit: 'DynamoDB calls',
      goal: ['<=', 1],
    }),
    figure({
      name: 'recorder-dynamodb-rounds-per-step',
      value: rec.worstStep.rounds.DynamoDB,
      unit: `DynamoDB ${ROUNDS}`,
    }),
    figure({ name: 'recorder-kms-calls-per-step', value: rec.worstStep.calls.KMS ?? 0, unit: 'KMS calls' }),
    figure({ name: 'recorder-s3-calls-per-step', value: rec.worstStep.calls.S3 ?? 0, unit: 'S3 calls' }),
    figure({
      name: 'recorder-dynamodb-calls-per-action',
      value: rec.perAction.dynamoCallsAfterRead,
      unit: 'DynamoDB calls (started + final), besides one read per invocation',
      goal: ['<=', 2],
    }),
    figure({
      name: 'recorder-dynamodb-reads-per-action',
      value: rec.perAction.dynamoReads,
      unit: 'DynamoDB reads',
    }),
    figure({
      name: 'recorder-dynamodb-rounds-per-action',
      value: rec.perAction.rounds.DynamoDB,
      unit: `DynamoDB ${ROUNDS}`,
    }),
    figure({ name: 'recorder-kms-calls-per-action', value: rec.perAction.calls.KMS ?? 0, unit: 'KMS calls' }),
    figure({ name: 'recorder-s3-calls-per-action', value: rec.perAction.calls.S3 ?? 0, unit: 'S3 calls' }),
    ...ec2Figures('ec2-direct-calls-until-isolated-1-eni', 2, m.ec2.direct1),
    ...ec2Figures('ec2-direct-calls-until-isolated-2-eni', 3, m.ec2.direct2),
    ...ec2Figures('ec2-two-step-calls-until-isolated-2-eni', 5, m.ec2.twoStep2),
    figure({
      name: 'ec2-prepare-calls-per-vpc',
      value: m.ec2.direct1?.prepared ? (m.ec2.direct1.prepared.counts.EC2?.calls ?? 0) : null,
      unit: 'EC2 calls of prepareIsolationGroups in a new VPC, before any incident',
      ...(m.ec2.direct1?.notPrepared ? { note: `not measured: ${m.ec2.direct1.notPrepared}` } : {}),
    }),
    figure({
      name: 'cold-start-overhead-percent',
      value: cold.value,
      unit: "% import CPU time of Cordon's bundle over the clients-only bundle",
      goal: ['<=', 5],
      note: cold.note,
    }),
    figure({
      name: 'cold-start-deployed-overhead-percent',
      value: deployed.value,
      unit: '% the same, with the deployed NODE_OPTIONS and source map',
      goal: ['<=', 5],
      note: deployed.note,
    }),
    figure({
      name: 'console-read-amplification',
      value: consoleWorst,
      unit: 'items read per item returned, the worst query',
      goal: ['<=', 1.1],
      ...(m.console ? {} : { note: `not measured: ${m.consoleSkipped ?? 'console not measured'}` }),
    }),
  ];
}
