/**
 * The emotion geometry of a vector set at every block, as committed text: per set and block the
 * condensed dissimilarity matrix ({@link rdm}: 1 - cosine of the unit emotion vectors, upper
 * triangle in row order), rounded to 5 decimals. A run folder keeps it as `geometry.json`
 * (about 50 KB per set of 30 blocks), so that representational similarity between models,
 * methods and precisions at any block (lib/study/study-rsa.ts) is recomputed from a fresh clone
 * without the vector sets, which are not committed.
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import type { EmotionVectorSet } from '../vectors/emotion-vector-set.js';
import { emotionWordMask, textFeatures } from './bag-of-words.js';
import { rdm } from './geometry.js';

/** The name of a run folder's per-block geometry file. */
export const GEOMETRY_FILE = 'geometry.json';

/** Decimals kept of each dissimilarity (1 - cosine, in [0, 2]). */
export const GEOMETRY_DECIMALS = 5;

/** The format version of geometry.json (2: each set's text geometry added). */
export const GEOMETRY_VERSION = 2;

/**
 * The geometry of the texts a set was read from, built as the set's vectors are built but on
 * words instead of activations: each sample's masked word frequencies (word counts over its
 * word total, the words that name the emotions removed), category means, each emotion's mean
 * minus the set's baseline (the neutral mean, or the mean of every category mean), 1 - cosine.
 * It is what a shared geometry owes to the words alone: comprehension reads the same passages
 * in every model, generation each model's own stories.
 */
export interface TextGeometry {
  /** Where the texts come from: the samples' texts (stories, passages) or, without them, the prompts. */
  source: 'text' | 'prompt';
  /** The condensed dissimilarity matrix, in the set's emotion order. */
  rdm: number[];
}

/** One set's geometry at every block. */
export interface SetGeometry {
  /** The set's method (`comprehension`, `generation`). */
  method: string;
  /** Row and column order of every matrix. */
  emotions: string[];
  /** The model's block count (for depths: layer / (nLayer - 1)). */
  nLayer: number;
  /** The blocks, ascending. */
  layers: number[];
  /** Per block (in `layers` order): the condensed dissimilarity matrix, length n (n - 1) / 2. */
  rdm: number[][];
  /** The geometry of the texts the set was read from (absent when its samples keep no text). */
  text?: TextGeometry;
}

/** What `geometry.json` holds: the geometry of every set of a run folder. */
export interface GeometryFile {
  /** Format version ({@link GEOMETRY_VERSION}). */
  version: number;
  /** SHA-256 of the model file the sets come from. */
  modelSha256: string;
  /** Per set (the evaluation's method keys, e.g. `generation.mean`). */
  sets: Record<string, SetGeometry>;
}

const round = (d: number) => Math.round(d * 10 ** GEOMETRY_DECIMALS) / 10 ** GEOMETRY_DECIMALS;

/** The geometry of a set at every block, and of its texts. */
export function setGeometry(set: EmotionVectorSet): SetGeometry {
  const text = textGeometry(set);
  return {
    method: set.meta.method,
    emotions: [...set.emotions],
    nLayer: set.meta.model.nLayer,
    layers: [...set.layers],
    rdm: set.layers.map((layer) => Array.from(rdm(set.vectorsAt(layer)), round)),
    ...(text ? { text } : {}),
  };
}

/** {@link TextGeometry} of a set, or undefined when its samples keep neither text nor (comprehension) prompt. */
export function textGeometry(set: EmotionVectorSet): TextGeometry | undefined {
  const { samples, categories, emotions, baseline } = set.meta;
  let source: TextGeometry['source'];
  if (samples.every((x) => typeof x.text === 'string')) source = 'text';
  else if (set.meta.method === 'comprehension') source = 'prompt';
  else return undefined;
  const mask = new Set(emotionWordMask(emotions));
  const vocabulary = new Map<string, number>();
  const profiles = samples.map((x) => {
    const { features } = textFeatures(source === 'text' ? x.text! : x.prompt, { mask });
    const counts = new Map<number, number>();
    for (const w of features) {
      let k = vocabulary.get(w);
      if (k === undefined) vocabulary.set(w, (k = vocabulary.size));
      counts.set(k, (counts.get(k) ?? 0) + 1 / features.length);
    }
    return counts;
  });
  const V = vocabulary.size;
  const catMeans = categories.map((c) => {
    const m = new Float64Array(V);
    const members = profiles.filter((_, k) => samples[k]!.category === c);
    for (const p of members) for (const [k, f] of p) m[k]! += f / members.length;
    return m;
  });
  const base = baseline === 'neutral' && categories.includes('neutral')
    ? catMeans[categories.indexOf('neutral')]!
    : catMeans.reduce((acc, m) => { for (let k = 0; k < V; k++) acc[k]! += m[k]! / catMeans.length; return acc; }, new Float64Array(V));
  const vectors = emotions.map((e) => Float32Array.from(catMeans[categories.indexOf(e)]!, (x, k) => x - base[k]!));
  return { source, rdm: Array.from(rdm(vectors), round) };
}

/**
 * The condensed matrix of a set's geometry at a block.
 * @throws EmosteerError INVALID_ARGUMENT when the set has no such block
 */
export function geometryAt(g: SetGeometry, layer: number): number[] {
  const i = g.layers.indexOf(layer);
  if (i < 0) throw new EmosteerError('INVALID_ARGUMENT', `no block ${layer} in the ${g.method} geometry (blocks ${g.layers[0]}-${g.layers[g.layers.length - 1]})`);
  return g.rdm[i]!;
}

/** The block of a set's geometry nearest a depth in [0, 1] (layer / (nLayer - 1)); the lower block on a tie. */
export function layerAtDepth(g: SetGeometry, depth: number): number {
  const d = (l: number) => Math.abs((g.nLayer > 1 ? l / (g.nLayer - 1) : 0) - depth);
  return g.layers.reduce((best, l) => (d(l) < d(best) - 1e-12 ? l : best), g.layers[0]!);
}
