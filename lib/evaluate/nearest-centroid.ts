/**
 * Nearest-centroid classification under cross-validation: per-sample held-out correctness,
 * accuracy, and the shuffled-label null distribution of that accuracy (its chance level).
 */
import { norm } from '../util/vec.js';
import { checkMetric, type Metric } from './distance.js';
import { accuracyOf, checkFolds, checkRows, encodeLabels, invalid, shuffle, type Encoded } from './samples.js';
import { quantile, seededRandom } from './statistics.js';

/** {@link nearestCentroidCorrect} on checked input with encoded labels and the fold of every sample. */
function nearestCentroidCorrectEncoded(
  X: Float32Array[],
  enc: Encoded,
  foldOf: Int32Array,
  nFolds: number,
  metric: Metric,
): Uint8Array {
  const n = X.length;
  const d = (X[0] as Float32Array).length;
  const C = enc.classes.length;
  const correct = new Uint8Array(n);
  const sums = new Float64Array(C * d);
  const counts = new Int32Array(C);
  const centroidNorm = new Float64Array(C);
  for (let f = 0; f < nFolds; f++) {
    sums.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      if (foldOf[i] === f) continue;
      const c = enc.y[i] as number;
      const row = X[i] as Float32Array;
      const off = c * d;
      for (let j = 0; j < d; j++) sums[off + j] = (sums[off + j] as number) + (row[j] as number);
      counts[c] = (counts[c] as number) + 1;
    }
    for (let c = 0; c < C; c++) {
      const cnt = counts[c] as number;
      if (cnt === 0) continue;
      const off = c * d;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const v = (sums[off + j] as number) / cnt;
        sums[off + j] = v;
        s += v * v;
      }
      centroidNorm[c] = Math.sqrt(s);
    }
    for (let i = 0; i < n; i++) {
      if (foldOf[i] !== f) continue;
      const row = X[i] as Float32Array;
      const rn = metric === 'cosine' ? norm(row) : 0;
      let best = -1;
      let bestScore = -Infinity;
      for (let c = 0; c < C; c++) {
        if (counts[c] === 0) continue; // class absent from this training split: cannot be predicted
        const off = c * d;
        let score: number;
        if (metric === 'cosine') {
          let s = 0;
          for (let j = 0; j < d; j++) s += (row[j] as number) * (sums[off + j] as number);
          const denom = rn * (centroidNorm[c] as number);
          score = denom === 0 ? 0 : s / denom;
        } else {
          let s = 0;
          for (let j = 0; j < d; j++) {
            const t = (row[j] as number) - (sums[off + j] as number);
            s += t * t;
          }
          score = -s;
        }
        if (score > bestScore) {
          bestScore = score;
          best = c;
        }
      }
      correct[i] = best === enc.y[i] ? 1 : 0;
    }
  }
  return correct;
}

/**
 * Per-sample correctness of nearest-centroid classification under cross-validation: for each
 * fold, class centroids (means) are computed from the other folds and each held-out sample is
 * assigned to the closest centroid (highest cosine similarity, or smallest Euclidean distance;
 * ties go to the smaller label). A class absent from a training split is never predicted there.
 *
 * @param folds a partition of 0..n-1, e.g. from {@link kFoldIndices}
 * @returns 1 where the held-out prediction was right, 0 where wrong (mean = accuracy; feed it to a bootstrap)
 * @throws EmosteerError INVALID_ARGUMENT for ragged or non-finite rows, mismatched labels, folds that are not a partition
 */
export function nearestCentroidCorrect(
  X: Float32Array[],
  labels: ArrayLike<number>,
  folds: number[][],
  metric: Metric = 'cosine',
): Uint8Array {
  checkMetric(metric);
  checkRows(X, 'X', 2);
  const enc = encodeLabels(labels, X.length);
  const foldOf = checkFolds(folds, X.length);
  return nearestCentroidCorrectEncoded(X, enc, foldOf, folds.length, metric);
}

/**
 * Cross-validated nearest-centroid accuracy over all samples (the mean of
 * {@link nearestCentroidCorrect}).
 * @throws EmosteerError INVALID_ARGUMENT as {@link nearestCentroidCorrect}
 */
export function nearestCentroidAccuracy(
  X: Float32Array[],
  labels: ArrayLike<number>,
  folds: number[][],
  metric: Metric = 'cosine',
): number {
  return accuracyOf(nearestCentroidCorrect(X, labels, folds, metric));
}

/** Nearest-centroid accuracy under label permutations. */
export interface ShuffledNull {
  /** Mean accuracy over the permutations. */
  mean: number;
  /** 95th percentile (type-7 quantile) of the permutation accuracies. */
  p95: number;
}

/**
 * Null distribution of cross-validated nearest-centroid accuracy: the labels are permuted
 * (seeded Fisher-Yates, class sizes kept) `permutations` times and the accuracy is computed
 * with the same folds (a permuted class missing from a training split is simply never
 * predicted there). Its mean should be close to chance (1 / number of classes).
 *
 * @param folds a partition of 0..n-1, e.g. from {@link kFoldIndices} on the real labels
 * @param permutations number of label permutations (default 20)
 * @param seed seed of the permutations (default 0)
 * @param metric nearest-centroid metric (default 'cosine')
 * @throws EmosteerError INVALID_ARGUMENT as {@link nearestCentroidCorrect}, or permutations < 1
 */
export function shuffledLabelNull(
  X: Float32Array[],
  labels: ArrayLike<number>,
  folds: number[][],
  permutations = 20,
  seed = 0,
  metric: Metric = 'cosine',
): ShuffledNull {
  checkMetric(metric);
  if (!Number.isInteger(permutations) || permutations < 1) {
    throw invalid(`permutations must be a positive integer, got ${String(permutations)}`);
  }
  checkRows(X, 'X', 2);
  const enc = encodeLabels(labels, X.length);
  const foldOf = checkFolds(folds, X.length);
  const rand = seededRandom(seed);
  const accs: number[] = [];
  const perm = Array.from(enc.y);
  for (let p = 0; p < permutations; p++) {
    shuffle(perm, rand);
    const shuffled: Encoded = { classes: enc.classes, counts: enc.counts, y: Int32Array.from(perm) };
    accs.push(accuracyOf(nearestCentroidCorrectEncoded(X, shuffled, foldOf, folds.length, metric)));
  }
  let s = 0;
  for (const a of accs) s += a;
  return { mean: s / accs.length, p95: quantile(accs, 0.95) };
}
