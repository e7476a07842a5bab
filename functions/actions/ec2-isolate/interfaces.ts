/**
 * An instance's network interfaces as `ec2-isolate` records them (its `before`: groups, subnet, VPC and
 * explicit connection-tracking timeouts, in device order), and the minimum timeouts of `conntrack`.
 */
import type { Instance } from '@aws-sdk/client-ec2';
import type { IsolateBefore } from '../ec2-common/records.ts';

/**
 * The minimum idle timeouts, in seconds
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ConnectionTrackingSpecificationRequest.html:
 * TCP established 60, UDP stream 60, UDP 30).
 */
export const MIN_TRACKING = { TcpEstablishedTimeout: 60, UdpStreamTimeout: 60, UdpTimeout: 30 } as const;

/** One interface as recorded. */
export type Nic = IsolateBefore['interfaces'][number];

/** The instance's interfaces in device order, as recorded. */
export function interfacesOf(instance: Instance): Nic[] {
  return [...(instance.NetworkInterfaces ?? [])]
    .sort((a, b) => (a.Attachment?.DeviceIndex ?? 0) - (b.Attachment?.DeviceIndex ?? 0))
    .map((nic) => {
      const tracking = nic.ConnectionTrackingConfiguration;
      const explicit =
        tracking &&
        (tracking.TcpEstablishedTimeout !== undefined ||
          tracking.UdpStreamTimeout !== undefined ||
          tracking.UdpTimeout !== undefined);
      return {
        networkInterfaceId: nic.NetworkInterfaceId ?? '',
        subnetId: nic.SubnetId ?? '',
        vpcId: nic.VpcId ?? instance.VpcId ?? '',
        groups: (nic.Groups ?? []).map((g) => g.GroupId ?? '').filter((g) => g !== ''),
        connectionTracking: explicit
          ? {
              ...(tracking.TcpEstablishedTimeout === undefined
                ? {}
                : { tcpEstablishedTimeout: tracking.TcpEstablishedTimeout }),
              ...(tracking.UdpStreamTimeout === undefined
                ? {}
                : { udpStreamTimeout: tracking.UdpStreamTimeout }),
              ...(tracking.UdpTimeout === undefined ? {} : { udpTimeout: tracking.UdpTimeout }),
            }
          : null,
      };
    })
    .filter((nic) => nic.networkInterfaceId !== '');
}

/** True when the interface's timeouts are already {@link MIN_TRACKING}. */
export const isMinimal = (nic: Nic): boolean =>
  nic.connectionTracking?.tcpEstablishedTimeout === MIN_TRACKING.TcpEstablishedTimeout &&
  nic.connectionTracking.udpStreamTimeout === MIN_TRACKING.UdpStreamTimeout &&
  nic.connectionTracking.udpTimeout === MIN_TRACKING.UdpTimeout;
