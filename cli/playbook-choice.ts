/**
 * Which playbook fits which incident and resource: the resource types each of Cordon's playbooks acts on,
 * and the release playbook that undoes each containment. `cordon run` and `cordon release` both choose
 * from here (a module of its own, so that neither command imports the other).
 */
import type { Incident, Resource } from '#shared/domain';
import { ValidationError } from '#shared/errors';

/**
 * The resource types each of Cordon's playbooks acts on. A playbook not listed (another stack's) is not
 * checked.
 */
export const PLAYBOOK_RESOURCE_TYPES: Readonly<Record<string, readonly Resource['type'][]>> = {
  'ec2-compromise': ['instance'],
  'ec2-release': ['instance'],
  recover: ['instance'],
  'iam-credential-compromise': ['access-key'],
  'iam-release': ['access-key', 'iam-user'],
};

/** The release playbook that undoes each containment playbook. */
export const RELEASE_PLAYBOOKS: Readonly<Record<string, string>> = {
  'ec2-compromise': 'ec2-release',
  'iam-credential-compromise': 'iam-release',
};

/** Playbooks that undo an existing incident's containment: they never start from a new event. */
export const isReleasePlaybook = (playbook: string): boolean =>
  Object.values(RELEASE_PLAYBOOKS).includes(playbook);

/**
 * The resource `playbook` acts on among `resources`: the first of a type it handles. Throws a
 * {@link ValidationError} naming what the playbook needs when none fits (an IAM playbook for an instance
 * finding). A playbook of another stack takes the first resource.
 */
export function resourceFitting(playbook: string, resources: readonly Resource[], what: string): Resource {
  const types = PLAYBOOK_RESOURCE_TYPES[playbook];
  const resource = types ? resources.find((r) => types.includes(r.type)) : resources[0];
  if (!resource) {
    throw new ValidationError('--playbook', [
      `${playbook} acts on ${types?.join(' or ') ?? 'a resource'}, but ${what} names ${
        resources.map((r) => `${r.type} ${r.id}`).join(', ') || 'no resource'
      }`,
    ]);
  }
  return resource;
}

/** The release playbook for an incident, and the resource it releases, from the verified incident. */
export function releaseFor(incident: Pick<Incident, 'id' | 'playbook' | 'resources'>): {
  playbook: string;
  resource: Resource;
} {
  const playbook = incident.playbook === undefined ? undefined : RELEASE_PLAYBOOKS[incident.playbook];
  if (!playbook) {
    throw new ValidationError('incident', [
      `${incident.id} was opened for ${incident.playbook ?? 'no playbook'}: only the containment of ${Object.keys(
        RELEASE_PLAYBOOKS,
      ).join(' or ')} can be released`,
    ]);
  }
  return { playbook, resource: resourceFitting(playbook, incident.resources, `incident ${incident.id}`) };
}
