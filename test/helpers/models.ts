/**
 * Models for tests: tiny synthetic GGUFs written on demand (deterministic, cached in the OS
 * temp dir) and the real Gemma 3 270M fetched by scripts/fetch-gemma.mjs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeSyntheticModel, type SyntheticModelOptions } from '../../lib/synth/synthetic-model.js';

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

let gemma: { path: string | null; reason: string } | undefined;

/**
 * The Gemma 3 270M GGUF, fetched (or found in the cache) by `npm run model:gemma`. When it
 * cannot be had, `path` is null and `reason` says why; under CI (CI=1) that is an error.
 */
export function gemmaModel(): { path: string | null; reason: string } {
  if (gemma) return gemma;
  const fromEnv = process.env.EMOSTEER_GEMMA;
  if (fromEnv && existsSync(fromEnv)) return (gemma = { path: fromEnv, reason: '' });
  try {
    const out = execFileSync(process.execPath, [resolve('scripts/fetch-gemma.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    const path = out.trim().split('\n').pop()!;
    gemma = { path, reason: '' };
  } catch (err) {
    const reason = `Gemma 3 270M could not be obtained: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`;
    if (process.env.CI) throw new Error(reason);
    console.warn(`[emosteer tests] ${reason} -- Gemma tests are skipped`);
    gemma = { path: null, reason };
  }
  return gemma;
}

/** max |a-b| / max |a| (0 when both are zero). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i]! - b[i]!));
    den = Math.max(den, Math.abs(a[i]!));
  }
  return den === 0 ? num : num / den;
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
