/**
 * EC2 networking: network ACLs and their entries, security groups (their rules are in rules.ts) and the
 * groups and attributes of network interfaces.
 */
import type {
  AuthorizeSecurityGroupEgressCommandInput,
  AuthorizeSecurityGroupEgressCommandOutput,
  AuthorizeSecurityGroupIngressCommandInput,
  AuthorizeSecurityGroupIngressCommandOutput,
  CreateNetworkAclCommandInput,
  CreateNetworkAclCommandOutput,
  CreateNetworkAclEntryCommandInput,
  CreateSecurityGroupCommandInput,
  CreateSecurityGroupCommandOutput,
  DeleteNetworkAclCommandInput,
  DeleteSecurityGroupCommandInput,
  DeleteSecurityGroupCommandOutput,
  ModifyNetworkInterfaceAttributeCommandInput,
  ReplaceNetworkAclAssociationCommandInput,
  ReplaceNetworkAclAssociationCommandOutput,
  ReplaceNetworkAclEntryCommandInput,
  RevokeSecurityGroupEgressCommandInput,
  RevokeSecurityGroupEgressCommandOutput,
  RevokeSecurityGroupIngressCommandInput,
  RevokeSecurityGroupIngressCommandOutput,
} from '@aws-sdk/client-ec2';
import type { CallContext, HandlerMap, Out } from '../context.ts';
import { fail, tagList } from '../context.ts';
import type { NetworkAclState, NetworkInterfaceState } from '../state.ts';
import { newId } from '../state.ts';
import {
  aclOrFail,
  groupOrFail,
  interfaceOrFail,
  requireDefined,
  setTags,
  tagsFromSpecifications,
} from './lookups.ts';
import { authorize, revoke } from './rules.ts';
import { aclShape, groupArn } from './shapes.ts';

/**
 * Sets an interface's groups. Each group must exist in the interface's VPC, and an interface keeps
 * at least one and at most five groups
 * (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups).
 */
export function setInterfaceGroups(
  ctx: CallContext,
  nic: NetworkInterfaceState,
  groups: readonly string[],
): void {
  if (groups.length === 0) {
    fail(
      ctx,
      'InvalidParameterValue',
      'Value () for parameter groupId is invalid. The value cannot be empty',
    );
  }
  const unique = [...new Set(groups)];
  for (const id of unique) {
    const group = ctx.state.ec2.securityGroups[id];
    if (!group) fail(ctx, 'InvalidGroup.NotFound', `The security group '${id}' does not exist`);
    if (group.vpcId !== nic.vpcId) {
      fail(ctx, 'InvalidGroup.NotFound', `The security group '${id}' does not exist in VPC '${nic.vpcId}'`);
    }
  }
  if (unique.length > 5) {
    fail(
      ctx,
      'SecurityGroupsPerInterfaceLimitExceeded',
      'The maximum number of security groups per interface has been reached.',
    );
  }
  nic.groups = unique;
}

/** EC2's network ACL, security group and network interface commands. */
export const networkHandlers: HandlerMap = {
  CreateNetworkAcl: (ctx, input: CreateNetworkAclCommandInput): Out<CreateNetworkAclCommandOutput> => {
    const vpcId = requireDefined(ctx, input.VpcId, 'VpcId');
    if (!ctx.state.ec2.vpcs[vpcId])
      fail(ctx, 'InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
    const networkAclId = newId(ctx.state, 'acl');
    // A new network ACL denies everything until rules are added
    // (https://docs.aws.amazon.com/vpc/latest/userguide/custom-network-acl.html).
    const acl: NetworkAclState = {
      networkAclId,
      vpcId,
      isDefault: false,
      entries: [false, true].map((egress) => ({
        ruleNumber: 32767,
        protocol: '-1',
        ruleAction: 'deny' as const,
        egress,
        cidrBlock: '0.0.0.0/0',
      })),
      associations: [],
    };
    ctx.state.ec2.networkAcls[networkAclId] = acl;
    setTags(ctx.state, networkAclId, tagsFromSpecifications(input.TagSpecifications, 'network-acl'));
    return { NetworkAcl: aclShape(ctx.state, acl) };
  },

  CreateNetworkAclEntry: (ctx, input: CreateNetworkAclEntryCommandInput) => {
    const acl = aclOrFail(ctx, input.NetworkAclId);
    const ruleNumber = requireDefined(ctx, input.RuleNumber, 'RuleNumber');
    const egress = input.Egress ?? false;
    if (acl.entries.some((e) => e.ruleNumber === ruleNumber && e.egress === egress)) {
      fail(
        ctx,
        'NetworkAclEntryAlreadyExists',
        `The network acl entry identified by ${ruleNumber} already exists.`,
      );
    }
    acl.entries.push({
      ruleNumber,
      protocol: requireDefined(ctx, input.Protocol, 'Protocol'),
      ruleAction: input.RuleAction === 'deny' ? 'deny' : 'allow',
      egress,
      ...(input.CidrBlock ? { cidrBlock: input.CidrBlock } : {}),
      ...(input.Ipv6CidrBlock ? { ipv6CidrBlock: input.Ipv6CidrBlock } : {}),
      ...(input.PortRange
        ? { portRange: { from: input.PortRange.From ?? 0, to: input.PortRange.To ?? 65535 } }
        : {}),
    });
    return {};
  },

  ReplaceNetworkAclEntry: (ctx, input: ReplaceNetworkAclEntryCommandInput) => {
    const acl = aclOrFail(ctx, input.NetworkAclId);
    const egress = input.Egress ?? false;
    const entry = acl.entries.find((e) => e.ruleNumber === input.RuleNumber && e.egress === egress);
    if (!entry)
      fail(
        ctx,
        'InvalidNetworkAclEntry.NotFound',
        `The network acl entry identified by ${input.RuleNumber} does not exist.`,
      );
    entry.protocol = input.Protocol ?? entry.protocol;
    entry.ruleAction = input.RuleAction === 'deny' ? 'deny' : 'allow';
    if (input.CidrBlock) entry.cidrBlock = input.CidrBlock;
    if (input.PortRange)
      entry.portRange = { from: input.PortRange.From ?? 0, to: input.PortRange.To ?? 65535 };
    return {};
  },

  ReplaceNetworkAclAssociation: (
    ctx,
    input: ReplaceNetworkAclAssociationCommandInput,
  ): Out<ReplaceNetworkAclAssociationCommandOutput> => {
    const target = aclOrFail(ctx, input.NetworkAclId);
    const current = Object.values(ctx.state.ec2.networkAcls).find((a) =>
      a.associations.some((x) => x.associationId === input.AssociationId),
    );
    const association = current?.associations.find((x) => x.associationId === input.AssociationId);
    if (!current || !association) {
      fail(
        ctx,
        'InvalidAssociationID.NotFound',
        `The association ID '${input.AssociationId}' does not exist`,
      );
    }
    if (current.vpcId !== target.vpcId) {
      fail(
        ctx,
        'InvalidParameterValue',
        `Network ACL ${target.networkAclId} and subnet ${association.subnetId} belong to different networks`,
      );
    }
    current.associations = current.associations.filter((x) => x.associationId !== input.AssociationId);
    const newAssociationId = newId(ctx.state, 'aclassoc');
    target.associations.push({ associationId: newAssociationId, subnetId: association.subnetId });
    return { NewAssociationId: newAssociationId };
  },

  DeleteNetworkAcl: (ctx, input: DeleteNetworkAclCommandInput) => {
    const acl = aclOrFail(ctx, input.NetworkAclId);
    if (acl.isDefault)
      fail(ctx, 'InvalidParameterValue', `cannot delete default network ACL ${acl.networkAclId}`);
    if (acl.associations.length > 0) {
      fail(
        ctx,
        'DependencyViolation',
        `The networkAcl '${acl.networkAclId}' has dependencies and cannot be deleted.`,
      );
    }
    delete ctx.state.ec2.networkAcls[acl.networkAclId];
    delete ctx.state.ec2.tags[acl.networkAclId];
    return {};
  },

  CreateSecurityGroup: (
    ctx,
    input: CreateSecurityGroupCommandInput,
  ): Out<CreateSecurityGroupCommandOutput> => {
    const { state } = ctx;
    const vpcId = input.VpcId ?? Object.values(state.ec2.vpcs).find((v) => v.isDefault)?.vpcId;
    if (!vpcId || !state.ec2.vpcs[vpcId])
      fail(ctx, 'InvalidVpcID.NotFound', `The vpc ID '${input.VpcId}' does not exist`);
    const groupName = requireDefined(ctx, input.GroupName, 'GroupName');
    const description = requireDefined(ctx, input.Description, 'GroupDescription');
    if (Object.values(state.ec2.securityGroups).some((g) => g.vpcId === vpcId && g.groupName === groupName)) {
      fail(
        ctx,
        'InvalidGroup.Duplicate',
        `The security group '${groupName}' already exists for VPC '${vpcId}'`,
      );
    }
    const groupId = newId(state, 'sg');
    // A new group has no inbound rules and allows all outbound traffic
    // (https://docs.aws.amazon.com/vpc/latest/userguide/creating-security-groups.html).
    state.ec2.securityGroups[groupId] = {
      groupId,
      groupName,
      description,
      vpcId,
      rules: [{ ruleId: newId(state, 'sgr'), egress: true, ipProtocol: '-1', cidrIpv4: '0.0.0.0/0' }],
    };
    setTags(state, groupId, tagsFromSpecifications(input.TagSpecifications, 'security-group'));
    return {
      GroupId: groupId,
      SecurityGroupArn: groupArn(state, groupId),
      Tags: tagList(state.ec2.tags[groupId]),
    };
  },

  /**
   * A group still used by an interface, or referenced by another group's rule, cannot be deleted
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html).
   */
  DeleteSecurityGroup: (
    ctx,
    input: DeleteSecurityGroupCommandInput,
  ): Out<DeleteSecurityGroupCommandOutput> => {
    const { state } = ctx;
    const group = groupOrFail(ctx, input.GroupId, input.GroupName);
    if (group.groupName === 'default') {
      fail(
        ctx,
        'CannotDelete',
        `the specified group: "${group.groupId}" name: "default" cannot be deleted by a user`,
      );
    }
    const inUse =
      Object.values(state.ec2.networkInterfaces).some((nic) => nic.groups.includes(group.groupId)) ||
      Object.values(state.ec2.securityGroups).some(
        (g) => g.groupId !== group.groupId && g.rules.some((r) => r.referencedGroupId === group.groupId),
      );
    if (inUse) fail(ctx, 'DependencyViolation', `resource ${group.groupId} has a dependent object`);
    delete state.ec2.securityGroups[group.groupId];
    delete state.ec2.tags[group.groupId];
    return { Return: true, GroupId: group.groupId };
  },

  AuthorizeSecurityGroupIngress: (
    ctx,
    input: AuthorizeSecurityGroupIngressCommandInput,
  ): Out<AuthorizeSecurityGroupIngressCommandOutput> => authorize(ctx, input, false),
  AuthorizeSecurityGroupEgress: (
    ctx,
    input: AuthorizeSecurityGroupEgressCommandInput,
  ): Out<AuthorizeSecurityGroupEgressCommandOutput> => authorize(ctx, input, true),
  RevokeSecurityGroupIngress: (
    ctx,
    input: RevokeSecurityGroupIngressCommandInput,
  ): Out<RevokeSecurityGroupIngressCommandOutput> => revoke(ctx, input, false),
  RevokeSecurityGroupEgress: (
    ctx,
    input: RevokeSecurityGroupEgressCommandInput,
  ): Out<RevokeSecurityGroupEgressCommandOutput> => revoke(ctx, input, true),
  /**
   * Replaces an interface's groups, or sets its connection tracking timeouts
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyNetworkInterfaceAttribute.html).
   */
  ModifyNetworkInterfaceAttribute: (ctx, input: ModifyNetworkInterfaceAttributeCommandInput) => {
    const nic = interfaceOrFail(ctx, input.NetworkInterfaceId);
    if (input.Groups !== undefined) setInterfaceGroups(ctx, nic, input.Groups);
    const tracking = input.ConnectionTrackingSpecification;
    if (tracking) {
      const check = (name: string, value: number | undefined, min: number, max: number): void => {
        if (value !== undefined && (value < min || value > max)) {
          fail(
            ctx,
            'InvalidParameterValue',
            `Value (${value}) for parameter ${name} is invalid. Must be between ${min} and ${max}.`,
          );
        }
      };
      // Ranges from https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html#connection-tracking-timeouts
      check('TcpEstablishedTimeout', tracking.TcpEstablishedTimeout, 60, 432000);
      check('UdpStreamTimeout', tracking.UdpStreamTimeout, 60, 180);
      check('UdpTimeout', tracking.UdpTimeout, 30, 60);
      nic.connectionTracking = {
        ...nic.connectionTracking,
        ...(tracking.TcpEstablishedTimeout !== undefined
          ? { tcpEstablishedTimeout: tracking.TcpEstablishedTimeout }
          : {}),
        ...(tracking.UdpStreamTimeout !== undefined ? { udpStreamTimeout: tracking.UdpStreamTimeout } : {}),
        ...(tracking.UdpTimeout !== undefined ? { udpTimeout: tracking.UdpTimeout } : {}),
      };
    }
    if (input.SourceDestCheck?.Value !== undefined) nic.sourceDestCheck = input.SourceDestCheck.Value;
    if (input.Description?.Value !== undefined) nic.description = input.Description.Value;
    if (input.Attachment?.DeleteOnTermination !== undefined) {
      if (!nic.attachment || nic.attachment.attachmentId !== input.Attachment.AttachmentId) {
        fail(
          ctx,
          'InvalidAttachmentID.NotFound',
          `The attachment ID '${input.Attachment.AttachmentId}' does not exist`,
        );
      }
      nic.attachment.deleteOnTermination = input.Attachment.DeleteOnTermination;
    }
    return {};
  },
};
