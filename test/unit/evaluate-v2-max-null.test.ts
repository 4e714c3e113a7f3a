// The permutation null of the best block (study v2, issue 19): the maximum over blocks of the
// cross-validated nearest-centroid accuracy under permuted labels.
import { describe, expect, it } from 'vitest';
import { groupedFolds } from '../../lib/evaluate/evaluate.js';
import { kFoldIndices } from '../../lib/evaluate/folds.js';
import { FoldGram, groupPermutations, maxOverBlocksNull } from '../../lib/evaluate/max-null.js';
import { nearestCentroidCorrect } from '../../lib/evaluate/nearest-centroid.js';
import { encodeLabels } from '../../lib/evaluate/samples.js';
import { seededRandom } from '../../lib/evaluate/statistics.js';

function gaussian(seed: number): () => number {
  const u = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/**
 * `blocks` blocks of samples around a shared offset (anisotropic), `classes` x `perClass`
 * samples; the blocks in `signal` carry class means of spread `spread`, the others none.
 */
function blocksOf(opts: { blocks: number; classes: number; perClass: number; d: number; signal?: number[]; spread?: number; seed: number }) {
  const g = gaussian(opts.seed);
  const n = opts.classes * opts.perClass;
  const labels = Array.from({ length: n }, (_, i) => i % opts.classes);
  const perBlock: Float32Array[][] = [];
  for (let b = 0; b < opts.blocks; b++) {
    const offset = Array.from({ length: opts.d }, () => 3 * g());
    const on = opts.signal?.includes(b) ? opts.spread ?? 1 : 0;
    const means = Array.from({ length: opts.classes }, () => Array.from({ length: opts.d }, () => on * g()));
    perBlock.push(labels.map((c) => Float32Array.from(offset, (o, j) => o + means[c]![j]! + g())));
  }
  return { perBlock, labels };
}

describe('FoldGram: nearest centroid from inner products', () => {
  it('decides exactly as nearestCentroidCorrect, centred and not, on random and structured data', () => {
    for (const seed of [1, 2, 3]) {
      const { perBlock, labels } = blocksOf({ blocks: 2, classes: 5, perClass: 9, d: 40, signal: [1], spread: 0.4, seed });
      const folds = kFoldIndices(labels, 4, seed);
      const enc = encodeLabels(labels);
      const foldOf = new Int32Array(labels.length);
      folds.forEach((f, k) => { for (const i of f) foldOf[i] = k; });
      for (const X of perBlock) {
        for (const center of [true, false]) {
          const gram = new FoldGram(X, foldOf, folds.length, center);
          expect(Array.from(gram.correct(enc.y, enc.classes.length))).toEqual(Array.from(nearestCentroidCorrect(X, labels, folds, 'cosine', { center })));
        }
      }
    }
  });
});

describe('groupPermutations', () => {
  it('keeps class sizes, moves whole groups, and stays within strata', () => {
    const y = Int32Array.from([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
    const groups = ['a', 'a', 'b', 'c', 'd', 'd', 'e', 'f', 'g', 'g', 'h', 'i'];
    const strata = ['x', 'x', 'x', 'x', 'x', 'x', 'x', 'x', 'n', 'n', 'n', 'n'];
    const perms = groupPermutations(y, 100, 3, groups, strata);
    let moved = 0;
    for (const p of perms) {
      expect([...p].sort()).toEqual([...y].sort());
      expect(p[0]).toBe(p[1]); // group a
      expect(p[4]).toBe(p[5]); // group d
      expect(Array.from(p.slice(8))).toEqual([2, 2, 2, 2]); // stratum n holds one class
      if (p[0] !== 0) moved++;
    }
    expect(moved).toBeGreaterThan(20); // the pair groups a and d do swap
    expect(() => groupPermutations(y, 1, 0, ['a', 'a', 'a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'c', 'c'])).toThrow(/different labels/);
  });
});

describe('maxOverBlocksNull', () => {
  it('no signal anywhere: the null max sits above one-block chance and the p-value is not small', () => {
    const { perBlock, labels } = blocksOf({ blocks: 12, classes: 6, perClass: 10, d: 24, seed: 4 });
    const folds = kFoldIndices(labels, 5, 0);
    const r = maxOverBlocksNull(perBlock, labels, folds, { permutations: 200, seed: 1 });
    expect(r.observed).toHaveLength(12);
    expect(r.permutations).toBe(200);
    expect(r.distribution).toHaveLength(200);
    // the best of 12 blocks is well above chance (1/6) under the null
    expect(r.null.mean).toBeGreaterThan(1 / 6 + 0.03);
    expect(r.null.p95).toBeGreaterThanOrEqual(r.null.p50);
    expect(r.null.p99).toBeGreaterThanOrEqual(r.null.p95);
    expect(r.null.max).toBeGreaterThanOrEqual(r.null.p99);
    expect(r.observedMax).toBe(Math.max(...r.observed));
    expect(r.p).toBeGreaterThan(0.05);
    // deterministic for a seed
    expect(maxOverBlocksNull(perBlock, labels, folds, { permutations: 200, seed: 1 }).p).toBe(r.p);
  });

  it('a planted signal in one block: p = 1 / (1 + permutations), observed block found', () => {
    const { perBlock, labels } = blocksOf({ blocks: 10, classes: 6, perClass: 10, d: 24, signal: [6], spread: 1, seed: 5 });
    const folds = kFoldIndices(labels, 5, 0);
    const r = maxOverBlocksNull(perBlock, labels, folds, { permutations: 200, seed: 2 });
    expect(r.observedBlock).toBe(6);
    expect(r.observedMax).toBeGreaterThan(0.9);
    expect(r.p).toBeCloseTo(1 / 201, 12);
    expect(r.null.p95).toBeLessThan(0.45);
  });

  it('the p-value is roughly uniform under the null (calibration over 30 data sets)', () => {
    const ps: number[] = [];
    for (let s = 0; s < 30; s++) {
      const { perBlock, labels } = blocksOf({ blocks: 4, classes: 3, perClass: 8, d: 8, seed: 100 + s });
      const folds = kFoldIndices(labels, 4, s);
      ps.push(maxOverBlocksNull(perBlock, labels, folds, { permutations: 100, seed: s }).p);
    }
    const below = (t: number) => ps.filter((p) => p <= t).length / ps.length;
    expect(below(0.05)).toBeLessThanOrEqual(0.2);
    expect(below(0.5)).toBeGreaterThan(0.2);
    expect(below(0.5)).toBeLessThan(0.8);
  });

  it('respects groups: identical stimuli (grouped folds) move together', () => {
    const { perBlock, labels } = blocksOf({ blocks: 3, classes: 3, perClass: 8, d: 12, signal: [1], spread: 1, seed: 6 });
    const groups = labels.map((c, i) => `${c}:${Math.floor(i / 6)}`); // pairs of samples share a prompt
    const folds = groupedFolds(labels, groups, 4, 0);
    const r = maxOverBlocksNull(perBlock, labels, folds, { permutations: 50, seed: 3, groups });
    expect(r.observedBlock).toBe(1);
    expect(r.p).toBeLessThan(0.05);
  });

  it('rejects bad input', () => {
    const { perBlock, labels } = blocksOf({ blocks: 2, classes: 2, perClass: 4, d: 4, seed: 7 });
    const folds = kFoldIndices(labels, 2, 0);
    expect(() => maxOverBlocksNull([], labels, folds)).toThrow(/at least one block/);
    expect(() => maxOverBlocksNull(perBlock, labels, folds, { permutations: 0 })).toThrow(/permutations/);
    expect(() => maxOverBlocksNull([perBlock[0]!, perBlock[1]!.slice(1)], labels, folds)).toThrow(/samples/);
  });

  it('runs the study size (200 permutations x 30 blocks x 210 samples x 576 dims) in well under a minute', () => {
    const { perBlock, labels } = blocksOf({ blocks: 30, classes: 21, perClass: 10, d: 576, signal: [20], spread: 0.3, seed: 8 });
    const folds = kFoldIndices(labels, 5, 0);
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = maxOverBlocksNull(perBlock, labels, folds, { permutations: 200, seed: 0 });
    const cpu = process.cpuUsage(c0);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`maxOverBlocksNull 200 x 30 x 210 x 576: ${seconds.toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU; null p95 ${r.null.p95.toFixed(3)} (chance ${(1 / 21).toFixed(3)}), observed max ${r.observedMax.toFixed(3)} at block ${r.observedBlock}`);
    expect(r.observedBlock).toBe(20);
    expect(seconds).toBeLessThan(30);
  }, 120_000);
});
