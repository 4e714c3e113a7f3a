/**
 * The distances the classifiers and geometry measures of lib/evaluate/ compare samples with:
 * cosine distance (1 - cos) and Euclidean distance.
 */
import { dot, norm } from '../util/vec.js';
import { invalid } from './samples.js';

/** Distance used to compare a sample with a centroid or another sample. */
export type Metric = 'cosine' | 'euclidean';

/**
 * Asserts that `metric` is a {@link Metric}.
 * @throws EmosteerError INVALID_ARGUMENT for anything else
 */
export function checkMetric(metric: unknown): asserts metric is Metric {
  if (metric !== 'cosine' && metric !== 'euclidean') throw invalid(`metric must be 'cosine' or 'euclidean', got ${String(metric)}`);
}

/**
 * Cosine distance 1 - cos, clamped to [0, 2]; a zero vector is at distance 1 from everything.
 * @param na the norm of `a`, when already known
 * @param nb the norm of `b`, when already known
 */
export function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>, na = norm(a), nb = norm(b)): number {
  if (na === 0 || nb === 0) return 1;
  const c = dot(a, b) / (na * nb);
  return Math.min(2, Math.max(0, 1 - c));
}

/** Euclidean distance |a - b|. */
export function euclideanDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) {
    const t = (a[j] as number) - (b[j] as number);
    s += t * t;
  }
  return Math.sqrt(s);
}
