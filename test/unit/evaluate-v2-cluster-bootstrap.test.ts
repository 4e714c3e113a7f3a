// Cluster bootstraps (study v2, issue 19): intervals that resample clusters of stimuli (story
// templates, passages) instead of single samples, the best block re-selected in every resample,
// and the comparison of two methods' best-block accuracies.
import { describe, expect, it } from 'vitest';
import { stimulusCluster } from '../../lib/evaluate/evaluate.js';
import { bestBlockBootstrap, clusterBootstrapCI, compareDecodability } from '../../lib/evaluate/cluster-bootstrap.js';
import { bootstrapCI, seededRandom } from '../../lib/evaluate/statistics.js';
import { GENERATION_TEMPLATES, generationPrompt, neutralPrompt } from '../../lib/stimuli/index.js';

const meanOf = (x: ArrayLike<number>) => (idx: Int32Array) => {
  let s = 0;
  for (const i of idx) s += x[i]!;
  return s / idx.length;
};

/**
 * Correctness of `clusters` clusters of `size` samples each where every cluster is right or
 * wrong as a whole (cluster c right with probability p): strongly correlated within clusters.
 */
function clusteredCorrect(clusters: number, size: number, p: number, seed: number): { correct: Uint8Array; groups: string[] } {
  const r = seededRandom(seed);
  const correct = new Uint8Array(clusters * size);
  const groups: string[] = [];
  for (let c = 0; c < clusters; c++) {
    const right = r() < p ? 1 : 0;
    for (let k = 0; k < size; k++) {
      correct[c * size + k] = right;
      groups.push(`t${c}`);
    }
  }
  return { correct, groups };
}

describe('clusterBootstrapCI', () => {
  it('is wider than the per-sample bootstrap when clusters move together', () => {
    const { correct, groups } = clusteredCorrect(10, 20, 0.5, 1);
    const naive = bootstrapCI(correct.length, meanOf(correct), { resamples: 2000, seed: 1 });
    const cluster = clusterBootstrapCI(groups, meanOf(correct), { resamples: 2000, seed: 1 });
    expect(cluster.value).toBe(naive.value);
    expect(cluster.clusters).toBe(10);
    const width = (ci: [number, number]) => ci[1] - ci[0];
    // 10 independent units instead of 200: about sqrt(20) times wider
    expect(width(cluster.ci95)).toBeGreaterThan(3 * width(naive.ci95));
    expect(cluster.ci95[0]).toBeLessThanOrEqual(cluster.value);
    expect(cluster.ci95[1]).toBeGreaterThanOrEqual(cluster.value);
  });

  it('with one sample per cluster it is the ordinary bootstrap (same width)', () => {
    const r = seededRandom(2);
    const x = Float64Array.from({ length: 300 }, () => r());
    const groups = Array.from(x, (_, i) => `s${i}`);
    const a = clusterBootstrapCI(groups, meanOf(x), { resamples: 2000, seed: 3 });
    const b = bootstrapCI(x.length, meanOf(x), { resamples: 2000, seed: 4 });
    expect(a.ci95[1] - a.ci95[0]).toBeCloseTo(b.ci95[1] - b.ci95[0], 2);
  });

  it('strata keep each class share fixed: a statistic of the class mix does not move', () => {
    // clusters within two classes (like passages); class share 1/4 in every resample
    const labels = [...Array(10).fill(0), ...Array(30).fill(1)];
    const groups = labels.map((c, i) => `${c}:${Math.floor(i / 2)}`);
    const share = (idx: Int32Array) => { let s = 0; for (const i of idx) s += labels[i] === 0 ? 1 : 0; return s / idx.length; };
    const r = clusterBootstrapCI(groups, share, { resamples: 500, seed: 1, strata: labels });
    expect(r.ci95).toEqual([0.25, 0.25]);
    const free = clusterBootstrapCI(groups, share, { resamples: 500, seed: 1 });
    expect(free.ci95[1] - free.ci95[0]).toBeGreaterThan(0.1);
  });

  it('template clusters span the emotions: strata are sets of labels, resample sizes vary with cluster sizes', () => {
    const emotions = ['happy', 'sad', 'calm'];
    const samples = [
      ...emotions.flatMap((e) => Array.from({ length: 10 }, (_, i) => ({ category: e, prompt: generationPrompt(e, i, GENERATION_TEMPLATES) }))),
      ...Array.from({ length: 10 }, (_, i) => ({ category: 'neutral', prompt: neutralPrompt(i) })),
    ];
    const groups = samples.map((s) => stimulusCluster(s));
    expect(new Set(groups).size).toBe(20); // 10 templates + 10 neutral prompts
    expect(groups[0]).toBe(groups[10]); // happy #0 and sad #0 share template 0
    expect(groups[0]).toContain('{emotion}');
    const labels = samples.map((s) => ['happy', 'sad', 'calm', 'neutral'].indexOf(s.category));
    const neutralShare = (idx: Int32Array) => { let s = 0; for (const i of idx) s += labels[i] === 3 ? 1 : 0; return s / idx.length; };
    expect(clusterBootstrapCI(groups, neutralShare, { resamples: 300, seed: 2, strata: labels }).ci95).toEqual([0.25, 0.25]);
  });

  it('rejects bad input', () => {
    expect(() => clusterBootstrapCI([], () => 0)).toThrow(/groups/);
    expect(() => clusterBootstrapCI(['a'], () => 0, { resamples: 0 })).toThrow(/resamples/);
    expect(() => clusterBootstrapCI(['a', 'b'], () => 0, { strata: [1] })).toThrow(/strata/);
  });
});

/** Per-block correctness with accuracy following `curve` (block b: clusters right with probability curve[b]). */
function curveCorrect(curve: number[], clusters: number, size: number, seed: number): { correctByBlock: Uint8Array[]; groups: string[] } {
  const r = seededRandom(seed);
  const groups = Array.from({ length: clusters * size }, (_, i) => `t${Math.floor(i / size)}`);
  const correctByBlock = curve.map((p) => Uint8Array.from(groups, () => (r() < p ? 1 : 0)));
  return { correctByBlock, groups };
}

describe('bestBlockBootstrap', () => {
  it('a clear interior peak: its depth interval is tight and both rises are above 0', () => {
    const curve = [0.2, 0.3, 0.45, 0.6, 0.9, 0.6, 0.45, 0.3, 0.25];
    const { correctByBlock, groups } = curveCorrect(curve, 20, 10, 1);
    const depths = curve.map((_, b) => b / (curve.length - 1));
    const r = bestBlockBootstrap(correctByBlock, groups, depths, { resamples: 1000, seed: 1 });
    expect(r.block).toBe(4);
    expect(r.depth.value).toBe(0.5);
    expect(r.depth.ci95).toEqual([0.5, 0.5]);
    expect(r.accuracy.ci95[0]).toBeGreaterThan(0.8);
    expect(r.riseFromFirst.ci95[0]).toBeGreaterThan(0.5);
    expect(r.riseFromLast.ci95[0]).toBeGreaterThan(0.5);
    expect(r.peakShare[4]).toBeGreaterThan(0.99);
    expect(r.peakShare.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(r.clusters).toBe(20);
  });

  it('a flat curve: the peak wanders, its depth interval is wide, the rise interval reaches 0, the max is biased up', () => {
    const curve = Array(10).fill(0.5);
    const { correctByBlock, groups } = curveCorrect(curve, 20, 5, 2);
    const depths = curve.map((_, b) => b / 9);
    const r = bestBlockBootstrap(correctByBlock, groups, depths, { resamples: 1000, seed: 2 });
    expect(r.depth.ci95[1] - r.depth.ci95[0]).toBeGreaterThan(0.5);
    expect(Math.min(r.riseFromFirst.ci95[0], r.riseFromLast.ci95[0])).toBeLessThanOrEqual(0.02);
    expect(r.accuracy.value).toBeGreaterThan(0.5); // the best of 10 noisy blocks
    expect(Math.max(...r.peakShare)).toBeLessThan(0.6);
  });

  it('rejects mismatched input', () => {
    const { correctByBlock, groups } = curveCorrect([0.5, 0.5], 4, 2, 3);
    expect(() => bestBlockBootstrap(correctByBlock, groups, [0])).toThrow(/depths/);
    expect(() => bestBlockBootstrap(correctByBlock, groups.slice(1), [0, 1])).toThrow(/samples/);
    expect(() => bestBlockBootstrap([], groups, [])).toThrow(/block/);
  });
});

describe('compareDecodability', () => {
  it('finds a real difference and none where there is none', () => {
    const high = curveCorrect([0.3, 0.8, 0.4], 20, 10, 4);
    const low = curveCorrect([0.3, 0.45, 0.35], 20, 10, 5);
    const same = curveCorrect([0.3, 0.8, 0.4], 20, 10, 6);
    const d = compareDecodability(high, low, { resamples: 1000, seed: 1 });
    expect(d.difference.value).toBeCloseTo(d.a - d.b, 12);
    expect(d.difference.value).toBeGreaterThan(0.2);
    expect(d.difference.ci95[0]).toBeGreaterThan(0.1);
    expect(d.p).toBeLessThan(0.01);
    const e = compareDecodability(high, same, { resamples: 1000, seed: 1 });
    expect(e.difference.ci95[0]).toBeLessThan(0);
    expect(e.difference.ci95[1]).toBeGreaterThan(0);
    expect(e.p).toBeGreaterThan(0.05);
    // antisymmetric in its arguments
    const f = compareDecodability(low, high, { resamples: 1000, seed: 1 });
    expect(f.difference.value).toBeCloseTo(-d.difference.value, 12);
  });
});
