import {
  AssociateIamInstanceProfileCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteNetworkAclCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeTagsCommand,
  DescribeVolumesCommand,
  DisassociateIamInstanceProfileCommand,
  GetConsoleOutputCommand,
  ModifyInstanceAttributeCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceNetworkAclAssociationCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { AccountSeed } from '#local/sandbox/index';
import { errorOf, setup } from './helpers.ts';

const seed: AccountSeed = {
  vpcs: [
    { id: 'vpc-a', subnets: [{ id: 'subnet-a' }] },
    { id: 'vpc-b', subnets: [{ id: 'subnet-b' }] },
  ],
  securityGroups: [
    { id: 'sg-web', vpc: 'vpc-a', ingress: [{ port: 443, cidr: '0.0.0.0/0' }] },
    { id: 'sg-quarantine', vpc: 'vpc-a', egress: [] },
    { id: 'sg-other-vpc', vpc: 'vpc-b' },
  ],
  instances: [
    {
      id: 'i-web',
      subnet: 'subnet-a',
      groups: ['sg-web'],
      profile: 'web-profile',
      tags: { Name: 'web' },
      volumes: [{ id: 'vol-root' }, { id: 'vol-data', size: 100, tags: { data: 'yes' } }],
      consoleOutput: 'hello console',
    },
    {
      id: 'i-two',
      subnet: 'subnet-a',
      networkInterfaces: [{ id: 'eni-0', groups: ['sg-web'] }, { id: 'eni-1' }],
    },
    { id: 'i-protected', subnet: 'subnet-a', terminationProtection: true, stopProtection: true },
  ],
};

const primaryEni = async (ec2: ReturnType<typeof setup>['ec2'], instanceId: string): Promise<string> => {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  return out.Reservations?.[0]?.Instances?.[0]?.NetworkInterfaces?.[0]?.NetworkInterfaceId ?? '';
};

describe('EC2 instances', () => {
  it('describes a seeded instance with its interfaces, groups, volumes, profile and tags', async () => {
    const { ec2 } = setup(seed);
    const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-web'] }));
    const instance = out.Reservations?.[0]?.Instances?.[0];
    expect(instance?.State).toEqual({ Code: 16, Name: 'running' });
    expect(instance?.SecurityGroups).toEqual([{ GroupId: 'sg-web', GroupName: 'sg-web' }]);
    expect(instance?.VpcId).toBe('vpc-a');
    expect(instance?.BlockDeviceMappings?.map((b) => b.Ebs?.VolumeId)).toEqual(['vol-root', 'vol-data']);
    expect(instance?.IamInstanceProfile?.Arn).toBe('arn:aws:iam::123456789012:instance-profile/web-profile');
    expect(instance?.Tags).toEqual([{ Key: 'Name', Value: 'web' }]);
    expect(instance?.LaunchTime).toBeInstanceOf(Date);
    expect(out.$metadata.httpStatusCode).toBe(200);
  });

  it('fails with InvalidInstanceID.NotFound for an unknown instance', async () => {
    const { ec2 } = setup(seed);
    const error = await errorOf(ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-missing'] })));
    expect(error.name).toBe('InvalidInstanceID.NotFound');
    expect(error.message).toBe("The instance ID 'i-missing' does not exist");
    expect(error.$fault).toBe('client');
    expect(error.$metadata?.httpStatusCode).toBe(400);
  });

  it('filters instances by tag and state, and refuses an unknown filter', async () => {
    const { ec2 } = setup(seed);
    const out = await ec2.send(
      new DescribeInstancesCommand({
        Filters: [
          { Name: 'tag:Name', Values: ['w*'] },
          { Name: 'instance-state-name', Values: ['running'] },
        ],
      }),
    );
    expect(out.Reservations?.map((r) => r.Instances?.[0]?.InstanceId)).toEqual(['i-web']);
    const error = await errorOf(
      ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] })),
    );
    expect(error.name).toBe('InvalidParameterValue');
  });

  it('replaces the groups of a single-interface instance with ModifyInstanceAttribute', async () => {
    const { ec2, sandbox } = setup(seed);
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: 'i-web', Groups: ['sg-quarantine'] }));
    const eni = await primaryEni(ec2, 'i-web');
    expect(sandbox.state().ec2.networkInterfaces[eni]?.groups).toEqual(['sg-quarantine']);
    const attr = await ec2.send(
      new DescribeInstanceAttributeCommand({ InstanceId: 'i-web', Attribute: 'groupSet' }),
    );
    expect(attr.Groups).toEqual([{ GroupId: 'sg-quarantine', GroupName: 'sg-quarantine' }]);
  });

  it('refuses Groups on an instance with two interfaces', async () => {
    const { ec2, sandbox } = setup(seed);
    const error = await errorOf(
      ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: 'i-two', Groups: ['sg-quarantine'] })),
    );
    expect(error.name).toBe('InvalidInstanceID');
    expect(error.message).toBe(
      "There are multiple interfaces attached to instance 'i-two'. Please specify an interface ID for the operation instead.",
    );
    expect(sandbox.state().ec2.networkInterfaces['eni-0']?.groups).toEqual(['sg-web']);
  });

  it('sets and reads back termination and stop protection, shutdown behaviour and DeleteOnTermination', async () => {
    const { ec2 } = setup(seed);
    await ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: 'i-web', DisableApiTermination: { Value: true } }),
    );
    await ec2.send(
      new ModifyInstanceAttributeCommand({ InstanceId: 'i-web', DisableApiStop: { Value: true } }),
    );
    await ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: 'i-web',
        InstanceInitiatedShutdownBehavior: { Value: 'terminate' },
      }),
    );
    await ec2.send(
      new ModifyInstanceAttributeCommand({
        InstanceId: 'i-web',
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { DeleteOnTermination: false } }],
      }),
    );
    const read = (
      Attribute:
        | 'disableApiTermination'
        | 'disableApiStop'
        | 'instanceInitiatedShutdownBehavior'
        | 'blockDeviceMapping',
    ) => ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: 'i-web', Attribute }));
    expect((await read('disableApiTermination')).DisableApiTermination).toEqual({ Value: true });
    expect((await read('disableApiStop')).DisableApiStop).toEqual({ Value: true });
    expect((await read('instanceInitiatedShutdownBehavior')).InstanceInitiatedShutdownBehavior).toEqual({
      Value: 'terminate',
    });
    expect((await read('blockDeviceMapping')).BlockDeviceMappings?.[0]?.Ebs?.DeleteOnTermination).toBe(false);
  });

  it('stops then starts an instance, through stopping and pending', async () => {
    const { ec2, sandbox } = setup(seed);
    const stop = await ec2.send(new StopInstancesCommand({ InstanceIds: ['i-web'] }));
    expect(stop.StoppingInstances?.[0]).toMatchObject({
      InstanceId: 'i-web',
      CurrentState: { Name: 'stopping', Code: 64 },
      PreviousState: { Name: 'running', Code: 16 },
    });
    expect(sandbox.state().ec2.instances['i-web']?.state).toBe('stopped');
    const start = await ec2.send(new StartInstancesCommand({ InstanceIds: ['i-web'] }));
    expect(start.StartingInstances?.[0]?.CurrentState?.Name).toBe('pending');
    expect(sandbox.state().ec2.instances['i-web']?.state).toBe('running');
  });

  it('refuses to stop an instance with DisableApiStop', async () => {
    const { ec2 } = setup(seed);
    const error = await errorOf(ec2.send(new StopInstancesCommand({ InstanceIds: ['i-protected'] })));
    expect(error.name).toBe('OperationNotPermitted');
  });

  it('refuses to terminate an instance with DisableApiTermination', async () => {
    const { ec2, sandbox } = setup(seed);
    const error = await errorOf(ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-protected'] })));
    expect(error.name).toBe('OperationNotPermitted');
    expect(error.message).toContain(
      "may not be terminated. Modify its 'disableApiTermination' instance attribute",
    );
    expect(sandbox.state().ec2.instances['i-protected']?.state).toBe('running');
  });

  it('terminates an instance, deleting DeleteOnTermination volumes and keeping the others', async () => {
    const { ec2, sandbox } = setup(seed);
    const out = await ec2.send(new TerminateInstancesCommand({ InstanceIds: ['i-web'] }));
    expect(out.TerminatingInstances?.[0]?.CurrentState?.Name).toBe('shutting-down');
    const state = sandbox.state();
    expect(state.ec2.instances['i-web']?.state).toBe('terminated');
    expect(state.ec2.volumes['vol-root']?.state).toBe('deleted');
    expect(state.ec2.volumes['vol-data']?.state).toBe('available');
  });

  it('returns the console output base64-encoded', async () => {
    const { ec2 } = setup(seed);
    const out = await ec2.send(new GetConsoleOutputCommand({ InstanceId: 'i-web' }));
    expect(Buffer.from(out.Output ?? '', 'base64').toString('utf8')).toBe('hello console');
  });
});

describe('EC2 network interfaces', () => {
  it('replaces an interface’s groups and its connection tracking timeouts', async () => {
    const { ec2, sandbox } = setup(seed);
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: 'eni-1', Groups: ['sg-quarantine'] }),
    );
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({
        NetworkInterfaceId: 'eni-1',
        ConnectionTrackingSpecification: { TcpEstablishedTimeout: 60, UdpStreamTimeout: 60, UdpTimeout: 30 },
      }),
    );
    const out = await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-1'] }));
    expect(out.NetworkInterfaces?.[0]?.Groups?.map((g) => g.GroupId)).toEqual(['sg-quarantine']);
    expect(out.NetworkInterfaces?.[0]?.ConnectionTrackingConfiguration).toEqual({
      TcpEstablishedTimeout: 60,
      UdpStreamTimeout: 60,
      UdpTimeout: 30,
    });
    expect(sandbox.state().ec2.networkInterfaces['eni-1']?.connectionTracking?.tcpEstablishedTimeout).toBe(
      60,
    );
  });

  it('filters interfaces by attached instance', async () => {
    const { ec2 } = setup(seed);
    const out = await ec2.send(
      new DescribeNetworkInterfacesCommand({
        Filters: [{ Name: 'attachment.instance-id', Values: ['i-two'] }],
      }),
    );
    expect(out.NetworkInterfaces?.map((n) => n.NetworkInterfaceId)).toEqual(['eni-0', 'eni-1']);
  });

  it('refuses a group of another VPC with InvalidGroup.NotFound', async () => {
    const { ec2 } = setup(seed);
    const error = await errorOf(
      ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: 'eni-1', Groups: ['sg-other-vpc'] }),
      ),
    );
    expect(error.name).toBe('InvalidGroup.NotFound');
    expect(error.message).toBe("The security group 'sg-other-vpc' does not exist in VPC 'vpc-a'");
  });

  it('refuses an unknown group and an empty group list', async () => {
    const { ec2 } = setup(seed);
    expect(
      (
        await errorOf(
          ec2.send(
            new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: 'eni-1', Groups: ['sg-nope'] }),
          ),
        )
      ).name,
    ).toBe('InvalidGroup.NotFound');
    expect(
      (
        await errorOf(
          ec2.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: 'eni-1', Groups: [] })),
        )
      ).name,
    ).toBe('InvalidParameterValue');
  });

  it('fails with InvalidNetworkInterfaceID.NotFound for an unknown interface', async () => {
    const { ec2 } = setup(seed);
    const error = await errorOf(
      ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: 'eni-nope', Groups: ['sg-web'] }),
      ),
    );
    expect(error.name).toBe('InvalidNetworkInterfaceID.NotFound');
  });

  it('refuses a connection tracking timeout out of range', async () => {
    const { ec2 } = setup(seed);
    const error = await errorOf(
      ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({
          NetworkInterfaceId: 'eni-1',
          ConnectionTrackingSpecification: { UdpTimeout: 5 },
        }),
      ),
    );
    expect(error.name).toBe('InvalidParameterValue');
  });
});

describe('EC2 security groups', () => {
  it('creates a group with AWS’s default egress rule, then revokes it', async () => {
    const { ec2 } = setup(seed);
    const created = await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: 'isolation', Description: 'isolation', VpcId: 'vpc-a' }),
    );
    const groupId = created.GroupId ?? '';
    let described = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    expect(described.SecurityGroups?.[0]?.IpPermissionsEgress).toEqual([
      {
        IpProtocol: '-1',
        IpRanges: [{ CidrIp: '0.0.0.0/0' }],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [],
      },
    ]);
    const revoked = await ec2.send(
      new RevokeSecurityGroupEgressCommand({
        GroupId: groupId,
        IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    expect(revoked.Return).toBe(true);
    described = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
    expect(described.SecurityGroups?.[0]?.IpPermissionsEgress).toEqual([]);
  });

  it('refuses a duplicate group name in the same VPC', async () => {
    const { ec2 } = setup(seed);
    const error = await errorOf(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: 'sg-web', Description: 'x', VpcId: 'vpc-a' })),
    );
    expect(error.name).toBe('InvalidGroup.Duplicate');
  });

  it('authorizes an ingress rule and refuses the same rule twice', async () => {
    const { ec2, sandbox } = setup(seed);
    const permission = { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '10.0.0.0/8' }] };
    const out = await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-web', IpPermissions: [permission] }),
    );
    expect(out.SecurityGroupRules?.[0]).toMatchObject({
      IsEgress: false,
      FromPort: 22,
      CidrIpv4: '10.0.0.0/8',
    });
    expect(sandbox.state().ec2.securityGroups['sg-web']?.rules.filter((r) => !r.egress)).toHaveLength(2);
    const error = await errorOf(
      ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: 'sg-web', IpPermissions: [permission] })),
    );
    expect(error.name).toBe('InvalidPermission.Duplicate');
  });

  it('reports a rule that does not exist in UnknownIpPermissions when revoking', async () => {
    const { ec2 } = setup(seed);
    const out = await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: 'sg-web',
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        ],
      }),
    );
    expect(out.UnknownIpPermissions?.[0]?.FromPort).toBe(8080);
  });

  it('refuses to delete a group still used by an interface with DependencyViolation', async () => {
    const { ec2 } = setup(seed);
    const error = await errorOf(ec2.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-web' })));
    expect(error.name).toBe('DependencyViolation');
  });

  it('deletes an unused group, then cannot find it', async () => {
    const { ec2 } = setup(seed);
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: 'sg-quarantine' }));
    const error = await errorOf(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-quarantine'] })));
    expect(error.name).toBe('InvalidGroup.NotFound');
  });
});

describe('EC2 network ACLs', () => {
  it('creates a deny-all ACL, adds an entry, swaps a subnet onto it and refuses to delete it while associated', async () => {
    const { ec2 } = setup(seed);
    const created = await ec2.send(new CreateNetworkAclCommand({ VpcId: 'vpc-a' }));
    const aclId = created.NetworkAcl?.NetworkAclId ?? '';
    expect(created.NetworkAcl?.Entries?.every((e) => e.RuleAction === 'deny')).toBe(true);
    await ec2.send(
      new CreateNetworkAclEntryCommand({
        NetworkAclId: aclId,
        RuleNumber: 100,
        Protocol: '6',
        RuleAction: 'allow',
        Egress: false,
        CidrBlock: '10.0.0.0/8',
        PortRange: { From: 22, To: 22 },
      }),
    );
    const current = await ec2.send(
      new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: ['subnet-a'] }] }),
    );
    const association = current.NetworkAcls?.[0]?.Associations?.find((a) => a.SubnetId === 'subnet-a');
    const replaced = await ec2.send(
      new ReplaceNetworkAclAssociationCommand({
        AssociationId: association?.NetworkAclAssociationId,
        NetworkAclId: aclId,
      }),
    );
    expect(replaced.NewAssociationId).toMatch(/^aclassoc-/);
    const after = await ec2.send(new DescribeNetworkAclsCommand({ NetworkAclIds: [aclId] }));
    expect(after.NetworkAcls?.[0]?.Associations?.map((a) => a.SubnetId)).toEqual(['subnet-a']);
    expect(after.NetworkAcls?.[0]?.Entries?.find((e) => e.RuleNumber === 100)?.PortRange).toEqual({
      From: 22,
      To: 22,
    });
    expect((await errorOf(ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: aclId })))).name).toBe(
      'DependencyViolation',
    );
  });

  it('deletes an unassociated ACL', async () => {
    const { ec2, sandbox } = setup(seed);
    const created = await ec2.send(new CreateNetworkAclCommand({ VpcId: 'vpc-a' }));
    await ec2.send(new DeleteNetworkAclCommand({ NetworkAclId: created.NetworkAcl?.NetworkAclId }));
    expect(Object.values(sandbox.state().ec2.networkAcls).filter((a) => !a.isDefault)).toEqual([]);
  });
});

describe('EC2 instance profiles', () => {
  it('disassociates the instance profile and associates another', async () => {
    const { ec2, sandbox } = setup({ ...seed, iam: { instanceProfiles: [{ name: 'empty-profile' }] } });
    const listed = await ec2.send(
      new DescribeIamInstanceProfileAssociationsCommand({
        Filters: [{ Name: 'instance-id', Values: ['i-web'] }],
      }),
    );
    const associationId = listed.IamInstanceProfileAssociations?.[0]?.AssociationId;
    expect(listed.IamInstanceProfileAssociations?.[0]?.State).toBe('associated');
    const out = await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: associationId }));
    expect(out.IamInstanceProfileAssociation?.State).toBe('disassociating');
    expect(Object.values(sandbox.state().ec2.profileAssociations)).toEqual([]);
    const associated = await ec2.send(
      new AssociateIamInstanceProfileCommand({
        InstanceId: 'i-web',
        IamInstanceProfile: { Name: 'empty-profile' },
      }),
    );
    expect(associated.IamInstanceProfileAssociation?.IamInstanceProfile?.Arn).toContain(
      'instance-profile/empty-profile',
    );
  });

  it('fails with InvalidAssociationID.NotFound for an unknown association', async () => {
    const { ec2 } = setup(seed);
    const error = await errorOf(
      ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: 'iip-assoc-nope' })),
    );
    expect(error.name).toBe('InvalidAssociationID.NotFound');
  });

  it('refuses a second association for the same instance', async () => {
    const { ec2 } = setup(seed);
    const error = await errorOf(
      ec2.send(
        new AssociateIamInstanceProfileCommand({
          InstanceId: 'i-web',
          IamInstanceProfile: { Name: 'web-profile' },
        }),
      ),
    );
    expect(error.name).toBe('IncorrectState');
  });
});

describe('EC2 tags', () => {
  it('creates, describes and deletes tags', async () => {
    const { ec2 } = setup(seed);
    await ec2.send(
      new CreateTagsCommand({
        Resources: ['i-web', 'vol-data'],
        Tags: [{ Key: 'cordon:incident', Value: 'inc-1' }],
      }),
    );
    const described = await ec2.send(
      new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['cordon:incident'] }] }),
    );
    expect(described.Tags).toEqual([
      { ResourceId: 'i-web', ResourceType: 'instance', Key: 'cordon:incident', Value: 'inc-1' },
      { ResourceId: 'vol-data', ResourceType: 'volume', Key: 'cordon:incident', Value: 'inc-1' },
    ]);
    await ec2.send(new DeleteTagsCommand({ Resources: ['i-web'], Tags: [{ Key: 'cordon:incident' }] }));
    const after = await ec2.send(
      new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: ['i-web'] }] }),
    );
    expect(after.Tags).toEqual([
      { ResourceId: 'i-web', ResourceType: 'instance', Key: 'Name', Value: 'web' },
    ]);
  });

  it('refuses to tag an unknown instance', async () => {
    const { ec2 } = setup(seed);
    const error = await errorOf(
      ec2.send(new CreateTagsCommand({ Resources: ['i-nope'], Tags: [{ Key: 'a', Value: 'b' }] })),
    );
    expect(error.name).toBe('InvalidInstanceID.NotFound');
  });
});

describe('EC2 volumes and snapshots', () => {
  it('describes volumes attached to an instance', async () => {
    const { ec2 } = setup(seed);
    const out = await ec2.send(
      new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: ['i-web'] }] }),
    );
    expect(out.Volumes?.map((v) => [v.VolumeId, v.Attachments?.[0]?.Device, v.State])).toEqual([
      ['vol-data', '/dev/sdf', 'in-use'],
      ['vol-root', '/dev/xvda', 'in-use'],
    ]);
  });

  it('fails with InvalidVolume.NotFound for an unknown volume', async () => {
    const { ec2 } = setup(seed);
    expect((await errorOf(ec2.send(new DescribeVolumesCommand({ VolumeIds: ['vol-nope'] })))).name).toBe(
      'InvalidVolume.NotFound',
    );
    expect((await errorOf(ec2.send(new CreateSnapshotCommand({ VolumeId: 'vol-nope' })))).name).toBe(
      'InvalidVolume.NotFound',
    );
  });

  it('completes a snapshot after 60 s of sandbox time', async () => {
    const { ec2, sandbox } = setup(seed);
    const snapshot = await ec2.send(
      new CreateSnapshotCommand({
        VolumeId: 'vol-data',
        Description: 'evidence',
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'incident', Value: 'inc-1' }] }],
      }),
    );
    expect(snapshot.State).toBe('pending');
    expect(snapshot.Tags).toEqual([{ Key: 'incident', Value: 'inc-1' }]);
    sandbox.advance(59_000);
    let described = await ec2.send(
      new DescribeSnapshotsCommand({ SnapshotIds: [snapshot.SnapshotId ?? ''] }),
    );
    expect(described.Snapshots?.[0]?.State).toBe('pending');
    sandbox.advance(1_000);
    described = await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snapshot.SnapshotId ?? ''] }));
    expect(described.Snapshots?.[0]).toMatchObject({ State: 'completed', Progress: '100%' });
  });

  it('honours a configured snapshot duration', async () => {
    const { ec2, sandbox } = setup({ ...seed, timings: { snapshotMs: 1_000 } });
    const snapshot = await ec2.send(new CreateSnapshotCommand({ VolumeId: 'vol-data' }));
    sandbox.advance(1_000);
    expect(sandbox.state().ec2.snapshots[snapshot.SnapshotId ?? '']?.state).toBe('completed');
  });

  it('snapshots every volume of an instance with CreateSnapshots and its tags', async () => {
    const { ec2 } = setup(seed);
    const out = await ec2.send(
      new CreateSnapshotsCommand({
        InstanceSpecification: { InstanceId: 'i-web' },
        CopyTagsFromSource: 'volume',
        TagSpecifications: [{ ResourceType: 'snapshot', Tags: [{ Key: 'incident', Value: 'inc-1' }] }],
      }),
    );
    expect(out.Snapshots?.map((s) => s.VolumeId)).toEqual(['vol-root', 'vol-data']);
    expect(out.Snapshots?.[1]?.Tags).toEqual([
      { Key: 'data', Value: 'yes' },
      { Key: 'incident', Value: 'inc-1' },
    ]);
  });

  it('fails with InvalidSnapshot.NotFound for an unknown snapshot', async () => {
    const { ec2 } = setup(seed);
    expect((await errorOf(ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: ['snap-nope'] })))).name).toBe(
      'InvalidSnapshot.NotFound',
    );
  });

  it('creates a volume from a completed snapshot', async () => {
    const { ec2 } = setup({ ...seed, snapshots: [{ id: 'snap-1', volume: 'vol-data', size: 100 }] });
    const volume = await ec2.send(
      new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: 'snap-1' }),
    );
    expect(volume).toMatchObject({ Size: 100, SnapshotId: 'snap-1', State: 'creating' });
    const described = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volume.VolumeId ?? ''] }));
    expect(described.Volumes?.[0]?.State).toBe('available');
  });
});
