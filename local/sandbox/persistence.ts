/**
 * The journals of the persisted services (KMS, S3): opened on a folder, read to catch up with what other
 * sandboxes appended, and written through for every change (see {@link SandboxPersistOptions}).
 */
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { JournalEvent, JournaledService } from './context.ts';
import { SandboxJournalError, SandboxSeedError, SERVICES } from './errors.ts';
import { Journal } from './journal.ts';
import { emptyKms, kmsService } from './kms.ts';
import type { PersistedService, SandboxPersistOptions } from './options.ts';
import { s3Service } from './s3.ts';
import type { AccountSeed } from './seed.ts';
import type { AccountState } from './state.ts';

/** What applying one journal line gave: its result, or the AWS error of a change that did not hold. */
type Outcome = { readonly value: unknown } | { readonly error: unknown };

const JOURNAL_FILES: Readonly<Record<PersistedService, string>> = { KMS: 'kms.jsonl', S3: 's3.jsonl' };

const isPersistable = (service: string): service is PersistedService => Object.hasOwn(JOURNAL_FILES, service);

/** A line of a journal: the change, and an id its writer knows it by. */
function journalEntry(value: unknown): { id: string; event: unknown } | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const entry = value as { v?: unknown; id?: unknown; event?: unknown };
  return entry.v === 1 && typeof entry.id === 'string' ? { id: entry.id, event: entry.event } : undefined;
}

/** A sandbox's journals; without any, changes apply in memory only. */
export class Journals {
  readonly #journals = new Map<PersistedService, Journal>();
  readonly #state: () => AccountState;
  readonly #now: () => number;

  /** `state` gives the sandbox's current state (replaced after each command), `now` its clock. */
  constructor(state: () => AccountState, now: () => number) {
    this.#state = state;
    this.#now = now;
  }

  /** The persisted services. */
  services(): IterableIterator<PersistedService> {
    return this.#journals.keys();
  }

  /** Opens the journals, applies what they hold, and writes the seed's KMS keys that they lack. */
  open(persist: SandboxPersistOptions, seed: AccountSeed): void {
    if (typeof persist.dir !== 'string' || persist.dir === '') {
      throw new TypeError(`persist.dir must be a folder path, got ${JSON.stringify(persist.dir)}`);
    }
    const services = persist.services ?? ['KMS', 'S3'];
    for (const service of services) {
      if (!isPersistable(service)) {
        throw new TypeError(`persist.services: ${String(service)} cannot be persisted; expected KMS or S3`);
      }
      this.#journals.set(service, new Journal(join(persist.dir, JOURNAL_FILES[service]), persist.dir));
    }
    if (this.#journals.has('S3')) {
      this.#state().s3 = { buckets: Object.create(null) };
      this.catchUp('S3');
    }
    if (this.#journals.has('KMS')) {
      const seeded = this.#state().kms;
      this.#state().kms = emptyKms();
      this.catchUp('KMS');
      this.#adoptSeedKeys(seeded, new Set((seed.kms?.keys ?? []).flatMap((k) => (k.material ? [k.id] : []))));
    }
  }

  /**
   * Writes each seed key (and alias) the KMS journal lacks; one it holds must agree with the seed. Two
   * processes starting at once may both write a key: the first line wins, and both then use that key.
   */
  #adoptSeedKeys(seeded: AccountState['kms'], explicitMaterial: ReadonlySet<string>): void {
    const file = this.#journals.get('KMS')?.file ?? '';
    const now = this.#now();
    const retrying = (write: () => void, settled: () => boolean): void => {
      if (settled()) return;
      try {
        write();
      } catch (error) {
        // Another sandbox wrote it first: compare with theirs.
        if (!settled()) throw error;
      }
    };
    for (const key of Object.values(seeded.keys)) {
      retrying(
        () => this.commit('KMS', kmsService, { op: 'CreateKey', at: now, key }),
        () => this.#state().kms.keys[key.keyId] !== undefined,
      );
      const kept = this.#state().kms.keys[key.keyId];
      if (kept && kept.keySpec !== key.keySpec) {
        throw new SandboxSeedError(
          `KMS key ${key.keyId}: ${file} holds it with spec ${kept.keySpec}, the seed says ${key.keySpec}`,
        );
      }
      if (kept && explicitMaterial.has(key.keyId) && kept.material !== key.material) {
        throw new SandboxSeedError(
          `KMS key ${key.keyId}: ${file} holds it with other material than the seed's`,
        );
      }
    }
    for (const alias of Object.values(seeded.aliases)) {
      retrying(
        () =>
          this.commit('KMS', kmsService, {
            op: 'CreateAlias',
            at: now,
            aliasName: alias.aliasName,
            targetKeyId: alias.targetKeyId,
          }),
        () => this.#state().kms.aliases[alias.aliasName] !== undefined,
      );
      const kept = this.#state().kms.aliases[alias.aliasName];
      if (kept && kept.targetKeyId !== alias.targetKeyId) {
        throw new SandboxSeedError(
          `KMS alias ${alias.aliasName}: ${file} points it at key ${kept.targetKeyId}, the seed at ${alias.targetKeyId}`,
        );
      }
    }
  }

  /** Applies the lines other sandboxes appended to `service`'s journal since the last read. */
  catchUp(service: PersistedService, own?: { id: string; outcome?: Outcome }): void {
    if (service === 'KMS') this.#replay(service, kmsService, own);
    else this.#replay(service, s3Service, own);
  }

  #replay<E extends JournalEvent>(
    service: PersistedService,
    journaled: JournaledService<E>,
    own: { id: string; outcome?: Outcome } | undefined,
  ): void {
    const journal = this.#journals.get(service);
    if (!journal) return;
    journal.read((value, line) => {
      const entry = journalEntry(value);
      if (!entry) throw new SandboxJournalError(journal.file, `line ${line} is not a journal entry`);
      const parsed = journaled.parse(entry.event);
      if ('problem' in parsed) {
        throw new SandboxJournalError(
          journal.file,
          `line ${line} is not a ${service} change: ${parsed.problem}`,
        );
      }
      let outcome: Outcome;
      try {
        outcome = { value: journaled.prepare(this.#state(), parsed.event)() };
      } catch (error) {
        // A change that no longer held when its line was read (another line won a race) changes nothing.
        if (!(error instanceof SERVICES[service].base)) {
          throw new SandboxJournalError(journal.file, `line ${line} cannot be applied`, { cause: error });
        }
        outcome = { error };
      }
      if (own?.id === entry.id) own.outcome = outcome;
    });
  }

  /**
   * Makes a change to a journaled service. In memory it is applied at once. Persisted, it is checked
   * against the latest state (a change that fails there is never written), appended, and then read back
   * in journal order with whatever other sandboxes appended meanwhile: its outcome is the one it has there.
   */
  commit<E extends JournalEvent>(
    service: PersistedService,
    journaled: JournaledService<E>,
    event: E,
  ): unknown {
    const journal = this.#journals.get(service);
    if (!journal) return journaled.prepare(this.#state(), event)();
    this.catchUp(service);
    journaled.prepare(this.#state(), event);
    const own: { id: string; outcome?: Outcome } = { id: randomUUID() };
    journal.append({ v: 1, id: own.id, event });
    this.catchUp(service, own);
    if (!own.outcome) {
      throw new SandboxJournalError(journal.file, `the change just appended (${own.id}) was not read back`);
    }
    if ('error' in own.outcome) throw own.outcome.error;
    return own.outcome.value;
  }
}
