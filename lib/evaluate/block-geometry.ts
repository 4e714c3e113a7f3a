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
import { rdm } from './geometry.js';

/** The name of a run folder's per-block geometry file. */
export const GEOMETRY_FILE = 'geometry.json';

/** Decimals kept of each dissimilarity (1 - cosine, in [0, 2]). */
export const GEOMETRY_DECIMALS = 5;

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
}

/** What `geometry.json` holds: the geometry of every set of a run folder. */
export interface GeometryFile {
  /** Format version (1). */
  version: 1;
  /** SHA-256 of the model file the sets come from. */
  modelSha256: string;
  /** Per set (the evaluation's method keys, e.g. `generation.mean`). */
  sets: Record<string, SetGeometry>;
}

/** The geometry of a set at every block. */
export function setGeometry(set: EmotionVectorSet): SetGeometry {
  const scale = 10 ** GEOMETRY_DECIMALS;
  return {
    method: set.meta.method,
    emotions: [...set.emotions],
    nLayer: set.meta.model.nLayer,
    layers: [...set.layers],
    rdm: set.layers.map((layer) => Array.from(rdm(set.vectorsAt(layer)), (d) => Math.round(d * scale) / scale)),
  };
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
