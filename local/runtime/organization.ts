/**
 * The local organization's settings: when the stack's settings name no organization (`organization.id`),
 * the local runtime's stack gets one naming the local organization (its id and external id) and the member
 * accounts and regions seeded, as a deployment names its own in cordon.config.ts: the action functions then
 * get the responder role's name and the external id, and the router takes those accounts as in scope.
 * Settings that name an organization are left as they are: the local one takes their id, external id and
 * responder role name.
 */
import type { SettingsInput } from '#shared/settings';
import settingsFile from '../../cordon.config.ts';
import type { CordonStackProps } from '../../infra/cordon-stack.ts';
import {
  DEFAULT_ORGANIZATION,
  type OrganizationOptions,
  type OrganizationSeed,
  type OrganizationState,
} from '../sandbox/organization.ts';

/** The local organization's id and external id, when neither the settings nor the seed name them. */
export const LOCAL_ORGANIZATION_ID: string = DEFAULT_ORGANIZATION.id;
export const LOCAL_EXTERNAL_ID: string = DEFAULT_ORGANIZATION.externalId;

/** What the settings say of the organization, read loosely (the section may be absent). */
export interface NamedOrganization {
  readonly id: string | undefined;
  readonly externalId: string | undefined;
  readonly responderRoleName: string | undefined;
}

/** The organization the settings name: its id, external id and responder role name, each when given. */
export function namedOrganization(settings: unknown): NamedOrganization {
  const section = (settings as { organization?: Record<string, unknown> } | undefined)?.organization;
  const text = (key: string): string | undefined =>
    typeof section?.[key] === 'string' ? (section[key] as string) : undefined;
  return { id: text('id'), externalId: text('externalId'), responderRoleName: text('responderRoleName') };
}

/** The accounts and regions an organization's seed or saved state holds, besides the hub's home. */
export interface LocalPlaces {
  readonly id: string | undefined;
  readonly externalId: string | undefined;
  /** Member accounts (in the organization, not the hub), in seed order. */
  readonly members: readonly string[];
  /** Regions of any account other than the hub's home region, sorted. */
  readonly regions: readonly string[];
}

/** The places of a seed or a saved organization (the hub's home region is `home`). */
export function placesOf(from: OrganizationSeed | OrganizationState, home: string): LocalPlaces {
  return 'accounts' in from ? placesOfState(from) : placesOfSeed(from, home);
}

/** The organization's options, with the names the settings give (each when they do). */
export function organizationOptions(
  named: NamedOrganization,
  options: Omit<OrganizationOptions, 'id' | 'externalId' | 'responderRoleName'>,
): OrganizationOptions {
  return {
    ...options,
    ...(named.id === undefined ? {} : { id: named.id }),
    ...(named.externalId === undefined ? {} : { externalId: named.externalId }),
    ...(named.responderRoleName === undefined ? {} : { responderRoleName: named.responderRoleName }),
  };
}

/** The places of a seed (the hub's home region is `home`). */
export function placesOfSeed(seed: OrganizationSeed, home: string): LocalPlaces {
  const regions = new Set<string>(Object.keys(seed.hubRegions ?? {}));
  for (const member of [...Object.values(seed.members ?? {}), ...Object.values(seed.outsiders ?? {})]) {
    for (const region of Object.keys(member.regions ?? {})) regions.add(region);
  }
  regions.delete(home);
  return {
    id: seed.id,
    externalId: seed.externalId,
    members: Object.keys(seed.members ?? {}),
    regions: [...regions].sort(),
  };
}

/** The places of a saved organization. */
export function placesOfState(state: OrganizationState): LocalPlaces {
  const regions = new Set<string>();
  const members: string[] = [];
  for (const [account, saved] of Object.entries(state.accounts)) {
    if (saved.inOrganization && account !== state.hub.account) members.push(account);
    for (const region of saved.regions) regions.add(region.region);
  }
  regions.delete(state.hub.region);
  return { id: state.id, externalId: state.externalId, members, regions: [...regions].sort() };
}

/**
 * The settings with the local organization, when they name none and there is something to name (a member,
 * or a region besides the hub's); else the settings as they are.
 */
export function withLocalOrganization(settings: SettingsInput, places: LocalPlaces): SettingsInput {
  if (namedOrganization(settings).id !== undefined) return settings;
  if (places.members.length === 0 && places.regions.length === 0) return settings;
  const section = (settings as { organization?: Record<string, unknown> }).organization ?? {};
  return {
    ...settings,
    organization: {
      ...section,
      id: places.id ?? LOCAL_ORGANIZATION_ID,
      externalId: places.externalId ?? LOCAL_EXTERNAL_ID,
      accounts: [...places.members],
      regions: [...places.regions],
    },
  } as SettingsInput;
}

/** The stack's props with the local organization in their settings ({@link withLocalOrganization}). */
export function withLocalOrganizationStack(
  props: CordonStackProps | undefined,
  places: LocalPlaces,
): CordonStackProps | undefined {
  const settings = props?.settings ?? settingsFile;
  const overlaid = withLocalOrganization(settings, places);
  return overlaid === settings ? props : { ...props, settings: overlaid };
}
