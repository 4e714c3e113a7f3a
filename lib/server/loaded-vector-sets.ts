/**
 * The emotion vector sets a server was started with (`--vectors [name=]dir`, repeatable): each
 * with its name, its meter, and the lookup a request's `steering` and `meter` fields use.
 */
import { basename } from 'node:path';
import { EmosteerError } from '../errors.js';
import type { Model } from '../runtime/model.js';
import { EmotionMeter } from '../steer/emotion-meter.js';
import { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { calibratedStrengths } from '../vectors/strength-calibration.js';
import { HttpError } from './errors.js';

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

  /** The model the sets belong to (the served model). */
  get model(): Model {
    return this.#model;
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
        // The strengths 'auto' stands for (emosteer calibrate), or null when the set has none.
        calibrated: calibratedStrengths(s.set),
        scaling: s.set.meta.residualNorms.length === s.set.layers.length ? 'norm' : 'raw',
        model: { arch: s.set.meta.model.arch, description: s.set.meta.model.description },
      })),
    };
  }
}
