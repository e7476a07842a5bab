/** The test EventBridge matcher, checked against the examples of the EventBridge User Guide. */
import { describe, expect, it } from 'vitest';
import { matchesEventPattern as matches, wildcardMatches } from '../../support/event-pattern.ts';

const event = {
  source: 'aws.ec2',
  'detail-type': 'EC2 Instance State-change Notification',
  time: '2017-10-02T18:43:48Z',
  region: 'us-east-1',
  resources: [
    'arn:aws:autoscaling:us-east-1:123456789012:group/asg',
    'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
  ],
  detail: {
    state: 'running',
    'c-count': 5,
    'x-limit': 301.8,
    count: '5',
    flag: true,
    responseElements: null,
    eventVersion: '',
    sourceIPAddress: '10.0.0.123',
    tags: [],
    FileName: 'photo.PNG',
    findings: [
      { ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub', Severity: { Label: 'LOW' } },
      { ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty', Severity: { Label: 'HIGH' } },
    ],
  },
};

describe('the EventBridge pattern matcher', () => {
  it('matches exact values, ANDs fields and ORs the values of a field', () => {
    expect(matches({ source: ['aws.ec2'], detail: { state: ['stopped', 'running'] } }, event)).toBe(true);
    expect(matches({ source: ['aws.ec2'], detail: { state: ['stopped'] } }, event)).toBe(false);
    expect(matches({ source: ['aws.s3'], detail: { state: ['running'] } }, event)).toBe(false);
  });

  it('requires every pattern field in the event, nested the same way', () => {
    expect(matches({ detail: { missing: ['x'] } }, event)).toBe(false);
    expect(matches({ state: ['running'] }, event)).toBe(false);
  });

  it('matches an event array when any element matches', () => {
    expect(
      matches({ resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f', 'other'] }, event),
    ).toBe(true);
    expect(matches({ resources: ['arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f'] }, event)).toBe(
      false,
    );
  });

  it('matches an array of objects element by element, keeping the fields of one element together', () => {
    expect(matches({ detail: { findings: { ProductArn: [{ suffix: '/guardduty' }] } } }, event)).toBe(true);
    const sameElement = {
      detail: { findings: { ProductArn: [{ suffix: '/guardduty' }], Severity: { Label: ['HIGH'] } } },
    };
    expect(matches(sameElement, event)).toBe(true);
    const acrossElements = {
      detail: { findings: { ProductArn: [{ suffix: '/guardduty' }], Severity: { Label: ['LOW'] } } },
    };
    expect(matches(acrossElements, event)).toBe(false);
  });

  it('never equates a string with a number, nor null with an empty string', () => {
    expect(matches({ detail: { count: [5] } }, event)).toBe(false);
    expect(matches({ detail: { count: ['5'] } }, event)).toBe(true);
    expect(matches({ detail: { 'c-count': [5] } }, event)).toBe(true);
    expect(matches({ detail: { responseElements: [null] } }, event)).toBe(true);
    expect(matches({ detail: { responseElements: [''] } }, event)).toBe(false);
    expect(matches({ detail: { eventVersion: [''] } }, event)).toBe(true);
    expect(matches({ detail: { flag: [true] } }, event)).toBe(true);
  });

  it('matches prefix and suffix, optionally ignoring case, on strings only', () => {
    expect(matches({ time: [{ prefix: '2017-10-02' }] }, event)).toBe(true);
    expect(matches({ time: [{ prefix: '2018' }] }, event)).toBe(false);
    expect(matches({ detail: { FileName: [{ suffix: '.png' }] } }, event)).toBe(false);
    expect(matches({ detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, event)).toBe(
      true,
    );
    expect(matches({ source: [{ prefix: { 'equals-ignore-case': 'AWS.' } }] }, event)).toBe(true);
    expect(matches({ detail: { 'c-count': [{ prefix: '5' }] } }, event)).toBe(false);
  });

  it('matches equals-ignore-case', () => {
    expect(matches({ detail: { state: [{ 'equals-ignore-case': 'RUNNING' }] } }, event)).toBe(true);
    expect(matches({ detail: { state: [{ 'equals-ignore-case': 'RUN' }] } }, event)).toBe(false);
  });

  it('matches wildcards, with escapes', () => {
    expect(matches({ region: [{ wildcard: 'us-*-1' }] }, event)).toBe(true);
    expect(matches({ region: [{ wildcard: 'eu-*' }] }, event)).toBe(false);
    expect(wildcardMatches('a\\*b', 'a*b')).toBe(true);
    expect(wildcardMatches('a\\*b', 'axb')).toBe(false);
    expect(wildcardMatches('*', '')).toBe(true);
    expect(wildcardMatches('a.b*', 'axb')).toBe(false);
  });

  it('matches anything-but values, lists, prefixes, suffixes, ignore-case and wildcards', () => {
    expect(matches({ detail: { state: [{ 'anything-but': 'initializing' }] } }, event)).toBe(true);
    expect(matches({ detail: { state: [{ 'anything-but': ['stopped', 'running'] }] } }, event)).toBe(false);
    expect(matches({ detail: { 'c-count': [{ 'anything-but': 5 }] } }, event)).toBe(false);
    expect(matches({ detail: { state: [{ 'anything-but': { prefix: 'run' } }] } }, event)).toBe(false);
    expect(matches({ detail: { state: [{ 'anything-but': { suffix: 'ing' } }] } }, event)).toBe(false);
    expect(
      matches({ detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['RUNNING'] } }] } }, event),
    ).toBe(false);
    expect(matches({ detail: { state: [{ 'anything-but': { wildcard: 'r*g' } }] } }, event)).toBe(false);
    expect(matches({ detail: { state: [{ 'anything-but': { wildcard: 's*' } }] } }, event)).toBe(true);
  });

  it('does not match anything-but on a missing field', () => {
    expect(matches({ detail: { missing: [{ 'anything-but': 'x' }] } }, event)).toBe(false);
  });

  it('matches numeric comparisons and ranges on numbers only', () => {
    expect(matches({ detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, event)).toBe(true);
    expect(matches({ detail: { 'c-count': [{ numeric: ['>', 5] }] } }, event)).toBe(false);
    expect(matches({ detail: { 'x-limit': [{ numeric: ['>=', 301.8] }] } }, event)).toBe(true);
    expect(matches({ detail: { 'x-limit': [{ numeric: ['=', 301.8] }] } }, event)).toBe(true);
    expect(matches({ detail: { 'x-limit': [{ numeric: ['<', 301.8] }] } }, event)).toBe(false);
    expect(matches({ detail: { count: [{ numeric: ['=', 5] }] } }, event)).toBe(false);
  });

  it('matches exists on leaf fields only', () => {
    expect(matches({ detail: { state: [{ exists: true }] } }, event)).toBe(true);
    expect(matches({ detail: { missing: [{ exists: false }] } }, event)).toBe(true);
    expect(matches({ detail: { state: [{ exists: false }] } }, event)).toBe(false);
    expect(matches({ detail: { responseElements: [{ exists: true }] } }, event)).toBe(true);
    expect(matches({ detail: { tags: [{ exists: true }] } }, event)).toBe(false);
    expect(matches({ detail: [{ exists: true }] }, event)).toBe(false);
    expect(matches({ absent: { deeper: [{ exists: false }] } }, event)).toBe(true);
  });

  it('matches IPv4 CIDR ranges', () => {
    expect(matches({ detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, event)).toBe(true);
    expect(matches({ detail: { sourceIPAddress: [{ cidr: '10.0.1.0/24' }] } }, event)).toBe(false);
  });

  it('matches $or alternatives', () => {
    expect(matches({ $or: [{ source: ['aws.s3'] }, { detail: { state: ['running'] } }] }, event)).toBe(true);
    expect(matches({ $or: [{ source: ['aws.s3'] }, { detail: { state: ['stopped'] } }] }, event)).toBe(false);
  });

  it('throws on patterns EventBridge would refuse or operators it does not know', () => {
    expect(() => matches({ source: 'aws.ec2' }, event)).toThrow(/array of matchers/);
    expect(() => matches({ source: [{ contains: 'ec2' }] }, event)).toThrow(/unsupported pattern operator/);
    expect(() => matches({ detail: { 'c-count': [{ numeric: ['>>', 1] }] } }, event)).toThrow(/numeric/);
    expect(() => matches({}, event)).toThrow(/non-empty/);
  });
});
