/**
 * EC2: VPCs, subnets, network ACLs, security groups, instances and their interfaces, volumes,
 * snapshots, instance profile associations and tags. The commands live in ./ec2/ by concern; this is
 * the entry the sandbox, the seed and Backup import.
 */
import type { HandlerMap } from './context.ts';
import { describeHandlers } from './ec2/describe.ts';
import { instanceHandlers } from './ec2/instances.ts';
import { networkHandlers } from './ec2/network.ts';
import { tagHandlers } from './ec2/tags.ts';
import { volumeHandlers } from './ec2/volumes.ts';

export { refreshEc2 } from './ec2/instances.ts';
export type { LaunchOptions } from './ec2/launch.ts';
export { launchInstance } from './ec2/launch.ts';
export { createVolume } from './ec2/volumes.ts';

/** EC2 commands the sandbox simulates. */
export const ec2Handlers: HandlerMap = {
  ...describeHandlers,
  ...networkHandlers,
  ...instanceHandlers,
  ...volumeHandlers,
  ...tagHandlers,
};
