/** Paths the infrastructure code resolves against the repository's root, wherever it runs from. */
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The absolute path of a repository-relative path. */
export function fromRoot(path: string): string {
  return join(REPO_ROOT, path);
}

/** The repository-relative path of an absolute path, with forward slashes. */
export function toRoot(path: string): string {
  return relative(REPO_ROOT, path).split('\\').join('/');
}
