/**
 * The sandbox account's state: plain, JSON-serializable records keyed by id. Times are epoch
 * milliseconds of the sandbox clock; handlers turn them into `Date`s in their answers.
 */
import type { Timings } from './state/common.ts';
import type { Ec2State } from './state/ec2.ts';
import type {
  AutoScalingGroupState,
  BackupState,
  ClassicLoadBalancerState,
  IamState,
  KmsState,
  S3State,
  SentEmail,
  TargetGroupState,
} from './state/services.ts';

export type * from './state/common.ts';
export type * from './state/ec2.ts';
export type * from './state/services.ts';

export interface AccountState {
  accountId: string;
  region: string;
  callerArn: string;
  callerUserId: string;
  timings: Timings;
  /** Commands that always fail with the service's access-denied error, as `Service:Command` or `Command`. */
  denied: string[];
  /** Sender identities SES accepts; empty accepts every sender. */
  verifiedIdentities: string[];
  /** Role ARNs of other accounts that `AssumeRole` accepts. */
  externalRoleArns: string[];
  /** Counter behind the generated ids. */
  nextId: number;
  ec2: Ec2State;
  autoScaling: { groups: Record<string, AutoScalingGroupState> };
  elbv2: { targetGroups: Record<string, TargetGroupState> };
  elb: { loadBalancers: Record<string, ClassicLoadBalancerState> };
  iam: IamState;
  backup: BackupState;
  ses: { sent: SentEmail[] };
  kms: KmsState;
  s3: S3State;
}

/**
 * An empty record without a prototype, for records keyed by names that callers choose (S3 keys, KMS
 * aliases): a key such as `__proto__` is then an ordinary entry.
 */
export function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Makes a fresh id such as `i-00000000000000001`, deterministic for a given state. */
export function newId(state: AccountState, prefix: string, width = 17): string {
  state.nextId += 1;
  return `${prefix}-${state.nextId.toString(16).padStart(width, '0')}`;
}

/** Deep copy with object keys sorted, so that two equal states serialize identically. */
export function sortedCopy<T>(value: T): T {
  return sortValue(value) as T;
}

function sortValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      // defineProperty, not assignment: an S3 key named `__proto__` must stay an entry.
      if (item !== undefined)
        Object.defineProperty(out, key, {
          value: sortValue(item),
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
    return out;
  }
  return value;
}
