/**
 * The default sandbox account for a rehearsal: an account that holds what a finding names, so that any
 * real finding can be run with `cordon run` and no account file. An instance gets its interfaces (with
 * their subnets, VPCs and groups), a root and a data volume, its instance profile and tags; an IAM user
 * gets the key the finding names, two more keys and a console login; an assumed role gets its role.
 * Everything else takes the sandbox's defaults.
 *
 * The account is the finding's: the hub when the finding is in the hub's account, else a member of the
 * sandbox organization with its responder role (local/sandbox/organization.ts), in the finding's region.
 */
import type { Resource } from '#shared/domain';
import type { AccountSeed, InstanceSeed, NetworkInterfaceSeed, VpcSeed } from './sandbox/index.ts';
import {
  DEFAULT_ORGANIZATION,
  type MemberSeed,
  type OrganizationPlace,
  type OrganizationSeed,
} from './sandbox/organization.ts';

type Json = Record<string, unknown>;

const obj = (value: unknown): Json | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** The GuardDuty finding object in an EventBridge event, or the event itself when it is one. */
function guardDutyFinding(event: unknown): Json | undefined {
  const root = obj(event);
  if (!root) return undefined;
  const detail = obj(root.detail);
  if (root['detail-type'] === 'GuardDuty Finding' && detail) return detail;
  return obj(root.resource) ? root : undefined;
}

function instanceSeed(details: Json): { instance: InstanceSeed; vpcs: VpcSeed[] } | undefined {
  const id = str(details.instanceId);
  if (!id) return undefined;
  const vpcs = new Map<string, Set<string>>();
  const interfaces: NetworkInterfaceSeed[] = [];
  for (const raw of list(details.networkInterfaces)) {
    const ni = obj(raw);
    if (!ni) continue;
    const subnet = str(ni.subnetId);
    const vpc = str(ni.vpcId);
    if (subnet && vpc) vpcs.set(vpc, (vpcs.get(vpc) ?? new Set()).add(subnet));
    const groups = list(ni.securityGroups)
      .map((g) => str(obj(g)?.groupId))
      .filter((g): g is string => g !== undefined);
    interfaces.push({
      ...(str(ni.networkInterfaceId) ? { id: str(ni.networkInterfaceId) } : {}),
      ...(subnet ? { subnet } : {}),
      ...(groups.length ? { groups } : {}),
      ...(str(ni.privateIpAddress) ? { privateIp: str(ni.privateIpAddress) } : {}),
    });
  }
  const tags: Record<string, string> = {};
  for (const raw of list(details.tags)) {
    const tag = obj(raw);
    const key = str(tag?.key);
    if (tag && key) tags[key] = typeof tag.value === 'string' ? tag.value : '';
  }
  const profileArn = str(obj(details.iamInstanceProfile)?.arn);
  const profile = profileArn?.split('/').at(-1);
  const firstSubnet = interfaces[0]?.subnet;
  return {
    instance: {
      id,
      ...(str(details.instanceType) ? { type: str(details.instanceType) } : {}),
      ...(str(details.imageId) ? { image: str(details.imageId) } : {}),
      ...(firstSubnet ? { subnet: firstSubnet } : {}),
      ...(interfaces.length ? { networkInterfaces: interfaces } : {}),
      volumes: [{ size: 8 }, { size: 20 }],
      ...(profile ? { profile } : {}),
      tags,
      consoleOutput: `[    0.000000] Linux version 6.1 (rehearsal of ${id})\n`,
    },
    vpcs: [...vpcs].map(([vpc, subnets]) => ({ id: vpc, subnets: [...subnets].map((s) => ({ id: s })) })),
  };
}

/**
 * An account seed holding what the finding in `event` names: from a GuardDuty finding's details where it
 * has them, and otherwise from the normalized `resources` (an alarm's instance, say).
 */
export function accountSeedForEvent(event: unknown, resources: readonly Resource[] = []): AccountSeed {
  const seed: AccountSeed = {};
  const instances = resources
    .filter((r) => r.type === 'instance')
    .map((r) => ({ id: r.id, volumes: [{ size: 8 }] }));
  if (instances.length) seed.instances = instances;
  const finding = guardDutyFinding(event);
  const resource = obj(finding?.resource);
  if (!finding || !resource) return seed;
  const instanceDetails = obj(resource.instanceDetails);
  const made = instanceDetails ? instanceSeed(instanceDetails) : undefined;
  if (made && resource.resourceType === 'Instance') {
    seed.instances = [made.instance];
    if (made.vpcs.length) seed.vpcs = made.vpcs;
  }
  const key = obj(resource.accessKeyDetails);
  const userName = str(key?.userName);
  const keyId = str(key?.accessKeyId);
  if (key && userName && key.userType === 'IAMUser') {
    seed.iam = {
      users: [
        {
          name: userName,
          accessKeys: [
            { id: keyId ?? 'AKIAREHEARSAL0000001' },
            { id: 'AKIAREHEARSALOTHER01' },
            { id: 'AKIAREHEARSALOTHER02', status: 'Inactive' },
          ],
          loginProfile: true,
        },
      ],
    };
  } else if (key && userName && key.userType === 'AssumedRole') {
    seed.iam = { roles: [{ name: userName }] };
  }
  return seed;
}

/**
 * Where the finding in `event` is: a GuardDuty finding's `accountId` and `region`, else the event's
 * `account` and `region`; undefined when it names neither.
 */
export function placeOfEvent(event: unknown): OrganizationPlace | undefined {
  const finding = guardDutyFinding(event);
  const root = obj(event);
  const account = str(finding?.accountId) ?? str(root?.account);
  const region = str(finding?.region) ?? str(root?.region);
  return account && region ? { account, region } : undefined;
}

/**
 * An organization holding `seed` at `place`: the hub's home region (IAM, global, always there), another
 * region of the hub, or a member with its responder role, in that region. Default place: the hub's home.
 */
export function seedAt(
  seed: AccountSeed,
  place: OrganizationPlace | undefined,
  hub: OrganizationPlace = DEFAULT_ORGANIZATION.hub,
): OrganizationSeed {
  const { account, region } = place ?? hub;
  if (account === hub.account) {
    if (region === hub.region) return { hub: seed };
    const { iam, ...regional } = seed;
    return { hub: iam ? { iam } : {}, hubRegions: { [region]: regional } };
  }
  return { members: { [account]: { regions: { [region]: seed } } } };
}

/**
 * The sandbox organization a rehearsal of `event` starts from: the account of its finding holding what the
 * finding names ({@link accountSeedForEvent}), the hub when the finding is in the hub's account (or names no
 * account), else a member with its responder role. `place` is the normalized finding's, when known.
 */
export function seedForEvent(
  event: unknown,
  resources: readonly Resource[] = [],
  place: OrganizationPlace | undefined = placeOfEvent(event),
  hub: OrganizationPlace = DEFAULT_ORGANIZATION.hub,
): OrganizationSeed {
  return seedAt(accountSeedForEvent(event, resources), place, hub);
}

type Mergeable = Record<string, unknown>;

/** Two seeds as one: lists joined, objects merged field by field, the second's other values winning. */
function merged<T>(a: T, b: T): T {
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b] as T;
  const left = obj(a);
  const right = obj(b);
  if (!left || !right) return b === undefined ? a : b;
  const out: Mergeable = { ...left };
  for (const [key, value] of Object.entries(right)) out[key] = key in out ? merged(out[key], value) : value;
  return out as T;
}

/** Two accounts' regions as one, the first's regions first (the first region holds IAM). */
function mergedMember(a: MemberSeed, b: MemberSeed): MemberSeed {
  const regions: Record<string, AccountSeed> = { ...a.regions };
  for (const [region, seed] of Object.entries(b.regions ?? {})) {
    regions[region] = regions[region] ? merged(regions[region], seed) : seed;
  }
  return { ...a, ...b, regions };
}

/** Several organizations' seeds as one: the same account and region's seeds merged, lists joined. */
export function mergeOrganizationSeeds(seeds: readonly OrganizationSeed[]): OrganizationSeed {
  let out: OrganizationSeed = {};
  for (const seed of seeds) {
    const members: Record<string, MemberSeed> = { ...out.members };
    for (const [account, member] of Object.entries(seed.members ?? {})) {
      members[account] = members[account] ? mergedMember(members[account], member) : member;
    }
    const hubRegions: Record<string, AccountSeed> = { ...out.hubRegions };
    for (const [region, regional] of Object.entries(seed.hubRegions ?? {})) {
      hubRegions[region] = hubRegions[region] ? merged(hubRegions[region], regional) : regional;
    }
    out = {
      ...out,
      ...seed,
      ...(out.hub || seed.hub ? { hub: merged(out.hub ?? {}, seed.hub ?? {}) } : {}),
      ...(Object.keys(hubRegions).length ? { hubRegions } : {}),
      ...(Object.keys(members).length ? { members } : {}),
    };
  }
  return out;
}
