/**
 * How well labelled samples form clusters: the mean silhouette coefficient and the Fisher
 * ratio (between-class over within-class scatter).
 */
import { norm } from '../util/vec.js';
import { checkMetric, cosineDistance, euclideanDistance, type Metric } from './distance.js';
import { checkRows, encodeLabels, invalid } from './samples.js';

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
