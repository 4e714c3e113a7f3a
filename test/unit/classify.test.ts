import { describe, expect, it } from 'vitest';
import { EmosteerError } from '../../lib/errors.js';
import { fisherRatio, silhouette } from '../../lib/evaluate/cluster-quality.js';
import { effectiveFoldCount, kFoldIndices } from '../../lib/evaluate/folds.js';
import { averageLinkage, pca2, rdm, rsaSpearman } from '../../lib/evaluate/geometry.js';
import { linearProbeAccuracy } from '../../lib/evaluate/linear-probe.js';
import { nearestCentroidAccuracy, nearestCentroidCorrect, shuffledLabelNull } from '../../lib/evaluate/nearest-centroid.js';
import { seededRandom } from '../../lib/evaluate/statistics.js';

// Reference values marked "scipy" / "scikit-learn" were computed with scipy 1.17.1 and
// scikit-learn 1.9.1; the others are worked out by hand next to the assertion.

/** Standard normal draws from a seeded uniform generator (Box-Muller). */
function gaussian(seed: number): () => number {
  const u = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/**
 * `classes` Gaussian clusters of `perClass` samples in `dim` dimensions: class means drawn with
 * standard deviation `spread` around a common offset, unit noise. spread = 0: one distribution.
 */
function clusters(classes: number, perClass: number, dim: number, spread: number, seed: number) {
  const g = gaussian(seed);
  const offset = Array.from({ length: dim }, () => g() * 2);
  const means = Array.from({ length: classes }, () => offset.map((o) => o + g() * spread));
  const X: Float32Array[] = [];
  const labels: number[] = [];
  for (let i = 0; i < classes * perClass; i++) {
    const c = i % classes;
    X.push(Float32Array.from(means[c] as number[], (m) => m + g()));
    labels.push(c);
  }
  return { X, labels };
}

const f32 = (rows: number[][]) => rows.map((r) => Float32Array.from(r));

describe('kFoldIndices', () => {
  it('stratified folds: every sample exactly once, every class in every fold and training split', () => {
    const labels = Array.from({ length: 252 }, (_, i) => i % 21);
    const folds = kFoldIndices(labels, 5, 0);
    expect(folds).toHaveLength(5);
    const seen = new Array(labels.length).fill(0);
    for (const fold of folds) for (const i of fold) seen[i]++;
    expect(seen.every((c) => c === 1)).toBe(true);
    const sizes = folds.map((f) => f.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    for (let f = 0; f < folds.length; f++) {
      const inFold = new Set((folds[f] as number[]).map((i) => labels[i]));
      expect(inFold.size).toBe(21);
      const training = new Set(folds.flatMap((fold, g) => (g === f ? [] : fold)).map((i) => labels[i]));
      expect(training.size).toBe(21);
    }
  });

  it('is deterministic for a seed and changes with it', () => {
    const labels = Array.from({ length: 60 }, (_, i) => i % 3);
    expect(kFoldIndices(labels, 4, 7)).toEqual(kFoldIndices(labels, 4, 7));
    expect(kFoldIndices(labels, 4, 8)).not.toEqual(kFoldIndices(labels, 4, 7));
  });

  it('uses as many folds as the smallest class allows', () => {
    // class 2 has only 3 samples: 5 folds requested, 3 made
    const labels = [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2];
    expect(effectiveFoldCount(labels, 5)).toBe(3);
    expect(effectiveFoldCount(labels, 2)).toBe(2);
    const folds = kFoldIndices(labels, 5, 1);
    expect(folds).toHaveLength(3);
    for (const fold of folds) expect(new Set(fold.map((i) => labels[i])).size).toBe(3);
    expect(folds.flat().sort((a, b) => a - b)).toEqual(labels.map((_, i) => i));
  });

  it('rejects a class with a single sample and k < 2', () => {
    expect(() => kFoldIndices([0, 0, 1], 2, 0)).toThrow(/single sample/);
    expect(() => kFoldIndices([0, 0, 1, 1], 1, 0)).toThrow(EmosteerError);
  });
});

describe('nearest centroid and linear probe', () => {
  it('well-separated clusters: accuracy 1 for both metrics and for the probe', () => {
    const { X, labels } = clusters(6, 20, 32, 4, 1);
    const folds = kFoldIndices(labels, 5, 0);
    expect(nearestCentroidAccuracy(X, labels, folds)).toBe(1);
    expect(nearestCentroidAccuracy(X, labels, folds, 'euclidean')).toBe(1);
    const probe = linearProbeAccuracy(X, labels, folds);
    expect(probe.accuracy).toBe(1);
    expect(Array.from(probe.correct).every((c) => c === 1)).toBe(true);
  });

  it('identical distributions: accuracy near chance (1/6)', () => {
    const { X, labels } = clusters(6, 20, 32, 0, 2);
    const folds = kFoldIndices(labels, 5, 0);
    // 120 held-out predictions at chance 1/6: sd ~0.034, so anything under 0.33 is chance level
    const nc = nearestCentroidAccuracy(X, labels, folds);
    expect(nc).toBeLessThan(0.33);
    expect(nearestCentroidAccuracy(X, labels, folds, 'euclidean')).toBeLessThan(0.33);
    expect(linearProbeAccuracy(X, labels, folds).accuracy).toBeLessThan(0.33);
  });

  it('per-sample correctness averages to the accuracy; labels need not be 0..C-1', () => {
    const { X, labels } = clusters(3, 10, 8, 1.2, 3);
    const named = labels.map((l) => l * 10 + 5); // classes 5, 15, 25
    const folds = kFoldIndices(named, 5, 2);
    const correct = nearestCentroidCorrect(X, named, folds);
    expect(correct).toHaveLength(X.length);
    const acc = correct.reduce((s, c) => s + c, 0) / correct.length;
    expect(nearestCentroidAccuracy(X, named, folds)).toBeCloseTo(acc, 12);
    expect(nearestCentroidAccuracy(X, labels, folds)).toBeCloseTo(acc, 12);
    const probe = linearProbeAccuracy(X, named, folds);
    expect(probe.accuracy).toBeCloseTo(probe.correct.reduce((s, c) => s + c, 0) / X.length, 12);
  });

  it('nearest centroid predicts the closest class mean (hand-made 2-D case)', () => {
    // class 0 around (1, 0), class 1 around (0, 1); the last sample of class 0 points to (0.2, 1)
    // and is closer to class 1's centroid in both metrics, so it is the only error.
    const X = f32([
      [1, 0.1],
      [1, -0.1],
      [0.9, 0],
      [0.2, 1],
      [0.1, 1],
      [-0.1, 1],
      [0, 0.9],
      [0, 1.1],
    ]);
    const labels = [0, 0, 0, 0, 1, 1, 1, 1];
    const folds = [
      [0, 2, 4, 6],
      [1, 3, 5, 7],
    ];
    expect(Array.from(nearestCentroidCorrect(X, labels, folds))).toEqual([1, 1, 1, 0, 1, 1, 1, 1]);
    expect(nearestCentroidAccuracy(X, labels, folds, 'euclidean')).toBe(7 / 8);
  });

  it('linear probe: deterministic at the real size (252 x 640 x 21 classes)', () => {
    // Speed is measured by the benchmarks, not asserted here.
    const { X, labels } = clusters(21, 12, 640, 0.35, 4);
    const folds = kFoldIndices(labels, 5, 0);
    const a = linearProbeAccuracy(X, labels, folds);
    const b = linearProbeAccuracy(X, labels, folds, { seed: 99 });
    expect(Array.from(a.correct)).toEqual(Array.from(b.correct));
    expect(a.accuracy).toBeGreaterThan(0.9);
  });

  it('linear probe: a stronger L2 penalty does not break it, constant features are harmless', () => {
    const { X, labels } = clusters(4, 15, 10, 3, 5);
    for (const row of X) row[0] = 7; // constant feature
    const folds = kFoldIndices(labels, 3, 0);
    expect(linearProbeAccuracy(X, labels, folds, { l2: 1 }).accuracy).toBeGreaterThan(0.9);
    expect(linearProbeAccuracy(X, labels, folds, { l2: 1e-4, epochs: 50 }).accuracy).toBeGreaterThan(0.9);
  });

  it('rejects ragged rows, non-partition folds and mismatched labels', () => {
    const X = f32([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]);
    const labels = [0, 0, 1, 1];
    expect(() => nearestCentroidAccuracy([...X.slice(0, 3), new Float32Array(3)], labels, [[0, 2], [1, 3]])).toThrow(/width/);
    expect(() => nearestCentroidAccuracy(X, labels, [[0, 2], [1]])).toThrow(/no fold/);
    expect(() => nearestCentroidAccuracy(X, labels, [[0, 2], [1, 3, 2]])).toThrow(/more than one fold/);
    expect(() => nearestCentroidAccuracy(X, [0, 1, 1], [[0, 2], [1, 3]])).toThrow(/labels/);
    expect(() => linearProbeAccuracy(X, labels, [[0, 2], [1, 3]], { l2: -1 })).toThrow(/l2/);
    expect(() => linearProbeAccuracy(X, labels, [[0, 2], [1, 3]], { l2: -1 })).toThrow(EmosteerError);
  });
});

describe('shuffledLabelNull', () => {
  it('mean is near chance even for well-separated clusters, and p95 stays below the real accuracy', () => {
    const { X, labels } = clusters(6, 20, 32, 4, 1);
    const folds = kFoldIndices(labels, 5, 0);
    const nullDist = shuffledLabelNull(X, labels, folds, 20, 3);
    expect(nullDist.mean).toBeGreaterThan(0.05);
    expect(nullDist.mean).toBeLessThan(0.3);
    expect(nullDist.p95).toBeGreaterThanOrEqual(nullDist.mean);
    expect(nullDist.p95).toBeLessThan(0.4);
    expect(shuffledLabelNull(X, labels, folds, 20, 3)).toEqual(nullDist);
  });
});

describe('silhouette and Fisher ratio', () => {
  // Two classes in 2-D: class 0 = (0,0), (2,0); class 1 = (0,4), (2,4).
  const X = f32([
    [0, 0],
    [2, 0],
    [0, 4],
    [2, 4],
  ]);
  const labels = [0, 0, 1, 1];

  it('silhouette on a hand-computed 2-D example (Euclidean)', () => {
    // For every point, a = 2 (its partner), b = mean(4, sqrt(20)) = (4 + sqrt(20)) / 2,
    // s = (b - a) / b = 1 - 4 / (4 + sqrt(20)) ~ 0.5279
    expect(silhouette(X, labels, 'euclidean')).toBeCloseTo(1 - 4 / (4 + Math.sqrt(20)), 6);
  });

  it('silhouette matches scikit-learn and changes sign when the labels are mixed', () => {
    const Y = f32([
      [1.0, 0.2, 0.1],
      [0.9, 0.3, 0.0],
      [1.1, 0.1, 0.2],
      [0.1, 1.0, 0.3],
      [0.0, 0.8, 0.1],
      [0.2, 1.2, 0.0],
      [0.3, 0.2, 1.0],
      [0.1, 0.4, 0.9],
    ]);
    // values from sklearn.metrics.silhouette_score(Y, labels, metric='cosine' / 'euclidean')
    expect(silhouette(Y, [0, 0, 0, 1, 1, 1, 2, 2])).toBeCloseTo(0.9487975387074105, 5);
    expect(silhouette(Y, [0, 0, 0, 1, 1, 1, 2, 2], 'euclidean')).toBeCloseTo(0.7231531969341902, 5);
    const mixed = silhouette(Y, [0, 1, 2, 0, 1, 2, 0, 1]);
    expect(mixed).toBeLessThan(0);
    expect(mixed).toBeCloseTo(-0.40874866919732034, 5);
  });

  it('silhouette needs two classes', () => {
    expect(() => silhouette(X, [0, 0, 0, 0])).toThrow(/two classes/);
  });

  it('Fisher ratio on the same hand-computed example', () => {
    // class means (1, 0) and (1, 4), grand mean (1, 2)
    // trace S_between = 2 * |(0, -2)|^2 + 2 * |(0, 2)|^2 = 16
    // trace S_within  = 4 points each at distance 1 from their class mean = 4
    expect(fisherRatio(X, labels)).toBeCloseTo(4, 12);
    // moving class 1 twice as far (y = 8) quadruples between, within unchanged
    const far = f32([
      [0, 0],
      [2, 0],
      [0, 8],
      [2, 8],
    ]);
    expect(fisherRatio(far, labels)).toBeCloseTo(16, 12);
    // well-separated clusters score far higher than identical distributions
    const sep = clusters(4, 20, 16, 4, 6);
    const same = clusters(4, 20, 16, 0, 6);
    expect(fisherRatio(sep.X, sep.labels)).toBeGreaterThan(5);
    expect(fisherRatio(same.X, same.labels)).toBeLessThan(0.2);
  });
});

describe('pca2', () => {
  it('points on a line: first component explains everything', () => {
    const pts = f32(Array.from({ length: 7 }, (_, i) => [1 + 2 * i, -3 + i, 0.5 * i, 4]));
    const { coords, explained } = pca2(pts);
    expect(explained[0]).toBeCloseTo(1, 6);
    expect(coords).toHaveLength(7);
    for (const [, y] of coords) expect(Math.abs(y)).toBeLessThan(1e-4);
    // evenly spaced on the line: consecutive first coordinates differ by |(2, 1, 0.5)| = 2.29...
    const step = Math.hypot(2, 1, 0.5);
    for (let i = 1; i < 7; i++) expect(Math.abs((coords[i] as number[])[0]! - (coords[i - 1] as number[])[0]!)).toBeCloseTo(step, 4);
  });

  it('matches scikit-learn on a small matrix (up to sign)', () => {
    const P = f32([
      [2, 0, 1],
      [0, 1, 3],
      [1, 1, 1],
      [4, 2, 0],
      [3, 3, 2],
    ]);
    const { coords, explained } = pca2(P);
    // values from sklearn.decomposition.PCA().fit(P).explained_variance_ratio_
    expect(explained[0]).toBeCloseTo(0.70468059781094, 6);
    expect(explained[1]).toBeCloseTo(0.26447692768605413, 6);
    expect(explained[2]).toBeCloseTo(0.030842474503005896, 6);
    // abs(PCA(2).fit_transform(P))
    const ref = [
      [0.31349742, 1.34039481],
      [2.49904812, 0.68108731],
      [0.78884518, 0.56907037],
      [2.48065043, 0.39983621],
      [1.12074028, 1.62821407],
    ];
    coords.forEach(([x, y], i) => {
      expect(Math.abs(x)).toBeCloseTo(ref[i]![0]!, 5);
      expect(Math.abs(y)).toBeCloseTo(ref[i]![1]!, 5);
    });
  });
});

describe('averageLinkage', () => {
  it('merges the two closest first, with the heights of scipy average/cosine linkage', () => {
    const V = f32([
      [1.0, 0.0, 0.0, 0.2],
      [0.9, 0.1, 0.0, 0.25],
      [0.0, 1.0, 0.1, 0.0],
      [0.1, 0.8, 0.0, 0.1],
      [0.0, 0.0, 1.0, 0.5],
    ]);
    const merges = averageLinkage(V, ['A', 'B', 'C', 'D', 'E']);
    // values from scipy.cluster.hierarchy.linkage(V, method='average', metric='cosine')
    expect(merges).toHaveLength(4);
    expect(merges[0]).toMatchObject({ a: ['A'], b: ['B'] });
    expect(merges[0]!.distance).toBeCloseTo(0.008370179220081653, 6);
    expect(merges[1]).toMatchObject({ a: ['C'], b: ['D'] });
    expect(merges[1]!.distance).toBeCloseTo(0.02015510941733223, 6);
    expect(merges[2]).toMatchObject({ a: ['A', 'B'], b: ['C', 'D'] });
    expect(merges[2]!.distance).toBeCloseTo(0.8734323005479967, 6);
    expect(merges[3]).toMatchObject({ a: ['A', 'B', 'C', 'D'], b: ['E'] });
    expect(merges[3]!.distance).toBeCloseTo(0.9123083220458843, 6);
  });

  it('a single vector has no merges; names must match', () => {
    expect(averageLinkage(f32([[1, 2]]), ['x'])).toEqual([]);
    expect(() => averageLinkage(f32([[1], [2]]), ['x'])).toThrow(/names/);
  });
});

describe('rdm and rsaSpearman', () => {
  it('rdm is the condensed upper triangle of 1 - cosine', () => {
    const d = rdm(f32([
      [1, 0],
      [0, 1],
      [1, 1],
    ]));
    // pairs (0,1), (0,2), (1,2): 1 - 0, 1 - 1/sqrt(2), 1 - 1/sqrt(2)
    expect(Array.from(d)).toHaveLength(3);
    expect(d[0]).toBeCloseTo(1, 12);
    expect(d[1]).toBeCloseTo(1 - Math.SQRT1_2, 6);
    expect(d[2]).toBeCloseTo(1 - Math.SQRT1_2, 6);
  });

  it('identical sets (or rescaled vectors, or another width) give 1; unrelated sets do not', () => {
    const { X } = clusters(1, 10, 16, 0, 7);
    expect(rsaSpearman(X, X)).toBeCloseTo(1, 12);
    const scaled = X.map((v, i) => v.map((x) => x * (i + 1)));
    expect(rsaSpearman(X, scaled)).toBeCloseTo(1, 5);
    const wider = X.map((v) => Float32Array.from([...v, ...v]));
    expect(rsaSpearman(X, wider)).toBeCloseTo(1, 5);
    const other = clusters(1, 10, 16, 0, 8).X;
    expect(Math.abs(rsaSpearman(X, other))).toBeLessThan(0.6);
    expect(() => rsaSpearman(X, X.slice(0, 5))).toThrow(/same items/);
  });
});
