/**
 * The alarm mappings `cordon.config.ts` ships commented out are real settings: uncommented, they parse, and
 * they map the CloudWatch fixtures' alarms to a playbook.
 */
import { readFileSync } from 'node:fs';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { parseSettings } from '#shared/settings';
import { triage } from '../../../cli/commands/triage.ts';
import shipped from '../../../cordon.config.ts';
import { fixtureText } from '../../support/fixtures.ts';

const CONFIG = new URL('../../../cordon.config.ts', import.meta.url);

/** The `alarms: [...]` block of the config file with its `// ` comments taken off, evaluated. */
function uncommentedAlarms(): unknown {
  const text = readFileSync(CONFIG, 'utf8');
  const block = /^ {2}alarms: \[\n((?: {4}\/\/.*\n)+) {2}\],$/m.exec(text);
  if (!block?.[1]) throw new Error('cordon.config.ts has no commented alarms: [...] block');
  const body = block[1]
    .split('\n')
    .map((line) => line.replace(/^ {4}\/\/ ?/, ''))
    .join('\n');
  return runInNewContext(`[${body}]`);
}

describe('the alarm examples in cordon.config.ts', () => {
  it('ship commented out: the shipped settings map no alarm', () => {
    expect(parseSettings(shipped).alarms).toEqual([]);
  });

  it('parse as settings once uncommented', () => {
    const alarms = uncommentedAlarms();
    const settings = parseSettings({ ...shipped, alarms });
    expect(settings.alarms).toEqual([
      { name: 'ServerCpuTooHigh', playbook: 'ec2-compromise', resourceType: 'instance', severity: 7 },
      { prefix: 'TotalNetwork', playbook: 'ec2-compromise', resourceType: 'instance', severity: 6 },
      {
        name: 'ServiceAggregatedAlarm',
        playbook: 'ec2-compromise',
        resourceType: 'instance',
        resourceId: 'i-0aggregated00000001',
        severity: 8,
      },
    ]);
  });

  it('map the real alarm events (by name, by prefix, a composite with its resourceId) to a playbook', () => {
    const settings = parseSettings({ ...shipped, alarms: uncommentedAlarms() });
    for (const [file, instance] of [
      ['cloudwatch/alarm-state-change-single-metric.json', 'i-12345678901234567'],
      ['cloudwatch/alarm-state-change-metric-math.json', undefined],
      ['cloudwatch/alarm-state-change-composite-with-suppressor.json', 'i-0aggregated00000001'],
    ] as const) {
      const shippedAnswer = triage(fixtureText(file), parseSettings(shipped));
      expect(shippedAnswer, file).toMatchObject({ ok: false, kind: 'rejected' });
      const result = triage(fixtureText(file), settings);
      if (!result.ok) throw new Error(`${file}: ${result.reason}`);
      expect(
        result.decisions.map((d) => d.playbook),
        file,
      ).toEqual(['ec2-compromise']);
      if (instance) expect(result.decisions[0]?.resource?.id, file).toBe(instance);
    }
  });
});
