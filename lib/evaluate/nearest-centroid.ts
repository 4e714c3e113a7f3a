/**
 * Nearest-centroid classification under cross-validation: per-sample held-out correctness,
 * accuracy, and the shuffled-label null distribution of that accuracy (its chance level).
 */
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
  center: boolean,
): Uint8Array {
  const n = X.length;
  const d = (X[0] as Float32Array).length;
  const C = enc.classes.length;
  const correct = new Uint8Array(n);
  const sums = new Float64Array(C * d);
  const counts = new Int32Array(C);
  const centroidNorm = new Float64Array(C);
  // Centring only changes cosine: Euclidean distances do not move under a common shift.
  const centring = center && metric === 'cosine';
  const mu = new Float64Array(d);
  const row = new Float64Array(d);
  for (let f = 0; f < nFolds; f++) {
    sums.fill(0);
    counts.fill(0);
    mu.fill(0);
    let nTrain = 0;
    for (let i = 0; i < n; i++) {
      if (foldOf[i] === f) continue;
      const c = enc.y[i] as number;
      const x = X[i] as Float32Array;
      const off = c * d;
      for (let j = 0; j < d; j++) sums[off + j] = (sums[off + j] as number) + (x[j] as number);
      counts[c] = (counts[c] as number) + 1;
      nTrain++;
    }
    if (centring) {
      // The training split's mean: the sum of the class sums over the training samples.
      for (let c = 0; c < C; c++) {
        const off = c * d;
        for (let j = 0; j < d; j++) mu[j] = (mu[j] as number) + (sums[off + j] as number);
      }
      for (let j = 0; j < d; j++) mu[j] = (mu[j] as number) / nTrain;
    }
    for (let c = 0; c < C; c++) {
      const cnt = counts[c] as number;
      if (cnt === 0) continue;
      const off = c * d;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const v = (sums[off + j] as number) / cnt - (mu[j] as number);
        sums[off + j] = v;
        s += v * v;
      }
      centroidNorm[c] = Math.sqrt(s);
    }
    for (let i = 0; i < n; i++) {
      if (foldOf[i] !== f) continue;
      const x = X[i] as Float32Array;
      let rn = 0;
      for (let j = 0; j < d; j++) {
        const v = (x[j] as number) - (mu[j] as number);
        row[j] = v;
        rn += v * v;
      }
      rn = Math.sqrt(rn);
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

/** Options of the nearest-centroid classifier. */
export interface NearestCentroidOptions {
  /**
   * Subtract the training split's mean (the mean of the training samples of the fold, all
   * classes together) from the training samples, the centroids and the held-out samples before
   * the cosine (default true). Activations of a language model share one large direction
   * (anisotropy 0.9 and more), which drowns the class signal in an uncentred cosine. `false`
   * gives the uncentred classifier of emosteer 0.1. No effect on the Euclidean metric, which a
   * common shift does not change.
   */
  center?: boolean;
}

/**
 * Per-sample correctness of nearest-centroid classification under cross-validation: for each
 * fold, class centroids (means) are computed from the other folds and each held-out sample is
 * assigned to the closest centroid (highest cosine similarity, or smallest Euclidean distance;
 * ties go to the smaller label). A class absent from a training split is never predicted there.
 * The cosine is taken after centring on the training split's mean unless `center: false`.
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
  options: NearestCentroidOptions = {},
): Uint8Array {
  checkMetric(metric);
  checkRows(X, 'X', 2);
  const enc = encodeLabels(labels, X.length);
  const foldOf = checkFolds(folds, X.length);
  return nearestCentroidCorrectEncoded(X, enc, foldOf, folds.length, metric, options.center ?? true);
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
  options: NearestCentroidOptions = {},
): number {
  return accuracyOf(nearestCentroidCorrect(X, labels, folds, metric, options));
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
 * @param options centring (default: centred, as {@link nearestCentroidCorrect})
 * @throws EmosteerError INVALID_ARGUMENT as {@link nearestCentroidCorrect}, or permutations < 1
 */
export function shuffledLabelNull(
  X: Float32Array[],
  labels: ArrayLike<number>,
  folds: number[][],
  permutations = 20,
  seed = 0,
  metric: Metric = 'cosine',
  options: NearestCentroidOptions = {},
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
    accs.push(accuracyOf(nearestCentroidCorrectEncoded(X, shuffled, foldOf, folds.length, metric, options.center ?? true)));
  }
  let s = 0;
  for (const a of accs) s += a;
  return { mean: s / accs.length, p95: quantile(accs, 0.95) };
}
