/**
 * EmotionVectorSet: emotion directions at every captured block, the per-sample activations
 * they were computed from, and everything needed to reproduce them (model identity, every
 * method parameter, stimuli version, library versions, timings).
 *
 * On disk (see docs/vector-format.md) a set is a folder:
 *   manifest.json       metadata, shapes, sha256 of every array file
 *   vectors.f32         raw emotion vectors       [emotion][layer][nEmbd]
 *   unit.f32            unit-normalized vectors   [emotion][layer][nEmbd]
 *   means.f32           category means            [category][layer][nEmbd]
 *   activations.f32     per-sample activations    [sample][layer][nEmbd]   (optional)
 * All arrays are little-endian float32, so a saved set loads back bit for bit.
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EmosteerError } from '../errors.js';
import { sha256Hex } from '../util/file-identity.js';
import { meanOf, norm, normalize, sub } from '../util/vec.js';
import { calibrationProblem, type StrengthCalibration } from './strength-calibration.js';

/** What identifies the model a set was extracted from. */
export interface ModelIdentity {
  /** Path of the GGUF file, as it was when the set was made. */
  path: string;
  /** sha256 of the GGUF file ('' when unknown). */
  sha256: string;
  /** `general.architecture`, e.g. 'gemma3'. */
  arch: string;
  /** llama.cpp's one-line description, e.g. 'gemma3 270M Q4_K - Medium'. */
  description: string;
  /** Number of blocks of the model. */
  nLayer: number;
  /** Width of its residual stream. */
  nEmbd: number;
  /** Its quantization (file type), e.g. 'Q4_K - Medium'. */
  quantization: string;
  /** Its number of parameters. */
  nParams: number;
}

/** One stimulus the set was computed from. */
export interface SampleInfo {
  /** Emotion name or 'neutral'. */
  category: string;
  /** Index within its category. */
  index: number;
  /** Prompt (generation) or passage (comprehension). */
  prompt: string;
  /** Generated text (generation method). */
  text?: string;
  /** Tokens the activation was read from (generated tokens, or passage tokens). */
  nTokens: number;
  /** Token position the activation was read at ('mean' for means), relative to the span. */
  position: number | 'mean';
}

/** How the emotion vectors were derived from the category means. */
export type Baseline = 'neutral' | 'all';

/** Fields of a set besides its arrays (what manifest.json holds). */
export interface EmotionVectorSetMeta {
  /** How the set was made: 'generation', 'comprehension', or e.g. 'imported' for a control-vector import. */
  method: string;
  /** Emotions with a vector, in array order. */
  emotions: string[];
  /** Categories with a mean (the emotions, then 'neutral' for extracted sets), in array order. */
  categories: string[];
  /** Captured blocks, ascending, in array order. */
  layers: number[];
  /** Width of every vector. */
  nEmbd: number;
  /** What each emotion's mean was compared with. */
  baseline: Baseline;
  /** The model the set was extracted from. */
  model: ModelIdentity;
  /** Every parameter of the method, as run. */
  params: Record<string, unknown>;
  /** Version of the stimuli used ({@link STIMULI_VERSION} for the built-in ones; 'none' for imports). */
  stimuliVersion: string;
  /** Versions of the software that made the set. */
  versions: {
    /** emosteer's package version. */
    emosteer: string;
    /** The llama.cpp commit the addon was built from. */
    llamaCppCommit: string;
  };
  /** Cost of the extraction (zeros for imports). */
  timings: {
    /** Wall time. */
    seconds: number;
    /** Tokens decoded. */
    tokens: number;
    /** tokens / seconds. */
    tokensPerSecond: number;
  };
  /** The stimuli the activations were read from, in the order of the activations array. */
  samples: SampleInfo[];
  /** Mean L2 norm of the sample activations per layer, in `layers` order (for norm-scaled steering); empty when unknown (imported sets). */
  residualNorms: number[];
  /** When the set was made (ISO 8601). */
  createdAt: string;
  /**
   * Calibrated strengths per emotion (`emosteer calibrate`; what strength `'auto'` resolves
   * to), absent until the set is calibrated. See {@link StrengthCalibration}.
   */
  calibration?: StrengthCalibration;
}

const FORMAT = 'emosteer-emotion-vectors';
const FORMAT_VERSION = 1;

interface ArrayEntry { file: string; shape: number[]; sha256: string }

/** Emotion vectors (emotion x layer x nEmbd) with their provenance. */
export class EmotionVectorSet {
  /** Metadata, as saved in manifest.json. */
  readonly meta: Readonly<EmotionVectorSetMeta>;
  readonly #raw: Float32Array;
  readonly #unit: Float32Array;
  readonly #means: Float32Array;
  readonly #activations: Float32Array | null;
  readonly #layerIndex: Map<number, number>;

  /** @internal use {@link EmotionVectorSet.fromSamples} or {@link EmotionVectorSet.load} */
  constructor(meta: EmotionVectorSetMeta, raw: Float32Array, unit: Float32Array, means: Float32Array, activations: Float32Array | null) {
    const L = meta.layers.length;
    const E = meta.nEmbd;
    check(raw.length === meta.emotions.length * L * E, 'vectors array has the wrong size');
    check(unit.length === raw.length, 'unit array has the wrong size');
    check(means.length === meta.categories.length * L * E, 'means array has the wrong size');
    check(activations === null || activations.length === meta.samples.length * L * E, 'activations array has the wrong size');
    this.meta = Object.freeze(meta);
    this.#raw = raw;
    this.#unit = unit;
    this.#means = means;
    this.#activations = activations;
    this.#layerIndex = new Map(meta.layers.map((l, i) => [l, i]));
  }

  /** Emotions with a vector. */
  get emotions(): readonly string[] { return this.meta.emotions; }
  /** Captured blocks. */
  get layers(): readonly number[] { return this.meta.layers; }
  /** Residual width. */
  get nEmbd(): number { return this.meta.nEmbd; }
  /** Whether per-sample activations are present. */
  get hasActivations(): boolean { return this.#activations !== null; }

  #li(layer: number): number {
    const i = this.#layerIndex.get(layer);
    if (i === undefined) throw new EmosteerError('LAYER_OUT_OF_RANGE', `block ${layer} is not in this set (blocks ${this.meta.layers[0]}..${this.meta.layers.at(-1)})`);
    return i;
  }

  #ei(emotion: string): number {
    const i = this.meta.emotions.indexOf(emotion);
    if (i < 0) throw new EmosteerError('UNKNOWN_EMOTION', `no vector for '${emotion}' in this set (it has: ${this.meta.emotions.join(', ')})`);
    return i;
  }

  #slice(arr: Float32Array, row: number, layerIdx: number): Float32Array {
    const L = this.meta.layers.length;
    const E = this.meta.nEmbd;
    const off = (row * L + layerIdx) * E;
    return arr.subarray(off, off + E);
  }

  /** The emotion's vector at a block: unit-normalized (default) or raw. A view, not a copy. */
  vector(emotion: string, layer: number, options: { unit?: boolean } = {}): Float32Array {
    return this.#slice(options.unit === false ? this.#raw : this.#unit, this.#ei(emotion), this.#li(layer));
  }

  /** Mean activation of a category ('neutral' included) at a block. */
  categoryMean(category: string, layer: number): Float32Array {
    const i = this.meta.categories.indexOf(category);
    if (i < 0) throw new EmosteerError('INVALID_ARGUMENT', `no category '${category}'`);
    return this.#slice(this.#means, i, this.#li(layer));
  }

  /** Every emotion's vector at a block, in `emotions` order. */
  vectorsAt(layer: number, options: { unit?: boolean } = {}): Float32Array[] {
    return this.meta.emotions.map((e) => this.vector(e, layer, options));
  }

  /** Activation of sample `i` (see meta.samples) at a block. */
  sampleActivation(i: number, layer: number): Float32Array {
    if (!this.#activations) throw new EmosteerError('INVALID_ARGUMENT', 'this set was loaded or built without per-sample activations');
    if (!Number.isInteger(i) || i < 0 || i >= this.meta.samples.length) throw new EmosteerError('INVALID_ARGUMENT', `sample ${i} does not exist`);
    return this.#slice(this.#activations, i, this.#li(layer));
  }

  /**
   * Builds a set from per-sample activations: category means, then
   * vector(emotion) = mean(emotion) - baseline, where baseline is the neutral mean ('neutral')
   * or the mean of all category means ('all'), and its unit-normalized copy.
   *
   * @param activations per sample, one Float32Array of layers.length x nEmbd (row per layer)
   */
  static fromSamples(meta: Omit<EmotionVectorSetMeta, 'residualNorms'>, activations: readonly Float32Array[]): EmotionVectorSet {
    const L = meta.layers.length;
    const E = meta.nEmbd;
    check(activations.length === meta.samples.length, 'one activation per sample is needed');
    for (const a of activations) check(a.length === L * E, `each sample activation must hold ${L} x ${E} floats`);
    for (const c of meta.categories) {
      if (!meta.samples.some((s) => s.category === c)) throw new EmosteerError('INVALID_ARGUMENT', `category '${c}' has no samples`);
    }
    if (meta.baseline === 'neutral' && !meta.categories.includes('neutral')) {
      throw new EmosteerError('INVALID_ARGUMENT', "baseline 'neutral' needs neutral samples");
    }
    const means = new Float32Array(meta.categories.length * L * E);
    const raw = new Float32Array(meta.emotions.length * L * E);
    const unit = new Float32Array(raw.length);
    const residualNorms: number[] = [];
    for (let li = 0; li < L; li++) {
      const row = (a: Float32Array) => a.subarray(li * E, (li + 1) * E);
      const catMeans = meta.categories.map((c) => meanOf(activations.filter((_, k) => meta.samples[k]!.category === c).map(row), E));
      catMeans.forEach((m, ci) => means.set(m, (ci * L + li) * E));
      const base = meta.baseline === 'neutral' ? catMeans[meta.categories.indexOf('neutral')]! : meanOf(catMeans, E);
      meta.emotions.forEach((e, ei) => {
        const v = sub(catMeans[meta.categories.indexOf(e)]!, base);
        raw.set(v, (ei * L + li) * E);
        unit.set(normalize(v), (ei * L + li) * E);
      });
      let s = 0;
      for (const a of activations) s += norm(row(a));
      residualNorms.push(s / activations.length);
    }
    const flat = new Float32Array(activations.length * L * E);
    activations.forEach((a, k) => flat.set(a, k * L * E));
    return new EmotionVectorSet({ ...meta, residualNorms }, raw, unit, means, flat);
  }

  /**
   * Builds a set from ready-made vectors (e.g. an imported control-vector file): no samples,
   * no category means beyond the vectors themselves. Blocks missing for an emotion are zero.
   */
  static fromVectors(
    meta: Pick<EmotionVectorSetMeta, 'method' | 'model' | 'params'> & Partial<Pick<EmotionVectorSetMeta, 'stimuliVersion' | 'versions'>>,
    vectors: ReadonlyMap<string, ReadonlyMap<number, Float32Array>>,
  ): EmotionVectorSet {
    const emotions = [...vectors.keys()];
    if (emotions.length === 0) throw new EmosteerError('INVALID_ARGUMENT', 'no vectors given');
    const layers = [...new Set(emotions.flatMap((e) => [...vectors.get(e)!.keys()]))].sort((a, b) => a - b);
    const widths = new Set(emotions.flatMap((e) => [...vectors.get(e)!.values()].map((v) => v.length)));
    if (widths.size !== 1) throw new EmosteerError('VECTOR_WIDTH_MISMATCH', `vectors of different widths: ${[...widths].join(', ')}`);
    const E = [...widths][0]!;
    const L = layers.length;
    const raw = new Float32Array(emotions.length * L * E);
    const unit = new Float32Array(raw.length);
    emotions.forEach((e, ei) => layers.forEach((l, li) => {
      const v = vectors.get(e)!.get(l);
      if (!v) return;
      raw.set(v, (ei * L + li) * E);
      unit.set(normalize(v), (ei * L + li) * E);
    }));
    return new EmotionVectorSet({
      method: meta.method,
      emotions,
      categories: emotions,
      layers,
      nEmbd: E,
      baseline: 'all',
      model: meta.model,
      params: meta.params,
      stimuliVersion: meta.stimuliVersion ?? 'none',
      versions: meta.versions ?? { emosteer: 'unknown', llamaCppCommit: 'unknown' },
      timings: { seconds: 0, tokens: 0, tokensPerSecond: 0 },
      samples: [],
      residualNorms: [],
      createdAt: new Date().toISOString(),
    }, raw, unit, raw.slice(), null);
  }

  /**
   * Writes the set into `dir` (created if needed); see the module comment for the layout.
   *
   * Overwriting a set is all or nothing, even if the process is killed or the disk fills up:
   * every array is first written as `<file>.next`, then `manifest.next.json` (the commit
   * point), then the files are renamed into place and `manifest.next.json` becomes
   * `manifest.json`. Before the commit point the folder holds the previous set (a failed save
   * removes its `.next` files); after it, {@link load} reads the new set from whichever of
   * `<file>.next` and `<file>` holds each array, and the next save finishes the renames.
   *
   * @example
   * ```ts
   * const set = await extractGeneration(model);
   * await set.save('runs/gemma/generation');
   * ```
   */
  async save(dir: string): Promise<void> {
    await mkdir(dir, { recursive: true });
    await finishInterruptedSave(dir);
    const L = this.meta.layers.length;
    const E = this.meta.nEmbd;
    const arrays: Record<string, ArrayEntry> = {};
    const written: string[] = [];
    const put = async (name: string, file: string, data: Float32Array, shape: number[]) => {
      const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      written.push(join(dir, `${file}${NEXT}`));
      await writeFile(join(dir, `${file}${NEXT}`), buf);
      arrays[name] = { file, shape, sha256: sha256Hex(buf) };
    };
    const manifestNext = join(dir, `manifest${NEXT}.json`);
    try {
      await put('vectors', 'vectors.f32', this.#raw, [this.meta.emotions.length, L, E]);
      await put('unit', 'unit.f32', this.#unit, [this.meta.emotions.length, L, E]);
      await put('means', 'means.f32', this.#means, [this.meta.categories.length, L, E]);
      if (this.#activations) await put('activations', 'activations.f32', this.#activations, [this.meta.samples.length, L, E]);
      const manifest = { format: FORMAT, formatVersion: FORMAT_VERSION, endianness: 'little', dtype: 'float32', arrays, ...this.meta };
      await atomicWrite(manifestNext, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    } catch (err) {
      await Promise.all(written.map((f) => rm(f, { force: true })));
      throw err;
    }
    await finishInterruptedSave(dir);
  }

  /**
   * Stores a calibration in the manifest of the set saved in `dir` (replacing any earlier one),
   * without rewriting its arrays: the manifest is written to a temporary file and renamed over
   * the old one. Loading the set afterwards gives it `meta.calibration`.
   * @throws EmosteerError FILE_NOT_FOUND when `dir` holds no set; VECTOR_SET_CORRUPT for a damaged manifest; INVALID_ARGUMENT for a malformed calibration or one of emotions the set lacks
   */
  static async saveCalibration(dir: string, calibration: StrengthCalibration): Promise<void> {
    await finishInterruptedSave(dir);
    const set = await EmotionVectorSet.load(dir, { activations: false });
    const problem = calibrationProblem(calibration);
    if (problem) throw new EmosteerError('INVALID_ARGUMENT', `not a calibration: ${problem}`);
    const unknown = Object.keys(calibration.emotions).filter((e) => !set.emotions.includes(e));
    if (unknown.length > 0) throw new EmosteerError('INVALID_ARGUMENT', `the calibration names emotions the set does not have: ${unknown.join(', ')}`);
    const path = join(dir, 'manifest.json');
    const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    manifest.calibration = calibration;
    await atomicWrite(path, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
  }

  /**
   * Loads a set saved by {@link save}, verifying every array's sha256.
   * @param dir the set's folder (holding manifest.json)
   * @param options.activations false skips the per-sample activations (the largest array)
   * @throws EmosteerError FILE_NOT_FOUND when `dir` holds no manifest; a checksum or shape error for a damaged set
   *
   * @example
   * ```ts
   * const set = await EmotionVectorSet.load('runs/gemma/generation', { activations: false });
   * const calm = set.vector('calm', 9); // raw vector of 'calm' at block 9
   * ```
   */
  static async load(dir: string, options: { activations?: boolean } = {}): Promise<EmotionVectorSet> {
    let text: string;
    // A save killed after its commit point: its manifest.next.json is the set (see save).
    const next = await readFile(join(dir, `manifest${NEXT}.json`), 'utf8').catch(() => null);
    try {
      text = next ?? await readFile(join(dir, 'manifest.json'), 'utf8');
    } catch (err) {
      throw new EmosteerError('FILE_NOT_FOUND', `${dir} holds no readable manifest.json: not an emosteer vector set (${(err as Error).message})`, { cause: err });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new EmosteerError('VECTOR_SET_CORRUPT', `${dir}/manifest.json is not valid JSON (${(err as Error).message})`, { cause: err });
    }
    if (!isRecord(parsed)) throw new EmosteerError('VECTOR_SET_CORRUPT', `${dir}/manifest.json is not a JSON object`);
    const manifest = parsed;
    if (manifest.format !== FORMAT) throw new EmosteerError('VECTOR_SET_CORRUPT', `${dir}/manifest.json is not an emosteer vector set (format ${String(manifest.format)})`);
    if (manifest.formatVersion !== FORMAT_VERSION) throw new EmosteerError('INVALID_ARGUMENT', `vector set format version ${String(manifest.formatVersion)} is not supported (expected ${FORMAT_VERSION})`);
    const shapes = validateManifest(dir, manifest);
    const { format: _f, formatVersion: _v, endianness: _e, dtype: _d, arrays, ...meta } = manifest as unknown as EmotionVectorSetMeta & {
      format: string; formatVersion: number; endianness: string; dtype: string; arrays: Record<string, ArrayEntry>;
    };
    const read = async (name: string): Promise<Float32Array> => {
      const entry = arrays[name];
      if (!entry) throw new EmosteerError('VECTOR_SET_CORRUPT', `${dir}/manifest.json lists no '${name}' array`);
      const buf = await (next === null ? Promise.reject(new Error('no save in progress')) : readFile(join(dir, `${entry.file}${NEXT}`))).catch(() => readFile(join(dir, entry.file))).catch((err) => {
        throw new EmosteerError('FILE_NOT_FOUND', `${join(dir, entry.file)} is missing`, { cause: err });
      });
      if (sha256Hex(buf) !== entry.sha256) throw new EmosteerError('VECTOR_SET_CORRUPT', `${join(dir, entry.file)} does not match its sha256 in manifest.json`);
      const expected = shapes[name]!.reduce((a, b) => a * b, 1);
      if (buf.byteLength !== expected * 4) throw new EmosteerError('VECTOR_SET_CORRUPT', `${join(dir, entry.file)} has ${buf.byteLength} bytes, expected ${expected * 4}`);
      const out = new Float32Array(expected);
      new Uint8Array(out.buffer).set(buf);
      return out;
    };
    const wantActs = options.activations !== false && arrays.activations !== undefined;
    return new EmotionVectorSet(meta, await read('vectors'), await read('unit'), await read('means'), wantActs ? await read('activations') : null);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Checks the fields of a manifest that loading relies on, so that an edited or damaged manifest
 * fails with VECTOR_SET_CORRUPT instead of a TypeError, and never makes the loader read a file
 * outside the set's folder. Returns the shape each listed array must have.
 */
function validateManifest(dir: string, m: Record<string, unknown>): Record<string, number[]> {
  const bad = (what: string) => new EmosteerError('VECTOR_SET_CORRUPT', `${dir}/manifest.json is damaged: ${what}`);
  const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
  const strings = (k: string) => { const v = m[k]; if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw bad(`'${k}' is not a list of strings`); return v.length; };
  const nEmotions = strings('emotions');
  const nCategories = strings('categories');
  const layers = m.layers;
  if (!Array.isArray(layers) || !layers.every(isCount)) throw bad("'layers' is not a list of block indices");
  if (!isCount(m.nEmbd) || m.nEmbd === 0) throw bad(`'nEmbd' is ${JSON.stringify(m.nEmbd)}`);
  if (!Array.isArray(m.samples)) throw bad("'samples' is not a list");
  if (!isRecord(m.model)) throw bad("'model' is not an object");
  const calibration = calibrationProblem(m.calibration);
  if (calibration) throw bad(calibration);
  if (m.residualNorms !== undefined && !(Array.isArray(m.residualNorms) && m.residualNorms.every((x) => typeof x === 'number'))) throw bad("'residualNorms' is not a list of numbers");
  const arrays = m.arrays;
  if (!isRecord(arrays)) throw bad("'arrays' is not an object");
  const L = layers.length;
  const E = m.nEmbd;
  const want: Record<string, number[]> = { vectors: [nEmotions, L, E], unit: [nEmotions, L, E], means: [nCategories, L, E], activations: [m.samples.length, L, E] };
  const shapes: Record<string, number[]> = {};
  for (const [name, shape] of Object.entries(want)) {
    const entry = arrays[name];
    if (entry === undefined && name === 'activations') continue;
    if (!isRecord(entry)) throw bad(`array '${name}' is not listed`);
    const { file, sha256: hash } = entry;
    if (typeof file !== 'string' || file === '' || file === '.' || file === '..' || /[/\\]/.test(file)) throw bad(`array '${name}' names the file ${JSON.stringify(file)} (must be a file inside the set's folder)`);
    if (typeof hash !== 'string') throw bad(`array '${name}' has no sha256`);
    if (!Array.isArray(entry.shape) || entry.shape.length !== 3 || !entry.shape.every((x, i) => x === shape[i])) {
      throw bad(`array '${name}' has shape ${JSON.stringify(entry.shape)}, but the manifest's emotions, categories, samples, layers and nEmbd make it [${shape.join(', ')}]`);
    }
    shapes[name] = shape;
  }
  return shapes;
}

function check(cond: boolean, message: string): asserts cond {
  if (!cond) throw new EmosteerError('INVALID_ARGUMENT', message);
}

/** Suffix of the files of a save that has not finished its renames (see EmotionVectorSet.save). */
const NEXT = '.next';

/**
 * Finishes a save that passed its commit point (`manifest.next.json` exists): renames the
 * `<file>.next` files it lists and then the manifest into place. Leftover `.next` array files
 * of a save killed before its commit point are not listed anywhere and are simply overwritten.
 */
async function finishInterruptedSave(dir: string): Promise<void> {
  const manifestNext = join(dir, `manifest${NEXT}.json`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(manifestNext, 'utf8'));
  } catch {
    return; // no save to finish (atomicWrite never leaves a half-written manifest.next.json)
  }
  const arrays = isRecord(parsed) && isRecord(parsed.arrays) ? Object.values(parsed.arrays) : [];
  for (const entry of arrays) {
    const file = isRecord(entry) ? entry.file : undefined;
    if (typeof file !== 'string' || file === '' || /[/\\]/.test(file) || file === '.' || file === '..') continue;
    await rename(join(dir, `${file}${NEXT}`), join(dir, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err; // ENOENT: renamed already
    });
  }
  await rename(manifestNext, join(dir, 'manifest.json'));
}

async function atomicWrite(path: string, data: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, data);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await rename(tmp, path);
}

/**
 * A short hash of what made a set (its method, parameters, categories and stimuli version), the
 * same for a set extracted again from the same model file, stimuli and stories on any machine:
 * checkpoints of runs over a set key on it instead of the set's creation time.
 */
export function setParamsHash(set: { meta: Pick<EmotionVectorSetMeta, 'method' | 'params' | 'categories' | 'stimuliVersion' | 'layers'> }): string {
  const m = set.meta;
  return sha256Hex(JSON.stringify({ method: m.method, params: m.params, categories: m.categories, stimuliVersion: m.stimuliVersion, layers: m.layers })).slice(0, 16);
}
