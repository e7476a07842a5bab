/** `ec2-detach`: out of its Auto Scaling group, target groups and classic load balancers (containment). */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { defineAction } from '#shared/define-action';
import { detachInstance } from './core.ts';

export const action = defineAction({
  name: 'ec2-detach',
  phase: 'containment',
  description: 'Detaches an instance from its Auto Scaling group and load balancers',
  clients: {
    ec2: EC2Client,
    autoScaling: AutoScalingClient,
    elbv2: ElasticLoadBalancingV2Client,
    elb: ElasticLoadBalancingClient,
  },
  calls: {
    ec2: ['DescribeInstances'],
    autoScaling: ['DescribeAutoScalingInstances', 'DetachInstances'],
    elbv2: ['DescribeTargetGroups', 'DescribeTargetHealth', 'DeregisterTargets'],
    elb: ['DescribeLoadBalancers', 'DeregisterInstancesFromLoadBalancer'],
  },
  deps: ({ clients, settings }) => ({ ...clients, protectedTag: settings.protectedTag }),
  core: detachInstance,
});
