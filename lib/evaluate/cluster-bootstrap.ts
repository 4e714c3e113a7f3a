/**
 * Bootstraps over clusters of stimuli. Stories generated from one prompt template (or samples
 * of one passage) are not independent: they share wording and structure, and a classifier is
 * right or wrong on them together. Resampling single samples then gives intervals that are too
 * narrow; resampling whole clusters (templates, passages) gives honest ones.
 *
 * - {@link clusterBootstrapCI}: any statistic, clusters resampled with replacement (optionally
 *   within strata of clusters with the same labels, so class proportions stay fixed).
 * - {@link bestBlockBootstrap}: the best block re-selected in every resample, from per-block
 *   per-sample correctness: intervals of the best accuracy, of the peak's depth, and of the
 *   rise of the curve on each side of the peak.
 * - {@link compareDecodability}: the difference of two methods' best-block accuracies, each
 *   re-selected per resample, clusters resampled independently in each method.
 */
import { EmosteerError } from '../errors.js';
import { quantile, seededRandom, type BootstrapResult } from './statistics.js';

/** Options of the cluster bootstraps. */
export interface ClusterBootstrapOptions {
  /** Number of resamples (default 1000). */
  resamples?: number;
  /** Seed of the resampling (default 0). */
  seed?: number;
  /** Coverage of the percentile interval, in (0, 1) (default 0.95). */
  level?: number;
  /**
   * One label per sample. When given, clusters are resampled within strata: the stratum of a
   * cluster is the set of labels its samples carry. With clusters inside one class (passages)
   * this is a bootstrap stratified by class; with clusters spanning the emotions (a story
   * template gives one story per emotion) the templates are resampled among themselves and the
   * neutral prompts among themselves, so the share of each class stays what it was.
   */
  strata?: ArrayLike<number | string>;
}

/** A cluster structure: members of each cluster and the strata of clusters. */
interface Clusters {
  members: Int32Array[];
  /** Per stratum, the clusters in it. */
  strata: Int32Array[];
  /** Largest possible resample size. */
  maxSize: number;
}

function invalid(message: string): EmosteerError {
  return new EmosteerError('INVALID_ARGUMENT', message);
}

function settings(options: ClusterBootstrapOptions): { resamples: number; seed: number; level: number } {
  const resamples = options.resamples ?? 1000;
  const seed = options.seed ?? 0;
  const level = options.level ?? 0.95;
  if (!Number.isInteger(resamples) || resamples < 1) throw invalid(`resamples must be a positive integer, got ${String(resamples)}`);
  if (typeof level !== 'number' || !(level > 0 && level < 1)) throw invalid(`level must be in (0, 1), got ${String(level)}`);
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw invalid(`seed must be a finite number, got ${String(seed)}`);
  return { resamples, seed, level };
}

function buildClusters(groups: readonly (string | number)[], strata?: ArrayLike<number | string>): Clusters {
  if (!Array.isArray(groups) || groups.length === 0) throw invalid('groups must be a non-empty array with one cluster key per sample');
  if (strata !== undefined && strata.length !== groups.length) throw invalid(`strata has ${strata.length} entries but there are ${groups.length} samples`);
  const index = new Map<string | number, number>();
  const lists: number[][] = [];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (typeof g !== 'string' && !(typeof g === 'number' && Number.isFinite(g))) throw invalid(`groups[${i}] is ${String(g)}; a cluster key must be a string or a finite number`);
    let c = index.get(g);
    if (c === undefined) {
      c = lists.length;
      index.set(g, c);
      lists.push([]);
    }
    (lists[c] as number[]).push(i);
  }
  const byStratum = new Map<string, number[]>();
  lists.forEach((m, c) => {
    const key = strata ? [...new Set(m.map((i) => `${typeof strata[i]}:${String(strata[i])}`))].sort().join('\u0000') : '';
    let s = byStratum.get(key);
    if (!s) byStratum.set(key, (s = []));
    s.push(c);
  });
  const members = lists.map((m) => Int32Array.from(m));
  const stratList = [...byStratum.values()].map((s) => Int32Array.from(s));
  let maxSize = 0;
  for (const s of stratList) {
    let big = 0;
    for (const c of s) big = Math.max(big, (members[c] as Int32Array).length);
    maxSize += big * s.length;
  }
  return { members, strata: stratList, maxSize };
}

/** Draws clusters (with replacement within each stratum) into `drawn`; returns how many. */
function drawClusters(cl: Clusters, rand: () => number, drawn: Int32Array): number {
  let k = 0;
  for (const s of cl.strata) {
    const m = s.length;
    for (let i = 0; i < m; i++) drawn[k++] = s[Math.floor(rand() * m)] as number;
  }
  return k;
}

function percentile(values: Float64Array | number[], level: number): [number, number] {
  const finite = Float64Array.from(Array.from(values).filter((v) => Number.isFinite(v)));
  if (finite.length === 0) return [NaN, NaN];
  return [quantile(finite, (1 - level) / 2), quantile(finite, (1 + level) / 2)];
}

/**
 * Percentile bootstrap of a statistic over clusters of samples. Each resample draws as many
 * clusters as there are, with replacement (within each stratum when `strata` is given), and
 * passes the statistic the indices of every sample of every cluster drawn, concatenated: its
 * length varies from one resample to the next (a statistic must divide by `idx.length`, not by
 * n). The first call gets 0..n-1 (the observed value). The array is reused between calls.
 *
 * @param groups one cluster key per sample (e.g. the prompt template of a generated story)
 * @returns the observed value, the interval, and the number of clusters
 * @throws EmosteerError INVALID_ARGUMENT for empty or bad groups, strata of another length, bad options
 *
 * @example
 * ```ts
 * const { ci95 } = clusterBootstrapCI(templates, (idx) => { let s = 0; for (const i of idx) s += correct[i]; return s / idx.length; });
 * ```
 */
export function clusterBootstrapCI(
  groups: readonly (string | number)[],
  statistic: (idx: Int32Array) => number,
  options: ClusterBootstrapOptions = {},
): BootstrapResult & {
  /** Number of clusters. */
  clusters: number;
} {
  if (typeof statistic !== 'function') throw invalid('statistic must be a function');
  const { resamples, seed, level } = settings(options);
  const cl = buildClusters(groups, options.strata);
  const n = groups.length;
  const idx = new Int32Array(Math.max(n, cl.maxSize));
  for (let i = 0; i < n; i++) idx[i] = i;
  const value = statistic(idx.subarray(0, n));
  const rand = seededRandom(seed);
  const drawn = new Int32Array(cl.members.length);
  const stats = new Float64Array(resamples);
  for (let b = 0; b < resamples; b++) {
    const k = drawClusters(cl, rand, drawn);
    let len = 0;
    for (let a = 0; a < k; a++) {
      const m = cl.members[drawn[a] as number] as Int32Array;
      idx.set(m, len);
      len += m.length;
    }
    stats[b] = statistic(idx.subarray(0, len));
  }
  return { value, ci95: percentile(stats, level), clusters: cl.members.length };
}

/** A value with its percentile bootstrap interval. */
export interface IntervalEstimate {
  /** The statistic on the data as observed. */
  value: number;
  /** Percentile interval [low, high] at the level asked (0.95 by default). */
  ci95: [number, number];
}

/** Result of {@link bestBlockBootstrap}. */
export interface BestBlockBootstrap {
  /** Index (into the blocks given) of the observed best block (the first one on ties). */
  block: number;
  /** Accuracy of the best block, re-selected in every resample (the interval is of the maximum, selection included). */
  accuracy: IntervalEstimate;
  /** Depth of the best block, re-selected in every resample: the interval of the peak's depth. */
  depth: IntervalEstimate;
  /** Peak accuracy minus the first block's accuracy (how much the curve rises before its peak). */
  riseFromFirst: IntervalEstimate;
  /** Peak accuracy minus the last block's accuracy (how much it falls after its peak). */
  riseFromLast: IntervalEstimate;
  /** Per block, the share of resamples in which it is the best. */
  peakShare: number[];
  /** Number of clusters resampled. */
  clusters: number;
  /** Number of resamples. */
  resamples: number;
}

interface BlockCounts {
  nBlocks: number;
  /** counts[c nBlocks + b]: correct samples of cluster c at block b. */
  counts: Float64Array;
  /** Samples per cluster. */
  sizes: Float64Array;
}

function blockCounts(correctByBlock: readonly Uint8Array[], cl: Clusters, n: number, name: string): BlockCounts {
  if (!Array.isArray(correctByBlock) || correctByBlock.length === 0) throw invalid(`${name} must hold one correctness array per block`);
  const nBlocks = correctByBlock.length;
  correctByBlock.forEach((c, b) => {
    if (!(c instanceof Uint8Array)) throw invalid(`${name}[${b}] must be a Uint8Array of 0/1 per sample`);
    if (c.length !== n) throw invalid(`${name}[${b}] has ${c.length} samples but groups has ${n}`);
  });
  const counts = new Float64Array(cl.members.length * nBlocks);
  const sizes = new Float64Array(cl.members.length);
  cl.members.forEach((m, c) => {
    sizes[c] = m.length;
    for (let b = 0; b < nBlocks; b++) {
      const cb = correctByBlock[b] as Uint8Array;
      let s = 0;
      for (const i of m) s += cb[i] ? 1 : 0;
      counts[c * nBlocks + b] = s;
    }
  });
  return { nBlocks, counts, sizes };
}

/** Accuracies per block of the clusters drawn (`drawn[0..k)`) into `acc`; returns the best block. */
function accuracies(bc: BlockCounts, drawn: Int32Array, k: number, acc: Float64Array): number {
  acc.fill(0);
  let total = 0;
  const B = bc.nBlocks;
  for (let a = 0; a < k; a++) {
    const c = drawn[a] as number;
    total += bc.sizes[c] as number;
    const off = c * B;
    for (let b = 0; b < B; b++) acc[b] = (acc[b] as number) + (bc.counts[off + b] as number);
  }
  let best = 0;
  for (let b = 0; b < B; b++) {
    acc[b] = (acc[b] as number) / total;
    if ((acc[b] as number) > (acc[best] as number)) best = b;
  }
  return best;
}

/**
 * The best block under a cluster bootstrap: from per-block, per-sample correctness (1 = the
 * held-out prediction was right), every resample draws clusters, computes every block's
 * accuracy on them, and re-selects the best block there. The intervals therefore include the
 * uncertainty of which block is best: of the best accuracy, of the peak depth, and of the rise
 * of the accuracy curve on each side of the peak (peak minus first block, peak minus last
 * block; both > 0 with intervals above 0 make an interior peak).
 *
 * @param correctByBlock per block, one 0/1 per sample (e.g. nearest-centroid held-out correctness at each block)
 * @param groups one cluster key per sample
 * @param depths depth of each block, in [0, 1]
 * @throws EmosteerError INVALID_ARGUMENT for mismatched lengths or bad options
 */
export function bestBlockBootstrap(
  correctByBlock: readonly Uint8Array[],
  groups: readonly (string | number)[],
  depths: readonly number[],
  options: ClusterBootstrapOptions = {},
): BestBlockBootstrap {
  const { resamples, seed, level } = settings(options);
  const cl = buildClusters(groups, options.strata);
  const bc = blockCounts(correctByBlock, cl, groups.length, 'correctByBlock');
  if (!Array.isArray(depths) || depths.length !== bc.nBlocks || depths.some((d) => typeof d !== 'number' || !Number.isFinite(d))) {
    throw invalid(`depths must hold one finite depth per block (${bc.nBlocks})`);
  }
  const B = bc.nBlocks;
  const acc = new Float64Array(B);
  const drawn = new Int32Array(cl.members.length);
  for (let c = 0; c < cl.members.length; c++) drawn[c] = c;
  const best0 = accuracies(bc, drawn, cl.members.length, acc);
  const observed = { acc: acc[best0] as number, depth: depths[best0] as number, first: (acc[best0] as number) - (acc[0] as number), last: (acc[best0] as number) - (acc[B - 1] as number) };
  const rand = seededRandom(seed);
  const accs = new Float64Array(resamples);
  const deps = new Float64Array(resamples);
  const firsts = new Float64Array(resamples);
  const lasts = new Float64Array(resamples);
  const share = new Float64Array(B);
  for (let r = 0; r < resamples; r++) {
    const k = drawClusters(cl, rand, drawn);
    const best = accuracies(bc, drawn, k, acc);
    accs[r] = acc[best] as number;
    deps[r] = depths[best] as number;
    firsts[r] = (acc[best] as number) - (acc[0] as number);
    lasts[r] = (acc[best] as number) - (acc[B - 1] as number);
    share[best] = (share[best] as number) + 1;
  }
  return {
    block: best0,
    accuracy: { value: observed.acc, ci95: percentile(accs, level) },
    depth: { value: observed.depth, ci95: percentile(deps, level) },
    riseFromFirst: { value: observed.first, ci95: percentile(firsts, level) },
    riseFromLast: { value: observed.last, ci95: percentile(lasts, level) },
    peakShare: Array.from(share, (s) => s / resamples),
    clusters: cl.members.length,
    resamples,
  };
}

/** One method's input to {@link compareDecodability}. */
export interface DecodabilityInput {
  /** Per block, one 0/1 per sample: held-out correctness. */
  correctByBlock: readonly Uint8Array[];
  /** One cluster key per sample. */
  groups: readonly (string | number)[];
  /** One label per sample, to resample clusters within strata (see {@link ClusterBootstrapOptions.strata}). */
  strata?: ArrayLike<number | string>;
}

/** Result of {@link compareDecodability}. */
export interface DecodabilityComparison {
  /** Best-block accuracy of a (as observed). */
  a: number;
  /** Best-block accuracy of b (as observed). */
  b: number;
  /** Index (into a's blocks) of a's observed best block. */
  blockA: number;
  /** Index (into b's blocks) of b's observed best block. */
  blockB: number;
  /** a - b, with the percentile interval of the difference of the re-selected maxima. */
  difference: IntervalEstimate;
  /**
   * Two-sided bootstrap p-value of "no difference": 2 min(share of resamples with a - b <= 0,
   * share with a - b >= 0), at most 1. Coarse (resolution 2 / resamples); read the interval first.
   */
  p: number;
  /** Number of resamples. */
  resamples: number;
}

/**
 * Compares the decodability of two methods (e.g. generation vs comprehension on one model,
 * both read with the same classifier, folds and classes): the difference of their best-block
 * accuracies, each best block re-selected in every resample, clusters resampled independently
 * in each method (the two sets hold different stimuli). Accuracies are comparable only when
 * chance is the same (same classes): check that before.
 *
 * @throws EmosteerError INVALID_ARGUMENT as {@link bestBlockBootstrap}
 */
export function compareDecodability(a: DecodabilityInput, b: DecodabilityInput, options: Omit<ClusterBootstrapOptions, 'strata'> = {}): DecodabilityComparison {
  const { resamples, seed, level } = settings(options);
  const ca = buildClusters(a.groups, a.strata);
  const cb = buildClusters(b.groups, b.strata);
  const ba = blockCounts(a.correctByBlock, ca, a.groups.length, 'a.correctByBlock');
  const bb = blockCounts(b.correctByBlock, cb, b.groups.length, 'b.correctByBlock');
  const accA = new Float64Array(ba.nBlocks);
  const accB = new Float64Array(bb.nBlocks);
  const da = Int32Array.from(ca.members.keys());
  const db = Int32Array.from(cb.members.keys());
  const blockA = accuracies(ba, da, da.length, accA);
  const blockB = accuracies(bb, db, db.length, accB);
  const obsA = accA[blockA] as number;
  const obsB = accB[blockB] as number;
  const randA = seededRandom(seed);
  const randB = seededRandom(seed + 0x9e3779b9);
  const diffs = new Float64Array(resamples);
  let le = 0;
  let ge = 0;
  for (let r = 0; r < resamples; r++) {
    const x = accA[accuracies(ba, da, drawClusters(ca, randA, da), accA)] as number;
    const y = accB[accuracies(bb, db, drawClusters(cb, randB, db), accB)] as number;
    const d = x - y;
    diffs[r] = d;
    if (d <= 0) le++;
    if (d >= 0) ge++;
  }
  return {
    a: obsA,
    b: obsB,
    blockA,
    blockB,
    difference: { value: obsA - obsB, ci95: percentile(diffs, level) },
    p: Math.min(1, (2 * Math.min(le, ge)) / resamples),
    resamples,
  };
}
