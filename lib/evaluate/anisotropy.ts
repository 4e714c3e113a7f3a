/**
 * Anisotropy baseline: hidden states of unrelated inputs are already similar (Gemma-3 about
 * 0.99 in the paper). We read the last-token activation of each neutral factual sentence at
 * every block and report their mean pairwise cosine per block. Every separation figure is to be
 * read against it.
 *
 * The last tokens of those sentences are all a period, which may make them look more alike than
 * the states of the stimuli do; the varied baseline ({@link measureVariedAnisotropy}) reads
 * several positions of each of a more varied set of neutral texts (the facts, the neutral
 * passages and the neutral story prompts) and averages the cosine over pairs from different
 * texts.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { COMPREHENSION_PASSAGES, NEUTRAL_FACTS, NEUTRAL_PROMPTS } from '../stimuli/index.js';
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
    /** The varied baseline at this block (see {@link measureVariedAnisotropy}); absent in profiles measured before it existed. */
    varied?: number;
  }[];
  /** How the varied baseline was read; absent when it was not measured. */
  varied?: VariedAnisotropyInfo;
}

/** What the varied anisotropy baseline read. */
export interface VariedAnisotropyInfo {
  /** Number of texts read. */
  texts: number;
  /** Number of activations (positions over all texts) per block. */
  vectors: number;
  /** The positions read in each text. */
  positions: string;
}

/** The neutral texts of the varied baseline: the factual sentences, the neutral passages and the neutral story prompts. */
export function variedNeutralTexts(): string[] {
  return [...NEUTRAL_FACTS, ...COMPREHENSION_PASSAGES.neutral, ...NEUTRAL_PROMPTS];
}

/** Result of {@link measureVariedAnisotropy}. */
export interface VariedAnisotropy {
  /** One value per block (index = block). */
  values: number[];
  /** What was read. */
  info: VariedAnisotropyInfo;
}

/** Options of {@link measureVariedAnisotropy}. */
export interface VariedAnisotropyOptions {
  /** Threads of the context. */
  threads?: number;
  /** Token positions read per text at most (default 16), evenly spaced over positions 2..last. */
  maxPositions?: number;
  /**
   * Tokens of each text read at most (default 64, BOS included): longer texts are cut there. The
   * model is causal, so the activations read are those of the whole text at the same positions.
   */
  maxTokens?: number;
  /** Texts read at once (default 8). */
  batch?: number;
}

/** Up to `max` token positions of a text of `n` tokens, evenly spaced from 2 to n - 1 (the last always in). */
export function variedPositions(n: number, max: number): number[] {
  const first = Math.min(2, n - 1);
  const span = n - 1 - first;
  if (span + 1 <= max) return Array.from({ length: span + 1 }, (_, k) => first + k);
  const out = new Set<number>();
  for (let k = 0; k < max; k++) out.add(first + Math.round((k * span) / (max - 1)));
  return [...out].sort((a, b) => a - b);
}

/**
 * The varied anisotropy baseline: the mean cosine between activations of different neutral
 * texts, read at several positions of each (every token from the third on, within the first
 * `maxTokens`, at most `maxPositions` of them evenly spaced, the last read included), per block. Pairs within one text
 * are left out (they share their context). Computed from sums of unit vectors, so its cost is
 * linear in the number of activations.
 *
 * @param texts neutral texts (default {@link variedNeutralTexts})
 * @returns one value per block, and what was read
 */
export async function measureVariedAnisotropy(model: Model, texts: readonly string[] = variedNeutralTexts(), options: VariedAnisotropyOptions = {}): Promise<VariedAnisotropy> {
  const maxPositions = options.maxPositions ?? 16;
  const maxTokens = options.maxTokens ?? 64;
  const batch = Math.max(1, Math.min(options.batch ?? 8, texts.length));
  const nLayer = model.info.nLayer;
  const d = model.info.nEmbd;
  const tokenized = texts.map((t) => model.tokenize(t).slice(0, maxTokens));
  const longest = Math.max(16, ...tokenized.map((t) => t.length));
  const ctx = await model.createContext({ sequences: batch, contextSize: batch * (longest + 16), threads: options.threads });
  // Per block: the sum of every unit vector, and the sum over texts of |sum of the text's unit vectors|^2.
  const total = Array.from({ length: nLayer }, () => new Float64Array(d));
  const withinSq = new Float64Array(nLayer);
  const textSum = new Float64Array(d);
  let vectors = 0;
  let sameTextPairs = 0;
  try {
    for (let k = 0; k < texts.length; k += batch) {
      const res = await ctx.evaluateBatch(tokenized.slice(k, k + batch), { capture: { layers: 'all', pooling: 'all' } });
      for (const r of res) {
        const acts = r.activations!;
        const positions = variedPositions(acts.rows, maxPositions);
        let used = 0;
        for (let l = 0; l < nLayer; l++) {
          const all = acts.get(l);
          textSum.fill(0);
          let count = 0;
          for (const p of positions) {
            const off = p * d;
            let s = 0;
            for (let j = 0; j < d; j++) s += (all[off + j] as number) ** 2;
            if (!(s > 0) || !Number.isFinite(s)) continue;
            const inv = 1 / Math.sqrt(s);
            for (let j = 0; j < d; j++) textSum[j] = (textSum[j] as number) + (all[off + j] as number) * inv;
            count++;
          }
          const tot = total[l]!;
          let sq = 0;
          for (let j = 0; j < d; j++) {
            tot[j] = (tot[j] as number) + (textSum[j] as number);
            sq += (textSum[j] as number) ** 2;
          }
          withinSq[l] = (withinSq[l] as number) + sq;
          if (l === 0) used = count;
        }
        vectors += used;
        sameTextPairs += used * used;
      }
    }
  } finally {
    await ctx.dispose();
  }
  const pairs = vectors * vectors - sameTextPairs;
  const values = total.map((tot, l) => {
    let sq = 0;
    for (let j = 0; j < d; j++) sq += (tot[j] as number) ** 2;
    return pairs > 0 ? (sq - (withinSq[l] as number)) / pairs : Number.NaN;
  });
  return { values, info: { texts: texts.length, vectors, positions: `every token from the third on of the first ${maxTokens}, at most ${maxPositions} per text evenly spaced, the last included; pairs within a text left out` } };
}

/** Options of {@link measureAnisotropy}. */
export interface AnisotropyOptions {
  /** Threads of the context. */
  threads?: number;
  /** Also measure the varied baseline (default true): `true` for {@link variedNeutralTexts}, or the texts to read; `false` to skip it. */
  varied?: boolean | readonly string[];
  /** Positions per text of the varied baseline (default 16). */
  maxPositions?: number;
}

/**
 * Measures the anisotropy profile of a model (one batched pass over the sentences), and by
 * default the varied baseline beside it ({@link measureVariedAnisotropy}).
 */
export async function measureAnisotropy(model: Model, sentences: readonly string[] = NEUTRAL_FACTS, options: AnisotropyOptions = {}): Promise<AnisotropyProfile> {
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
  const profile: AnisotropyProfile = {
    modelSha256: await fileSha256(model.info.path),
    sentences: sentences.length,
    layers: perLayer.map((acts, layer) => ({ layer, value: meanPairwiseCosine(acts) })),
  };
  if (options.varied !== false) await addVariedAnisotropy(model, profile, { threads: options.threads, maxPositions: options.maxPositions, texts: Array.isArray(options.varied) ? options.varied : undefined });
  return profile;
}

/** Measures the varied baseline and writes it into `profile` (each block's `varied`, and `profile.varied`). */
export async function addVariedAnisotropy(model: Model, profile: AnisotropyProfile, options: VariedAnisotropyOptions & { texts?: readonly string[] } = {}): Promise<AnisotropyProfile> {
  const { values, info } = await measureVariedAnisotropy(model, options.texts ?? variedNeutralTexts(), options);
  for (const l of profile.layers) l.varied = values[l.layer] ?? Number.NaN;
  profile.varied = info;
  return profile;
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
