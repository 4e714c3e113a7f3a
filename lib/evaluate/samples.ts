/**
 * The input shared by the classifiers and geometry measures of lib/evaluate/: samples as rows
 * (one Float32Array per sample, all of the same width) with numeric labels, and cross-validation
 * folds over them. Checks them once at the boundary, encodes labels as class indices, and holds
 * the small seeded helpers every consumer needs (shuffle, accuracy of a 0/1 vector).
 *
 * Labels are numbers (any finite values; classes are their distinct values in ascending order).
 */
import { EmosteerError } from '../errors.js';

/** An INVALID_ARGUMENT error with `message`. */
export function invalid(message: string): EmosteerError {
  return new EmosteerError('INVALID_ARGUMENT', message);
}

/**
 * Checks rows: at least `minRows` of them, each a Float32Array, equal non-zero widths, finite
 * values. Returns the width (0 when there are no rows and `minRows` is 0).
 * @throws EmosteerError INVALID_ARGUMENT naming the first row or value at fault
 */
export function checkRows(X: Float32Array[], name = 'X', minRows = 1): number {
  if (!Array.isArray(X)) throw invalid(`${name} must be an array of Float32Array rows`);
  if (X.length < minRows) throw invalid(`${name} needs at least ${minRows} row${minRows === 1 ? '' : 's'}, got ${X.length}`);
  if (X.length === 0) return 0;
  const first = X[0];
  if (!(first instanceof Float32Array)) throw invalid(`${name}[0] must be a Float32Array`);
  const d = first.length;
  if (d === 0) throw invalid(`${name} rows must not be empty`);
  for (let i = 0; i < X.length; i++) {
    const row = X[i];
    if (!(row instanceof Float32Array)) throw invalid(`${name}[${i}] must be a Float32Array`);
    if (row.length !== d) throw invalid(`${name}[${i}] has width ${row.length}, expected ${d} like ${name}[0]`);
    for (let j = 0; j < d; j++) {
      if (!Number.isFinite(row[j])) throw invalid(`${name}[${i}][${j}] is ${String(row[j])}; activations must be finite`);
    }
  }
  return d;
}

/** Labels encoded as class indices: see {@link encodeLabels}. */
export interface Encoded {
  /** The distinct labels, ascending; class c is classes[c]. */
  classes: number[];
  /** Each sample's class index. */
  y: Int32Array;
  /** Number of samples per class. */
  counts: number[];
}

/**
 * Encodes labels as indices into their distinct values (ascending).
 * @param n when given, the number of samples the labels must match
 * @throws EmosteerError INVALID_ARGUMENT for no labels, non-finite labels or a length other than `n`
 */
export function encodeLabels(labels: ArrayLike<number>, n?: number): Encoded {
  if (labels == null || typeof labels.length !== 'number') throw invalid('labels must be an array of numbers');
  if (n !== undefined && labels.length !== n) {
    throw invalid(`labels has ${labels.length} entries but there are ${n} samples`);
  }
  if (labels.length === 0) throw invalid('labels must not be empty');
  for (let i = 0; i < labels.length; i++) {
    if (typeof labels[i] !== 'number' || !Number.isFinite(labels[i])) {
      throw invalid(`labels[${i}] is ${String(labels[i])}; labels must be finite numbers`);
    }
  }
  const classes = [...new Set(Array.from(labels))].sort((a, b) => a - b);
  const index = new Map(classes.map((c, i) => [c, i] as const));
  const y = new Int32Array(labels.length);
  const counts = new Array<number>(classes.length).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const c = index.get(labels[i] as number) as number;
    y[i] = c;
    counts[c] = (counts[c] as number) + 1;
  }
  return { classes, y, counts };
}

/**
 * Checks that folds partition 0..n-1; returns, for every sample, the fold holding it.
 * @throws EmosteerError INVALID_ARGUMENT for fewer than two folds, an index out of range, in two folds or in none
 */
export function checkFolds(folds: number[][], n: number): Int32Array {
  if (!Array.isArray(folds) || folds.length < 2) throw invalid('folds must be an array of at least two index arrays');
  const foldOf = new Int32Array(n).fill(-1);
  for (let f = 0; f < folds.length; f++) {
    const fold = folds[f];
    if (!Array.isArray(fold)) throw invalid(`folds[${f}] must be an array of sample indices`);
    for (const i of fold) {
      if (!Number.isInteger(i) || i < 0 || i >= n) throw invalid(`folds[${f}] holds ${String(i)}, not a sample index in 0..${n - 1}`);
      if (foldOf[i] !== -1) throw invalid(`sample ${i} is in more than one fold`);
      foldOf[i] = f;
    }
  }
  const missing = foldOf.indexOf(-1);
  if (missing !== -1) throw invalid(`sample ${missing} is in no fold; folds must cover every sample exactly once`);
  return foldOf;
}

/** In-place Fisher-Yates shuffle driven by `rand`; returns `a`. */
export function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i] as T;
    a[i] = a[j] as T;
    a[j] = t;
  }
  return a;
}

/** The mean of a 0/1 correctness vector: the accuracy. */
export function accuracyOf(correct: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < correct.length; i++) s += correct[i] as number;
  return s / correct.length;
}
