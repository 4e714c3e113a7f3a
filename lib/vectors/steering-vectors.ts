/**
 * From an EmotionVectorSet to per-block steering data, with the paper's scaling: the unit
 * emotion vector x strength x the mean residual-stream norm of that block (measured on the
 * set's samples and stored with it), so one strength means the same relative push at every
 * block. Mixes add several emotions; negative strength steers away. Raw scaling (vector x
 * strength) serves vectors without norms, e.g. imported from repeng or llama.cpp.
 */
import { EmosteerError } from '../errors.js';
import type { EmotionVectorSet } from './emotion-vector-set.js';
import { resolveStrength, type Strength } from './strength-calibration.js';

/** One emotion and how hard to push it (negative = away from it). */
export interface SteeringComponent {
  /** An emotion of the set. */
  emotion: string;
  /**
   * Fraction of the block's mean residual norm ('norm' scaling) or factor of the raw vector
   * ('raw'); negative steers away. `'auto'` is the set's calibrated strength for the emotion
   * (`emosteer calibrate`), `{ auto: f }` f times it.
   */
  strength: Strength;
}

/** Options of {@link steeringVectors}. */
export interface SteeringVectorOptions {
  /** 'norm' (default when the set has norms): unit x strength x mean residual norm; 'raw': raw vector x strength. */
  scaling?: 'norm' | 'raw';
  /** Inclusive block range (default: every block of the set from 1 up; block 0 cannot be steered). */
  layers?: [start: number, end: number];
}

/**
 * Builds nLayer x nEmbd steering data (row i = block i) for a context of the set's model.
 * @returns the data and the block range to pass to `ctx.setSteering(data, { layers })`
 *
 * @example
 * ```ts
 * const { vectors, layers } = steeringVectors(set, { emotion: 'calm', strength: 0.02 });
 * await ctx.setSteering(vectors, { layers });
 * ```
 */
export function steeringVectors(set: EmotionVectorSet, components: SteeringComponent | readonly SteeringComponent[], options: SteeringVectorOptions = {}): {
  /** nLayer x nEmbd floats, row i = block i (zero outside `layers`). */
  vectors: Float32Array;
  /** Inclusive block range the data steers. */
  layers: [number, number];
} {
  const list = Array.isArray(components) ? components : [components as SteeringComponent];
  if (list.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'no emotion to steer with');
  const nLayer = set.meta.model.nLayer;
  const E = set.nEmbd;
  const hasNorms = set.meta.residualNorms.length === set.layers.length;
  const scaling = options.scaling ?? (hasNorms ? 'norm' : 'raw');
  if (scaling === 'norm' && !hasNorms) throw new EmosteerError('INVALID_ARGUMENT', "this set has no residual norms (imported?): use scaling 'raw'");
  const inSet = set.layers.filter((l) => l >= 1);
  const [start, end] = options.layers ?? [inSet[0] ?? 1, inSet.at(-1) ?? nLayer - 1];
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 1 || end >= nLayer || start > end) {
    throw new EmosteerError('LAYER_OUT_OF_RANGE', `steering range [${start}, ${end}] must lie in 1..${nLayer - 1} (block 0 cannot be steered)`);
  }
  const out = new Float32Array(nLayer * E);
  for (const c of list) {
    const strength = resolveStrength(set, c.emotion, c.strength);
    if (!Number.isFinite(strength)) throw new EmosteerError('NON_FINITE_VECTOR', `strength for '${c.emotion}' is not finite`);
    set.layers.forEach((layer, li) => {
      if (layer < start || layer > end) return;
      const v = set.vector(c.emotion, layer, { unit: scaling === 'norm' });
      const k = scaling === 'norm' ? strength * set.meta.residualNorms[li]! : strength;
      for (let j = 0; j < E; j++) out[layer * E + j]! += v[j]! * k;
    });
  }
  return { vectors: out, layers: [start, end] };
}
