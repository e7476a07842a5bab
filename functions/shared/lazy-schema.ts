/**
 * Schemas built on first use, not at import. Building a zod schema is most of what Cordon's own code
 * costs a cold start (a few milliseconds for the domain's schemas alone, against the 5 % goal of
 * bench/bundles.ts), and a function uses few of the schemas its bundle holds: the router never parses a
 * step input at load, an action never parses a finding.
 *
 * `lazySchema(() => z.object({...}))` returns a stand-in with the schema's own type: the first time
 * anything reads a property of it (a parse, `z.extend`, another schema built around it), the schema is
 * built, once, and every read goes to it from then on. A schema defined in terms of another lazy one is
 * wrapped too, so that defining it does not build the other.
 */
let built = 0;

/** How many lazy schemas have been built in this process: what the tests of a cold start read. */
export function schemasBuilt(): number {
  return built;
}

/** A schema built by `build` the first time it is used, once; until then, nothing of it is made. */
export function lazySchema<T extends object>(build: () => T): T {
  let schema: T | undefined;
  const target = (): T => {
    if (schema === undefined) {
      schema = build();
      built++;
    }
    return schema;
  };
  // Every property read, write and `in` goes to the built schema; its own methods close over it, so
  // `this` is never the stand-in. `instanceof` reads the prototype (and zod's `_zod.traits`) through it.
  return new Proxy({} as T, {
    get: (_, key) => {
      const s = target();
      return Reflect.get(s, key, s);
    },
    set: (_, key, value) => Reflect.set(target(), key, value),
    has: (_, key) => Reflect.has(target(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(target()),
  });
}
