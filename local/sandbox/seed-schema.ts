/**
 * The schema of an account seed ({@link AccountSeed}) as a person writes it in a file (`cordon run
 * --account <file>`; an example is docs/examples/account.json). A seed that does not match is refused
 * with each bad field named by its path (`instances[0].id: ...`), before anything runs; an unknown field
 * (a typo) is refused too, rather than silently ignored.
 */
import * as z from 'zod/mini';
import type { AccountSeed } from './seed.ts';

const text = z.string().check(z.minLength(1, 'must be non-empty text'));
const tags = z.record(z.string(), z.string());
const time = z.union([z.string(), z.number()]);
const policyDocument = z.union([z.string(), z.record(z.string(), z.unknown())]);
const port = z.number().check(z.int(), z.gte(0), z.lte(65535));

const rule = z.strictObject({
  protocol: z.optional(z.string()),
  port: z.optional(z.union([port, z.tuple([port, port])])),
  cidr: z.optional(z.string()),
  cidrV6: z.optional(z.string()),
  group: z.optional(z.string()),
  description: z.optional(z.string()),
});

const securityGroup = z.strictObject({
  id: text,
  name: z.optional(z.string()),
  description: z.optional(z.string()),
  vpc: z.optional(z.string()),
  ingress: z.optional(z.array(rule)),
  egress: z.optional(z.array(rule)),
  tags: z.optional(tags),
});

const vpc = z.strictObject({
  id: text,
  cidr: z.optional(z.string()),
  isDefault: z.optional(z.boolean()),
  subnets: z.optional(
    z.array(
      z.strictObject({
        id: text,
        cidr: z.optional(z.string()),
        az: z.optional(z.string()),
        tags: z.optional(tags),
      }),
    ),
  ),
  tags: z.optional(tags),
});

const networkAcl = z.strictObject({
  id: text,
  vpc: text,
  subnets: z.optional(z.array(z.string())),
  entries: z.optional(
    z.array(
      z.strictObject({
        rule: z.number().check(z.int()),
        protocol: z.optional(z.string()),
        action: z.enum(['allow', 'deny']),
        egress: z.optional(z.boolean()),
        cidr: z.optional(z.string()),
        ports: z.optional(z.tuple([port, port])),
      }),
    ),
  ),
  tags: z.optional(tags),
});

const instance = z.strictObject({
  id: text,
  type: z.optional(z.string()),
  image: z.optional(z.string()),
  state: z.optional(z.enum(['running', 'stopped'])),
  launchTime: z.optional(time),
  subnet: z.optional(z.string()),
  groups: z.optional(z.array(z.string())),
  networkInterfaces: z.optional(
    z.array(
      z.strictObject({
        id: z.optional(z.string()),
        subnet: z.optional(z.string()),
        groups: z.optional(z.array(z.string())),
        privateIp: z.optional(z.string()),
        deleteOnTermination: z.optional(z.boolean()),
        description: z.optional(z.string()),
      }),
    ),
  ),
  volumes: z.optional(
    z.array(
      z.strictObject({
        id: z.optional(z.string()),
        device: z.optional(z.string()),
        size: z.optional(z.number().check(z.positive())),
        type: z.optional(z.string()),
        deleteOnTermination: z.optional(z.boolean()),
        encrypted: z.optional(z.boolean()),
        tags: z.optional(tags),
      }),
    ),
  ),
  profile: z.optional(z.string()),
  tags: z.optional(tags),
  terminationProtection: z.optional(z.boolean()),
  stopProtection: z.optional(z.boolean()),
  shutdownBehavior: z.optional(z.enum(['stop', 'terminate'])),
  consoleOutput: z.optional(z.string()),
  keyName: z.optional(z.string()),
});

const volume = z.strictObject({
  id: text,
  size: z.optional(z.number().check(z.positive())),
  type: z.optional(z.string()),
  az: z.optional(z.string()),
  encrypted: z.optional(z.boolean()),
  snapshot: z.optional(z.string()),
  tags: z.optional(tags),
});

const snapshot = z.strictObject({
  id: text,
  volume: text,
  size: z.optional(z.number().check(z.positive())),
  description: z.optional(z.string()),
  startTime: z.optional(time),
  state: z.optional(z.enum(['pending', 'completed'])),
  tags: z.optional(tags),
});

const user = z.strictObject({
  name: text,
  path: z.optional(z.string()),
  accessKeys: z.optional(
    z.array(
      z.strictObject({
        id: text,
        status: z.optional(z.enum(['Active', 'Inactive'])),
        created: z.optional(time),
        lastUsed: z.optional(
          z.strictObject({ at: time, service: z.optional(z.string()), region: z.optional(z.string()) }),
        ),
      }),
    ),
  ),
  loginProfile: z.optional(
    z.union([z.boolean(), z.strictObject({ passwordResetRequired: z.optional(z.boolean()) })]),
  ),
  mfaDevices: z.optional(z.array(z.string())),
  inlinePolicies: z.optional(z.record(z.string(), policyDocument)),
  attachedPolicies: z.optional(z.array(z.string())),
  tags: z.optional(tags),
});

const role = z.strictObject({
  name: text,
  path: z.optional(z.string()),
  trustPolicy: z.optional(policyDocument),
  description: z.optional(z.string()),
  inlinePolicies: z.optional(z.record(z.string(), policyDocument)),
  attachedPolicies: z.optional(z.array(z.string())),
  tags: z.optional(tags),
});

const count = z.number().check(z.int(), z.gte(0));

/** An account seed, every field optional, no field unknown. */
export const AccountSeedSchema = z.strictObject({
  accountId: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))),
  region: z.optional(text),
  caller: z.optional(z.strictObject({ arn: z.optional(z.string()), userId: z.optional(z.string()) })),
  timings: z.optional(
    z.strictObject({
      snapshotMs: z.optional(count),
      restorePendingMs: z.optional(count),
      restoreRunningMs: z.optional(count),
      instanceTransitionMs: z.optional(count),
      deregistrationDelayMs: z.optional(count),
    }),
  ),
  denied: z.optional(z.array(z.string())),
  vpcs: z.optional(z.array(vpc)),
  networkAcls: z.optional(z.array(networkAcl)),
  securityGroups: z.optional(z.array(securityGroup)),
  instances: z.optional(z.array(instance)),
  volumes: z.optional(z.array(volume)),
  snapshots: z.optional(z.array(snapshot)),
  autoScalingGroups: z.optional(
    z.array(
      z.strictObject({
        name: text,
        instances: z.optional(z.array(z.string())),
        min: z.optional(count),
        max: z.optional(count),
        desired: z.optional(count),
        targetGroups: z.optional(z.array(z.string())),
        loadBalancers: z.optional(z.array(z.string())),
        tags: z.optional(tags),
      }),
    ),
  ),
  targetGroups: z.optional(
    z.array(
      z.strictObject({
        name: text,
        arn: z.optional(z.string()),
        protocol: z.optional(z.string()),
        port: z.optional(port),
        vpc: z.optional(z.string()),
        targets: z.optional(z.array(z.string())),
      }),
    ),
  ),
  loadBalancers: z.optional(
    z.array(
      z.strictObject({
        name: text,
        instances: z.optional(z.array(z.string())),
        vpc: z.optional(z.string()),
      }),
    ),
  ),
  iam: z.optional(
    z.strictObject({
      users: z.optional(z.array(user)),
      roles: z.optional(z.array(role)),
      instanceProfiles: z.optional(
        z.array(z.strictObject({ name: text, roles: z.optional(z.array(z.string())) })),
      ),
    }),
  ),
  backup: z.optional(
    z.strictObject({
      vaults: z.optional(z.array(z.strictObject({ name: text }))),
      recoveryPoints: z.optional(
        z.array(
          z.strictObject({
            arn: z.optional(z.string()),
            vault: z.optional(z.string()),
            resource: text,
            created: z.optional(time),
            metadata: z.optional(z.record(z.string(), z.string())),
            restoreFailure: z.optional(z.string()),
          }),
        ),
      ),
    }),
  ),
  sesVerifiedIdentities: z.optional(z.array(z.string())),
  externalRoleArns: z.optional(z.array(z.string())),
  kms: z.optional(
    z.strictObject({
      keys: z.optional(
        z.array(
          z.strictObject({
            id: text,
            alias: z.optional(z.string()),
            spec: z.optional(z.enum(['SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512'])),
            material: z.optional(z.string()),
            enabled: z.optional(z.boolean()),
            description: z.optional(z.string()),
          }),
        ),
      ),
    }),
  ),
});

/** A field's path as a person reads it: `instances[0].networkInterfaces[1].groups`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(the whole file)' : out;
}

/** Checks a seed read from a file: the seed, or each problem as `path: what is wrong`. */
export function checkAccountSeed(
  value: unknown,
): { ok: true; seed: AccountSeed } | { ok: false; problems: string[] } {
  const result = z.safeParse(AccountSeedSchema, value);
  if (result.success) return { ok: true, seed: result.data as AccountSeed };
  return { ok: false, problems: seedProblems(result.error.issues, 'an account seed') };
}

/**
 * A seed's issues as a person reads them, one line each: a field the seed does not have is named as not a
 * field of `what`; a record's key (an account id, a region) that does not match says why, not only that it
 * is invalid.
 */
export function seedProblems(issues: readonly z.core.$ZodIssue[], what: string): string[] {
  return issues.map((issue) => {
    const unknown = issue.code === 'unrecognized_keys' ? issue.keys : [];
    if (unknown.length > 0) {
      return unknown.map((key) => `${fieldPath([...issue.path, key])}: not a field of ${what}`).join('; ');
    }
    const inner = issue.code === 'invalid_key' ? issue.issues[0]?.message : undefined;
    return `${fieldPath(issue.path)}: ${inner ?? issue.message}`;
  });
}
