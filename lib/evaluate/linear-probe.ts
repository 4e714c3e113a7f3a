/**
 * Classification and geometry on activations: stratified folds, nearest-centroid and
 * linear-probe accuracy, silhouette, Fisher ratio, shuffled-label null, PCA map,
 * average-linkage clustering and representational similarity.
 *
 * Samples are rows: one Float32Array per sample, all of the same width. Labels are numbers
 * (any finite values; classes are their distinct values in ascending order). Everything is
 * deterministic for a given seed.
 */
import { agnes, type Cluster } from 'ml-hclust';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { PCA } from 'ml-pca';
import { EmosteerError } from '../errors.js';
import { quantile, seededRandom, spearman } from './statistics.js';

/** Distance used to compare a sample with a centroid or another sample. */
export type Metric = 'cosine' | 'euclidean';

// ---------------------------------------------------------------------------------------------
// Validation helpers
// ---------------------------------------------------------------------------------------------

function invalid(message: string): EmosteerError {
  return new EmosteerError('INVALID_ARGUMENT', message);
}

/** Checks rows: non-empty, Float32Array, equal widths, finite values. Returns the width. */
function checkRows(X: Float32Array[], name = 'X', minRows = 1): number {
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

/** Distinct labels (ascending) and each sample's class index. */
interface Encoded {
  classes: number[];
  y: Int32Array;
  counts: number[];
}

function encodeLabels(labels: ArrayLike<number>, n?: number): Encoded {
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

/** Checks that folds partition 0..n-1; returns, for every sample, the fold holding it. */
function checkFolds(folds: number[][], n: number): Int32Array {
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

function checkMetric(metric: unknown): asserts metric is Metric {
  if (metric !== 'cosine' && metric !== 'euclidean') throw invalid(`metric must be 'cosine' or 'euclidean', got ${String(metric)}`);
}

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < v.length; j++) s += (v[j] as number) * (v[j] as number);
  return Math.sqrt(s);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) s += (a[j] as number) * (b[j] as number);
  return s;
}

/** Cosine distance 1 - cos, clamped to [0, 2]; a zero vector is at distance 1 from everything. */
function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>, na = norm(a), nb = norm(b)): number {
  if (na === 0 || nb === 0) return 1;
  const c = dot(a, b) / (na * nb);
  return Math.min(2, Math.max(0, 1 - c));
}

function euclideanDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) {
    const t = (a[j] as number) - (b[j] as number);
    s += t * t;
  }
  return Math.sqrt(s);
}

/** In-place Fisher-Yates shuffle driven by `rand`. */
function shuffle<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i] as T;
    a[i] = a[j] as T;
    a[j] = t;
  }
  return a;
}

// ---------------------------------------------------------------------------------------------
// Folds
// ---------------------------------------------------------------------------------------------

/**
 * The number of folds {@link kFoldIndices} actually makes: min(k, size of the smallest class),
 * so that every fold holds at least one sample of every class.
 * @throws EmosteerError INVALID_ARGUMENT when k < 2 or the smallest class has fewer than two samples
 */
export function effectiveFoldCount(labels: ArrayLike<number>, k: number): number {
  if (!Number.isInteger(k) || k < 2) throw invalid(`k must be an integer >= 2, got ${String(k)}`);
  const { counts, classes } = encodeLabels(labels);
  const smallest = Math.min(...counts);
  if (smallest < 2) {
    const c = classes[counts.indexOf(smallest)];
    throw invalid(`class ${String(c)} has a single sample; cross-validation needs at least two per class`);
  }
  return Math.min(k, smallest);
}

/**
 * Stratified k-fold split. The samples of each class are shuffled (seeded) and dealt round
 * robin over the folds, the dealing position carrying over from one class to the next so that
 * fold sizes differ by at most one. When a class has fewer than k samples, only
 * {@link effectiveFoldCount}(labels, k) folds are made; then every fold holds at least one
 * sample of every class, and so every training split (all folds but one) does too.
 *
 * @returns folds of sample indices (each ascending); together they hold every index exactly once
 * @throws EmosteerError INVALID_ARGUMENT when k < 2 or a class has fewer than two samples
 */
export function kFoldIndices(labels: ArrayLike<number>, k: number, seed: number): number[][] {
  const kEff = effectiveFoldCount(labels, k);
  const { y, classes } = encodeLabels(labels);
  const rand = seededRandom(seed);
  const folds: number[][] = Array.from({ length: kEff }, () => []);
  let pos = 0;
  for (let c = 0; c < classes.length; c++) {
    const members: number[] = [];
    for (let i = 0; i < y.length; i++) if (y[i] === c) members.push(i);
    shuffle(members, rand);
    for (const i of members) {
      (folds[pos % kEff] as number[]).push(i);
      pos++;
    }
  }
  for (const f of folds) f.sort((a, b) => a - b);
  return folds;
}

// ---------------------------------------------------------------------------------------------
// Nearest centroid
// ---------------------------------------------------------------------------------------------

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

function meanOf(a: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] as number;
  return s / a.length;
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
  return meanOf(nearestCentroidCorrect(X, labels, folds, metric));
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
    accs.push(meanOf(nearestCentroidCorrectEncoded(X, shuffled, foldOf, folds.length, metric)));
  }
  let s = 0;
  for (const a of accs) s += a;
  return { mean: s / accs.length, p95: quantile(accs, 0.95) };
}

// ---------------------------------------------------------------------------------------------
// Linear probe: multinomial logistic regression with L2
// ---------------------------------------------------------------------------------------------

/** Options of {@link linearProbeAccuracy}. */
export interface LinearProbeOptions {
  /**
   * L2 penalty on the weights (not the intercepts): the objective is
   * mean cross-entropy + l2 / 2 * ||W||^2 on standardized features (default 0.01; the same
   * model as scikit-learn's LogisticRegression with C = 1 / (l2 * nTrain)).
   */
  l2?: number;
  /** Most optimiser (L-BFGS) iterations per fold (default 300; it usually stops far earlier, at `tolerance`). */
  epochs?: number;
  /** Stop a fold's optimisation once max |gradient| of the objective <= tolerance (default 1e-5). */
  tolerance?: number;
  /**
   * Accepted for API stability. The optimiser is full-batch and starts from zero weights, so it
   * uses no randomness and the result does not depend on the seed.
   */
  seed?: number;
}

/** Result of {@link linearProbeAccuracy}. */
export interface ProbeResult {
  /** Held-out accuracy over all samples. */
  accuracy: number;
  /** 1 where the held-out prediction of a sample was right, 0 where wrong. */
  correct: Uint8Array;
}

/**
 * Cross-validated accuracy of a linear probe: multinomial (softmax) logistic regression with an
 * L2 penalty, trained per fold on features standardized with the training fold's mean and
 * standard deviation (constant features become 0), and evaluated on the held-out fold.
 *
 * The training uses no randomness (same input, same result). With an L2 penalty the optimal
 * weights lie in the span of the training samples, so each fold is solved in that span: the
 * training Gram matrix is diagonalised (ml-matrix), giving at most nTrain orthogonal features,
 * on which the objective is minimised by L-BFGS whose initial inverse Hessian is diagonal:
 * Böhning's bound (0.5 * feature variance + l2 per direction) for the first step, then the
 * exact Hessian diagonal at the current point. This is the same model as scikit-learn's
 * StandardScaler + LogisticRegression(C = 1 / (l2 * nTrain), lbfgs, multinomial) on the
 * standardized features: test/sklearn-softmax.test.ts checks predictions, probabilities and
 * weights against a fixture from scripts/sklearn-fixture.py. It costs O(nTrain^2 * d) once plus
 * O(nTrain^2 * classes) per iteration: 252 samples x 640 features x 21 classes take about
 * 0.1-0.3 s per fold.
 *
 * @throws EmosteerError INVALID_ARGUMENT as {@link nearestCentroidCorrect}, or bad options
 */
export function linearProbeAccuracy(
  X: Float32Array[],
  labels: ArrayLike<number>,
  folds: number[][],
  options: LinearProbeOptions = {},
): ProbeResult {
  const { l2, epochs, tolerance } = probeSettings(options);
  checkRows(X, 'X', 2);
  const enc = encodeLabels(labels, X.length);
  const foldOf = checkFolds(folds, X.length);
  const n = X.length;
  const d = (X[0] as Float32Array).length;
  const correct = new Uint8Array(n);
  for (let f = 0; f < folds.length; f++) {
    const train: number[] = [];
    for (let i = 0; i < n; i++) if (foldOf[i] !== f) train.push(i);
    const fit = fitSoftmax(X, enc, train, l2, epochs, tolerance);
    const scores = new Float64Array(enc.classes.length);
    for (let i = 0; i < n; i++) {
      if (foldOf[i] !== f) continue;
      correct[i] = argmax(softmaxScores(fit, d, X[i] as Float32Array, scores)) === enc.y[i] ? 1 : 0;
    }
  }
  return { accuracy: meanOf(correct), correct };
}

function probeSettings(options: LinearProbeOptions): { l2: number; epochs: number; tolerance: number } {
  const l2 = options.l2 ?? 0.01;
  const epochs = options.epochs ?? 300;
  const tolerance = options.tolerance ?? 1e-5;
  if (typeof l2 !== 'number' || !(l2 > 0) || !Number.isFinite(l2)) throw invalid(`l2 must be a positive number, got ${String(l2)}`);
  if (!Number.isInteger(epochs) || epochs < 1) throw invalid(`epochs must be a positive integer, got ${String(epochs)}`);
  if (typeof tolerance !== 'number' || !(tolerance >= 0)) throw invalid(`tolerance must be a number >= 0, got ${String(tolerance)}`);
  return { l2, epochs, tolerance };
}

/**
 * A softmax probe fitted by {@link fitLinearProbe}, in the parametrisation of scikit-learn's
 * `make_pipeline(StandardScaler(), LogisticRegression(...))`: the scores of a sample x are
 * `intercept[c] + sum_j coef[c][j] * (x[j] - mean[j]) / scale[j]`, its probabilities their softmax.
 */
export interface LinearProbeModel {
  /** The distinct labels, ascending; row c of `coef` belongs to classes[c]. */
  classes: number[];
  /** Per-feature mean of the training samples. */
  mean: Float64Array;
  /**
   * Per-feature population standard deviation of the training samples; 0 for a constant
   * feature, whose standardized value is taken as 0 (scikit-learn's StandardScaler divides by 1
   * there, which gives the same 0 up to rounding).
   */
  scale: Float64Array;
  /**
   * Weights on the standardized features, one row per class. The L2 penalty makes them unique;
   * they sum to zero over the classes for every feature (as scikit-learn's `coef_`).
   */
  coef: Float64Array[];
  /** Intercepts, one per class, shifted to sum to zero (they are unique only up to a common constant). */
  intercept: Float64Array;
  /** L-BFGS iterations used. */
  iterations: number;
}

/**
 * Fits the softmax probe of {@link linearProbeAccuracy} on all the samples (no folds) and
 * returns the model: the same standardization, objective and optimiser as one fold of the
 * cross-validation. Use {@link linearProbePredict} to apply it.
 *
 * @throws EmosteerError INVALID_ARGUMENT for ragged or non-finite rows, mismatched labels, fewer than two samples or bad options
 */
export function fitLinearProbe(X: Float32Array[], labels: ArrayLike<number>, options: LinearProbeOptions = {}): LinearProbeModel {
  const { l2, epochs, tolerance } = probeSettings(options);
  const d = checkRows(X, 'X', 2);
  const enc = encodeLabels(labels, X.length);
  const fit = fitSoftmax(X, enc, Array.from({ length: X.length }, (_, i) => i), l2, epochs, tolerance);
  const C = enc.classes.length;
  return {
    classes: [...enc.classes],
    mean: fit.mu,
    scale: fit.invSd.map((v) => (v === 0 ? 0 : 1 / v)),
    coef: Array.from({ length: C }, (_, c) => fit.W.slice(c * d, (c + 1) * d)),
    intercept: fit.b,
    iterations: fit.iterations,
  };
}

/** Predictions of {@link linearProbePredict}. */
export interface ProbePrediction {
  /** The most probable label of each sample (ties: the smaller label). */
  labels: number[];
  /** Class probabilities of each sample, in the order of `model.classes`. */
  probabilities: Float64Array[];
}

/**
 * Applies a probe from {@link fitLinearProbe} to samples.
 * @throws EmosteerError INVALID_ARGUMENT for ragged or non-finite rows, or rows of another width than the model's
 */
export function linearProbePredict(model: LinearProbeModel, X: Float32Array[]): ProbePrediction {
  const d = checkRows(X, 'X', 1);
  if (X.length > 0 && d !== model.mean.length) throw invalid(`X rows have width ${d}, the probe was fitted on width ${model.mean.length}`);
  const C = model.classes.length;
  const fit: SoftmaxFit = {
    mu: model.mean,
    invSd: model.scale.map((v) => (v === 0 ? 0 : 1 / v)),
    W: new Float64Array(C * d),
    b: model.intercept,
    iterations: model.iterations,
  };
  for (let c = 0; c < C; c++) fit.W.set(model.coef[c] as Float64Array, c * d);
  const labelsOut: number[] = [];
  const probabilities: Float64Array[] = [];
  for (const row of X) {
    const s = softmaxScores(fit, d, row, new Float64Array(C));
    labelsOut.push(model.classes[argmax(s)] as number);
    let mx = -Infinity;
    for (let c = 0; c < C; c++) mx = Math.max(mx, s[c] as number);
    let z = 0;
    for (let c = 0; c < C; c++) {
      s[c] = Math.exp((s[c] as number) - mx);
      z += s[c] as number;
    }
    for (let c = 0; c < C; c++) s[c] = (s[c] as number) / z;
    probabilities.push(s);
  }
  return { labels: labelsOut, probabilities };
}

/** A fitted softmax on standardized features: W is C x d (row-major), invSd 0 for constant features. */
interface SoftmaxFit {
  mu: Float64Array;
  invSd: Float64Array;
  W: Float64Array;
  b: Float64Array;
  iterations: number;
}

/** out[c] = b[c] + sum_j W[c, j] (x[j] - mu[j]) invSd[j] */
function softmaxScores(fit: SoftmaxFit, d: number, x: Float32Array, out: Float64Array): Float64Array {
  const C = fit.b.length;
  for (let c = 0; c < C; c++) {
    let s = fit.b[c] as number;
    const off = c * d;
    for (let j = 0; j < d; j++) s += (fit.W[off + j] as number) * ((x[j] as number) - (fit.mu[j] as number)) * (fit.invSd[j] as number);
    out[c] = s;
  }
  return out;
}

/** Index of the largest value (the first of equal ones). */
function argmax(v: Float64Array): number {
  let best = 0;
  for (let c = 1; c < v.length; c++) if ((v[c] as number) > (v[best] as number)) best = c;
  return best;
}

/** Trains the softmax on the samples `train`; returns it on the standardized features. */
function fitSoftmax(
  X: Float32Array[],
  enc: Encoded,
  train: number[],
  l2: number,
  epochs: number,
  tolerance: number,
): SoftmaxFit {
  const d = (X[0] as Float32Array).length;
  const C = enc.classes.length;
  const m = train.length;

  // Standardize with the training fold's statistics (population standard deviation).
  const mu = new Float64Array(d);
  const sd = new Float64Array(d);
  for (const i of train) {
    const row = X[i] as Float32Array;
    for (let j = 0; j < d; j++) mu[j] = (mu[j] as number) + (row[j] as number);
  }
  for (let j = 0; j < d; j++) mu[j] = (mu[j] as number) / m;
  for (const i of train) {
    const row = X[i] as Float32Array;
    for (let j = 0; j < d; j++) {
      const v = (row[j] as number) - (mu[j] as number);
      sd[j] = (sd[j] as number) + v * v;
    }
  }
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt((sd[j] as number) / m);
    // stored as the inverse; constant features (up to rounding of the mean) vanish
    sd[j] = s > Math.max(1e-12, 1e-9 * Math.abs(mu[j] as number)) ? 1 / s : 0;
  }
  const standardize = (rows: number[]): Float64Array => {
    const out = new Float64Array(rows.length * d);
    for (let r = 0; r < rows.length; r++) {
      const row = X[rows[r] as number] as Float32Array;
      const off = r * d;
      for (let j = 0; j < d; j++) out[off + j] = ((row[j] as number) - (mu[j] as number)) * (sd[j] as number);
    }
    return out;
  };
  const Ztr = standardize(train);

  // Gram matrix of the training fold and its eigendecomposition: Ztr = U S V^T.
  const gramValues = new Float64Array(m * m);
  multiplyABt(Ztr, m, d, Ztr, m, gramValues);
  const gram = Matrix.from1DArray(m, m, gramValues);
  const evd = new EigenvalueDecomposition(gram, { assumeSymmetric: true });
  const lambdas = evd.realEigenvalues;
  const vecs = evd.eigenvectorMatrix;
  const lmax = Math.max(0, ...lambdas);
  const keep: number[] = [];
  for (let k = 0; k < lambdas.length; k++) if ((lambdas[k] as number) > lmax * 1e-10 && (lambdas[k] as number) > 0) keep.push(k);
  const r = keep.length;

  // Training features F = U S = Ztr V (m x r); a weight vector theta_c on them is
  // w_c = V theta_c = Ztr^T U S^-1 theta_c on the standardized features.
  const F = new Float64Array(m * r);
  const U = new Float64Array(r * m); // kept eigenvectors, one per row
  const lam = new Float64Array(r);
  for (let q = 0; q < r; q++) {
    const k = keep[q] as number;
    const s = Math.sqrt(lambdas[k] as number);
    lam[q] = lambdas[k] as number;
    for (let a = 0; a < m; a++) {
      const u = vecs.get(a, k);
      U[q * m + a] = u;
      F[a * r + q] = u * s;
    }
  }

  // Parameters: weights W^T (C x r, one row per class) and intercepts b (C), packed as
  // theta = [W^T row-major, b]. The first inverse-Hessian guess is Böhning's bound
  // (0.5 * feature variance + l2 per direction; 0.5 for an intercept): a guaranteed descent.
  const P = C * r + C;
  const bOff = C * r;
  const bound = new Float64Array(P);
  for (let c = 0; c < C; c++) {
    for (let q = 0; q < r; q++) bound[c * r + q] = 1 / ((0.5 * (lam[q] as number)) / m + l2);
  }
  for (let c = 0; c < C; c++) bound[bOff + c] = 2;

  const ytr = new Int32Array(m);
  for (let a = 0; a < m; a++) ytr[a] = enc.y[train[a] as number] as number;
  // F and its elementwise square, transposed (r x m), for the gradient and the Hessian diagonal
  const FT = new Float64Array(r * m);
  const F2T = new Float64Array(r * m);
  for (let a = 0; a < m; a++) {
    for (let q = 0; q < r; q++) {
      const v = F[a * r + q] as number;
      FT[q * m + a] = v;
      F2T[q * m + a] = v * v;
    }
  }
  const resid = new Float64Array(m * C);
  const weights = new Float64Array(m * C);
  const scratch = new Float64Array(C * m);
  const { theta, iterations } = minimizeLbfgs(
    P,
    (th, g) => softmaxObjective(F, FT, ytr, m, r, C, l2, th, g, resid, scratch),
    bound,
    // Inverse of the exact Hessian diagonal at the point just evaluated (resid holds its
    // (p - y) / m): sum_a p_ac (1 - p_ac) F_aq^2 / m + l2, and sum_a p_ac (1 - p_ac) / m for
    // the intercepts. The features being orthogonal, the diagonal carries most of the curvature.
    (h) => {
      for (let a = 0; a < m; a++) {
        for (let c = 0; c < C; c++) {
          const pr = (resid[a * C + c] as number) * m + (ytr[a] === c ? 1 : 0);
          weights[a * C + c] = (pr * (1 - pr)) / m;
        }
      }
      h.fill(l2, 0, bOff);
      accumulateClassGradient(weights, F2T, m, r, C, h, scratch);
      for (let c = 0; c < C; c++) {
        let wb = 0;
        for (let a = 0; a < m; a++) wb += weights[a * C + c] as number;
        h[bOff + c] = Math.max(wb, 1e-8);
      }
      for (let p = 0; p < P; p++) h[p] = 1 / (h[p] as number);
    },
    epochs,
    tolerance,
  );

  // Back to the standardized features: A = theta_W S^-1 U (C x m), W = A Ztr (C x d).
  const A = new Float64Array(C * m);
  for (let c = 0; c < C; c++) {
    for (let q = 0; q < r; q++) {
      const v = (theta[c * r + q] as number) / Math.sqrt(lam[q] as number);
      if (v === 0) continue;
      for (let a = 0; a < m; a++) A[c * m + a] = (A[c * m + a] as number) + v * (U[q * m + a] as number);
    }
  }
  const W = new Float64Array(C * d);
  for (let c = 0; c < C; c++) {
    for (let a = 0; a < m; a++) {
      const v = A[c * m + a] as number;
      if (v === 0) continue;
      const zo = a * d;
      const wo = c * d;
      for (let j = 0; j < d; j++) W[wo + j] = (W[wo + j] as number) + v * (Ztr[zo + j] as number);
    }
  }
  // Adding one vector to every class's weights, or one number to every intercept, leaves the
  // probabilities unchanged. The optimum has both centred over the classes (the penalty makes
  // it so for the weights); the per-class diagonal of the L-BFGS start does not keep a partly
  // converged point centred, so centre it: same predictions, a lower (or equal) objective.
  const b = theta.slice(bOff);
  centreOverClasses(W, C, d);
  centreOverClasses(b, C, 1);
  return { mu, invSd: sd, W, b, iterations };
}

/** Subtracts from v[c * width + j] the mean over the classes c, for every j < width. */
function centreOverClasses(v: Float64Array, C: number, width: number): void {
  for (let j = 0; j < width; j++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += v[c * width + j] as number;
    const mean = s / C;
    for (let c = 0; c < C; c++) v[c * width + j] = (v[c * width + j] as number) - mean;
  }
}

/** sum_{q < len} a[ao + q] * b[bo + q] */
function dotAt(a: Float64Array, ao: number, b: Float64Array, bo: number, len: number): number {
  let s = 0;
  for (let q = 0; q < len; q++) s += (a[ao + q] as number) * (b[bo + q] as number);
  return s;
}

/**
 * Objective mean cross-entropy + l2/2 ||W||^2 at theta = [W^T (C x r), b]; its gradient goes
 * into grad. F is m x r (row-major) and FT its transpose; resid (m x C) receives (p - y) / m;
 * scratch holds C x m values.
 */
function softmaxObjective(
  F: Float64Array,
  FT: Float64Array,
  y: Int32Array,
  m: number,
  r: number,
  C: number,
  l2: number,
  theta: Float64Array,
  grad: Float64Array,
  resid: Float64Array,
  scratch: Float64Array,
): number {
  const bOff = C * r;
  let loss = 0;
  // resid = (softmax(F W + b) - onehot(y)) / m
  multiplyABt(F, m, r, theta, C, resid);
  for (let a = 0; a < m; a++) {
    const ro = a * C;
    let mx = -Infinity;
    for (let c = 0; c < C; c++) {
      const v = (resid[ro + c] as number) + (theta[bOff + c] as number);
      resid[ro + c] = v;
      if (v > mx) mx = v;
    }
    let z = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp((resid[ro + c] as number) - mx);
      resid[ro + c] = e;
      z += e;
    }
    const yi = y[a] as number;
    loss += Math.log(z) - Math.log(resid[ro + yi] as number); // -log softmax_yi
    for (let c = 0; c < C; c++) resid[ro + c] = ((resid[ro + c] as number) / z - (c === yi ? 1 : 0)) / m;
  }
  let penalty = 0;
  for (let p = 0; p < bOff; p++) penalty += (theta[p] as number) * (theta[p] as number);
  // grad W^T[c, :] = l2 W^T[c, :] + sum_a resid[a, c] F[a, :];  grad b[c] = sum_a resid[a, c]
  for (let p = 0; p < bOff; p++) grad[p] = l2 * (theta[p] as number);
  for (let c = 0; c < C; c++) grad[bOff + c] = 0;
  for (let a = 0; a < m; a++) {
    for (let c = 0; c < C; c++) grad[bOff + c] = (grad[bOff + c] as number) + (resid[a * C + c] as number);
  }
  accumulateClassGradient(resid, FT, m, r, C, grad, scratch);
  return loss / m + 0.5 * l2 * penalty;
}

/**
 * out[i nb + j] = sum_k A[i len + k] * B[j len + k] for i < na, j < nb: the product A B^T of two
 * row-major matrices with rows of length len. Four rows of A share each load of B, which gives
 * four independent accumulators (about twice as fast in V8 as one dot product at a time).
 */
function multiplyABt(A: Float64Array, na: number, len: number, B: Float64Array, nb: number, out: Float64Array): void {
  let i = 0;
  for (; i + 3 < na; i += 4) {
    const a0 = i * len;
    const a1 = a0 + len;
    const a2 = a1 + len;
    const a3 = a2 + len;
    for (let j = 0; j < nb; j++) {
      const bo = j * len;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < len; k++) {
        const w = B[bo + k] as number;
        s0 += (A[a0 + k] as number) * w;
        s1 += (A[a1 + k] as number) * w;
        s2 += (A[a2 + k] as number) * w;
        s3 += (A[a3 + k] as number) * w;
      }
      out[i * nb + j] = s0;
      out[(i + 1) * nb + j] = s1;
      out[(i + 2) * nb + j] = s2;
      out[(i + 3) * nb + j] = s3;
    }
  }
  for (; i < na; i++) {
    for (let j = 0; j < nb; j++) out[i * nb + j] = dotAt(A, i * len, B, j * len, len);
  }
}

/**
 * grad[c r + q] += sum_a R[a C + c] * FT[q m + a] for every class c < C and direction q < r,
 * with FT the transpose of F (r x m). R is first transposed into RT (C x m scratch) so that both
 * operands are read contiguously; four rows of FT share each load of RT.
 */
function accumulateClassGradient(
  R: Float64Array,
  FT: Float64Array,
  m: number,
  r: number,
  C: number,
  grad: Float64Array,
  RT: Float64Array,
): void {
  for (let a = 0; a < m; a++) {
    for (let c = 0; c < C; c++) RT[c * m + a] = R[a * C + c] as number;
  }
  let q = 0;
  for (; q + 3 < r; q += 4) {
    const f0 = q * m;
    const f1 = f0 + m;
    const f2 = f1 + m;
    const f3 = f2 + m;
    for (let c = 0; c < C; c++) {
      const ro = c * m;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let a = 0; a < m; a++) {
        const v = RT[ro + a] as number;
        s0 += (FT[f0 + a] as number) * v;
        s1 += (FT[f1 + a] as number) * v;
        s2 += (FT[f2 + a] as number) * v;
        s3 += (FT[f3 + a] as number) * v;
      }
      const go = c * r + q;
      grad[go] = (grad[go] as number) + s0;
      grad[go + 1] = (grad[go + 1] as number) + s1;
      grad[go + 2] = (grad[go + 2] as number) + s2;
      grad[go + 3] = (grad[go + 3] as number) + s3;
    }
  }
  for (; q < r; q++) {
    for (let c = 0; c < C; c++) {
      const go = c * r + q;
      grad[go] = (grad[go] as number) + dotAt(FT, q * m, RT, c * m, m);
    }
  }
}

/**
 * Limited-memory BFGS (two-loop recursion, 10 curvature pairs) from theta = 0, with a
 * backtracking Armijo line search that starts at step 1. The initial inverse Hessian of the
 * recursion is diagonal: `bound` (the inverse of an upper bound of the Hessian, so a step along
 * -bound * grad always descends) for the first iteration and as the fallback when the
 * recursion fails to give a descent direction; afterwards whatever `curvature` writes (it is
 * called right after the objective was evaluated at each accepted point). Stops after
 * `maxIter` iterations, when max |gradient| <= `tolerance`, or when the objective stops
 * decreasing. Uses no randomness: the same input always gives the same output.
 */
function minimizeLbfgs(
  P: number,
  fg: (theta: Float64Array, grad: Float64Array) => number,
  bound: Float64Array,
  curvature: (h0: Float64Array) => void,
  maxIter: number,
  tolerance: number,
): { theta: Float64Array; iterations: number } {
  const memory = 10;
  const h0 = Float64Array.from(bound);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(memory);
  let theta = new Float64Array(P);
  let grad = new Float64Array(P);
  let f = fg(theta, grad);
  let trial = new Float64Array(P);
  let trialGrad = new Float64Array(P);
  const dir = new Float64Array(P);
  const vdot = (a: Float64Array, b: Float64Array): number => dotAt(a, 0, b, 0, P);
  let it = 0;
  for (; it < maxIter; it++) {
    // dir = -H grad by the two-loop recursion
    for (let p = 0; p < P; p++) dir[p] = -(grad[p] as number);
    for (let k = S.length - 1; k >= 0; k--) {
      const a = (rho[k] as number) * vdot(S[k] as Float64Array, dir);
      alpha[k] = a;
      const yk = Y[k] as Float64Array;
      for (let p = 0; p < P; p++) dir[p] = (dir[p] as number) - a * (yk[p] as number);
    }
    for (let p = 0; p < P; p++) dir[p] = (dir[p] as number) * (h0[p] as number);
    for (let k = 0; k < S.length; k++) {
      const b = (rho[k] as number) * vdot(Y[k] as Float64Array, dir);
      const sk = S[k] as Float64Array;
      const a = alpha[k] as number;
      for (let p = 0; p < P; p++) dir[p] = (dir[p] as number) + (a - b) * (sk[p] as number);
    }
    let slope = vdot(grad, dir);
    if (!(slope < 0)) {
      // not a descent direction: forget the curvature pairs, step along -bound * grad
      S.length = 0;
      Y.length = 0;
      rho.length = 0;
      for (let p = 0; p < P; p++) dir[p] = -(bound[p] as number) * (grad[p] as number);
      slope = vdot(grad, dir);
      if (!(slope < 0)) break; // zero gradient: at the optimum
    }
    let step = 1;
    let fNew = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let p = 0; p < P; p++) trial[p] = (theta[p] as number) + step * (dir[p] as number);
      fNew = fg(trial, trialGrad);
      if (fNew <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fNew <= f)) break; // no decrease left at floating-point resolution
    // curvature pair s = trial - theta, y = trialGrad - grad (kept when s.y > 0)
    const s = S.length === memory ? (S.shift() as Float64Array) : new Float64Array(P);
    const y = Y.length === memory ? (Y.shift() as Float64Array) : new Float64Array(P);
    if (rho.length === memory) rho.shift();
    for (let p = 0; p < P; p++) {
      s[p] = (trial[p] as number) - (theta[p] as number);
      y[p] = (trialGrad[p] as number) - (grad[p] as number);
    }
    const sy = vdot(s, y);
    if (sy > 1e-12 * Math.sqrt(vdot(s, s) * vdot(y, y))) {
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    curvature(h0);
    let gmax = 0;
    for (let p = 0; p < P; p++) gmax = Math.max(gmax, Math.abs(trialGrad[p] as number));
    const done = gmax <= tolerance || f - fNew <= 1e-15 * Math.max(1, Math.abs(f));
    [theta, trial] = [trial, theta];
    [grad, trialGrad] = [trialGrad, grad];
    f = fNew;
    if (done) {
      it++;
      break;
    }
  }
  return { theta, iterations: it };
}

// ---------------------------------------------------------------------------------------------
// Cluster quality
// ---------------------------------------------------------------------------------------------

/**
 * Mean silhouette coefficient of the samples grouped by label: for each sample,
 * s = (b - a) / max(a, b) with a the mean distance to the other members of its class and b the
 * smallest mean distance to the members of another class; s = 0 for a sample alone in its
 * class (scikit-learn's convention). In [-1, 1]; higher means tighter, better separated classes.
 * Cosine distance is 1 - cos (a zero vector is at distance 1 from everything).
 *
 * @throws EmosteerError INVALID_ARGUMENT for ragged or non-finite rows, mismatched labels, or fewer than two classes
 */
export function silhouette(X: Float32Array[], labels: ArrayLike<number>, metric: Metric = 'cosine'): number {
  checkMetric(metric);
  checkRows(X, 'X', 2);
  const enc = encodeLabels(labels, X.length);
  const C = enc.classes.length;
  if (C < 2) throw invalid('silhouette needs at least two classes');
  const n = X.length;
  const norms = X.map((row) => norm(row));
  const dist = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v =
        metric === 'cosine'
          ? cosineDistance(X[i] as Float32Array, X[j] as Float32Array, norms[i], norms[j])
          : euclideanDistance(X[i] as Float32Array, X[j] as Float32Array);
      dist[i * n + j] = v;
      dist[j * n + i] = v;
    }
  }
  const sums = new Float64Array(C);
  let total = 0;
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      const c = enc.y[j] as number;
      sums[c] = (sums[c] as number) + (dist[i * n + j] as number);
    }
    const own = enc.y[i] as number;
    const ownCount = enc.counts[own] as number;
    if (ownCount < 2) continue; // s = 0
    const a = (sums[own] as number) / (ownCount - 1);
    let b = Infinity;
    for (let c = 0; c < C; c++) {
      if (c === own) continue;
      const v = (sums[c] as number) / (enc.counts[c] as number);
      if (v < b) b = v;
    }
    const den = Math.max(a, b);
    total += den === 0 ? 0 : (b - a) / den;
  }
  return total / n;
}

/**
 * Fisher ratio trace(S_between) / trace(S_within), with
 * S_between = sum_c n_c (mu_c - mu)(mu_c - mu)^T and S_within = sum_i (x_i - mu_c(i))(x_i - mu_c(i))^T.
 * Only the traces are computed (sums of squared distances), never the d x d matrices.
 * Infinity when every class is a single point but the class means differ; NaN when all samples are equal.
 *
 * @throws EmosteerError INVALID_ARGUMENT for ragged or non-finite rows or mismatched labels
 */
export function fisherRatio(X: Float32Array[], labels: ArrayLike<number>): number {
  const d = checkRows(X, 'X', 1);
  const enc = encodeLabels(labels, X.length);
  const C = enc.classes.length;
  const n = X.length;
  const means = new Float64Array(C * d);
  const grand = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const row = X[i] as Float32Array;
    const off = (enc.y[i] as number) * d;
    for (let j = 0; j < d; j++) {
      means[off + j] = (means[off + j] as number) + (row[j] as number);
      grand[j] = (grand[j] as number) + (row[j] as number);
    }
  }
  for (let j = 0; j < d; j++) grand[j] = (grand[j] as number) / n;
  let between = 0;
  for (let c = 0; c < C; c++) {
    const cnt = enc.counts[c] as number;
    const off = c * d;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const v = (means[off + j] as number) / cnt;
      means[off + j] = v;
      s += (v - (grand[j] as number)) ** 2;
    }
    between += cnt * s;
  }
  let within = 0;
  for (let i = 0; i < n; i++) {
    const row = X[i] as Float32Array;
    const off = (enc.y[i] as number) * d;
    for (let j = 0; j < d; j++) within += ((row[j] as number) - (means[off + j] as number)) ** 2;
  }
  return between / within;
}

// ---------------------------------------------------------------------------------------------
// Maps, clustering and representational similarity
// ---------------------------------------------------------------------------------------------

/** Result of {@link pca2}. */
export interface Pca2Result {
  /** Each vector's coordinates on the first two principal components. */
  coords: [number, number][];
  /** Fraction of the total variance explained by each component, largest first (sums to 1; all 0 when the vectors are identical). */
  explained: number[];
}

/**
 * Principal component analysis of the (centred, unscaled) vectors with ml-pca, projected on the
 * first two components. Each component's sign is fixed so that the coordinate of largest
 * magnitude is positive, which makes the map reproducible. With two vectors the second
 * coordinate is 0.
 *
 * @throws EmosteerError INVALID_ARGUMENT for fewer than two vectors, ragged or non-finite rows
 */
export function pca2(vectors: Float32Array[]): Pca2Result {
  checkRows(vectors, 'vectors', 2);
  const n = vectors.length;
  const data = vectors.map((v) => Array.from(v));
  const pca = new PCA(data, { center: true, scale: false });
  const rawExplained = pca.getExplainedVariance();
  const explained = rawExplained.map((v) => (Number.isFinite(v) ? v : 0));
  const nComp = Math.min(2, rawExplained.length);
  const proj = pca.predict(data, { nComponents: nComp });
  const coords: [number, number][] = [];
  for (let i = 0; i < n; i++) coords.push([proj.get(i, 0), nComp > 1 ? proj.get(i, 1) : 0]);
  for (const c of [0, 1] as const) {
    let big = 0;
    for (const p of coords) if (Math.abs(p[c]) > Math.abs(big)) big = p[c];
    if (big < 0) for (const p of coords) p[c] = -p[c];
    for (const p of coords) if (p[c] === 0) p[c] = 0; // no -0
  }
  return { coords, explained };
}

/** One merge step of a hierarchical clustering: two clusters (by member names) and their distance. */
export interface Merge {
  a: string[];
  b: string[];
  distance: number;
}

/**
 * Average-linkage (UPGMA) agglomerative clustering of the vectors under cosine distance
 * (ml-hclust), as the list of merges in the order they happen (non-decreasing distance). The
 * distance of a merge is the mean cosine distance between the members of the two clusters.
 * Member names within a cluster are listed in input order, and `a` is the cluster holding the
 * earlier input.
 *
 * @param names one name per vector
 * @throws EmosteerError INVALID_ARGUMENT for no vectors, ragged or non-finite rows, or a names length mismatch
 */
export function averageLinkage(vectors: Float32Array[], names: string[]): Merge[] {
  checkRows(vectors, 'vectors', 1);
  if (!Array.isArray(names) || names.length !== vectors.length) {
    throw invalid(`names must have one entry per vector (${vectors.length}), got ${Array.isArray(names) ? names.length : typeof names}`);
  }
  const n = vectors.length;
  if (n === 1) return [];
  const norms = vectors.map((v) => norm(v));
  const dm: number[][] = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      const v = cosineDistance(vectors[i] as Float32Array, vectors[j] as Float32Array, norms[i], norms[j]);
      (dm[i] as number[])[j] = v;
      (dm[j] as number[])[i] = v;
    }
  }
  const root = agnes(dm, { method: 'average', isDistanceMatrix: true });
  const internal: { node: Cluster; order: number }[] = [];
  // Post-order: children are listed before their parent, which breaks ties in height correctly.
  const visit = (node: Cluster): void => {
    if (node.isLeaf) return;
    for (const child of node.children) visit(child);
    internal.push({ node, order: internal.length });
  };
  visit(root);
  internal.sort((p, q) => p.node.height - q.node.height || p.order - q.order);
  const members = (node: Cluster): number[] => [...node.indices()].sort((a, b) => a - b);
  return internal.map(({ node }) => {
    let a = members(node.children[0] as Cluster);
    let b = members(node.children[1] as Cluster);
    if ((b[0] as number) < (a[0] as number)) [a, b] = [b, a];
    return { a: a.map((i) => names[i] as string), b: b.map((i) => names[i] as string), distance: node.height };
  });
}

/**
 * Representational dissimilarity matrix: 1 - cosine for every pair i < j, as the condensed
 * upper triangle in row order ((0,1), (0,2), ..., (0,n-1), (1,2), ...), length n (n - 1) / 2.
 *
 * @throws EmosteerError INVALID_ARGUMENT for fewer than two vectors, ragged or non-finite rows
 */
export function rdm(vectors: Float32Array[]): Float64Array {
  checkRows(vectors, 'vectors', 2);
  const n = vectors.length;
  const norms = vectors.map((v) => norm(v));
  const out = new Float64Array((n * (n - 1)) / 2);
  let k = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = vectors[i] as Float32Array;
      const b = vectors[j] as Float32Array;
      const na = norms[i] as number;
      const nb = norms[j] as number;
      out[k++] = na === 0 || nb === 0 ? 1 : 1 - dot(a, b) / (na * nb);
    }
  }
  return out;
}

/**
 * Representational similarity analysis: the Spearman correlation between the RDMs
 * ({@link rdm}) of two sets of vectors describing the same items in the same order (the
 * widths of the two sets may differ). 1 for sets with the same geometry; NaN when one RDM is constant.
 *
 * @throws EmosteerError INVALID_ARGUMENT for sets of different sizes or fewer than three items
 */
export function rsaSpearman(v1: Float32Array[], v2: Float32Array[]): number {
  checkRows(v1, 'v1', 3);
  checkRows(v2, 'v2', 3);
  if (v1.length !== v2.length) throw invalid(`v1 and v2 must describe the same items: ${v1.length} vs ${v2.length} vectors`);
  return spearman(rdm(v1), rdm(v2));
}
