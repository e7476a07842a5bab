import { describe, expect, it, vi } from 'vitest';
import * as z from 'zod/mini';
import { parseOrThrow } from '#shared/domain';
import { ValidationError } from '#shared/errors';
import { lazySchema } from '#shared/lazy-schema';

describe('a lazy schema', () => {
  it('is built on first use, once, and parses as the schema it stands for', () => {
    const build = vi.fn(() => z.object({ id: z.string().check(z.minLength(1, 'must not be empty')) }));
    const schema = lazySchema(build);
    expect(build).not.toHaveBeenCalled();
    expect(parseOrThrow(schema, { id: 'a', extra: 1 }, 'thing')).toEqual({ id: 'a' });
    expect(() => parseOrThrow(schema, { id: '' }, 'thing')).toThrow(
      new ValidationError('thing', ['id: must not be empty']),
    );
    expect(build).toHaveBeenCalledTimes(1);
  });

  it('can be extended, nested and recognised, and defining a schema around one builds neither', () => {
    const inner = vi.fn(() => z.looseObject({ incidentId: z.string() }));
    const base = lazySchema(inner);
    const outer = vi.fn(() => z.extend(base, { count: z.number().check(z.int(), z.gte(1)) }));
    const extended = lazySchema(outer);
    const list = lazySchema(() => z.array(extended));
    expect(inner).not.toHaveBeenCalled();
    expect(outer).not.toHaveBeenCalled();
    expect(parseOrThrow(list, [{ incidentId: 'i', count: 2, kept: true }], 'list')).toEqual([
      { incidentId: 'i', count: 2, kept: true },
    ]);
    const error = (() => {
      try {
        parseOrThrow(list, [{ incidentId: 'i', count: 2 }, { count: 0 }], 'list');
      } catch (e) {
        return e as ValidationError;
      }
    })();
    expect(error?.issues).toEqual([
      expect.stringMatching(/^1\.incidentId: /),
      expect.stringMatching(/^1\.count: /),
    ]);
    expect(inner).toHaveBeenCalledTimes(1);
    expect(outer).toHaveBeenCalledTimes(1);
    expect(extended).toBeInstanceOf(z.ZodMiniObject);
    expect(z.safeParse(extended, { incidentId: 'x', count: 1 }).success).toBe(true);
  });
});
