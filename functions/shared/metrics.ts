/**
 * Metrics in CloudWatch's embedded metric format (EMF): one JSON log line with an `_aws` block, which
 * CloudWatch Logs turns into metrics with no PutMetricData call and no dependency
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 *
 * Each line is published twice: with no dimension (what the operations dashboard graphs) and, when
 * dimensions are given, with them (to break a figure down, e.g. by playbook).
 */

/** The namespace of every Cordon metric. */
export const METRIC_NAMESPACE = 'Cordon';

/** The metrics Cordon's functions emit and the dashboard reads, by name. */
export const METRICS = {
  /** Router: an incident was opened for a finding. Count. */
  incidentsOpened: 'IncidentsOpened',
  /** Router: an event or a finding could not be read and was kept whole with its reason. Count. */
  rejectedEvents: 'RejectedEvents',
  /** mark-incident: from the incident's first sighting to containment. Seconds. */
  timeToContainSeconds: 'TimeToContainSeconds',
  /** Approval functions: requests still waiting for a decision, counted when one is made or decided. */
  pendingApprovals: 'PendingApprovals',
} as const;

/** The units CloudWatch accepts that Cordon uses. */
export type MetricUnit = 'Count' | 'Seconds' | 'Milliseconds' | 'Bytes' | 'Percent' | 'None';

/** One metric's value and unit. */
export interface MetricDatum {
  readonly value: number;
  readonly unit: MetricUnit;
}

export interface MetricOptions {
  /** Default {@link METRIC_NAMESPACE}. */
  readonly namespace?: string;
  /** Dimension names and values (at most 30). Default none. */
  readonly dimensions?: Readonly<Record<string, string>>;
  /** The time of the figures. Default now. */
  readonly timestamp?: Date;
  /** Other fields to keep on the line, searchable in Logs Insights but not metrics. */
  readonly properties?: Readonly<Record<string, unknown>>;
}

/** EMF's documented limits. */
const MAX_METRICS = 100;
const MAX_DIMENSIONS = 30;

/**
 * One EMF log line for `metrics` (name → value and unit), or `undefined` when no value is a finite
 * number: CloudWatch would reject the whole line, so such values are left out rather than sent.
 * Throws for a misuse that no run can fix: more than 100 metrics or 30 dimensions, or an empty name.
 */
export function metricLine(
  metrics: Readonly<Record<string, MetricDatum>>,
  options: MetricOptions = {},
): string | undefined {
  const entries = Object.entries(metrics).filter(([, datum]) => Number.isFinite(datum.value));
  if (entries.length > MAX_METRICS) {
    throw new RangeError(`at most ${MAX_METRICS} metrics go on one EMF line, got ${entries.length}`);
  }
  const dimensions = options.dimensions ?? {};
  const dimensionNames = Object.keys(dimensions);
  if (dimensionNames.length > MAX_DIMENSIONS) {
    throw new RangeError(
      `at most ${MAX_DIMENSIONS} dimensions go on one EMF line, got ${dimensionNames.length}`,
    );
  }
  for (const name of [...entries.map(([n]) => n), ...dimensionNames]) {
    if (name.trim() === '' || name === '_aws')
      throw new RangeError(`"${name}" cannot name a metric or dimension`);
  }
  if (entries.length === 0) return undefined;
  // A prototype-free object: a metric, dimension or property named `__proto__` is a field like any other.
  const line: Record<string, unknown> = Object.create(null);
  Object.assign(line, options.properties, {
    _aws: {
      Timestamp: (options.timestamp ?? new Date()).getTime(),
      CloudWatchMetrics: [
        {
          Namespace: options.namespace ?? METRIC_NAMESPACE,
          Dimensions: dimensionNames.length > 0 ? [dimensionNames, []] : [[]],
          Metrics: entries.map(([name, datum]) => ({ Name: name, Unit: datum.unit })),
        },
      ],
    },
  });
  for (const [name, value] of Object.entries(dimensions)) line[name] = value;
  for (const [name, datum] of entries) line[name] = datum.value;
  return JSON.stringify(line);
}

/**
 * Writes one EMF line (see {@link metricLine}) to standard output, where Lambda sends it to CloudWatch
 * Logs. Never throws: a figure that cannot be written must not fail the action that produced it.
 */
export function emitMetrics(
  metrics: Readonly<Record<string, MetricDatum>>,
  options: MetricOptions & { readonly write?: (line: string) => void } = {},
): void {
  // The local runtime turns metrics off: there is no CloudWatch to read these lines, only a terminal.
  if (process.env.CORDON_METRICS === 'off') return;
  try {
    const line = metricLine(metrics, options);
    if (line === undefined) return;
    (options.write ?? ((text: string) => process.stdout.write(`${text}\n`)))(line);
  } catch {
    // Swallowed on purpose: see above. Unit tests call metricLine to see the error.
  }
}
