/**
 * Representational similarity analysis (RSA) of emotion geometries: how alike two 20 x 20
 * dissimilarity matrices are (two models, two methods, two precisions), with a label
 * permutation null and an emotion bootstrap (docs/PREREG.md, "Beyond the paper").
 *
 * A dissimilarity matrix (RDM) here is 1 - cosine between unit emotion vectors, in the condensed
 * form of `rdm` (lib/evaluate/geometry.ts, which also gives the bare r between two sets of
 * vectors). Two RDMs are compared by Spearman's r over their upper-triangle entries. The null keeps one matrix and relabels the other:
 * a random permutation applied to its rows and columns together (a Mantel test), one-sided,
 * since a shared geometry shows as r > 0. The interval resamples the emotions with
 * replacement, leaving out the pairs of an emotion with itself.
 *
 * @module
 */
import { EmosteerError } from '../errors.js';
import { bootstrapCI, ranks, seededRandom, spearman } from './statistics.js';

/**
 * A labelled dissimilarity matrix in condensed form: the upper triangle in row order
 * ((0,1), (0,2), ..., (1,2), ...), as `rdm` of lib/evaluate/geometry.ts writes it, length n (n - 1) / 2.
 */
export interface LabelledRdm {
  /** The items, in matrix order. */
  labels: string[];
  /** The upper triangle in row order. */
  condensed: ArrayLike<number>;
}

/** Options of {@link compareRdms}. */
export interface RsaOptions {
  /** Label permutations of the null (default 10,000; 0 leaves the p-value out). */
  permutations?: number;
  /** Bootstrap resamples of the emotions (default 2,000; 0 leaves the interval out). */
  resamples?: number;
  /** Seed of the permutations and of the bootstrap (default 0). */
  seed?: number;
}

/** Two dissimilarity matrices compared: {@link compareRdms}' answer. */
export interface RsaResult {
  /** Spearman's r between the upper triangles, over the labels both matrices hold. */
  r: number;
  /** The labels compared (those of the first matrix that the second also holds, in its order). */
  labels: string[];
  /** Number of label pairs (upper-triangle entries): n (n - 1) / 2. */
  pairs: number;
  /** 95% percentile interval of r over emotion bootstrap resamples ([NaN, NaN] when none was drawn). */
  ci95: [number, number];
  /** One-sided permutation p-value, (1 + #{r* >= r}) / (1 + permutations) (NaN when none was drawn). */
  p: number;
  /** Permutations drawn for `p`. */
  permutations: number;
  /** Bootstrap resamples drawn for `ci95`. */
  resamples: number;
}

/** Index of pair (i, j), i < j, in a condensed matrix of n items. */
const condensedIndex = (n: number, i: number, j: number) => i * n - (i * (i + 1)) / 2 + (j - i - 1);

/**
 * A labelled condensed RDM from a square cosine matrix: 1 - cosine above the diagonal.
 * @throws EmosteerError INVALID_ARGUMENT when the matrix is not square, its labels not distinct, or a value not finite
 */
export function rdmFromCosineMatrix(labels: readonly string[], cosines: readonly (readonly number[])[]): LabelledRdm {
  const n = labels.length;
  if (cosines.length !== n || cosines.some((row) => row.length !== n)) {
    throw new EmosteerError('INVALID_ARGUMENT', `a cosine matrix of ${n} labels must be ${n} x ${n}`);
  }
  if (new Set(labels).size !== n) throw new EmosteerError('INVALID_ARGUMENT', 'the labels of a cosine matrix must be distinct');
  const condensed: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const c = cosines[i]![j]!;
      if (!Number.isFinite(c)) throw new EmosteerError('INVALID_ARGUMENT', `cosine ${labels[i]}/${labels[j]} is not finite`);
      condensed.push(1 - c);
    }
  }
  return { labels: [...labels], condensed };
}

/** Fisher-Yates shuffle of 0..n-1 into `out`, drawing from `rand`. */
function shuffleInto(out: Int32Array, rand: () => number): void {
  for (let i = 0; i < out.length; i++) out[i] = i;
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
}

/**
 * Compares two dissimilarity matrices over the labels they share (RSA): Spearman's r of the
 * upper triangles, its label-permutation p-value and its emotion-bootstrap interval.
 * Deterministic for a given seed.
 *
 * Under a relabelling the entries of the second matrix are only rearranged, so their ranks are
 * computed once and each permutation costs one pass over the pairs.
 *
 * @throws EmosteerError INVALID_ARGUMENT when they share fewer than 4 labels (3 pairs), or for bad options
 */
export function compareRdms(a: LabelledRdm, b: LabelledRdm, options: RsaOptions = {}): RsaResult {
  const permutations = options.permutations ?? 10_000;
  const resamples = options.resamples ?? 2_000;
  const seed = options.seed ?? 0;
  for (const [name, v] of [['permutations', permutations], ['resamples', resamples]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new EmosteerError('INVALID_ARGUMENT', `${name} must be a non-negative integer, got ${String(v)}`);
  }
  for (const [name, m] of [['a', a], ['b', b]] as const) {
    const n = m.labels.length;
    if (m.condensed.length !== (n * (n - 1)) / 2) throw new EmosteerError('INVALID_ARGUMENT', `RDM ${name}: ${n} labels need ${(n * (n - 1)) / 2} condensed values, got ${m.condensed.length}`);
  }
  const labels = a.labels.filter((l) => b.labels.includes(l));
  const n = labels.length;
  if (n < 4) throw new EmosteerError('INVALID_ARGUMENT', `RSA needs at least 4 shared labels, got ${n}`);
  const ia = labels.map((l) => a.labels.indexOf(l));
  const ib = labels.map((l) => b.labels.indexOf(l));
  /** Entry (i, j) of a condensed matrix of `m` items, by index into it (i != j). */
  const entry = (m: LabelledRdm, x: number, y: number) => m.condensed[condensedIndex(m.labels.length, Math.min(x, y), Math.max(x, y))]!;
  const A = (i: number, j: number) => entry(a, ia[i]!, ia[j]!);
  const B = (i: number, j: number) => entry(b, ib[i]!, ib[j]!);
  const pairs: [number, number][] = [];
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) pairs.push([i, j]);
  const xa = pairs.map(([i, j]) => A(i, j));
  const xb = pairs.map(([i, j]) => B(i, j));
  const r = spearman(xa, xb);

  let p = Number.NaN;
  if (permutations > 0 && Number.isFinite(r)) {
    // Centred ranks of A's entries in pair order; B's ranks as a matrix, read through the permutation.
    const ra = ranks(xa);
    const meanRank = (pairs.length + 1) / 2;
    const ca = ra.map((x) => x - meanRank);
    const rbFlat = ranks(xb);
    const rb = Array.from({ length: n }, () => new Float64Array(n));
    pairs.forEach(([i, j], k) => { rb[i]![j] = rbFlat[k]!; rb[j]![i] = rbFlat[k]!; });
    let saa = 0;
    let sbb = 0;
    for (let k = 0; k < pairs.length; k++) { saa += ca[k]! ** 2; sbb += (rbFlat[k]! - meanRank) ** 2; }
    const norm = Math.sqrt(saa * sbb);
    const rand = seededRandom(seed);
    const perm = new Int32Array(n);
    let atLeast = 0;
    for (let t = 0; t < permutations; t++) {
      shuffleInto(perm, rand);
      let s = 0;
      for (let k = 0; k < pairs.length; k++) {
        const [i, j] = pairs[k]!;
        s += ca[k]! * (rb[perm[i]!]![perm[j]!]! - meanRank);
      }
      // A tolerance for rounding, so that a relabelling giving r itself (the identity) counts as "at least r".
      if (s / norm >= r - 1e-12) atLeast++;
    }
    p = (1 + atLeast) / (1 + permutations);
  }

  let ci95: [number, number] = [Number.NaN, Number.NaN];
  if (resamples > 0) {
    const sa: number[] = [];
    const sb: number[] = [];
    ci95 = bootstrapCI(n, (idx) => {
      sa.length = 0;
      sb.length = 0;
      for (let u = 0; u < n; u++) {
        for (let v = u + 1; v < n; v++) {
          if (idx[u] === idx[v]) continue;
          sa.push(A(idx[u]!, idx[v]!));
          sb.push(B(idx[u]!, idx[v]!));
        }
      }
      return sa.length >= 3 ? spearman(sa, sb) : Number.NaN;
    }, { resamples, seed }).ci95;
  }
  return { r, labels, pairs: pairs.length, ci95, p, permutations: Number.isNaN(p) ? 0 : permutations, resamples: resamples > 0 ? resamples : 0 };
}
