/**
 * From per-token numbers grouped by chunk to the figures of a quality table, each with a 95%
 * percentile-bootstrap interval that resamples whole chunks (tokens of one chunk share their
 * context, so they are not independent draws).
 */
import { bootstrapCI, type BootstrapOptions } from '../evaluate/statistics.js';

/** A figure with its 95% bootstrap interval over chunks. */
export interface Estimate {
  /** The figure on all chunks. */
  value: number;
  /** 95% percentile-bootstrap interval, resampling chunks with replacement. */
  ci95: [number, number];
}

/** Per-token arrays of one run, one entry per chunk (all chunks score the same count). */
export interface ChunkSeries {
  /** log p(next token) of this run, per chunk. */
  logProbs: Float32Array[];
}

/** The comparison arrays of a candidate run, one entry per chunk. */
export interface ComparisonSeries extends ChunkSeries {
  /** log p_ref(next token). */
  referenceLogProbs: Float32Array[];
  /** KL(reference || candidate) per scored token, per chunk (nats). */
  kld: Float32Array[];
  /** p_candidate - p_reference of the actual next token, per scored token, per chunk. */
  deltaP: Float32Array[];
  /** p_candidate - p_reference of the reference's top token, per scored token, per chunk. */
  deltaPTop: Float32Array[];
  /** 1 where both models' most probable token agree, per scored token, per chunk. */
  sameTop: Uint8Array[];
}

/** KL-divergence figures of a candidate (nats per token). */
export interface KldSummary {
  /** Mean over scored tokens. */
  mean: Estimate;
  /** Median. */
  median: Estimate;
  /** 99th percentile. */
  p99: Estimate;
  /** 99.9th percentile. */
  p999: Estimate;
  /** Largest value (no interval: a maximum has no useful bootstrap). */
  max: number;
}

/** What {@link summarizeCandidate} gives. */
export interface CandidateSummary {
  /** exp(mean negative log-likelihood). */
  perplexity: Estimate;
  /** PPL(candidate) / PPL(reference), paired per chunk. */
  perplexityRatio: Estimate;
  /** KL(reference || candidate). */
  kld: KldSummary;
  /** RMS of p(next token) - p_ref(next token), as a fraction (llama-perplexity's "RMS Δp"). */
  rmsDeltaP: Estimate;
  /** RMS of p(t) - p_ref(t) for the reference's most probable token t, as a fraction. */
  rmsDeltaPTop: Estimate;
  /** Percentage of tokens whose most probable next token is the reference's. */
  sameTopPercent: Estimate;
}

/** Sum of the values of the chunks in `idx`, and how many values they hold. */
function pooledSum(series: ArrayLike<number>[], idx: Int32Array, f: (v: number) => number = (v) => v): [number, number] {
  let s = 0;
  let n = 0;
  for (const i of idx) {
    const a = series[i]!;
    for (let k = 0; k < a.length; k++) s += f(a[k]!);
    n += a.length;
  }
  return [s, n];
}

/** Type-7 quantile of the pooled values of the chunks in `idx` (q = 1: the maximum). */
function pooledQuantile(series: ArrayLike<number>[], idx: Int32Array, q: number): number {
  let n = 0;
  for (const i of idx) n += series[i]!.length;
  const all = new Float64Array(n);
  let k = 0;
  for (const i of idx) {
    const a = series[i]!;
    for (let j = 0; j < a.length; j++) all[k++] = a[j]!;
  }
  all.sort();
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, n - 1);
  return all[lo]! + (h - lo) * (all[hi]! - all[lo]!);
}

/** exp(-mean log p) with its interval. */
export function perplexityEstimate(s: ChunkSeries, options: BootstrapOptions = {}): Estimate {
  return bootstrapCI(s.logProbs.length, (idx) => {
    const [sum, n] = pooledSum(s.logProbs, idx);
    return Math.exp(-sum / n);
  }, options);
}

/** Every figure of a candidate compared with the reference, with intervals over chunks. */
export function summarizeCandidate(s: ComparisonSeries, options: BootstrapOptions = {}): CandidateSummary {
  const n = s.kld.length;
  const ci = (stat: (idx: Int32Array) => number) => bootstrapCI(n, stat, options);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  return {
    perplexity: perplexityEstimate(s, options),
    perplexityRatio: ci((idx) => {
      const [c, m] = pooledSum(s.logProbs, idx);
      const [r] = pooledSum(s.referenceLogProbs, idx);
      return Math.exp((r - c) / m);
    }),
    kld: {
      mean: ci((idx) => { const [sum, m] = pooledSum(s.kld, idx); return sum / m; }),
      median: ci((idx) => pooledQuantile(s.kld, idx, 0.5)),
      p99: ci((idx) => pooledQuantile(s.kld, idx, 0.99)),
      p999: ci((idx) => pooledQuantile(s.kld, idx, 0.999)),
      max: pooledQuantile(s.kld, all, 1),
    },
    rmsDeltaP: ci((idx) => { const [sum, m] = pooledSum(s.deltaP, idx, (v) => v * v); return Math.sqrt(sum / m); }),
    rmsDeltaPTop: ci((idx) => { const [sum, m] = pooledSum(s.deltaPTop, idx, (v) => v * v); return Math.sqrt(sum / m); }),
    sameTopPercent: ci((idx) => { const [sum, m] = pooledSum(s.sameTop, idx); return (100 * sum) / m; }),
  };
}
