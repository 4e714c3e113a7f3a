/**
 * Pure statistics used by the evaluation: descriptive statistics, rank correlations, effect
 * sizes, the Mann-Whitney U test, (stratified) percentile bootstrap intervals and chance-corrected
 * agreement between raters (Cohen's and Fleiss' kappa).
 *
 * Everything here is deterministic: the bootstrap draws from {@link seededRandom}, never from
 * `Math.random`.
 */
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import stdlibMean from '@stdlib/stats-base-mean';
import stdlibStdev from '@stdlib/stats-base-stdev';
import stdlibVariance from '@stdlib/stats-base-variance';
import stdlibRanks from '@stdlib/stats-ranks';
import { EmosteerError } from '../errors.js';

// ---------------------------------------------------------------------------------------------
// Input checks
// ---------------------------------------------------------------------------------------------

function checkSample(x: ArrayLike<number>, name: string, minLength = 1): void {
  if (x == null || typeof x.length !== 'number') {
    throw new EmosteerError('INVALID_ARGUMENT', `${name} must be an array of numbers`);
  }
  if (x.length < minLength) {
    throw new EmosteerError(
      'INVALID_ARGUMENT',
      `${name} needs at least ${minLength} value${minLength === 1 ? '' : 's'}, got ${x.length}`,
    );
  }
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new EmosteerError('INVALID_ARGUMENT', `${name}[${i}] is ${String(v)}; every value must be a finite number`);
    }
  }
}

function checkPaired(x: ArrayLike<number>, y: ArrayLike<number>): void {
  checkSample(x, 'x', 2);
  checkSample(y, 'y', 2);
  if (x.length !== y.length) {
    throw new EmosteerError('INVALID_ARGUMENT', `x and y must have the same length, got ${x.length} and ${y.length}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Descriptive statistics
// ---------------------------------------------------------------------------------------------

/**
 * Arithmetic mean (stdlib's two-pass error-corrected sum).
 * @throws EmosteerError INVALID_ARGUMENT for an empty sample or a non-finite value
 */
export function mean(x: ArrayLike<number>): number {
  checkSample(x, 'x');
  return stdlibMean.ndarray(x.length, x as unknown as number[], 1, 0);
}

/**
 * Sample variance with n - 1 in the denominator (Bessel's correction).
 * @throws EmosteerError INVALID_ARGUMENT with fewer than two values or a non-finite value
 */
export function variance(x: ArrayLike<number>): number {
  checkSample(x, 'x', 2);
  return stdlibVariance.ndarray(x.length, 1, x as unknown as number[], 1, 0);
}

/**
 * Sample standard deviation, sqrt of {@link variance} (n - 1 weighting).
 * @throws EmosteerError INVALID_ARGUMENT with fewer than two values or a non-finite value
 */
export function std(x: ArrayLike<number>): number {
  checkSample(x, 'x', 2);
  return stdlibStdev.ndarray(x.length, 1, x as unknown as number[], 1, 0);
}

/**
 * Empirical quantile with linear interpolation between order statistics (numpy's default,
 * R's type 7): position h = (n - 1) q in the sorted sample, value interpolated between
 * floor(h) and ceil(h). The input need not be sorted and is not modified.
 *
 * @param x sample (sorted or not)
 * @param q probability in [0, 1]
 * @throws EmosteerError INVALID_ARGUMENT for an empty sample, a non-finite value or q outside [0, 1]
 */
export function quantile(x: ArrayLike<number>, q: number): number {
  checkSample(x, 'x');
  if (typeof q !== 'number' || !(q >= 0 && q <= 1)) {
    throw new EmosteerError('INVALID_ARGUMENT', `quantile q must be in [0, 1], got ${String(q)}`);
  }
  const sorted = Float64Array.from(x).sort();
  return quantileOfSorted(sorted, q);
}

/** Type-7 quantile of an ascending, non-empty array (no checks). */
function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  const frac = h - lo;
  const a = sorted[lo] as number;
  const b = sorted[hi] as number;
  return frac === 0 ? a : a + frac * (b - a);
}

// ---------------------------------------------------------------------------------------------
// Ranks and correlation
// ---------------------------------------------------------------------------------------------

/**
 * 1-based ranks; tied values share the average of the ranks they span
 * (e.g. `[10, 20, 20, 30]` -> `[1, 2.5, 2.5, 4]`).
 * @throws EmosteerError INVALID_ARGUMENT for an empty sample or a non-finite value
 */
export function ranks(x: ArrayLike<number>): number[] {
  checkSample(x, 'x');
  return stdlibRanks(Array.from(x), { method: 'average' });
}

/**
 * Pearson product-moment correlation. Returns NaN when either sample is constant (the
 * correlation is undefined there).
 * @throws EmosteerError INVALID_ARGUMENT for samples of different lengths, fewer than two pairs or non-finite values
 */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPaired(x, y);
  return pearsonUnchecked(x, y);
}

function pearsonUnchecked(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] as number;
    my += y[i] as number;
  }
  mx /= n;
  my /= n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (x[i] as number) - mx;
    const dy = (y[i] as number) - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/**
 * Spearman rank correlation: Pearson correlation of the average ranks (ties handled the
 * same way as scipy.stats.spearmanr). Returns NaN when either sample is constant.
 * @throws EmosteerError INVALID_ARGUMENT for samples of different lengths, fewer than two pairs or non-finite values
 */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPaired(x, y);
  return pearsonUnchecked(ranks(x), ranks(y));
}

// ---------------------------------------------------------------------------------------------
// Effect sizes
// ---------------------------------------------------------------------------------------------

/**
 * Cohen's d: (mean(x) - mean(y)) / pooled standard deviation, where the pooled variance is
 * ((n1 - 1) s1^2 + (n2 - 1) s2^2) / (n1 + n2 - 2) (sample variances, n - 1 weighting).
 * Returns +-Infinity when both samples are constant but differ, NaN when all values are equal.
 * @throws EmosteerError INVALID_ARGUMENT for an empty sample, n1 + n2 < 3 or a non-finite value
 */
export function cohensD(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkSample(x, 'x');
  checkSample(y, 'y');
  const n1 = x.length;
  const n2 = y.length;
  if (n1 + n2 < 3) {
    throw new EmosteerError('INVALID_ARGUMENT', 'cohensD needs at least three values in total for a pooled standard deviation');
  }
  const m1 = stdlibMean.ndarray(n1, x as unknown as number[], 1, 0);
  const m2 = stdlibMean.ndarray(n2, y as unknown as number[], 1, 0);
  let ss = 0;
  for (let i = 0; i < n1; i++) ss += ((x[i] as number) - m1) ** 2;
  for (let i = 0; i < n2; i++) ss += ((y[i] as number) - m2) ** 2;
  const pooled = Math.sqrt(ss / (n1 + n2 - 2));
  return (m1 - m2) / pooled;
}

/**
 * Cliff's delta: P(X > Y) - P(X < Y) over all n1 * n2 pairs, in [-1, 1].
 * @throws EmosteerError INVALID_ARGUMENT for an empty sample or a non-finite value
 */
export function cliffsDelta(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkSample(x, 'x');
  checkSample(y, 'y');
  const ys = Float64Array.from(y).sort();
  let more = 0;
  let less = 0;
  for (let i = 0; i < x.length; i++) {
    const v = x[i] as number;
    const below = lowerBound(ys, v); // count of y < v
    const atOrBelow = upperBound(ys, v); // count of y <= v
    more += below;
    less += ys.length - atOrBelow;
  }
  return (more - less) / (x.length * ys.length);
}

/** First index with sorted[i] >= v. */
function lowerBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index with sorted[i] > v. */
function upperBound(sorted: Float64Array, v: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// ---------------------------------------------------------------------------------------------
// Mann-Whitney U
// ---------------------------------------------------------------------------------------------

/** Options of {@link mannWhitneyU}. */
export interface MannWhitneyOptions {
  /**
   * Alternative hypothesis about x relative to y: 'greater' means x tends to be larger
   * (large U of x), 'less' that it tends to be smaller. Default 'two-sided'.
   */
  alternative?: 'two-sided' | 'less' | 'greater';
  /**
   * 'exact': exact null distribution of U (no ties allowed, n1 * n2 <= {@link MWU_EXACT_MAX_CELLS}
   * and C(n1 + n2, n1) below 1.8e308, i.e. n1 + n2 up to about 1000);
   * 'normal': normal approximation with tie and continuity correction;
   * 'auto' (default): exact when there are no ties and both samples have at most
   * {@link MWU_AUTO_EXACT_MAX_N} values, normal otherwise.
   */
  method?: 'auto' | 'exact' | 'normal';
}

/** Result of {@link mannWhitneyU}. */
export interface MannWhitneyResult {
  /** U statistic of x: the number of pairs (xi, yj) with xi > yj, ties counting one half. */
  u: number;
  /** p-value for the chosen alternative. */
  p: number;
  /** Whether p comes from the exact null distribution. */
  exact: boolean;
  /**
   * Normal approximation only: the continuity-corrected standard score of U of x
   * ((U - n1 n2 / 2 -+ 0.5) / sigma, corrected towards the tail tested; towards zero for two-sided).
   */
  z?: number;
}

/** With method 'auto', the exact distribution is used when both samples have at most this many values (and no ties). */
export const MWU_AUTO_EXACT_MAX_N = 20;

/** Largest n1 * n2 for which method 'exact' is accepted (the distribution has n1 * n2 + 1 points). */
export const MWU_EXACT_MAX_CELLS = 1_000_000;

/**
 * Mann-Whitney U test (Wilcoxon rank-sum) of two independent samples.
 *
 * U of x = R1 - n1 (n1 + 1) / 2 with R1 the sum of the average ranks of x in the pooled
 * sample. The exact p-value counts the arrangements of ranks under H0 (coefficients of the
 * Gaussian binomial polynomial, computed by dynamic programming); the normal approximation
 * uses mean n1 n2 / 2, the tie-corrected variance
 * n1 n2 / 12 * ((n + 1) - sum(t^3 - t) / (n (n - 1))) and a continuity correction of 0.5.
 * The two-sided p-value doubles the smaller tail, capped at 1 (matches
 * scipy.stats.mannwhitneyu with use_continuity=True). When every value is tied (variance 0)
 * the normal method returns p = 1 and z = 0.
 *
 * @throws EmosteerError INVALID_ARGUMENT for an empty sample, a non-finite value, an unknown
 *   option, or method 'exact' with ties or with n1 * n2 > {@link MWU_EXACT_MAX_CELLS}
 */
export function mannWhitneyU(
  x: ArrayLike<number>,
  y: ArrayLike<number>,
  options: MannWhitneyOptions = {},
): MannWhitneyResult {
  checkSample(x, 'x');
  checkSample(y, 'y');
  const alternative = options.alternative ?? 'two-sided';
  const method = options.method ?? 'auto';
  if (alternative !== 'two-sided' && alternative !== 'less' && alternative !== 'greater') {
    throw new EmosteerError('INVALID_ARGUMENT', `alternative must be 'two-sided', 'less' or 'greater', got ${String(alternative)}`);
  }
  if (method !== 'auto' && method !== 'exact' && method !== 'normal') {
    throw new EmosteerError('INVALID_ARGUMENT', `method must be 'auto', 'exact' or 'normal', got ${String(method)}`);
  }
  const n1 = x.length;
  const n2 = y.length;
  const n = n1 + n2;
  const pooled = new Array<number>(n);
  for (let i = 0; i < n1; i++) pooled[i] = x[i] as number;
  for (let j = 0; j < n2; j++) pooled[n1 + j] = y[j] as number;
  const r = stdlibRanks(pooled, { method: 'average' });
  let r1 = 0;
  for (let i = 0; i < n1; i++) r1 += r[i] as number;
  const u = r1 - (n1 * (n1 + 1)) / 2;

  // Tie term sum(t^3 - t) over groups of equal values.
  const sorted = Float64Array.from(pooled).sort();
  let tieTerm = 0;
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && sorted[j] === sorted[i]) j++;
    const t = j - i;
    tieTerm += t * t * t - t;
    i = j;
  }
  const hasTies = tieTerm > 0;

  let useExact: boolean;
  if (method === 'exact') {
    if (hasTies) {
      throw new EmosteerError('INVALID_ARGUMENT', "method 'exact' needs samples without ties; use 'normal' or 'auto'");
    }
    if (n1 * n2 > MWU_EXACT_MAX_CELLS || !Number.isFinite(binomial(n, Math.min(n1, n2)))) {
      throw new EmosteerError(
        'INVALID_ARGUMENT',
        `method 'exact' is limited to n1 * n2 <= ${MWU_EXACT_MAX_CELLS} and C(n1 + n2, n1) within double range; use 'normal'`,
      );
    }
    useExact = true;
  } else if (method === 'normal') {
    useExact = false;
  } else {
    useExact = !hasTies && n1 <= MWU_AUTO_EXACT_MAX_N && n2 <= MWU_AUTO_EXACT_MAX_N;
  }

  if (useExact) {
    const uInt = Math.round(u); // no ties: U is an integer
    const lowerTail = () => exactLowerTail(n1, n2, uInt); // P(U <= u)
    const upperTail = () => exactLowerTail(n1, n2, n1 * n2 - uInt); // P(U >= u) by symmetry
    let p: number;
    if (alternative === 'less') p = lowerTail();
    else if (alternative === 'greater') p = upperTail();
    else p = 2 * Math.min(lowerTail(), upperTail());
    return { u, p: Math.min(1, p), exact: true };
  }

  const mu = (n1 * n2) / 2;
  const sigma2 = ((n1 * n2) / 12) * (n + 1 - (n > 1 ? tieTerm / (n * (n - 1)) : 0));
  if (!(sigma2 > 0)) return { u, p: 1, exact: false, z: 0 };
  const sigma = Math.sqrt(sigma2);
  const d = u - mu;
  let z: number;
  let p: number;
  if (alternative === 'greater') {
    z = (d - 0.5) / sigma;
    p = normalCdf(-z, 0, 1);
  } else if (alternative === 'less') {
    z = (d + 0.5) / sigma;
    p = normalCdf(z, 0, 1);
  } else {
    const a = Math.max(Math.abs(d) - 0.5, 0) / sigma;
    z = d < 0 ? -a : a;
    p = 2 * normalCdf(-a, 0, 1);
  }
  return { u, p: Math.min(1, p), exact: false, z };
}

/**
 * P(U <= u) under H0 for samples of sizes n1 and n2 without ties. The number of rank
 * arrangements giving U = k is the coefficient of q^k in the Gaussian binomial
 * [n1 + n2 choose n1]_q = prod_{i=1..n1} (1 - q^(n2+i)) / (1 - q^i), built one factor at a
 * time; each intermediate product is again a Gaussian binomial, so every coefficient is a
 * non-negative integer (exact in doubles while below 2^53). Only the coefficients up to
 * degree u are needed, since multiplying and dividing by (1 - q^k) never moves mass down.
 */
function exactLowerTail(n1: number, n2: number, u: number): number {
  if (u < 0) return 0;
  const maxU = n1 * n2;
  if (u >= maxU) return 1;
  const m = Math.min(n1, n2);
  const other = Math.max(n1, n2);
  const coef = new Float64Array(u + 1);
  coef[0] = 1;
  for (let i = 1; i <= m; i++) {
    // multiply by (1 - q^(other + i)): descending so each term reads the old value
    const k = other + i;
    for (let j = u; j >= k; j--) coef[j] = (coef[j] as number) - (coef[j - k] as number);
    // divide by (1 - q^i): c_j += c_{j-i}, ascending
    for (let j = i; j <= u; j++) coef[j] = (coef[j] as number) + (coef[j - i] as number);
  }
  let count = 0;
  for (let j = 0; j <= u; j++) count += coef[j] as number;
  return Math.min(1, count / binomial(n1 + n2, m));
}

/** C(n, k) in floating point (exact for the sizes where it is below 2^53). */
function binomial(n: number, k: number): number {
  let c = 1;
  for (let i = 1; i <= k; i++) {
    // c = C(n - k + i, i), an integer: round it while doubles hold integers exactly
    c = (c * (n - k + i)) / i;
    if (c < 2 ** 53) c = Math.round(c);
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Random numbers and bootstrap
// ---------------------------------------------------------------------------------------------

/**
 * A small deterministic pseudo-random generator (mulberry32: 32-bit state, a Weyl sequence
 * followed by an integer mix). The same seed always gives the same sequence on every platform.
 * Good enough for resampling and shuffling; not for cryptography.
 *
 * @param seed any number; it is reduced to 32 bits
 * @returns a function returning uniform numbers in [0, 1)
 */
export function seededRandom(seed: number): () => number {
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new EmosteerError('INVALID_ARGUMENT', `seed must be a finite number, got ${String(seed)}`);
  }
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of {@link bootstrapCI} and {@link stratifiedBootstrapCI}. */
export interface BootstrapOptions {
  /** Number of bootstrap resamples (default 1000). */
  resamples?: number;
  /** Seed of {@link seededRandom} (default 0). */
  seed?: number;
  /** Coverage of the percentile interval, in (0, 1) (default 0.95). */
  level?: number;
}

/** A statistic with its percentile bootstrap interval. */
export interface BootstrapResult {
  /** The statistic on the identity indices 0..n-1 (the observed sample). */
  value: number;
  /**
   * Percentile interval [quantile((1 - level) / 2), quantile((1 + level) / 2)] of the
   * resampled statistics (type-7 quantiles). Resamples whose statistic is not finite are
   * left out; [NaN, NaN] when none is finite. The name is kept for the 0.95 default.
   */
  ci95: [number, number];
}

function bootstrapSettings(options: BootstrapOptions): { resamples: number; seed: number; level: number } {
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 0;
  const level = options.level ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new EmosteerError('INVALID_ARGUMENT', `resamples must be a positive integer, got ${String(resamples)}`);
  }
  if (typeof level !== 'number' || !(level > 0 && level < 1)) {
    throw new EmosteerError('INVALID_ARGUMENT', `level must be in (0, 1), got ${String(level)}`);
  }
  return { resamples, seed, level };
}

function percentileInterval(values: number[], level: number): [number, number] {
  const finite = Float64Array.from(values.filter((v) => Number.isFinite(v))).sort();
  if (finite.length === 0) return [NaN, NaN];
  return [quantileOfSorted(finite, (1 - level) / 2), quantileOfSorted(finite, (1 + level) / 2)];
}

/**
 * Percentile bootstrap of a statistic of n observations. The statistic receives indices into
 * the caller's data: first the identity 0..n-1 (giving `value`), then `resamples` arrays of n
 * indices drawn uniformly with replacement from {@link seededRandom}(seed). Deterministic for
 * a given seed. The index array passed to the statistic is reused between calls: copy it if
 * you keep it.
 *
 * @example
 * const { value, ci95 } = bootstrapCI(xs.length, (idx) => { let s = 0; for (const i of idx) s += xs[i]; return s / idx.length; });
 * @throws EmosteerError INVALID_ARGUMENT for n < 1 or bad options
 */
export function bootstrapCI(
  n: number,
  statistic: (indices: Int32Array) => number,
  options: BootstrapOptions = {},
): BootstrapResult {
  if (!Number.isInteger(n) || n < 1) {
    throw new EmosteerError('INVALID_ARGUMENT', `n must be a positive integer, got ${String(n)}`);
  }
  if (typeof statistic !== 'function') throw new EmosteerError('INVALID_ARGUMENT', 'statistic must be a function');
  const { resamples, seed, level } = bootstrapSettings(options);
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const value = statistic(idx);
  const rand = seededRandom(seed);
  const stats: number[] = new Array(resamples);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) idx[i] = Math.floor(rand() * n);
    stats[b] = statistic(idx);
  }
  return { value, ci95: percentileInterval(stats, level) };
}

/**
 * Stratified percentile bootstrap: like {@link bootstrapCI}, but each resample draws, for every
 * label, as many indices as that label has, with replacement, from the indices of that label
 * only, so every class keeps its size and stays present (needed for statistics such as the
 * silhouette or accuracy per class). Indices are grouped by label in order of first appearance.
 *
 * @param labels one label per observation (n = labels.length)
 * @throws EmosteerError INVALID_ARGUMENT for no labels, non-finite labels or bad options
 */
export function stratifiedBootstrapCI(
  labels: ArrayLike<number>,
  statistic: (indices: Int32Array) => number,
  options: BootstrapOptions = {},
): BootstrapResult {
  checkSample(labels, 'labels');
  if (typeof statistic !== 'function') throw new EmosteerError('INVALID_ARGUMENT', 'statistic must be a function');
  const { resamples, seed, level } = bootstrapSettings(options);
  const n = labels.length;
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const l = labels[i] as number;
    let g = groups.get(l);
    if (!g) groups.set(l, (g = []));
    g.push(i);
  }
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const value = statistic(idx);
  const rand = seededRandom(seed);
  const stats: number[] = new Array(resamples);
  const groupList = [...groups.values()];
  for (let b = 0; b < resamples; b++) {
    let k = 0;
    for (const g of groupList) {
      const m = g.length;
      for (let i = 0; i < m; i++) idx[k++] = g[Math.floor(rand() * m)] as number;
    }
    stats[b] = statistic(idx);
  }
  return { value, ci95: percentileInterval(stats, level) };
}

// ---------------------------------------------------------------------------------------------
// Agreement between raters
// ---------------------------------------------------------------------------------------------

/** A categorical label given by a rater (a judge). Labels are equal when `===` says so (1 and '1' differ). */
export type RatingLabel = string | number | boolean;

/** Chance-corrected agreement: kappa = (observed - expected) / (1 - expected). */
export interface KappaResult {
  /**
   * The agreement beyond chance: 1 for perfect agreement, 0 for what chance alone gives, below 0
   * for less. NaN when expected = 1 (every rater gave one and the same label to every item:
   * nothing to tell apart), as scikit-learn.
   */
  kappa: number;
  /** Observed agreement: the fraction of items (Cohen) or of rater pairs per item (Fleiss) that agree. */
  observed: number;
  /** Agreement expected by chance from the label frequencies. */
  expected: number;
  /** Number of items rated. */
  n: number;
  /**
   * Percentile bootstrap interval of kappa over items resampled with replacement
   * ({@link bootstrapCI}; resamples with an undefined kappa are left out; [NaN, NaN] when none is defined).
   */
  ci95: [number, number];
}

function checkRatings(x: readonly RatingLabel[], name: string): void {
  if (!Array.isArray(x)) throw new EmosteerError('INVALID_ARGUMENT', `${name} must be an array of labels`);
  if (x.length === 0) throw new EmosteerError('INVALID_ARGUMENT', `${name} must not be empty`);
  for (let i = 0; i < x.length; i++) {
    const v: unknown = x[i];
    const ok = typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && !Number.isNaN(v));
    if (!ok) throw new EmosteerError('INVALID_ARGUMENT', `${name}[${i}] is ${String(v)}; a label must be a string, a number (not NaN) or a boolean`);
  }
}

/** Maps every label to 0..K-1 in order of first appearance over all the arrays. */
function encodeRatings(raters: readonly (readonly RatingLabel[])[]): { codes: Int32Array[]; k: number } {
  const index = new Map<RatingLabel, number>();
  const codes = raters.map((r) =>
    Int32Array.from(r, (v) => {
      let c = index.get(v);
      if (c === undefined) index.set(v, (c = index.size));
      return c;
    }),
  );
  return { codes, k: index.size };
}

/**
 * Cohen's kappa (unweighted) between two raters who labelled the same n items: observed
 * agreement po = fraction of items with the same label, chance agreement pe = sum over labels
 * of the product of the two raters' label frequencies, kappa = (po - pe) / (1 - pe). The same
 * value as scikit-learn's `cohen_kappa_score(a, b)`. A label used by only one rater counts (it
 * can only disagree). With `ci95`, a percentile bootstrap over items (default 1000 resamples,
 * seed 0).
 *
 * @example
 * cohensKappa(['joy', 'fear', 'joy', 'anger'], ['joy', 'fear', 'sadness', 'anger']).kappa // (0.75 - 0.25) / 0.75 = 0.667
 * @param a the first rater's label of each item
 * @param b the second rater's label of the same items, in the same order
 * @throws EmosteerError INVALID_ARGUMENT for empty arrays, arrays of different lengths, a label that is not a string, number or boolean, or bad bootstrap options
 */
export function cohensKappa(a: readonly RatingLabel[], b: readonly RatingLabel[], options: BootstrapOptions = {}): KappaResult {
  checkRatings(a, 'a');
  checkRatings(b, 'b');
  if (a.length !== b.length) {
    throw new EmosteerError('INVALID_ARGUMENT', `a and b must rate the same items: ${a.length} and ${b.length} labels`);
  }
  const { codes, k } = encodeRatings([a, b]);
  const ca = codes[0] as Int32Array;
  const cb = codes[1] as Int32Array;
  const na = new Float64Array(k);
  const nb = new Float64Array(k);
  const stat = (idx: Int32Array): [number, number] => {
    na.fill(0);
    nb.fill(0);
    let agree = 0;
    for (const i of idx) {
      const x = ca[i] as number;
      const y = cb[i] as number;
      if (x === y) agree++;
      na[x] = (na[x] as number) + 1;
      nb[y] = (nb[y] as number) + 1;
    }
    const n = idx.length;
    let pe = 0;
    for (let c = 0; c < k; c++) pe += ((na[c] as number) / n) * ((nb[c] as number) / n);
    return [agree / n, pe];
  };
  return kappaWithInterval(a.length, stat, options);
}

/**
 * Fleiss' kappa for m >= 2 raters who each labelled the same n items (complete data): per item,
 * the agreement P_i = sum_c n_ic (n_ic - 1) / (m (m - 1)) over the label counts n_ic; observed =
 * mean of P_i; expected = sum_c p_c^2 with p_c the share of label c among all n m ratings;
 * kappa = (observed - expected) / (1 - expected) (Fleiss 1971). With two raters it is Scott's pi
 * (pooled label frequencies), not Cohen's kappa (one frequency per rater). With `ci95`, a
 * percentile bootstrap over items.
 *
 * @param raters one array per rater, each with that rater's label of every item, in the same item order
 * @throws EmosteerError INVALID_ARGUMENT for fewer than two raters, empty or ragged arrays, a bad label, or bad bootstrap options
 */
export function fleissKappa(raters: readonly (readonly RatingLabel[])[], options: BootstrapOptions = {}): KappaResult & {
  /** Number of raters. */
  raters: number;
} {
  if (!Array.isArray(raters) || raters.length < 2) {
    throw new EmosteerError('INVALID_ARGUMENT', `raters must hold at least two arrays of labels, got ${Array.isArray(raters) ? raters.length : typeof raters}`);
  }
  raters.forEach((r, j) => checkRatings(r, `raters[${j}]`));
  const n = (raters[0] as readonly RatingLabel[]).length;
  raters.forEach((r, j) => {
    if (r.length !== n) throw new EmosteerError('INVALID_ARGUMENT', `raters[${j}] rates ${r.length} items, raters[0] ${n}; every rater must rate every item`);
  });
  const m = raters.length;
  const { codes, k } = encodeRatings(raters);
  // counts[i k + c]: how many raters gave item i the label c
  const counts = new Int32Array(n * k);
  for (const r of codes) for (let i = 0; i < n; i++) counts[i * k + (r[i] as number)]! += 1;
  const agreement = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < k; c++) {
      const v = counts[i * k + c] as number;
      s += v * (v - 1);
    }
    agreement[i] = s / (m * (m - 1));
  }
  const total = new Float64Array(k);
  const stat = (idx: Int32Array): [number, number] => {
    total.fill(0);
    let po = 0;
    for (const i of idx) {
      po += agreement[i] as number;
      for (let c = 0; c < k; c++) total[c] = (total[c] as number) + (counts[i * k + c] as number);
    }
    const ratings = idx.length * m;
    let pe = 0;
    for (let c = 0; c < k; c++) pe += ((total[c] as number) / ratings) ** 2;
    return [po / idx.length, pe];
  };
  return { ...kappaWithInterval(n, stat, options), raters: m };
}

/** kappa from [observed, expected] on the items, with its bootstrap interval over items. */
function kappaWithInterval(n: number, stat: (idx: Int32Array) => [number, number], options: BootstrapOptions): KappaResult {
  const kappaOf = (po: number, pe: number): number => (pe === 1 ? NaN : (po - pe) / (1 - pe));
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const [observed, expected] = stat(idx);
  const { ci95 } = bootstrapCI(n, (ix) => kappaOf(...stat(ix)), options);
  return { kappa: kappaOf(observed, expected), observed, expected, n, ci95 };
}
