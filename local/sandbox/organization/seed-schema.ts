/**
 * The schema of an organization seed ({@link OrganizationSeed}) as a person writes it in a file (`cordon run
 * --account <file>`): the hub's account seed, member accounts by id with their regions' account seeds and
 * their responder role, and accounts outside the organization. Each bad field is named by its path
 * (`members.883606788610.regions.us-east-1.instances[0].id: ...`); an unknown field is refused.
 */
import * as z from 'zod/mini';
import { AccountSeedSchema, seedProblems } from '../seed-schema.ts';
import type { OrganizationSeed } from './types.ts';

const account = z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id'));
const region = z
  .string()
  .check(z.regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1'));

const responder = z.strictObject({
  name: z.optional(z.string().check(z.regex(/^[\w+=,.@-]{1,64}$/, 'must be a role name'))),
  trustedPrincipals: z.optional(z.array(z.string())),
  externalId: z.optional(z.nullable(z.string())),
  organizationId: z.optional(z.nullable(z.string())),
});

const member = z.strictObject({
  regions: z.optional(z.record(region, AccountSeedSchema)),
  responder: z.optional(z.union([z.literal(false), responder])),
  organizationalUnit: z.optional(z.string()),
});

/** An organization seed, every field optional, no field unknown. */
export const OrganizationSeedSchema = z.strictObject({
  id: z.optional(z.string().check(z.regex(/^o-[a-z0-9]{10,32}$/, 'must be an organization id (o-...)'))),
  externalId: z.optional(z.string().check(z.regex(/^[\w+=,.@:/-]{2,1224}$/, 'must be an external id'))),
  hub: z.optional(AccountSeedSchema),
  hubRegions: z.optional(z.record(region, AccountSeedSchema)),
  members: z.optional(z.record(account, member)),
  outsiders: z.optional(z.record(account, member)),
});

/** Whether a seed file holds an organization (it names a hub, members or outsiders), not one account. */
export function isOrganizationSeed(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    ['hub', 'hubRegions', 'members', 'outsiders'].some((key) => key in value)
  );
}

/** Checks an organization seed read from a file: the seed, or each problem as `path: what is wrong`. */
export function checkOrganizationSeed(
  value: unknown,
): { ok: true; seed: OrganizationSeed } | { ok: false; problems: string[] } {
  const result = z.safeParse(OrganizationSeedSchema, value);
  if (result.success) return { ok: true, seed: result.data as OrganizationSeed };
  return { ok: false, problems: seedProblems(result.error.issues, 'an organization seed') };
}
