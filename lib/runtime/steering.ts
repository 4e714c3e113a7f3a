/**
 * Per-call steering: the `steering` option of {@link Context.generate}, `generateText`,
 * `generateBatch`, `evaluate`, `logProbs` and chat sessions. It applies to that call's
 * sequence only (other sequences decoded in the same batch are untouched) and ends with the
 * call: nothing to set and clear around it. Context-wide steering ({@link Context.setSteering})
 * still exists and adds to it.
 *
 * @example
 * // raw per-block vectors
 * await ctx.generateText(prompt, { steering: { vectors: new Map([[6, v]]), scale: 4 } });
 * // an emotion of a vector set, norm-scaled as in the paper
 * await ctx.generateText(prompt, { steering: { set, emotion: 'calm', strength: 0.05 } });
 * // the strength `emosteer calibrate` stored in the set, or half of it
 * await ctx.generateText(prompt, { steering: { set, emotion: 'calm', strength: 'auto' } });
 * await ctx.generateText(prompt, { steering: { set, emotion: 'calm', strength: { auto: 0.5 } } });
 * // components that add up: an emotion and a raw vector on blocks 4..8
 * await ctx.generateText(prompt, { steering: { components: [{ set, emotion: 'calm', strength: 0.05 }, { vector: v, strength: 2, layers: [4, 8] }] } });
 * // changed while generating: called before every decoded token
 * await ctx.generateText(prompt, { steering: ({ text }) => (text.includes('!') ? { set, emotion: 'calm', strength: 0.1 } : null) });
 */
import { createHash } from 'node:crypto';
import { EmosteerError, fromNativeError } from '../errors.js';
import type { Model } from './model.js';
import { addon, type NativeSequenceSteering } from './native.js';
import { steeringVectors, type SteeringComponent } from '../vectors/steering-vectors.js';
import type { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import type { Strength } from '../vectors/strength-calibration.js';

/**
 * Which tokens of the call are steered: every token (default, as the paper does), only the
 * prompt's, or only the generated ones (the tokens fed back while generating; the first
 * generated token is then sampled from the unsteered prompt).
 */
export type SteeringPositions = 'all' | 'prompt' | 'generated';

/** Per-block vectors given directly. */
export interface VectorSteering {
  /** nLayer x nEmbd floats (row i = block i), an array of per-block rows, or a map block -> vector. */
  vectors: Float32Array | readonly (Float32Array | null | undefined)[] | ReadonlyMap<number, Float32Array>;
  /** Multiplies every vector (default 1). */
  scale?: number;
  /** Inclusive block range (default [1, nLayer-1]; block 0 cannot be steered). */
  layers?: [start: number, end: number];
  /** Which tokens of the call are steered (default 'all'). */
  positions?: SteeringPositions;
}

/** Emotions of a vector set, scaled as {@link steeringVectors} does. */
export interface EmotionSteering {
  /** The vector set the emotions come from (of this context's model). */
  set: EmotionVectorSet;
  /** One emotion (with `strength`)... */
  emotion?: string;
  /** Strength of `emotion`, as in {@link SteeringComponent.strength} (a number, 'auto' or { auto: f }). */
  strength?: Strength;
  /** ...or a mix of several (negative strength steers away). */
  mix?: readonly SteeringComponent[];
  /** 'norm' (default when the set has norms) or 'raw'. */
  scaling?: 'norm' | 'raw';
  /** Inclusive block range (default: the set's blocks from 1 up). */
  layers?: [start: number, end: number];
  /** Which tokens of the call are steered (default 'all'). */
  positions?: SteeringPositions;
}

/** One vector added, x strength, to every block of a range. */
export interface VectorComponent {
  /** nEmbd values, added to the output of every block of `layers`. */
  vector: Float32Array | readonly number[];
  /** Multiplies the vector (default 1; negative steers away). */
  strength?: number;
  /** Inclusive block range (default [1, nLayer-1]; block 0 cannot be steered). */
  layers?: [start: number, end: number];
}

/** One emotion of a vector set, scaled as {@link steeringVectors} does. */
export interface SetEmotionComponent {
  /** The vector set the emotion comes from (of this context's model). */
  set: EmotionVectorSet;
  /** An emotion of the set. */
  emotion: string;
  /**
   * As in {@link SteeringComponent.strength}: a fraction of the block's mean residual norm with
   * 'norm' scaling, 'auto' (the set's calibrated strength) or { auto: f }.
   */
  strength: Strength;
  /** 'norm' (default when the set has norms) or 'raw'. */
  scaling?: 'norm' | 'raw';
  /** Inclusive block range (default: the set's blocks from 1 up). */
  layers?: [start: number, end: number];
}

/**
 * A list of components that add up: raw vectors and emotions of vector sets, each with its
 * strength and block range. This is the form every other steering compiles to; the server's
 * `steering` field maps onto it item by item. An error about component i carries
 * `field: 'components[i]'`.
 */
export interface ComponentSteering {
  /** The components, summed block by block (at least one). */
  components: readonly (VectorComponent | SetEmotionComponent)[];
  /** Which tokens of the call are steered (default 'all'). */
  positions?: SteeringPositions;
}

/** A steering of one call. */
export type Steering = VectorSteering | EmotionSteering | ComponentSteering;

/** What a {@link SteeringSchedule} sees before each decoded token. */
export interface SteeringStep {
  /** Generated tokens so far (0 for the prompt). */
  index: number;
  /** Text generated so far. */
  text: string;
  /**
   * When the call has a `probe`: its reading of the last token decoded (the prompt's last token
   * before the first generated token; undefined before the prompt).
   */
  reading?: unknown;
  /** When the call has a `probe`: the output of the probe's block at that token (nEmbd floats). */
  activation?: Float32Array;
}

/**
 * Steering that may change while generating: called before the prompt and before every
 * generated token is decoded; return null for no steering at that step. Switching costs a
 * validation of the vectors, no graph rebuild.
 */
export type SteeringSchedule = (step: SteeringStep) => Steering | null | undefined;

/** The `steering` option of a call. */
export type SteeringOption = Steering | SteeringSchedule | null | undefined;

/** A steering validated for one model. @internal */
export interface CompiledSteering {
  native: NativeSequenceSteering;
  positions: SteeringPositions;
  /**
   * A digest of what is added to the residual stream (the summed per-block vectors, scale and
   * block range): two steerings with the same key steer identically. The request scheduler's
   * prompt cache compares it to decide whether KV rows made under one steering may serve another.
   */
  key: string;
}

/**
 * Flattens per-block vectors to nLayer x nEmbd floats, checking blocks and widths. With
 * `rejectBlock0` (no explicit block range given), a vector given for block 0 is an error
 * rather than silently dropped: llama.cpp cannot steer block 0. @internal
 */
export function flattenVectors(
  vectors: Float32Array | readonly (Float32Array | null | undefined)[] | ReadonlyMap<number, Float32Array>,
  nLayer: number,
  nEmbd: number,
  rejectBlock0 = false,
): Float32Array {
  if (vectors instanceof Float32Array) return vectors;
  const flat = new Float32Array(nLayer * nEmbd);
  const put = (layer: number, v: Float32Array) => {
    if (!Number.isInteger(layer) || layer < 0 || layer >= nLayer) throw new EmosteerError('LAYER_OUT_OF_RANGE', `block ${layer} does not exist: the model has blocks 0..${nLayer - 1}`);
    if (layer === 0 && rejectBlock0 && v instanceof Float32Array && v.some((x) => x !== 0)) {
      throw new EmosteerError('LAYER_OUT_OF_RANGE', "block 0 cannot be steered: llama.cpp's control vectors start at block 1 (give vectors for blocks 1.., or an explicit layers range)");
    }
    if (!(v instanceof Float32Array) || v.length !== nEmbd) {
      throw new EmosteerError('VECTOR_WIDTH_MISMATCH', `the vector for block ${layer} has ${v?.length} values; the model's residual stream has ${nEmbd}`);
    }
    flat.set(v, layer * nEmbd);
  };
  if (vectors instanceof Map) {
    for (const [l, v] of vectors) put(l, v);
  } else if (Array.isArray(vectors)) {
    const arr = vectors as readonly (Float32Array | null | undefined)[];
    if (arr.length > nLayer) throw new EmosteerError('LAYER_OUT_OF_RANGE', `${arr.length} per-block vectors given; the model has ${nLayer} blocks`);
    arr.forEach((v, l) => { if (v) put(l, v); });
  } else {
    throw new EmosteerError('INVALID_ARGUMENT', 'steering vectors must be a Float32Array, an array of per-block Float32Arrays or a Map block -> Float32Array');
  }
  return flat;
}

/** Sums components into nLayer x nEmbd floats, with the range of blocks they touch. */
class SteeringSum {
  readonly flat: Float32Array;
  start = Infinity;
  end = -Infinity;

  constructor(readonly nLayer: number, readonly nEmbd: number) {
    this.flat = new Float32Array(nLayer * nEmbd);
  }

  add(data: Float32Array, range: readonly [number, number], k = 1): void {
    for (let i = 0; i < data.length; i++) this.flat[i]! += data[i]! * k;
    this.start = Math.min(this.start, range[0]);
    this.end = Math.max(this.end, range[1]);
  }

  addVector(c: VectorComponent): void {
    const { nLayer, nEmbd } = this;
    const v = c.vector;
    if (!(v instanceof Float32Array) && !Array.isArray(v)) throw new EmosteerError('INVALID_ARGUMENT', 'a vector component needs `vector`: nEmbd numbers');
    if (v.length !== nEmbd) throw new EmosteerError('VECTOR_WIDTH_MISMATCH', `the vector has ${v.length} values; the model's residual stream has ${nEmbd}`);
    for (let j = 0; j < v.length; j++) {
      if (typeof v[j] !== 'number' || !Number.isFinite(v[j])) throw new EmosteerError('NON_FINITE_VECTOR', `the vector holds a non-finite value at ${j}`);
    }
    const strength = checkStrength(c.strength ?? 1);
    const [s, e] = checkRange(c.layers ?? [1, nLayer - 1], nLayer);
    for (let l = s; l <= e; l++) for (let j = 0; j < nEmbd; j++) this.flat[l * nEmbd + j]! += v[j]! * strength;
    this.start = Math.min(this.start, s);
    this.end = Math.max(this.end, e);
  }

  addEmotions(set: EmotionVectorSet, mix: readonly SteeringComponent[], scaling: 'norm' | 'raw' | undefined, layers: [number, number] | undefined): void {
    if (!set || typeof set.vector !== 'function') throw new EmosteerError('INVALID_ARGUMENT', 'emotion steering needs `set`: an EmotionVectorSet');
    if (set.nEmbd !== this.nEmbd || set.meta.model.nLayer !== this.nLayer) {
      throw new EmosteerError('VECTOR_WIDTH_MISMATCH', `the vector set was made on a model with ${set.meta.model.nLayer} blocks of width ${set.nEmbd}; this model has ${this.nLayer} of ${this.nEmbd}`);
    }
    const built = steeringVectors(set, mix, { ...(scaling ? { scaling } : {}), ...(layers ? { layers } : {}) });
    this.add(built.vectors, built.layers);
  }
}

function checkStrength(x: unknown): number {
  if (typeof x !== 'number' || !Number.isFinite(x)) throw new EmosteerError('NON_FINITE_VECTOR', `strength ${String(x)} is not a finite number`);
  return x;
}

function checkRange(range: readonly [number, number], nLayer: number): [number, number] {
  const [s, e] = range;
  if (!Number.isInteger(s) || !Number.isInteger(e) || s < 1 || e >= nLayer || s > e) {
    throw new EmosteerError('LAYER_OUT_OF_RANGE', `steering range [${s}, ${e}] must lie in 1..${nLayer - 1} (block 0 cannot be steered)`);
  }
  return [s, e];
}

/** Re-throws an error about component i with `field` set to it. */
function inComponent<T>(i: number, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof EmosteerError && err.field === undefined) {
      throw new EmosteerError(err.code, `steering component ${i}: ${err.message}`, { cause: err, field: `components[${i}]` });
    }
    throw err;
  }
}

/**
 * Validates a steering for `model` and builds its native form: the one place where a
 * steering's forms (per-block vectors, emotions of a set, a component list) are checked and
 * summed. Native code checks again as a defence. @internal
 */
export function compileSteering(model: Model, steering: Steering): CompiledSteering {
  if (typeof steering !== 'object' || steering === null) throw new EmosteerError('INVALID_ARGUMENT', 'steering must be an object ({ vectors }, { set, emotion, strength } or { components })');
  const { nLayer, nEmbd } = model.info;
  const positions = steering.positions ?? 'all';
  if (positions !== 'all' && positions !== 'prompt' && positions !== 'generated') {
    throw new EmosteerError('INVALID_ARGUMENT', `steering positions must be 'all', 'prompt' or 'generated' (got ${String(positions)})`);
  }
  let flat: Float32Array;
  let scale = 1;
  let range: [number, number];
  if ('components' in steering && steering.components !== undefined) {
    const list = steering.components;
    if (!Array.isArray(list) || list.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'steering.components must be a non-empty array');
    const sum = new SteeringSum(nLayer, nEmbd);
    list.forEach((c: VectorComponent | SetEmotionComponent, i: number) => inComponent(i, () => {
      if (typeof c !== 'object' || c === null) throw new EmosteerError('INVALID_ARGUMENT', 'a component must be { vector, strength? } or { set, emotion, strength }');
      if ('set' in c) {
        if (typeof c.emotion !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'an emotion component needs an emotion name');
        sum.addEmotions(c.set, [{ emotion: c.emotion, strength: typeof c.strength === 'number' ? checkStrength(c.strength) : c.strength }], c.scaling, c.layers);
      } else {
        sum.addVector(c);
      }
    }));
    flat = sum.flat;
    range = [sum.start, sum.end];
  } else if ('set' in steering && steering.set !== undefined) {
    const s = steering as EmotionSteering;
    let mix: readonly SteeringComponent[];
    if (s.mix !== undefined) {
      if (s.emotion !== undefined) throw new EmosteerError('INVALID_ARGUMENT', 'give either emotion + strength or mix, not both');
      mix = s.mix;
    } else {
      if (typeof s.emotion !== 'string') throw new EmosteerError('INVALID_ARGUMENT', 'emotion steering needs an emotion name (or a mix)');
      if (s.strength === undefined) throw new EmosteerError('INVALID_ARGUMENT', `emotion steering toward '${s.emotion}' needs a strength (a number, 'auto' or { auto: f })`);
      mix = [{ emotion: s.emotion, strength: s.strength }];
    }
    const sum = new SteeringSum(nLayer, nEmbd);
    sum.addEmotions(s.set, mix, s.scaling, s.layers);
    flat = sum.flat;
    range = [sum.start, sum.end];
  } else if ('vectors' in steering) {
    const v = steering as VectorSteering;
    flat = flattenVectors(v.vectors, nLayer, nEmbd, v.layers === undefined);
    scale = v.scale ?? 1;
    if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new EmosteerError('NON_FINITE_VECTOR', `steering scale ${String(scale)} is not finite`);
    range = v.layers ?? [1, nLayer - 1];
  } else {
    throw new EmosteerError('INVALID_ARGUMENT', 'steering needs `vectors`, `set` with an emotion, or `components`');
  }
  const [start, end] = range;
  if (!Number.isInteger(start) || !Number.isInteger(end)) throw new EmosteerError('LAYER_OUT_OF_RANGE', `steering block range [${start}, ${end}] must be integers`);
  try {
    const native = new (addon().NativeSequenceSteering)(model.checkNative(), flat, scale, start, end);
    return { native, positions, key: steeringKey(flat, scale, start, end) };
  } catch (err) {
    throw fromNativeError(err);
  }
}

/** The digest of {@link CompiledSteering.key}. */
function steeringKey(flat: Float32Array, scale: number, start: number, end: number): string {
  const h = createHash('sha256');
  h.update(new Uint8Array(flat.buffer, flat.byteOffset, flat.byteLength));
  h.update(`|${scale}|${start}|${end}`);
  return h.digest('base64');
}

/**
 * What steers a run's rows, as keys of {@link CompiledSteering.key}: `prompt` for the prompt's
 * rows, `generated` for the fed-back generated tokens' rows; null = unsteered. A steering
 * schedule gets keys that equal no other (its answers are known only step by step). @internal
 */
export interface SteeringKeys {
  prompt: string | null;
  generated: string | null;
}

let scheduleKeys = 0;

/**
 * Resolves a call's steering option step by step: a fixed steering is compiled once; a
 * schedule is asked before every step and its answers are compiled once per distinct object.
 * @internal
 */
export class SteeringResolver {
  readonly #model: Model;
  readonly #option: SteeringOption;
  #fixed: CompiledSteering | null | undefined;
  #lastSpec: Steering | null | undefined;
  #last: CompiledSteering | null = null;
  #scheduleKey: string | undefined;

  constructor(model: Model, option: SteeringOption) {
    this.#model = model;
    this.#option = option;
    if (option !== null && option !== undefined && typeof option !== 'function') this.#fixed = compileSteering(model, option);
    else if (option === null || option === undefined) this.#fixed = null;
  }

  /** True when the option is absent. */
  get none(): boolean { return this.#fixed === null; }

  /** Keys of the steering of the prompt's rows and of the generated rows (see {@link SteeringKeys}). */
  get keys(): SteeringKeys {
    if (this.#fixed === null) return { prompt: null, generated: null };
    if (this.#fixed === undefined) {
      this.#scheduleKey ??= `schedule#${++scheduleKeys}`;
      return { prompt: this.#scheduleKey, generated: this.#scheduleKey };
    }
    const c = this.#fixed;
    return { prompt: c.positions === 'generated' ? null : c.key, generated: c.positions === 'prompt' ? null : c.key };
  }

  /**
   * The native steering for a step (`prompt`: the prompt, else a generated token), or undefined.
   */
  at(prompt: boolean, step: SteeringStep): NativeSequenceSteering | undefined {
    let c: CompiledSteering | null;
    if (this.#fixed !== undefined) {
      c = this.#fixed;
    } else {
      const spec = (this.#option as SteeringSchedule)(step);
      if (spec !== this.#lastSpec) {
        this.#lastSpec = spec;
        this.#last = spec === null || spec === undefined ? null : compileSteering(this.#model, spec);
      }
      c = this.#last;
    }
    if (!c) return undefined;
    if (c.positions === 'all' || (c.positions === 'prompt') === prompt) return c.native;
    return undefined;
  }
}
