/**
 * Anisotropy baseline: hidden states of unrelated inputs are already similar (Gemma-3 about
 * 0.99 in the paper). We read the last-token activation of each neutral factual sentence at
 * every block and report their mean pairwise cosine per block. Every separation figure is to be
 * read against it.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NEUTRAL_FACTS } from '../stimuli/index.js';
import type { Model } from '../runtime/model.js';
import { fileSha256 } from '../util/file-identity.js';
import { meanPairwiseCosine } from '../util/vec.js';

/** Anisotropy of one model, per block. */
export interface AnisotropyProfile {
  /** SHA-256 of the model file measured (a cached profile is reused only for the same file). */
  modelSha256: string;
  /** Number of neutral sentences read. */
  sentences: number;
  /** One entry per block, ascending. */
  layers: {
    /** Block index. */
    layer: number;
    /** Mean pairwise cosine of the sentences' last-token activations at this block. */
    value: number;
  }[];
}

/** Measures the anisotropy profile of a model (one batched pass over the sentences). */
export async function measureAnisotropy(model: Model, sentences: readonly string[] = NEUTRAL_FACTS, options: { threads?: number } = {}): Promise<AnisotropyProfile> {
  const batch = Math.min(8, sentences.length);
  const ctx = await model.createContext({ sequences: batch, contextSize: batch * 96, threads: options.threads });
  const perLayer: Float32Array[][] = Array.from({ length: model.info.nLayer }, () => []);
  try {
    for (let k = 0; k < sentences.length; k += batch) {
      const res = await ctx.evaluateBatch(sentences.slice(k, k + batch) as string[], { capture: { layers: 'all', pooling: 'last' } });
      for (const r of res) for (let l = 0; l < model.info.nLayer; l++) perLayer[l]!.push(r.activations!.get(l).slice());
    }
  } finally {
    await ctx.dispose();
  }
  return {
    modelSha256: await fileSha256(model.info.path),
    sentences: sentences.length,
    layers: perLayer.map((acts, layer) => ({ layer, value: meanPairwiseCosine(acts) })),
  };
}

/**
 * The anisotropy profile cached in `<runDir>/anisotropy.json` for the model with `sha256`, or
 * null when there is none for that model.
 */
export async function readCachedAnisotropy(runDir: string, sha256: string): Promise<AnisotropyProfile | null> {
  try {
    const p = JSON.parse(await readFile(join(runDir, 'anisotropy.json'), 'utf8')) as AnisotropyProfile;
    return p.modelSha256 === sha256 ? p : null;
  } catch {
    return null;
  }
}

/** Caches a profile in `<runDir>/anisotropy.json`. */
export async function writeCachedAnisotropy(runDir: string, profile: AnisotropyProfile): Promise<void> {
  await writeFile(join(runDir, 'anisotropy.json'), `${JSON.stringify(profile, null, 2)}\n`);
}
