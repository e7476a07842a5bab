/** Which calls a sandbox's injected failures, latencies and denials apply to, and what a client is. */
import type { Pluggable } from '@smithy/types';
import type { ServiceName } from './errors.ts';

export interface Stackable {
  middlewareStack: { use(plugin: Pluggable<object, object>): void };
}

export function isStackable(client: unknown): client is Stackable {
  if (typeof client !== 'object' || client === null || !('middlewareStack' in client)) return false;
  const stack = client.middlewareStack;
  return typeof stack === 'object' && stack !== null && 'use' in stack && typeof stack.use === 'function';
}

/** Splits `EC2:StopInstances` into its service and command; the service is optional. */
function parseKey(key: string): { service?: string; command: string } {
  const index = key.indexOf(':');
  return index < 0
    ? { command: key }
    : { service: key.slice(0, index).toLowerCase(), command: key.slice(index + 1) };
}

export function matches(key: string, service: ServiceName, command: string): boolean {
  if (key === '*') return true;
  const parsed = parseKey(key);
  return (
    parsed.command === command && (parsed.service === undefined || parsed.service === service.toLowerCase())
  );
}
