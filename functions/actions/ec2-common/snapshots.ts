/** Finding the snapshots an incident took, by the tags `ec2-snapshot` puts on them at creation. */
import {
  DescribeSnapshotsCommand,
  type DescribeSnapshotsCommandOutput,
  type Snapshot,
} from '@aws-sdk/client-ec2';
import { awsCall } from '#shared/aws';
import { allItems, nextToken } from '#shared/pages';
import { type Ec2Sender, TAG } from './instance.ts';

/**
 * The incident's snapshots of an instance (or, with `snapshotIds`, those snapshots). Tags given in
 * CreateSnapshots' TagSpecifications are set when the snapshots are created
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSnapshots.html), so a snapshot the
 * incident took always carries them.
 */
export async function incidentSnapshots(
  ec2: Ec2Sender,
  incidentId: string,
  instanceId: string | undefined,
  snapshotIds?: readonly string[],
): Promise<Snapshot[]> {
  const filters = snapshotIds?.length
    ? undefined
    : [
        { Name: `tag:${TAG.incident}`, Values: [incidentId] },
        ...(instanceId ? [{ Name: `tag:${TAG.instance}`, Values: [instanceId] }] : []),
      ];
  const doing = `ec2:DescribeSnapshots ${snapshotIds?.join(',') ?? `${TAG.incident}=${incidentId}`}`;
  return allItems<DescribeSnapshotsCommandOutput, Snapshot>({
    doing,
    fetch: (NextToken) =>
      awsCall(doing, () =>
        ec2.send(
          new DescribeSnapshotsCommand({
            OwnerIds: ['self'],
            ...(snapshotIds?.length ? { SnapshotIds: [...snapshotIds] } : { Filters: filters }),
            NextToken,
          }),
        ),
      ),
    next: nextToken,
    items: (page) => page.Snapshots,
  });
}
