/**
 * Logit lens of emotion vectors, read through the model itself: the change in next-token
 * logits when the vector is added at the last block (so it passes only the final norm and the
 * output embedding). The tokens whose logits rise most show what the direction "says" — and in
 * which scripts (the paper found Chinese tokens surfacing when steering Qwen).
 */
import type { Context } from '../runtime/context.js';
import type { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
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
  const li = set.layers.indexOf(last);
  const norm = li >= 0 && set.meta.residualNorms.length === set.layers.length ? set.meta.residualNorms[li]! : 1;
  const prompt = options.prompt ?? 'The';
  const topK = options.topK ?? 10;
  const base = (await ctx.evaluate(prompt, { logits: true })).logits!;
  const out: LensResult[] = [];
  try {
    for (const emotion of emotions) {
      const v = set.vector(emotion, last).map((x) => x * (options.strength ?? 1) * norm);
      await ctx.setSteering(new Map([[last, v]]), { layers: [last, last] });
      const steered = (await ctx.evaluate(prompt, { logits: true })).logits!;
      const idx = Array.from(steered.keys()).sort((a, b) => (steered[b]! - base[b]!) - (steered[a]! - base[a]!)).slice(0, topK);
      const tokens = idx.map((id) => {
        const text = new TextDecoder().decode(ctx.model.tokenToPiece(id));
        return { id, text, delta: steered[id]! - base[id]!, script: dominantScript(text) };
      });
      const scripts: Record<string, number> = {};
      for (const t of tokens) scripts[t.script] = (scripts[t.script] ?? 0) + 1 / tokens.length;
      out.push({ emotion, layer: last, tokens, scripts });
    }
  } finally {
    await ctx.clearSteering();
  }
  return out;
}
