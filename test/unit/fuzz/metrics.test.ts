import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { emitMetrics, METRIC_NAMESPACE, METRICS, metricLine } from '#shared/metrics';

const AT = new Date('2026-11-28T10:00:00.000Z');

describe('embedded metric format lines', () => {
  it('writes one JSON line whose _aws block names each metric with its unit and the values at the top level', () => {
    const line = metricLine({ [METRICS.incidentsOpened]: { value: 1, unit: 'Count' } }, { timestamp: AT });
    expect(line).not.toContain('\n');
    expect(JSON.parse(line ?? '')).toEqual({
      _aws: {
        Timestamp: AT.getTime(),
        CloudWatchMetrics: [
          {
            Namespace: METRIC_NAMESPACE,
            Dimensions: [[]],
            Metrics: [{ Name: 'IncidentsOpened', Unit: 'Count' }],
          },
        ],
      },
      IncidentsOpened: 1,
    });
  });

  it('publishes a figure both with its dimensions and without any', () => {
    const parsed = JSON.parse(
      metricLine(
        { [METRICS.timeToContainSeconds]: { value: 42.5, unit: 'Seconds' } },
        { timestamp: AT, dimensions: { Playbook: 'ec2-compromise' }, properties: { incidentId: 'inc-1' } },
      ) ?? '',
    );
    expect(parsed._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Playbook'], []]);
    expect(parsed).toMatchObject({
      Playbook: 'ec2-compromise',
      TimeToContainSeconds: 42.5,
      incidentId: 'inc-1',
    });
  });

  it('keeps a property from overwriting the _aws block or a value', () => {
    const parsed = JSON.parse(
      metricLine(
        { RejectedEvents: { value: 1, unit: 'Count' } },
        { timestamp: AT, properties: { _aws: 'x', RejectedEvents: 'many' } },
      ) ?? '',
    );
    expect(parsed.RejectedEvents).toBe(1);
    expect(parsed._aws.CloudWatchMetrics[0].Namespace).toBe('Cordon');
  });

  it('leaves out values that are not finite numbers, and writes nothing when none is left', () => {
    const parsed = JSON.parse(
      metricLine(
        { A: { value: Number.NaN, unit: 'Count' }, B: { value: 2, unit: 'Count' } },
        { timestamp: AT },
      ) ?? '',
    );
    expect(parsed._aws.CloudWatchMetrics[0].Metrics).toEqual([{ Name: 'B', Unit: 'Count' }]);
    expect(parsed.A).toBeUndefined();
    expect(metricLine({ A: { value: Number.POSITIVE_INFINITY, unit: 'Seconds' } })).toBeUndefined();
    const written: string[] = [];
    emitMetrics({ A: { value: Number.NaN, unit: 'Count' } }, { write: (l) => written.push(l) });
    expect(written).toEqual([]);
  });

  it('refuses more than 100 metrics, more than 30 dimensions or an empty name', () => {
    const many = Object.fromEntries(
      Array.from({ length: 101 }, (_, i) => [`M${i}`, { value: i, unit: 'Count' as const }]),
    );
    expect(() => metricLine(many)).toThrow('at most 100 metrics go on one EMF line, got 101');
    const dimensions = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`D${i}`, 'x']));
    expect(() => metricLine({ A: { value: 1, unit: 'Count' } }, { dimensions })).toThrow(
      'at most 30 dimensions go on one EMF line, got 31',
    );
    expect(() => metricLine({ ' ': { value: 1, unit: 'Count' } })).toThrow('cannot name a metric');
  });

  it('writes to standard output by default and never throws from emitMetrics', () => {
    const written: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      emitMetrics({ [METRICS.pendingApprovals]: { value: 3, unit: 'Count' } });
      emitMetrics(
        Object.fromEntries(
          Array.from({ length: 101 }, (_, i) => [`M${i}`, { value: i, unit: 'Count' as const }]),
        ),
      );
    } finally {
      process.stdout.write = original;
    }
    expect(written).toHaveLength(1);
    expect(written[0]).toMatch(/^\{.*"PendingApprovals":3\}\n$/);
  });

  it('keeps a metric named __proto__ as a field of the line', () => {
    const line = metricLine({ ['__proto__']: { value: 0, unit: 'Count' } }, { timestamp: AT });
    expect(Object.keys(JSON.parse(line ?? '{}'))).toContain('__proto__');
  });

  it('for any metrics, dimensions and properties, writes one parseable line CloudWatch can extract, or nothing', () => {
    const name = fc.string({ minLength: 1, maxLength: 20 }).filter((n) => n.trim() !== '' && n !== '_aws');
    const datum = fc.record({
      value: fc.oneof(fc.double(), fc.integer()),
      unit: fc.constantFrom('Count' as const, 'Seconds' as const, 'Milliseconds' as const),
    });
    fc.assert(
      fc.property(
        fc.dictionary(name, datum, { maxKeys: 10 }),
        fc.dictionary(name, fc.string(), { maxKeys: 5 }),
        fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 }),
        (metrics, dimensions, properties) => {
          // A dimension that shares a metric's name would be ambiguous: keep them apart.
          for (const key of Object.keys(metrics)) delete dimensions[key];
          const line = metricLine(metrics, { dimensions, properties, timestamp: AT });
          const finite = Object.entries(metrics).filter(([, d]) => Number.isFinite(d.value));
          if (finite.length === 0) return line === undefined;
          expect(line).not.toContain('\n');
          const parsed = JSON.parse(line ?? '');
          const directive = parsed._aws.CloudWatchMetrics[0];
          expect(directive.Metrics.map((m: { Name: string }) => m.Name).sort()).toEqual(
            finite.map(([n]) => n).sort(),
          );
          for (const [n, d] of finite) expect(parsed[n]).toBe(Object.is(d.value, -0) ? 0 : d.value);
          for (const [n, v] of Object.entries(dimensions)) expect(parsed[n]).toBe(v);
          return true;
        },
      ),
    );
  });
});
