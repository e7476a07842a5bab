/**
 * The `before` each EC2 containment action records: exactly what `ec2-release` needs to undo it. The
 * schemas are the contract between the containment actions (which build these values) and the release
 * (which reads them back from the audit record and validates them before acting on them).
 */
import * as z from 'zod/mini';
import { lazySchema } from '#shared/lazy-schema';

const TrackingSchema = lazySchema(() =>
  z.object({
    tcpEstablishedTimeout: z.optional(z.number()),
    udpStreamTimeout: z.optional(z.number()),
    udpTimeout: z.optional(z.number()),
  }),
);

/** One network interface as `ec2-isolate` records it. */
export const InterfaceRecordSchema = lazySchema(() =>
  z.object({
    networkInterfaceId: z.string(),
    subnetId: z.string(),
    vpcId: z.string(),
    groups: z.array(z.string()),
    /** The interface's explicit connection-tracking timeouts; null when it had none (AWS's defaults). */
    connectionTracking: z.nullable(TrackingSchema),
  }),
);

/** `ec2-isolate`: every interface with its groups, and the network ACL of each subnet it replaced. */
export const IsolateBeforeSchema = lazySchema(() =>
  z.object({
    instanceId: z.string(),
    vpcId: z.string(),
    interfaces: z.array(InterfaceRecordSchema),
    /** Subnets whose network ACL association the action replaced, with the ACL they had. */
    networkAcls: z.array(z.object({ subnetId: z.string(), networkAclId: z.string() })),
  }),
);
export type IsolateBefore = z.infer<typeof IsolateBeforeSchema>;

/**
 * What `ec2-isolate` changed of the network ACLs (its `changes` hold more): each subnet whose association
 * it replaced, from the ACL the subnet had to the quarantine ACL.
 */
export const IsolateAclChangesSchema = lazySchema(() =>
  z.looseObject({
    networkAcls: z.optional(
      z.array(z.looseObject({ subnetId: z.string(), from: z.string(), to: z.string() })),
    ),
  }),
);

/** `ec2-protect-evidence`: the protections, the shutdown behaviour and DeleteOnTermination per volume. */
export const ProtectBeforeSchema = lazySchema(() =>
  z.object({
    instanceId: z.string(),
    disableApiTermination: z.boolean(),
    disableApiStop: z.boolean(),
    shutdownBehavior: z.enum(['stop', 'terminate']),
    volumes: z.array(
      z.object({ deviceName: z.string(), volumeId: z.string(), deleteOnTermination: z.boolean() }),
    ),
  }),
);
export type ProtectBefore = z.infer<typeof ProtectBeforeSchema>;

/** `ec2-detach`: the Auto Scaling group, target group registrations and classic load balancers. */
export const DetachBeforeSchema = lazySchema(() =>
  z.object({
    instanceId: z.string(),
    autoScalingGroup: z.nullable(z.object({ name: z.string(), protectedFromScaleIn: z.boolean() })),
    targetGroups: z.array(z.object({ targetGroupArn: z.string(), port: z.number() })),
    loadBalancers: z.array(z.string()),
  }),
);
export type DetachBefore = z.infer<typeof DetachBeforeSchema>;

/** `ec2-revoke-sessions`: the profile association and the role's revocation policy before. */
export const RevokeBeforeSchema = lazySchema(() =>
  z.object({
    instanceId: z.string(),
    association: z.nullable(
      z.object({ associationId: z.string(), profileArn: z.string(), profileName: z.string() }),
    ),
    role: z.nullable(
      z.object({
        roleName: z.string(),
        path: z.string(),
        /** The incident's own revoke policy on the role before (URL-decoded JSON), or null: normally none. */
        revokePolicy: z.nullable(z.string()),
      }),
    ),
  }),
);
export type RevokeBefore = z.infer<typeof RevokeBeforeSchema>;

/** `ec2-tag`: the previous value of each tag it sets, null when the tag was absent. */
export const TagBeforeSchema = lazySchema(() =>
  z.object({
    instanceId: z.string(),
    tags: z.record(z.string(), z.nullable(z.string())),
  }),
);
export type TagBefore = z.infer<typeof TagBeforeSchema>;
