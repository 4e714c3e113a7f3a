/**
 * Emotion meter: for every generated token, the projection of its activation at one block
 * onto each emotion's unit vector, anisotropy-corrected (the activation is centred on the mean
 * activation of the set's samples at that block before projecting, so the shared direction
 * every hidden state has does not dominate). Read from the activations captured during
 * generation: no second forward pass.
 */
import { EmosteerError } from '../errors.js';
import type { Context, GenerateOptions, GeneratedToken, PromptInput } from '../runtime/context.js';
import type { BlockProbe } from '../runtime/probe.js';
import { dot, norm } from '../util/vec.js';
import type { EmotionVectorSet } from '../vectors/emotion-vector-set.js';

/** Per-emotion readings of one activation. */
export type EmotionReading = Record<string, number>;

/** Reads emotions off activations of one block (a {@link BlockProbe}: the scheduler and `generate` take it as `probe`). */
export class EmotionMeter implements BlockProbe<EmotionReading> {
  /** Block read. */
  readonly layer: number;
  /** Emotions read, in the set's order (the keys of every reading). */
  readonly emotions: readonly string[];
  readonly #mean: Float32Array;
  readonly #units: Float32Array[];

  /**
   * @param set the vectors (and the per-sample activations whose mean centres the reading)
   * @param layer block to read (default: the set's middle block, the paper's choice)
   */
  constructor(set: EmotionVectorSet, layer?: number) {
    this.layer = layer ?? set.layers[Math.floor(set.layers.length / 2)]!;
    this.emotions = set.emotions;
    this.#units = set.emotions.map((e) => set.vector(e, this.layer));
    // Sample-weighted mean of the category means = mean activation of all samples.
    const counts = new Map<string, number>();
    for (const s of set.meta.samples) counts.set(s.category, (counts.get(s.category) ?? 0) + 1);
    const mean = new Float32Array(set.nEmbd);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    if (total > 0) {
      for (const [c, n] of counts) {
        const m = set.categoryMean(c, this.layer);
        for (let j = 0; j < mean.length; j++) mean[j]! += (m[j]! * n) / total;
      }
    }
    this.#mean = mean;
  }

  /** Cosine between the centred activation and each emotion's unit vector. */
  read(activation: Float32Array): EmotionReading {
    if (activation.length !== this.#mean.length) throw new EmosteerError('VECTOR_WIDTH_MISMATCH', `activation has ${activation.length} values, the set ${this.#mean.length}`);
    const c = new Float32Array(activation.length);
    for (let j = 0; j < c.length; j++) c[j] = activation[j]! - this.#mean[j]!;
    const n = norm(c) || 1;
    const out: EmotionReading = {};
    this.emotions.forEach((e, i) => { out[e] = dot(c, this.#units[i]!) / n; });
    return out;
  }

  /** The emotion with the highest reading. */
  top(reading: EmotionReading): {
    /** The emotion read highest. */
    emotion: string;
    /** Its reading. */
    value: number;
  } {
    let best = { emotion: this.emotions[0]!, value: -Infinity };
    for (const e of this.emotions) if (reading[e]! > best.value) best = { emotion: e, value: reading[e]! };
    return best;
  }
}

/** A generated token with its emotion reading. */
export interface MeteredToken extends GeneratedToken {
  /** The meter's reading of this token's activation. */
  emotions: EmotionReading;
}

/**
 * Generates and reads the meter for every token as it arrives (capture of one block only, so
 * the cost is one graph split per token).
 *
 * @example
 * const meter = new EmotionMeter(set, 9);
 * for await (const t of meterStream(ctx, 'Dear diary,', meter, { maxTokens: 40 })) console.log(t.text, meter.top(t.emotions));
 */
export async function* meterStream(ctx: Context, prompt: PromptInput, meter: EmotionMeter, options: Omit<GenerateOptions, 'capture'> = {}): AsyncGenerator<MeteredToken> {
  for await (const t of ctx.generate(prompt, { ...options, capture: { layers: [meter.layer] } })) {
    yield { ...t, emotions: meter.read(t.activations!.get(meter.layer)) };
  }
}
