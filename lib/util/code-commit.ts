/**
 * The git commit of the code that is running, for the provenance of long runs (study.json
 * records it beside the rules version): `git rev-parse HEAD` in the package's folder, with
 * `+dirty` when tracked files other than results differ from it. Undefined outside a git checkout (an installed
 * package) or without git.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined | null = null;

/** The commit of the running code (`<sha>` or `<sha>+dirty`), or undefined when it cannot be told. */
export function codeCommit(): string | undefined {
  if (cached !== null) return cached;
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    // The study's results (results/, bench/results/) are data a run writes, not code.
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!results', ':!bench/results'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().length > 0;
    cached = /^[0-9a-f]{40}$/.test(sha) ? `${sha}${dirty ? '+dirty' : ''}` : undefined;
  } catch {
    cached = undefined;
  }
  return cached;
}
