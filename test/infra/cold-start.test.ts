/**
 * Every function of the stack, imported as Lambda imports it (with its synthesized environment): its
 * handler is made, and no schema is built and no settings are parsed until an invocation needs them
 * (functions/shared/lazy-schema.ts, functions/shared/settings.ts). bench/bundles.ts measures what the
 * import costs; this holds that none of it is schema building.
 */
import { describe, expect, it, vi } from 'vitest';
import { stackFunctions } from '../../bench/stack-functions.ts';
import { fromRoot } from '../../infra/paths.ts';

describe("the stack's functions at a cold start", () => {
  it('build no schema and parse no settings at import, and each makes its handler', async () => {
    const functions = stackFunctions();
    expect(functions.length).toBeGreaterThan(20);
    // Synthesizing the stack parsed the settings: the functions' modules are loaded afresh, as on Lambda.
    vi.resetModules();
    const lazy = await import('#shared/lazy-schema');
    for (const fn of functions) {
      const { NODE_OPTIONS: _, ...env } = fn.env;
      Object.assign(process.env, env);
      const module = (await import(fromRoot(fn.entry))) as { handler?: unknown };
      expect(typeof module.handler, fn.entry).toBe('function');
      expect(lazy.schemasBuilt(), `schemas built by importing ${fn.entry}`).toBe(0);
    }
    // The first use builds: what the counter reads is real.
    const domain = await import('#shared/domain');
    domain.parseOrThrow(domain.ResourceSchema, { type: 'instance', id: 'i-1' }, 'resource');
    expect(lazy.schemasBuilt()).toBeGreaterThan(0);
  });
});
