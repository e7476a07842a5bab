/**
 * The action declarations the stack reads (functions/actions/index.ts): one per action folder, named after
 * it, and free of effects at import, since the stack imports every one of them at synth time.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as declared from '../../functions/actions/index.ts';
import { defineAction } from '../../functions/shared/define-action.ts';
import { fromRoot } from '../../infra/paths.ts';
import { synthStack } from '../support/app.ts';

const actions = Object.values(declared);

describe('the action declarations', () => {
  it('declares every action folder once, under its folder name, and its handler is built from it', () => {
    const folders = readdirSync(fromRoot('functions/actions'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(fromRoot(`functions/actions/${d.name}/handler.ts`)))
      .map((d) => d.name)
      .sort();
    expect(folders.length).toBeGreaterThanOrEqual(22);
    expect(actions.map((a) => a.name).sort()).toEqual(folders);
    for (const name of folders) {
      const handler = readFileSync(fromRoot(`functions/actions/${name}/handler.ts`), 'utf8');
      expect(handler, name).toMatch(/import \{ action \} from '\.\/action\.ts';/);
      expect(handler, name).toMatch(/export const handler = actionHandler\(action\);/);
    }
  });

  it('makes one function per declaration, with its entry and description', () => {
    const { stack, template } = synthStack();
    const resources = template.toJSON().Resources as Record<
      string,
      { Type: string; Metadata?: Record<string, unknown>; Properties?: { Description?: string } }
    >;
    for (const action of actions) {
      const fn = stack.actions.get(action.name);
      expect(fn?.entryPath, action.name).toBe(`functions/actions/${action.name}/handler.ts`);
      const found = Object.values(resources).filter(
        (r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['cordon:entry'] === fn?.entryPath,
      );
      expect(found.map((r) => r.Properties?.Description)).toEqual([action.description]);
    }
    expect(stack.actions.size).toBe(actions.length);
  });

  it('reads no configuration and makes no client when imported, where its handler does both', () => {
    // A fresh process: what of Cordon's configuration the import reads, and how many SDK clients it makes;
    // then the same of one handler, which reads its configuration at once.
    const script = `
      const reads = new Set();
      const env = process.env;
      process.env = new Proxy(env, { get: (t, k) => { if (typeof k === 'string') reads.add(k); return t[k]; } });
      const { registerClientPlugin } = await import(${JSON.stringify(fromRoot('functions/shared/clients.ts'))});
      let made = 0;
      registerClientPlugin({ applyToStack: () => { made++; } });
      const config = () => [...reads].filter((k) => /^(CORDON_|AWS_REGION$|AWS_ENDPOINT_URL)/.test(k)).sort();
      await import(${JSON.stringify(fromRoot('functions/actions/index.ts'))});
      console.log(JSON.stringify({ made, config: config() }));
      Object.assign(env, { CORDON_TABLE_NAME: 'cordon-audit', CORDON_RECORD_KEY: 'alias/cordon-record', CORDON_ANCHOR_BUCKET: 'cordon-anchors' });
      await import(${JSON.stringify(fromRoot('functions/actions/ec2-check-snapshots/handler.ts'))});
      console.log(JSON.stringify({ made, config: config() }));
    `;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fromRoot('.'),
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const [declarations, handler] = out
      .trim()
      .split('\n')
      .slice(-2)
      .map((line) => JSON.parse(line) as { made: number; config: string[] });
    expect(declarations).toEqual({ made: 0, config: [] });
    // The handler: the audit config, and the record's KMS, S3 and DynamoDB clients and its EC2 client.
    expect(handler?.config).toEqual(
      expect.arrayContaining(['CORDON_ANCHOR_BUCKET', 'CORDON_RECORD_KEY', 'CORDON_TABLE_NAME']),
    );
    expect(handler?.made).toBe(4);
  });

  it('refuses conditions on a call it does not declare, and calls with a client it does not make', () => {
    const base = {
      name: 'x-test',
      phase: 'containment' as const,
      description: 'test',
      deps: () => ({}),
      core: async () => ({ status: 'succeeded' as const }),
    };
    expect(() =>
      defineAction({
        ...base,
        clients: {},
        calls: {},
        conditions: { 'ec2:ModifyInstanceAttribute': [{}] },
      }),
    ).toThrow('defineAction x-test: conditions for ec2:ModifyInstanceAttribute, which its calls do not list');
    expect(() =>
      defineAction({ ...base, clients: {}, calls: { ec2: ['DescribeInstances'] } as never }),
    ).toThrow('defineAction x-test: calls for ec2, which its clients do not name');
    expect(() => defineAction({ ...base, name: 'NotKebab', clients: {}, calls: {} })).toThrow(
      'name must be kebab-case, got "NotKebab"',
    );
  });
});
