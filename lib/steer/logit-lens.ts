/**
 * Logit lens of emotion vectors, read through the model itself: the change in next-token
 * logits when the vector is added at the last block (so it passes only the final norm and the
 * output embedding). The tokens whose logits rise most show what the direction "says" — and in
 * which scripts (the paper found Chinese tokens surfacing when steering Qwen).
 */
import type { Context } from '../runtime/context.js';
import type { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { seededRandom } from '../evaluate/statistics.js';
import { scriptShares } from './scripts.js';

/** One token the direction promotes. */
export interface LensToken {
  /** Token id. */
  id: number;
  /** The token's text (its piece, decoded as UTF-8). */
  text: string;
  /** Logit increase. */
  delta: number;
  /** Dominant script of the token's text ('none' for punctuation/whitespace). */
  script: string;
}

/** Top tokens promoted by an emotion's vector at the last block. */
export interface LensResult {
  /** The emotion whose vector was added. */
  emotion: string;
  /** The block steered (the last one). */
  layer: number;
  /** The tokens whose logit rose most, highest first. */
  tokens: LensToken[];
  /** Share of the top tokens per script. */
  scripts: Record<string, number>;
}

function dominantScript(text: string): string {
  const shares = scriptShares(text) as unknown as Record<string, number>;
  let best = 'none';
  let v = 0;
  for (const [k, x] of Object.entries(shares)) {
    if (typeof x === 'number' && x > v && !/^(cjk|total)$/i.test(k)) { best = k; v = x; }
  }
  return best;
}

/**
 * Logit lens of emotion vectors: adds each emotion's vector to the last block's output and
 * lists the tokens whose next-token logit rises most against the unsteered logits, with the
 * scripts of those tokens (a vector that promotes tokens of another script foretells
 * cross-lingual drift under steering).
 *
 * @param ctx a context of the set's model (its steering is cleared afterwards)
 * @param set the vectors (the last block must be one of the set's blocks)
 * @param emotions the emotions to look at (default: all of the set's)
 * @param options.strength unit x strength x mean residual norm of the last block (default 1)
 * @param options.prompt a neutral context for the next-token logits (default 'The')
 * @param options.topK tokens listed per emotion (default 10)
 * @returns one result per emotion, in the order given
 */
export async function logitLens(ctx: Context, set: EmotionVectorSet, emotions: readonly string[] = set.emotions, options: { strength?: number; prompt?: string; topK?: number } = {}): Promise<LensResult[]> {
  const last = ctx.nLayer - 1;
  const norm = lastBlockNorm(set, last);
  const lens = await lensReader(ctx, options);
  const out: LensResult[] = [];
  try {
    for (const emotion of emotions) {
      const v = set.vector(emotion, last).map((x) => x * (options.strength ?? 1) * norm);
      out.push({ emotion, layer: last, ...(await lens(v)) });
    }
  } finally {
    await ctx.clearSteering();
  }
  return out;
}

function lastBlockNorm(set: EmotionVectorSet, last: number): number {
  const li = set.layers.indexOf(last);
  return li >= 0 && set.meta.residualNorms.length === set.layers.length ? set.meta.residualNorms[li]! : 1;
}

/** A reader of the tokens one vector, added at the last block, promotes. */
async function lensReader(ctx: Context, options: { prompt?: string; topK?: number }): Promise<(v: Float32Array) => Promise<Omit<LensResult, 'emotion' | 'layer'>>> {
  const last = ctx.nLayer - 1;
  const prompt = options.prompt ?? 'The';
  const topK = options.topK ?? 10;
  const base = (await ctx.evaluate(prompt, { logits: true })).logits!;
  return async (v) => {
    await ctx.setSteering(new Map([[last, v]]), { layers: [last, last] });
    const steered = (await ctx.evaluate(prompt, { logits: true })).logits!;
    const idx = Array.from(steered.keys()).sort((a, b) => (steered[b]! - base[b]!) - (steered[a]! - base[a]!)).slice(0, topK);
    const tokens = idx.map((id) => {
      const text = new TextDecoder().decode(ctx.model.tokenToPiece(id));
      return { id, text, delta: steered[id]! - base[id]!, script: dominantScript(text) };
    });
    const scripts: Record<string, number> = {};
    for (const t of tokens) scripts[t.script] = (scripts[t.script] ?? 0) + 1 / tokens.length;
    return { tokens, scripts };
  };
}

/** Share of a lens result's top tokens in scripts other than Latin (punctuation and whitespace not counted as either). */
export function nonLatinShare(scripts: Record<string, number>): number {
  return Object.entries(scripts).filter(([k]) => k !== 'Latin' && k !== 'none').reduce((a, [, v]) => a + v, 0);
}

/** The logit lens of random directions: the null of "the emotion vectors promote other scripts". */
export interface LensNull {
  /** Mean non-Latin share of the emotion vectors' top tokens. */
  observed: number;
  /** Non-Latin share of each random direction's top tokens. */
  random: number[];
  /**
   * p of the observed mean under the null: the share of means of as many random directions
   * (drawn without replacement from `random`, 1000 times, seeded) at or above it, with +1.
   */
  p: number;
}

/**
 * The logit lens of `directions` random directions at the last block, each with the norm of
 * the emotion vectors there (unit x strength x mean residual norm), against the emotion vectors'
 * own lens: does the set promote more non-Latin tokens than any direction of the same norm?
 *
 * @param observed the emotion vectors' lens ({@link logitLens} on the same context and options)
 */
export async function logitLensNull(ctx: Context, set: EmotionVectorSet, observed: readonly LensResult[], options: { directions?: number; seed?: number; strength?: number; prompt?: string; topK?: number } = {}): Promise<LensNull> {
  const n = options.directions ?? 100;
  const last = ctx.nLayer - 1;
  const size = (options.strength ?? 1) * lastBlockNorm(set, last);
  const rand = seededRandom(options.seed ?? 0x1e45);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const lens = await lensReader(ctx, options);
  const random: number[] = [];
  try {
    for (let d = 0; d < n; d++) {
      const v = new Float32Array(set.nEmbd);
      let n2 = 0;
      for (let j = 0; j < v.length; j++) { v[j] = gauss(); n2 += v[j]! ** 2; }
      const k = size / Math.sqrt(n2);
      for (let j = 0; j < v.length; j++) v[j]! *= k;
      random.push(nonLatinShare((await lens(v)).scripts));
    }
  } finally {
    await ctx.clearSteering();
  }
  const obs = observed.length ? observed.reduce((a, r) => a + nonLatinShare(r.scripts), 0) / observed.length : Number.NaN;
  const m = Math.min(observed.length, random.length);
  let ge = 0;
  const draws = 1000;
  const pool = [...random];
  for (let t = 0; t < draws; t++) {
    for (let i = 0; i < m; i++) { const j = i + Math.floor(rand() * (pool.length - i)); [pool[i], pool[j]] = [pool[j]!, pool[i]!]; }
    let s = 0;
    for (let i = 0; i < m; i++) s += pool[i]!;
    if (s / m >= obs) ge++;
  }
  return { observed: obs, random, p: (1 + ge) / (1 + draws) };
}
