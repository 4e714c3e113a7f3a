// The specificity matrix's statistics on planted numbers: a diagonal matrix must test
// significant, a random one must not (p roughly uniform), shifts that every steering or every
// judged emotion shares must not count as specificity, and NaN columns are left out and said so.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../lib/evaluate/statistics.js';
import { specificityFromScores, type SpecificityScores } from '../../lib/steer/specificity.js';

const EMOTIONS = Array.from({ length: 20 }, (_, i) => `e${i}`);
const SCENARIOS = Array.from({ length: 15 }, (_, i) => `s${i}`);

function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** deltas[r][s][c] = cell(r, c) + noise * N(0, 1), seeded. */
function planted(cell: (r: number, c: number) => number, noise: number, seed: number, emotions = EMOTIONS, scenarios = SCENARIOS): SpecificityScores {
  const rand = seededRandom(seed);
  return {
    steered: emotions,
    judged: emotions,
    scenarios,
    deltas: emotions.map((_, r) => scenarios.map(() => emotions.map((_, c) => cell(r, c) + noise * gauss(rand)))),
  };
}

describe('specificityFromScores', () => {
  it('a strongly diagonal matrix gives p < 0.01, every diagonal the row max, a positive CI', () => {
    const m = specificityFromScores(planted((r, c) => (r === c ? 1 : 0), 0.3, 1), { permutations: 1000, resamples: 300 });
    expect(m.testable).toBe(true);
    expect(m.emotions).toEqual(EMOTIONS);
    expect(m.permutation.p).toBeLessThan(0.01);
    expect(m.permutation.p).toBeCloseTo(1 / 1001, 10); // no permutation reaches the observed statistic
    expect(m.rowMaxCount).toBe(20);
    expect(m.diagonal.every((d) => d.rowRank === 1 && d.columnRank === 1)).toBe(true);
    expect(m.dominance.value).toBeGreaterThan(m.permutation.null95);
    expect(m.dominance.ci95[0]).toBeGreaterThan(0);
    expect(m.matrix[3]![3]!).toBeCloseTo(1, 0);
    expect(m.z).toHaveLength(20);
  });

  it('random matrices give roughly uniform p-values (few below 0.05, mean near 0.5)', () => {
    const ps: number[] = [];
    for (let seed = 0; seed < 60; seed++) {
      ps.push(specificityFromScores(planted(() => 0, 1, 100 + seed), { permutations: 500, resamples: 0, seed }).permutation.p);
    }
    const mean = ps.reduce((a, b) => a + b, 0) / ps.length;
    expect(mean).toBeGreaterThan(0.35);
    expect(mean).toBeLessThan(0.65);
    expect(ps.filter((p) => p < 0.05).length).toBeLessThanOrEqual(8); // 3 expected
    expect(ps.filter((p) => p > 0.5).length).toBeGreaterThan(15);
  });

  it('a constant shift of every cell, of every judged column or of every steered row is not specificity', () => {
    // Every steering raises every judged emotion by 5 (with a little noise): no specificity.
    const all = specificityFromScores(planted(() => 5, 0.1, 7), { permutations: 1000, resamples: 0 });
    // Each judged emotion moved by its own amount, whatever was steered (any push makes text sad).
    const cols = specificityFromScores(planted((_r, c) => 3 * c - 10, 0.1, 8), { permutations: 1000, resamples: 0 });
    // Each steering moves every judged emotion by its own amount (some vectors push harder).
    const rows = specificityFromScores(planted((r) => 2 * r, 0.1, 9), { permutations: 1000, resamples: 0 });
    for (const m of [all, cols, rows]) {
      expect(m.permutation.p).toBeGreaterThan(0.05);
      expect(Math.abs(m.dominance.value)).toBeLessThan(m.permutation.null95 + 0.5);
      expect(m.rowMaxCount).toBeLessThan(6);
    }
    // Without z-scoring columns the column shift would have put the max of every row on e19.
    expect(cols.matrix.every((row) => row.indexOf(Math.max(...row)) === 19)).toBe(true);
  });

  it('columns on very different scales do not hide a planted diagonal (z-scored per judged column)', () => {
    const scale = (c: number) => 10 ** ((c % 5) - 2); // 0.01 .. 100
    const m = specificityFromScores(planted((r, c) => (r === c ? 1 : 0) * scale(c), 0, 3), { permutations: 1000, resamples: 0 });
    // add noise proportional to each column's scale
    const rand = seededRandom(4);
    const noisy: SpecificityScores = { ...planted(() => 0, 0, 0), deltas: EMOTIONS.map((_, r) => SCENARIOS.map(() => EMOTIONS.map((_, c) => ((r === c ? 1 : 0) + 0.3 * gauss(rand)) * scale(c)))) };
    const mn = specificityFromScores(noisy, { permutations: 1000, resamples: 0 });
    expect(m.permutation.p).toBeLessThan(0.01);
    expect(mn.permutation.p).toBeLessThan(0.01);
    expect(mn.rowMaxCount).toBeGreaterThanOrEqual(18);
  });

  it('a weak diagonal on only some rows gives partial counts and ranks', () => {
    // rows 0..4 specific, the others flat noise
    const m = specificityFromScores(planted((r, c) => (r === c && r < 5 ? 2 : 0), 0.5, 11), { permutations: 1000, resamples: 0 });
    for (let i = 0; i < 5; i++) expect(m.diagonal[i]!.isRowMax).toBe(true);
    expect(m.rowMaxCount).toBeGreaterThanOrEqual(5);
    expect(m.rowMaxCount).toBeLessThan(12);
    expect(m.diagonal[12]!.rowRank).toBeGreaterThanOrEqual(1);
    expect(m.diagonal[12]!.rowRank).toBeLessThanOrEqual(20);
  });

  it('is deterministic for a seed and changes with the seed', () => {
    const input = planted((r, c) => (r === c ? 0.2 : 0), 1, 21);
    const a = specificityFromScores(input, { permutations: 300, resamples: 50, seed: 5 });
    const b = specificityFromScores(input, { permutations: 300, resamples: 50, seed: 5 });
    const c = specificityFromScores(input, { permutations: 300, resamples: 50, seed: 6 });
    expect(b).toEqual(a);
    expect(c.permutation.nullMean).not.toBe(a.permutation.nullMean);
    expect(c.dominance.value).toBe(a.dominance.value);
  });

  it('leaves out emotions a judge cannot score (NaN) and says so', () => {
    const input = planted((r, c) => (r === c ? 1 : 0), 0.2, 31);
    // e2 and e7 judged NaN on every text (a valence judge for an emotion without valence)
    const deltas = input.deltas.map((row) => row.map((cells) => cells.map((v, c) => (c === 2 || c === 7 ? NaN : v))));
    // a few sporadic NaN deltas elsewhere (empty text): left out of the means, counted
    (deltas[0]![0]! as number[])[5] = NaN;
    const m = specificityFromScores({ ...input, deltas }, { permutations: 500, resamples: 0 });
    expect(m.emotions).toHaveLength(18);
    expect(m.emotions).not.toContain('e2');
    expect(m.leftOut.map((l) => l.emotion).sort()).toEqual(['e2', 'e7']);
    expect(m.leftOut[0]!.reason).toMatch(/cannot score/);
    expect(m.nonFiniteDeltas).toBe(20 * 15 * 2 + 1);
    expect(Number.isNaN(m.matrix[0]![2]!)).toBe(true);
    expect(Number.isFinite(m.matrix[0]![5]!)).toBe(true);
    expect(m.permutation.p).toBeLessThan(0.01);
  });

  it('keeps only emotions both steered and judged, and is not testable below 3', () => {
    const rand = seededRandom(2);
    const m = specificityFromScores({
      steered: ['a', 'b', 'c', 'd'],
      judged: ['b', 'a', 'x', 'c'],
      scenarios: ['s'],
      deltas: [0, 1, 2, 3].map(() => [[rand(), rand(), rand(), rand()]]),
    }, { permutations: 10, resamples: 0 });
    expect(m.emotions).toEqual(['a', 'b', 'c']);
    expect(m.leftOut.map((l) => `${l.emotion}: ${l.reason}`)).toEqual(['d: steered but not judged', 'x: judged but not steered']);
    // the diagonal of 'a' is judged column 1
    expect(m.diagonal[0]!.value).toBe(m.matrix[0]![1]);
    const two = specificityFromScores({ steered: ['a', 'b'], judged: ['a', 'b'], scenarios: ['s'], deltas: [[[1, 0]], [[0, 1]]] });
    expect(two.testable).toBe(false);
    expect(Number.isNaN(two.permutation.p)).toBe(true);
    expect(two.note).toMatch(/at least 3/);
  });

  it('rejects ragged input and bad options', () => {
    const ok = planted(() => 0, 1, 1, ['a', 'b', 'c'], ['s1', 's2']);
    expect(() => specificityFromScores({ ...ok, deltas: ok.deltas.slice(1) })).toThrow(/rows/);
    expect(() => specificityFromScores({ ...ok, scenarios: ['s1'] })).toThrow(/scenarios/);
    expect(() => specificityFromScores({ ...ok, judged: ['a', 'b'] })).toThrow(/judged/);
    expect(() => specificityFromScores({ ...ok, steered: ['a', 'a', 'c'] })).toThrow(/unique/);
    expect(() => specificityFromScores(ok, { permutations: 0 })).toThrow(/permutations/);
    expect(() => specificityFromScores(ok, { resamples: 1.5 })).toThrow(/resamples/);
  });
});
