/**
 * The permutation null of the best block: a study reads held-out accuracy at 18-30 blocks and
 * reports the best one, so that best has to be compared with the best of as many blocks under
 * shuffled labels, not with one block's chance. {@link maxOverBlocksNull} permutes the labels
 * (one permutation for every block, class sizes kept, whole groups of identical stimuli moved
 * together), computes the cross-validated nearest-centroid accuracy at every block and keeps the
 * maximum; the observed maximum is then read against that distribution.
 *
 * Fast because nearest centroid with cosine needs only inner products: per block the Gram
 * matrix K = X X^T is computed once (n^2 d), the training-mean centring of every fold follows
 * from it (G = K - m 1^T - 1 m^T + M with m = K's mean over training columns), and a permutation then costs O(n_train n_heldout + n_train^2 / C)
 * per fold instead of O(n d C).
 */
import { checkFolds, checkRows, encodeLabels, invalid, shuffle } from './samples.js';
import { quantile, seededRandom } from './statistics.js';

/** Options of {@link maxOverBlocksNull}. */
export interface MaxNullOptions {
  /** Label permutations (default 200, at least 1; 200 or more for a p-value down to 0.005). */
  permutations?: number;
  /** Seed of the permutations (default 0). */
  seed?: number;
  /**
   * Groups of samples whose labels move together (e.g. identical stimuli that the folds keep
   * together): one key per sample; every group must hold one label. Groups of the same size
   * swap labels, so class sizes stay exact. Default: every sample its own group.
   */
  groups?: readonly (string | number)[];
  /**
   * Strata: labels are permuted only within a stratum (one key per sample; a group must lie
   * in one stratum). E.g. `'neutral'` for neutral samples and `'emotion'` for the others keeps
   * the neutral class fixed and asks whether the emotions are told apart from each other.
   * Default: one stratum.
   */
  strata?: readonly (string | number)[];
  /** Centre on the training split's mean before the cosine (default true, as the held-out accuracy of an evaluation). */
  center?: boolean;
}

/** Result of {@link maxOverBlocksNull}. */
export interface MaxNullResult {
  /** Cross-validated accuracy at every block with the real labels (same classifier as the null). */
  observed: number[];
  /** The highest of `observed`. */
  observedMax: number;
  /** Index (into the blocks given) of the first block reaching `observedMax`. */
  observedBlock: number;
  /** Number of label permutations. */
  permutations: number;
  /** Distribution of the best-block accuracy under permuted labels. */
  null: {
    /** Mean of the permutation maxima. */
    mean: number;
    /** Median. */
    p50: number;
    /** 90th percentile (type-7 quantile). */
    p90: number;
    /** 95th percentile: the level a best block has to beat at the 5% level. */
    p95: number;
    /** 99th percentile. */
    p99: number;
    /** The largest permutation maximum. */
    max: number;
  };
  /** Permutation p-value of the observed maximum: (1 + #{null max >= observed max}) / (1 + permutations). */
  p: number;
  /** The permutation maxima, in the order drawn. */
  distribution: Float64Array;
}

/** Label permutations that keep class sizes, groups and strata: one Int32Array of class indices each. */
export function groupPermutations(
  y: Int32Array,
  permutations: number,
  seed: number,
  groups?: readonly (string | number)[],
  strata?: readonly (string | number)[],
): Int32Array[] {
  const n = y.length;
  if (groups && groups.length !== n) throw invalid(`groups has ${groups.length} entries but there are ${n} samples`);
  if (strata && strata.length !== n) throw invalid(`strata has ${strata.length} entries but there are ${n} samples`);
  // Groups as lists of members; each with its label and stratum.
  const groupIndex = new Map<string | number, number>();
  const members: number[][] = [];
  const groupLabel: number[] = [];
  const groupStratum: (string | number)[] = [];
  for (let i = 0; i < n; i++) {
    const key = groups ? (groups[i] as string | number) : i;
    let g = groupIndex.get(key);
    const s = strata ? (strata[i] as string | number) : 0;
    if (g === undefined) {
      g = members.length;
      groupIndex.set(key, g);
      members.push([]);
      groupLabel.push(y[i] as number);
      groupStratum.push(s);
    } else {
      if (groupLabel[g] !== y[i]) throw invalid(`group ${String(key)} holds samples of different labels; labels of a group must agree`);
      if (groupStratum[g] !== s) throw invalid(`group ${String(key)} spans strata ${String(groupStratum[g])} and ${String(s)}`);
    }
    (members[g] as number[]).push(i);
  }
  // Buckets of exchangeable groups: same stratum, same size.
  const buckets = new Map<string, number[]>();
  members.forEach((m, g) => {
    const key = `${typeof groupStratum[g]}:${String(groupStratum[g])}\u0000${m.length}`;
    let b = buckets.get(key);
    if (!b) buckets.set(key, (b = []));
    b.push(g);
  });
  const bucketList = [...buckets.values()].filter((b) => b.length > 1);
  const rand = seededRandom(seed);
  const out: Int32Array[] = [];
  for (let p = 0; p < permutations; p++) {
    const perm = Int32Array.from(y);
    for (const b of bucketList) {
      const labelsOf = shuffle(b.map((g) => groupLabel[g] as number), rand);
      b.forEach((g, k) => {
        for (const i of members[g] as number[]) perm[i] = labelsOf[k] as number;
      });
    }
    out.push(perm);
  }
  return out;
}

/** K = A A^T for n rows of width d (row-major), computing each pair once. */
function gramOf(A: Float64Array, n: number, d: number): Float64Array {
  const K = new Float64Array(n * n);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const a0 = i * d;
    const a1 = a0 + d;
    for (let j = i; j < n; j++) {
      const bo = j * d;
      let s0 = 0;
      let s1 = 0;
      for (let k = 0; k < d; k++) {
        const w = A[bo + k] as number;
        s0 += (A[a0 + k] as number) * w;
        s1 += (A[a1 + k] as number) * w;
      }
      K[i * n + j] = s0;
      K[j * n + i] = s0;
      if (j > i) {
        K[(i + 1) * n + j] = s1;
        K[j * n + i + 1] = s1;
      }
    }
  }
  for (; i < n; i++) {
    for (let j = i; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (A[i * d + k] as number) * (A[j * d + k] as number);
      K[i * n + j] = s;
      K[j * n + i] = s;
    }
  }
  return K;
}

/**
 * Per-fold precomputed inner products of one block: for fold f, G_f[i j] = (x_i - mu_f) . (x_j -
 * mu_f) with mu_f the training split's mean (or x_i . x_j without centring), stored as two dense
 * blocks: held-out x training and training x training.
 */
export class FoldGram {
  /** Number of samples. */
  readonly n: number;
  /** Number of folds. */
  readonly nFolds: number;
  /** Held-out samples of each fold. */
  readonly heldOut: Int32Array[];
  /** Training samples of each fold. */
  readonly training: Int32Array[];
  /** Per fold, G_f[heldOut[a], training[b]] at a * nTrain + b. */
  readonly heldTrain: Float64Array[];
  /** Per fold, G_f[training[a], training[b]] at a * nTrain + b. */
  readonly trainTrain: Float64Array[];

  /**
   * @param X the samples of one block (rows, all of one width; not checked here)
   * @param foldOf the fold of every sample (from checkFolds)
   */
  constructor(X: Float32Array[], foldOf: Int32Array, nFolds: number, center: boolean) {
    const n = X.length;
    const d = (X[0] as Float32Array).length;
    this.n = n;
    this.nFolds = nFolds;
    const A = new Float64Array(n * d);
    for (let i = 0; i < n; i++) A.set(X[i] as Float32Array, i * d);
    const K = gramOf(A, n, d);
    this.heldOut = [];
    this.training = [];
    this.heldTrain = [];
    this.trainTrain = [];
    const m = new Float64Array(n);
    for (let f = 0; f < nFolds; f++) {
      const h: number[] = [];
      const t: number[] = [];
      for (let i = 0; i < n; i++) (foldOf[i] === f ? h : t).push(i);
      const ho = Int32Array.from(h);
      const tr = Int32Array.from(t);
      this.heldOut.push(ho);
      this.training.push(tr);
      const nt = tr.length;
      // m_i = x_i . mu_f = mean over training j of K[i j]; M = mu_f . mu_f = mean over training i of m_i;
      // (x_i - mu)(x_j - mu) = K[i j] - m_i - m_j + M.
      let M = 0;
      m.fill(0);
      if (center) {
        for (let i = 0; i < n; i++) {
          let s = 0;
          const off = i * n;
          for (let a = 0; a < nt; a++) s += K[off + (tr[a] as number)] as number;
          m[i] = s / nt;
        }
        for (let a = 0; a < nt; a++) M += m[tr[a] as number] as number;
        M /= nt;
      }
      const block = (rows: Int32Array): Float64Array => {
        const out = new Float64Array(rows.length * nt);
        for (let a = 0; a < rows.length; a++) {
          const i = rows[a] as number;
          const off = i * n;
          const mi = (m[i] as number) - M;
          for (let b = 0; b < nt; b++) {
            const j = tr[b] as number;
            out[a * nt + b] = (K[off + j] as number) - mi - (m[j] as number);
          }
        }
        return out;
      };
      this.heldTrain.push(block(ho));
      this.trainTrain.push(block(tr));
    }
  }

  /**
   * Per-sample correctness of nearest centroid (cosine) with labels `y` (class indices < C):
   * the same decisions as nearestCentroidCorrect (ties to the smaller class, a class absent from
   * a training split never predicted), up to rounding in exact ties.
   *
   * @param out where to write the correctness (reused between calls)
   */
  correct(y: Int32Array, C: number, out = new Uint8Array(this.n)): Uint8Array {
    const start = new Int32Array(C + 1);
    const fill = new Int32Array(C);
    const norms = new Float64Array(C);
    const sums = new Float64Array(C);
    let order = new Int32Array(0);
    let yt = new Int32Array(0);
    for (let f = 0; f < this.nFolds; f++) {
      const tr = this.training[f] as Int32Array;
      const nt = tr.length;
      if (yt.length < nt) {
        yt = new Int32Array(nt);
        order = new Int32Array(nt);
      }
      // Labels of the training samples, and their positions sorted by class: start[c]..start[c+1].
      start.fill(0);
      for (let b = 0; b < nt; b++) {
        const c = y[tr[b] as number] as number;
        yt[b] = c;
        start[c + 1]! += 1;
      }
      for (let c = 0; c < C; c++) {
        start[c + 1] = (start[c + 1] as number) + (start[c] as number);
        fill[c] = start[c] as number;
      }
      for (let b = 0; b < nt; b++) {
        const c = yt[b] as number;
        order[fill[c]!] = b;
        fill[c]! += 1;
      }
      // |centroid_c| up to the factor 1 / n_c: sqrt(sum over i, j in c of G[i j]).
      const TT = this.trainTrain[f] as Float64Array;
      for (let c = 0; c < C; c++) {
        const s0 = start[c] as number;
        const s1 = start[c + 1] as number;
        let q = 0;
        for (let a = s0; a < s1; a++) {
          const off = (order[a] as number) * nt;
          for (let b = s0; b < s1; b++) q += TT[off + (order[b] as number)] as number;
        }
        norms[c] = q > 0 ? Math.sqrt(q) : 0;
      }
      const HT = this.heldTrain[f] as Float64Array;
      const ho = this.heldOut[f] as Int32Array;
      for (let a = 0; a < ho.length; a++) {
        sums.fill(0);
        const off = a * nt;
        for (let b = 0; b < nt; b++) sums[yt[b] as number] = (sums[yt[b] as number] as number) + (HT[off + b] as number);
        let best = -1;
        let bestScore = -Infinity;
        for (let c = 0; c < C; c++) {
          if (start[c + 1] === start[c]) continue;
          const nc = norms[c] as number;
          // cosine(z_h, centroid_c) |z_h| = (sum_i G[h i] / n_c) / (sqrt(q_c) / n_c)
          const score = nc === 0 ? 0 : (sums[c] as number) / nc;
          if (score > bestScore) {
            bestScore = score;
            best = c;
          }
        }
        const h = ho[a] as number;
        out[h] = best === y[h] ? 1 : 0;
      }
    }
    return out;
  }
}

function accuracyOfBytes(c: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < c.length; i++) s += c[i] as number;
  return s / c.length;
}

/**
 * The permutation null of the best block's cross-validated nearest-centroid accuracy. For each
 * of `permutations` label permutations (the same permutation at every block; class sizes kept;
 * labels of whole `groups` moved together and only within `strata`), the accuracy is computed
 * at every block with the same folds, and the maximum over blocks is kept. The observed maximum
 * is compared with that distribution: p = (1 + #{null >= observed}) / (1 + permutations).
 *
 * Cost: one Gram matrix per block (n^2 d / 2) and about n_heldout n_train + n_train^2 / C
 * operations per fold, block and permutation; 200 permutations x 30 blocks x 210 samples x 576
 * dims take about 2.5 s of CPU time on one core (0.7 s of it the Gram matrices).
 *
 * @param perBlockX per block, the samples as rows (every block the same samples, in the same order)
 * @param labels one label per sample
 * @param folds a partition of 0..n-1 (e.g. from groupedFolds on the real labels)
 * @throws EmosteerError INVALID_ARGUMENT for no blocks, ragged or non-finite rows, bad labels or folds, groups mixing labels, permutations < 1
 */
export function maxOverBlocksNull(
  perBlockX: Float32Array[][],
  labels: ArrayLike<number>,
  folds: number[][],
  options: MaxNullOptions = {},
): MaxNullResult {
  const permutations = options.permutations ?? 200;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(permutations) || permutations < 1) throw invalid(`permutations must be a positive integer, got ${String(permutations)}`);
  if (!Array.isArray(perBlockX) || perBlockX.length === 0) throw invalid('perBlockX must hold the samples of at least one block');
  const n = (perBlockX[0] as Float32Array[]).length;
  perBlockX.forEach((X, b) => {
    checkRows(X, `perBlockX[${b}]`, 2);
    if (X.length !== n) throw invalid(`perBlockX[${b}] has ${X.length} samples, perBlockX[0] ${n}`);
  });
  const enc = encodeLabels(labels, n);
  const foldOf = checkFolds(folds, n);
  const C = enc.classes.length;
  const perms = groupPermutations(enc.y, permutations, seed, options.groups, options.strata);
  const center = options.center ?? true;
  const maxima = new Float64Array(permutations).fill(-Infinity);
  const observed: number[] = [];
  const buf = new Uint8Array(n);
  for (const X of perBlockX) {
    const gram = new FoldGram(X, foldOf, folds.length, center);
    observed.push(accuracyOfBytes(gram.correct(enc.y, C, buf)));
    for (let p = 0; p < permutations; p++) {
      const acc = accuracyOfBytes(gram.correct(perms[p] as Int32Array, C, buf));
      if (acc > (maxima[p] as number)) maxima[p] = acc;
    }
  }
  let observedBlock = 0;
  for (let b = 1; b < observed.length; b++) if ((observed[b] as number) > (observed[observedBlock] as number)) observedBlock = b;
  const observedMax = observed[observedBlock] as number;
  let atLeast = 0;
  let sum = 0;
  let max = -Infinity;
  for (const v of maxima) {
    if (v >= observedMax - 1e-12) atLeast++;
    sum += v;
    if (v > max) max = v;
  }
  return {
    observed,
    observedMax,
    observedBlock,
    permutations,
    null: {
      mean: sum / permutations,
      p50: quantile(maxima, 0.5),
      p90: quantile(maxima, 0.9),
      p95: quantile(maxima, 0.95),
      p99: quantile(maxima, 0.99),
      max,
    },
    p: (1 + atLeast) / (1 + permutations),
    distribution: maxima,
  };
}
