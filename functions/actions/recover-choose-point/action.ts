/** `recover-choose-point`: the newest completed recovery point before the incident's first-seen time (recovery). */
import { BackupClient } from '@aws-sdk/client-backup';
import { STSClient } from '@aws-sdk/client-sts';
import { defineAction } from '#shared/define-action';
import { type ChoosePointDeps, choosePoint } from './core.ts';

export const action = defineAction({
  name: 'recover-choose-point',
  phase: 'recovery',
  description: 'Chooses the newest recovery point taken before the compromise',
  clients: { backup: BackupClient, sts: STSClient },
  calls: { backup: ['ListRecoveryPointsByResource'], sts: ['GetCallerIdentity'] },
  deps: ({ clients }): ChoosePointDeps => {
    const region = process.env.AWS_REGION;
    return { ...clients, ...(region ? { region } : {}) };
  },
  core: choosePoint,
});
