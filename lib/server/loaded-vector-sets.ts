/**
 * The emotion vector sets a server was started with (`--vectors [name=]dir`, repeatable), and
 * the translation of a request's `steering` field into one per-request steering: emotion items
 * are norm-scaled as the paper does (unit vector x strength x the block's mean residual norm,
 * see steeringVectors), raw vector items are added as given x strength, and all items add up.
 */
import { basename } from 'node:path';
import { EmosteerError } from '../errors.js';
import type { Model } from '../runtime/model.js';
import { steeringVectors } from '../vectors/steering-vectors.js';
import type { Steering, SteeringPositions } from '../runtime/steering.js';
import { EmotionMeter } from '../steer/emotion-meter.js';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { HttpError } from './errors.js';
import type { SteeringItem } from './schemas.js';

/** A loaded set and how it is addressed. */
export interface NamedSet {
  name: string;
  dir: string;
  set: EmotionVectorSet;
  meter: EmotionMeter;
}

export class LoadedVectorSets {
  readonly sets: readonly NamedSet[];
  readonly #model: Model;

  private constructor(model: Model, sets: NamedSet[]) {
    this.#model = model;
    this.sets = sets;
  }

  /** Loads `[name=]dir` specs and checks each set fits the model. */
  static async load(model: Model, specs: readonly string[]): Promise<LoadedVectorSets> {
    const out: NamedSet[] = [];
    for (const spec of specs) {
      const eq = spec.indexOf('=');
      const dir = eq > 0 ? spec.slice(eq + 1) : spec;
      let name = eq > 0 ? spec.slice(0, eq) : basename(dir.replace(/\/+$/, ''));
      if (out.some((s) => s.name === name)) name = `${name}-${out.length + 1}`;
      const set = await EmotionVectorSet.load(dir, { activations: false });
      if (set.nEmbd !== model.info.nEmbd || set.meta.model.nLayer !== model.info.nLayer) {
        throw new EmosteerError('VECTOR_WIDTH_MISMATCH', `vector set ${dir} was made on a model with ${set.meta.model.nLayer} blocks of width ${set.nEmbd}; the served model has ${model.info.nLayer} of ${model.info.nEmbd}`);
      }
      out.push({ name, dir, set, meter: new EmotionMeter(set) });
    }
    return new LoadedVectorSets(model, out);
  }

  /** The set named `name`, or the first one. */
  find(name: string | undefined, param: string): NamedSet {
    if (this.sets.length === 0) throw new HttpError(400, 'invalid_request_error', 'no_vector_sets', 'this server was started without --vectors: emotion steering and the meter are unavailable (raw `vector` steering still works)', param);
    if (name === undefined) return this.sets[0]!;
    const s = this.sets.find((x) => x.name === name);
    if (!s) throw new HttpError(400, 'invalid_request_error', 'unknown_vector_set', `unknown vector set '${name}'; loaded: ${this.sets.map((x) => x.name).join(', ')}`, param);
    return s;
  }

  /** What GET /v1/steering lists. */
  describe(): object {
    return {
      object: 'list',
      sets: this.sets.map((s) => ({
        name: s.name,
        method: s.set.meta.method,
        emotions: [...s.set.emotions],
        layers: [...s.set.layers],
        steerable_layers: [Math.max(1, s.set.layers[0] ?? 1), s.set.layers.at(-1) ?? this.#model.info.nLayer - 1],
        meter_layer: s.meter.layer,
        scaling: s.set.meta.residualNorms.length === s.set.layers.length ? 'norm' : 'raw',
        model: { arch: s.set.meta.model.arch, description: s.set.meta.model.description },
      })),
    };
  }

  /** The request's `steering` field as one per-request steering (undefined when empty). */
  resolve(items: readonly SteeringItem[] | undefined): Steering | undefined {
    if (!items || items.length === 0) return undefined;
    const { nLayer, nEmbd } = this.#model.info;
    const flat = new Float32Array(nLayer * nEmbd);
    let start = nLayer;
    let end = 0;
    let positions: SteeringPositions | undefined;
    items.forEach((it, i) => {
      const param = `steering[${i}]`;
      if (!Number.isFinite(it.strength)) throw new HttpError(400, 'invalid_request_error', 'non_finite_vector', `${param}.strength is not finite`, param);
      if (positions !== undefined && (it.positions ?? 'all') !== positions) throw new HttpError(400, 'invalid_request_error', 'invalid_request', 'all steering items of a request must have the same positions', param);
      positions = it.positions ?? 'all';
      if (it.layers) {
        const [s, e] = it.layers;
        if (s < 1 || e >= nLayer || s > e) throw new HttpError(400, 'invalid_request_error', 'layer_out_of_range', `${param}.layers [${s}, ${e}] must lie in 1..${nLayer - 1} (block 0 cannot be steered)`, param);
      }
      if (it.emotion !== undefined) {
        const named = this.find(it.set, param);
        if (!named.set.emotions.includes(it.emotion)) {
          throw new HttpError(400, 'invalid_request_error', 'unknown_emotion', `unknown emotion '${it.emotion}' in set '${named.name}'; it has: ${named.set.emotions.join(', ')}`, param);
        }
        const built = steeringVectors(named.set, { emotion: it.emotion, strength: it.strength }, it.layers ? { layers: it.layers } : {});
        for (let j = 0; j < flat.length; j++) flat[j]! += built.vectors[j]!;
        start = Math.min(start, built.layers[0]);
        end = Math.max(end, built.layers[1]);
      } else {
        const v = it.vector!;
        if (v.length !== nEmbd) throw new HttpError(400, 'invalid_request_error', 'vector_width_mismatch', `${param}.vector has ${v.length} values; the model's residual stream has ${nEmbd}`, param);
        if (!v.every(Number.isFinite)) throw new HttpError(400, 'invalid_request_error', 'non_finite_vector', `${param}.vector holds a non-finite value`, param);
        const [s, e] = it.layers ?? [1, nLayer - 1];
        for (let l = s; l <= e; l++) for (let j = 0; j < nEmbd; j++) flat[l * nEmbd + j]! += v[j]! * it.strength;
        start = Math.min(start, s);
        end = Math.max(end, e);
      }
    });
    return { vectors: flat, layers: [start, end], positions: positions ?? 'all' };
  }
}
