/**
 * What each action an approval gate asks for does, and whether it can be undone, in plain words: the one
 * table the decision page, the request email and the timeout notice read, so that they never disagree.
 * Each entry states what the action's code does (functions/actions/<action>/core.ts), nothing more.
 */

/** Whether a person can undo the action after it ran. */
export type Undoable = 'yes' | 'no' | 'partly';

/** What an action does, as the person deciding reads it. */
export interface ActionEffect {
  /** What the action changes, one or two sentences. */
  readonly does: string;
  /** Whether it can be undone. */
  readonly undoable: Undoable;
  /** How to undo it, or why it cannot be. */
  readonly undo: string;
  /** What stays as it is when the request is rejected. */
  readonly ifRejected: string;
}

/** The actions Cordon's playbooks ask a person about (the gates' `action`). */
export const ACTION_EFFECTS: Readonly<Record<string, ActionEffect>> = {
  'isolate-instance': {
    does: "Replaces the security groups of every network interface of the instance with Cordon's isolation group, protects its evidence (stop and termination protection, volumes kept), detaches it from its Auto Scaling group and load balancers, and revokes its role's sessions.",
    undoable: 'yes',
    undo: '`cordon release <incident-id>` puts back the groups, memberships and protections the record holds from before containment.',
    ifRejected: 'The instance is not contained: it keeps its network access and keeps running as it is.',
  },
  'stop-instance': {
    does: 'Stops the instance, once every evidence snapshot is complete. Its EBS volumes are kept; data on instance-store volumes is lost.',
    undoable: 'yes',
    undo: 'Start the instance again (EC2 StartInstances); it stays isolated until `cordon release <incident-id>`.',
    ifRejected: 'The instance keeps running, contained.',
  },
  'terminate-instance': {
    does: 'Terminates the instance, once every evidence snapshot is complete. Its volumes survive (containment turned DeleteOnTermination off) and the snapshots are kept.',
    undoable: 'no',
    undo: 'A terminated instance cannot be started again; only a restore from a backup brings service back, as a new instance.',
    ifRejected: 'The instance is kept, contained.',
  },
  'restore-instance': {
    does: 'Restores a new instance from the recovery point with AWS Backup, outside the isolation group, and validates it. The contained instance is not changed.',
    undoable: 'yes',
    undo: 'Terminate the restored instance; the contained instance and its evidence stay as they are.',
    ifRejected: 'Nothing is restored: the contained instance and its evidence stay as they are.',
  },
  'volumes-from-snapshots': {
    does: "Creates a new EBS volume from each of the instance's volumes, from its newest snapshot taken before the incident was first seen, for an operator to attach. Nothing is attached and the contained instance is not changed.",
    undoable: 'yes',
    undo: 'Delete the volumes Cordon created (tagged with the incident id); the snapshots stay.',
    ifRejected: 'No volume is created: the contained instance and its evidence stay as they are.',
  },
  'delete-access-key': {
    does: 'Deletes the compromised access key (it is already inactive).',
    undoable: 'no',
    undo: 'A deleted access key cannot be restored: the user needs a new key from an administrator.',
    ifRejected: 'The key stays, inactive: `cordon release <incident-id>` can make it active again.',
  },
  'contain-credentials': {
    does: "For an IAM user's key: deactivates the key and denies the sessions issued before now (and deletes the console password if the settings say so). For a role: denies its sessions issued before now.",
    undoable: 'yes',
    undo: '`cordon release <incident-id>` makes the key active again and removes this incident\u2019s deny; a deleted console password cannot be restored, the user gets a new one.',
    ifRejected: 'The credentials are not contained: they keep working.',
  },
  'release-containment': {
    does: 'Undoes the containment of this incident: puts back the state the record holds from before containment.',
    undoable: 'yes',
    undo: 'Run the playbook on the incident again (`cordon run --incident <incident-id>`) to contain it again.',
    ifRejected: 'The resource stays contained.',
  },
};

/** What an action the table does not know does: said plainly, never guessed. */
function unknownEffect(action: string): ActionEffect {
  return {
    does: `Runs ${action}. Cordon has no description of this action: read what Cordon asks to do next.`,
    undoable: 'partly',
    undo: 'Unknown: find out before you approve.',
    ifRejected: `${action} does not run.`,
  };
}

/** The effect of an action, from {@link ACTION_EFFECTS}. */
export function actionEffect(action: string): ActionEffect {
  return ACTION_EFFECTS[action] ?? unknownEffect(action);
}

/** The undo answer as a short label: `Yes`, `No` or `In part`. */
export function undoLabel(effect: ActionEffect): string {
  return effect.undoable === 'yes' ? 'Yes' : effect.undoable === 'no' ? 'No, it cannot be undone' : 'In part';
}
