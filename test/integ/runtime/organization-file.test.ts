/**
 * The state folder's account file keeps the whole organization between commands: a runtime that continues
 * from it has every member and region as the last one left them, and names the same members in its
 * stack's settings; a file of one account's state (what earlier versions wrote) still loads, as the hub.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTagsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { makeClient } from '#shared/clients';
import { runAsFunction } from '../../../local/engine/index.ts';
import { LOCAL_ACCOUNT, LOCAL_EXTERNAL_ID } from '../../../local/runtime.ts';
import { Sandbox } from '../../../local/sandbox/index.ts';
import { member, startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

const A = '111111111111';
let t: TestRuntime | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('the account file of an organization', () => {
  it('keeps every member between runtimes, and the next names them in its settings', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cordon-org-file-')), 'account.json');
    t = await startTestRuntime({
      accountFile: file,
      organization: { members: { [A]: member({ instances: [{ id: 'i-0a00000000000001' }] }) } },
    });
    const action =
      t.runtime.engine.functions().find((fn) => fn.entry?.startsWith('functions/actions/'))?.logicalId ?? '';
    const out = await runAsFunction(action, () =>
      makeClient(STSClient, { service: 'STS' }).send(
        new AssumeRoleCommand({
          RoleArn: `arn:aws:iam::${A}:role/cordon-responder`,
          RoleSessionName: 'incident-02',
          ExternalId: LOCAL_EXTERNAL_ID,
        }),
      ),
    );
    const credentials = {
      accessKeyId: out.Credentials?.AccessKeyId ?? '',
      secretAccessKey: out.Credentials?.SecretAccessKey ?? '',
    };
    await makeClient(EC2Client, { service: 'EC2', credentials: async () => credentials }).send(
      new CreateTagsCommand({ Resources: ['i-0a00000000000001'], Tags: [{ Key: 'seen', Value: 'yes' }] }),
    );
    const left = t.runtime.organization.state();
    await t.close();
    t = undefined;
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 2 });

    t = await startTestRuntime({ accountFile: file });
    expect(t.runtime.organization.state()).toEqual(left);
    expect(t.runtime.organization.sandbox(A).state().ec2.tags['i-0a00000000000001']).toEqual({ seen: 'yes' });
    expect(t.runtime.settings?.organization).toMatchObject({ accounts: [A] });
  }, 240_000);

  it('loads a file of one account as the hub alone, and writes it back in that form', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cordon-org-file-')), 'account.json');
    const single = Sandbox.create(
      { instances: [{ id: 'i-0b00000000000001' }] },
      { accountId: LOCAL_ACCOUNT },
    ).state();
    writeFileSync(file, JSON.stringify(single));
    t = await startTestRuntime({ accountFile: file });
    expect(t.runtime.sandbox.state()).toEqual(single);
    expect(t.runtime.organization.members()).toEqual([]);
    expect(t.runtime.settings?.organization?.accounts ?? []).toEqual([]);
    await t.close();
    t = undefined;
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(single);
  }, 240_000);
});
