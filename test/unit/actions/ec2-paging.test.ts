/** The EC2 actions read every page of what they decide on. */
import { AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateSecurityGroupCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstancesCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceNetworkAclAssociationCommand,
} from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { describeInstance } from '../../../functions/actions/ec2-common/instance.ts';
import { readMemberships } from '../../../functions/actions/ec2-detach/memberships.ts';
import { isolateInstance } from '../../../functions/actions/ec2-isolate/core.ts';
import { currentAssociation } from '../../../functions/actions/ec2-revoke-sessions/core.ts';
import { EC2_TOKENS, ELB_TOKENS, onlyFirst, paged } from '../support-pages.ts';

const ec2Mock = mockClient(EC2Client);
const asgMock = mockClient(AutoScalingClient);
const elbv2Mock = mockClient(ElasticLoadBalancingV2Client);
const elbMock = mockClient(ElasticLoadBalancingClient);
afterEach(() => {
  for (const mock of [ec2Mock, asgMock, elbv2Mock, elbMock]) mock.reset();
});

const ID = 'i-0123456789abcdef0';
const VPC = 'vpc-1';
const instance = {
  InstanceId: ID,
  VpcId: VPC,
  State: { Name: 'running' as const },
  NetworkInterfaces: [
    {
      NetworkInterfaceId: 'eni-own',
      SubnetId: 'subnet-1',
      VpcId: VPC,
      Attachment: { DeviceIndex: 0, InstanceId: ID },
      Groups: [{ GroupId: 'sg-web' }],
    },
  ],
};

describe('describing one instance', () => {
  it('finds it on a later page when EC2 answers the id with an empty first page', async () => {
    ec2Mock
      .on(DescribeInstancesCommand)
      .callsFake(paged([{ Reservations: [] }, { Reservations: [{ Instances: [instance] }] }], EC2_TOKENS));
    expect((await describeInstance(new EC2Client({}), ID)).InstanceId).toBe(ID);
  });
});

describe('ec2-isolate with the nacl strategy across pages', () => {
  // The isolation group is on the second page of DescribeSecurityGroups; the only other interface in the
  // subnet is on the second page of DescribeNetworkInterfaces.
  const groupPages = [
    { SecurityGroups: [] },
    {
      SecurityGroups: [
        {
          GroupId: 'sg-iso',
          GroupName: `cordon-isolation-${VPC}`,
          VpcId: VPC,
          IpPermissions: [],
          IpPermissionsEgress: [],
        },
      ],
    },
  ];
  const eniPages = [
    { NetworkInterfaces: [{ NetworkInterfaceId: 'eni-own', Attachment: { InstanceId: ID } }] },
    {
      NetworkInterfaces: [
        { NetworkInterfaceId: 'eni-peer', Attachment: { InstanceId: 'i-0aaaaaaaaaaaaaaaa' } },
      ],
    },
  ];
  const acls = {
    NetworkAcls: [
      {
        NetworkAclId: 'acl-default',
        VpcId: VPC,
        Associations: [{ SubnetId: 'subnet-1', NetworkAclAssociationId: 'aclassoc-1' }],
      },
      {
        NetworkAclId: 'acl-q',
        VpcId: VPC,
        Tags: [{ Key: 'cordon:quarantine', Value: 'true' }],
        Associations: [],
      },
    ],
  };
  const isolate = () =>
    isolateInstance(
      {
        ec2: new EC2Client({}),
        now: () => new Date('2026-11-10T12:00:00Z'),
        protectedTag: { key: 'cordon:protected', value: 'true' },
      },
      { incidentId: 'inc-1', instanceId: ID, strategy: 'nacl' },
    );
  const common = () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [instance] }] });
    ec2Mock.on(DescribeNetworkAclsCommand).resolves(acls);
    ec2Mock.on(ModifyNetworkInterfaceAttributeCommand).resolves({});
    ec2Mock.on(ReplaceNetworkAclAssociationCommand).resolves({ NewAssociationId: 'aclassoc-2' });
    ec2Mock.on(CreateSecurityGroupCommand).resolves({ GroupId: 'sg-new' });
  };

  it('would quarantine a shared subnet from the first pages alone; it sees the peer and keeps the subnet open', async () => {
    common();
    ec2Mock.on(DescribeSecurityGroupsCommand).callsFake(onlyFirst(groupPages));
    ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake(onlyFirst(eniPages));
    const firstPagesOnly = await isolate();
    expect(firstPagesOnly.output).toMatchObject({ strategy: 'nacl' });
    expect(ec2Mock.commandCalls(ReplaceNetworkAclAssociationCommand)).toHaveLength(1);
    expect(ec2Mock.commandCalls(CreateSecurityGroupCommand)).toHaveLength(1);

    ec2Mock.reset();
    common();
    ec2Mock.on(DescribeSecurityGroupsCommand).callsFake(paged(groupPages, EC2_TOKENS));
    ec2Mock.on(DescribeNetworkInterfacesCommand).callsFake(paged(eniPages, EC2_TOKENS));
    const result = await isolate();
    expect(result.output).toMatchObject({ strategy: 'direct', isolationGroupId: 'sg-iso' });
    expect(result.note).toContain('eni-peer');
    expect(ec2Mock.commandCalls(ReplaceNetworkAclAssociationCommand)).toHaveLength(0);
    // The isolation group on page 2 is reused, not created again.
    expect(ec2Mock.commandCalls(CreateSecurityGroupCommand)).toHaveLength(0);
    expect(ec2Mock.commandCalls(ModifyNetworkInterfaceAttributeCommand)[0]?.args[0].input).toMatchObject({
      NetworkInterfaceId: 'eni-own',
      Groups: ['sg-iso'],
    });
  });
});

describe("an instance's memberships across pages", () => {
  it('finds the target group on the last page and the Auto Scaling record on the second', async () => {
    const tg = (n: number) => ({
      TargetGroupArn: `arn:aws:elasticloadbalancing:us-east-1:111122223333:targetgroup/tg-${n}/0`,
      TargetType: 'instance' as const,
      VpcId: VPC,
      Port: 80,
    });
    elbv2Mock
      .on(DescribeTargetGroupsCommand)
      .callsFake(
        paged([{ TargetGroups: [tg(1)] }, { TargetGroups: [tg(2)] }, { TargetGroups: [tg(3)] }], ELB_TOKENS),
      );
    elbv2Mock.on(DescribeTargetHealthCommand).callsFake((input: { TargetGroupArn: string }) => ({
      TargetHealthDescriptions: input.TargetGroupArn.includes('tg-3')
        ? [{ Target: { Id: ID, Port: 8080 }, TargetHealth: { State: 'healthy' } }]
        : [{ Target: { Id: 'i-0bbbbbbbbbbbbbbbb', Port: 80 }, TargetHealth: { State: 'healthy' } }],
    }));
    elbMock
      .on(DescribeLoadBalancersCommand)
      .callsFake(
        paged(
          [
            { LoadBalancerDescriptions: [] },
            { LoadBalancerDescriptions: [{ LoadBalancerName: 'classic', Instances: [{ InstanceId: ID }] }] },
          ],
          ELB_TOKENS,
        ),
      );
    asgMock.on(DescribeAutoScalingInstancesCommand).callsFake(
      paged(
        [
          { AutoScalingInstances: [] },
          {
            AutoScalingInstances: [
              {
                InstanceId: ID,
                AutoScalingGroupName: 'web-asg',
                LifecycleState: 'InService',
                AvailabilityZone: 'us-east-1a',
                HealthStatus: 'Healthy',
                ProtectedFromScaleIn: false,
              },
            ],
          },
        ],
        EC2_TOKENS,
      ),
    );
    const memberships = await readMemberships(
      {
        autoScaling: new AutoScalingClient({}),
        elbv2: new ElasticLoadBalancingV2Client({}),
        elb: new ElasticLoadBalancingClient({}),
      },
      ID,
      VPC,
    );
    expect(memberships).toEqual({
      instanceId: ID,
      autoScalingGroup: { name: 'web-asg', protectedFromScaleIn: false },
      targetGroups: [{ targetGroupArn: tg(3).TargetGroupArn, port: 8080 }],
      loadBalancers: ['classic'],
    });
  });
});

describe("an instance's profile association across pages", () => {
  it('finds the association on the second page', async () => {
    ec2Mock.on(DescribeIamInstanceProfileAssociationsCommand).callsFake(
      paged(
        [
          { IamInstanceProfileAssociations: [] },
          {
            IamInstanceProfileAssociations: [
              {
                AssociationId: 'iip-assoc-1',
                InstanceId: ID,
                State: 'associated',
                IamInstanceProfile: { Arn: 'arn:aws:iam::111122223333:instance-profile/web' },
              },
            ],
          },
        ],
        EC2_TOKENS,
      ),
    );
    expect((await currentAssociation(new EC2Client({}), ID))?.AssociationId).toBe('iip-assoc-1');
  });
});
