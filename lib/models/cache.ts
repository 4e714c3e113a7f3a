/**
 * The model cache: where fetched GGUF files live, and how a cached file is known to be the
 * pinned one without hashing it again.
 *
 * A cached model is `<cache>/<file>` plus a sidecar `<cache>/<file>.sha256` in `sha256sum`
 * format (`<hex>  <file>`; `sha256sum -c` works in the folder). The file counts as verified
 * when the sidecar names the entry's sha256, the file has the entry's size and the file was
 * not modified after the sidecar was written (mtime). Anything else is hashed once in full
 * and, when it matches, gets a fresh sidecar. A fetch in progress writes
 * `<file>.partial-<pid>`, which never looks like a finished model.
 *
 * @module
 */
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { sha256File } from '../util/file-identity.js';

/**
 * The folder fetched models are cached in: `$EMOSTEER_CACHE_DIR/models`, else
 * `$XDG_CACHE_HOME/emosteer/models`, else `~/.cache/emosteer/models` (the same folder
 * `npm run model:gemma` always used). The folder is not created here.
 *
 * @param env environment to read (default `process.env`)
 * @returns an absolute path
 */
export function modelCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.EMOSTEER_CACHE_DIR || join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'emosteer');
  return resolve(base, 'models');
}

/** The sidecar path that records a cached file's verified sha256. @internal */
export function sidecarPath(file: string): string {
  return `${file}.sha256`;
}

/** What {@link checkCached} found. @internal */
export type CacheState =
  /** No file at the path. */
  | { state: 'missing' }
  /** The file is the pinned one (`hashed`: it had to be hashed to know). */
  | { state: 'verified'; hashed: boolean }
  /** A file is there but it is not the pinned one. */
  | { state: 'mismatch'; reason: string };

/**
 * Checks a cached file against its pinned size and sha256: a stat and the sidecar when the
 * sidecar is valid, a full hash otherwise (or always, with `fullHash`). A full hash that
 * matches writes a new sidecar.
 * @internal
 */
export async function checkCached(file: string, expected: { sha256: string; size: number }, options: { fullHash?: boolean; signal?: AbortSignal } = {}): Promise<CacheState> {
  let st;
  try {
    st = await stat(file);
  } catch {
    return { state: 'missing' };
  }
  if (!st.isFile()) return { state: 'mismatch', reason: `${file} is not a regular file` };
  if (st.size !== expected.size) return { state: 'mismatch', reason: `it has ${st.size} bytes, expected ${expected.size}` };
  if (!options.fullHash) {
    try {
      const [text, side] = await Promise.all([readFile(sidecarPath(file), 'utf8'), stat(sidecarPath(file))]);
      if (text.split(/\s+/)[0] === expected.sha256 && st.mtimeMs <= side.mtimeMs) return { state: 'verified', hashed: false };
    } catch { /* no sidecar: hash below */ }
  }
  const got = await sha256File(file, options.signal);
  if (got !== expected.sha256) return { state: 'mismatch', reason: `its sha256 is ${got}, expected ${expected.sha256}` };
  await writeSidecar(file, got);
  return { state: 'verified', hashed: true };
}

/** Writes `<file>.sha256` atomically (temp file + rename). @internal */
export async function writeSidecar(file: string, sha256: string): Promise<void> {
  const side = sidecarPath(file);
  const tmp = `${side}.partial-${process.pid}`;
  const name = file.split(/[\\/]/).pop()!;
  await writeFile(tmp, `${sha256}  ${name}\n`);
  await rename(tmp, side);
}

/** Removes the cached file and its sidecar, if there. @internal */
export async function removeCached(file: string): Promise<void> {
  await rm(sidecarPath(file), { force: true });
  await rm(file, { force: true });
}

/**
 * Removes `<file>.partial-<pid>` leftovers of fetches whose process is gone (killed or
 * crashed); partial files of live processes are left to them.
 * @internal
 */
export async function removeStalePartials(dir: string, file: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = /^(.*)\.partial-(\d+)$/.exec(n);
    if (!m || (m[1] !== file && m[1] !== `${file}.sha256`)) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && isAlive(pid)) continue;
    await rm(join(dir, n), { force: true });
    removed.push(n);
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `mkdir -p` of the cache folder. @internal */
export async function ensureDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
}
