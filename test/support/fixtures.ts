/** The real events of test/fixtures/events, read once and cloned for each use (never edited). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSettings, type Settings, type SettingsInput } from '#shared/settings';

const ROOT = fileURLToPath(new URL('../fixtures/events/', import.meta.url));

/** Every fixture's path relative to test/fixtures/events, e.g. `guardduty/iam-tor-ip-caller.eventbridge.json`. */
export const FIXTURE_NAMES: readonly string[] = ['cloudwatch', 'guardduty', 'securityhub'].flatMap((dir) =>
  readdirSync(join(ROOT, dir))
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => `${dir}/${file}`),
);

const cache = new Map<string, string>();

/** A fresh copy of a fixture event. */
export function fixture(name: string): unknown {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(join(ROOT, name), 'utf8');
    cache.set(name, text);
  }
  return JSON.parse(text) as unknown;
}

/** A fixture's text, as a file would give it. */
export function fixtureText(name: string): string {
  fixture(name);
  return cache.get(name) ?? '';
}

/** Valid settings for tests, with the CloudWatch fixtures' alarms mapped. */
export function testSettings(overrides: Partial<SettingsInput> = {}): Settings {
  return parseSettings({
    approvers: ['oncall@example.com'],
    sender: 'cordon@example.com',
    playbookModes: { 'ec2-compromise': 'automatic', 'iam-credential-compromise': 'automatic' },
    alarms: [
      { name: 'ServerCpuTooHigh', playbook: 'ec2-compromise', severity: 7 },
      { prefix: 'TotalNetwork', playbook: 'ec2-compromise', severity: 6 },
      {
        name: 'ServiceAggregatedAlarm',
        playbook: 'ec2-compromise',
        resourceId: 'i-0aggregated00000001',
        severity: 8,
      },
    ],
    securityHubProducts: ['aws/guardduty', 'aws/securityhub'],
    ...overrides,
  });
}
