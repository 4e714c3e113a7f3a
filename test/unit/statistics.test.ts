import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EmosteerError } from '../../lib/errors.js';
import {
  bootstrapCI,
  cliffsDelta,
  cohensD,
  cohensKappa,
  fleissKappa,
  mannWhitneyU,
  mean,
  pearson,
  quantile,
  ranks,
  seededRandom,
  spearman,
  std,
  stratifiedBootstrapCI,
  variance,
  type RatingLabel,
} from '../../lib/evaluate/statistics.js';

// Reference values in this file were computed with scipy 1.17.1 / numpy 2.4.6 (noted per
// test) or by hand (the arithmetic is written out next to them).

describe('descriptive statistics', () => {
  const v = [2.5, 3.1, 4.7, 1.2, 9.9, 3.3];

  it('mean, variance (n - 1) and std match numpy', () => {
    // values from np.mean(v), np.var(v, ddof=1), np.std(v, ddof=1)
    expect(mean(v)).toBeCloseTo(4.116666666666666, 12);
    expect(variance(v)).toBeCloseTo(9.321666666666669, 12);
    expect(std(v)).toBeCloseTo(3.0531404597015626, 12);
    expect(mean(Float64Array.from(v))).toBeCloseTo(4.116666666666666, 12);
  });

  it('quantile interpolates linearly like numpy (type 7), sorted or not', () => {
    const q = [7, 1, 3, 9, 4, 4, 10, 2];
    // values from np.quantile(q, p)
    const expected: [number, number][] = [
      [0, 1],
      [0.1, 1.7000000000000002],
      [0.25, 2.75],
      [0.5, 4.0],
      [0.9, 9.3],
      [0.95, 9.649999999999999],
      [1, 10],
    ];
    for (const [p, want] of expected) expect(quantile(q, p)).toBeCloseTo(want, 12);
    expect(quantile([...q].sort((a, b) => a - b), 0.25)).toBeCloseTo(2.75, 12);
    expect(q).toEqual([7, 1, 3, 9, 4, 4, 10, 2]); // input untouched
    expect(quantile([5], 0.3)).toBe(5);
  });

  it('rejects empty or non-finite input with INVALID_ARGUMENT', () => {
    expect(() => mean([])).toThrow(EmosteerError);
    expect(() => variance([1])).toThrow(/at least 2/);
    expect(() => quantile([1, 2], 1.5)).toThrow(/q must be in/);
    expect(() => mean([1, NaN])).toThrow(/finite/);
    try {
      std([]);
    } catch (e) {
      expect((e as EmosteerError).code).toBe('INVALID_ARGUMENT');
    }
  });
});

describe('ranks and correlation', () => {
  it('ranks averages ties (1-based) like scipy.stats.rankdata', () => {
    // values from scipy.stats.rankdata([10, 20, 20, 30, 10, 10, 5])
    expect(ranks([10, 20, 20, 30, 10, 10, 5])).toEqual([3, 5.5, 5.5, 7, 3, 3, 1]);
  });

  it('spearman with ties and pearson match scipy', () => {
    const x = [1, 2, 2, 3, 5, 5, 5, 8, 9, 10];
    const y = [2, 1, 4, 4, 6, 5, 7, 9, 9, 12];
    // value from scipy.stats.spearmanr(x, y).statistic
    expect(spearman(x, y)).toBeCloseTo(0.9566976126686475, 12);
    // value from scipy.stats.pearsonr(x, y).statistic
    expect(pearson(x, y)).toBeCloseTo(0.9575440173213422, 12);
  });

  it('perfect monotone relations give +-1, constants give NaN, lengths must match', () => {
    expect(spearman([1, 2, 3, 4], [10, 100, 1000, 10000])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3], [5, 5, 5])).toBeNaN();
    expect(() => spearman([1, 2, 3], [1, 2])).toThrow(/same length/);
  });
});

describe('effect sizes', () => {
  it("Cohen's d on a hand-computed example", () => {
    // x = [2, 4, 6]: mean 4, sample variance 4; y = [1, 2, 3]: mean 2, variance 1
    // pooled variance = (2 * 4 + 2 * 1) / (3 + 3 - 2) = 2.5, so d = (4 - 2) / sqrt(2.5)
    expect(cohensD([2, 4, 6], [1, 2, 3])).toBeCloseTo(2 / Math.sqrt(2.5), 12);
    expect(cohensD([1, 2, 3], [2, 4, 6])).toBeCloseTo(-2 / Math.sqrt(2.5), 12);
    // unequal sizes: x = [1, 3] (mean 2, SS 2), y = [4, 5, 6, 9] (mean 6, SS 4 + 1 + 0 + 9 = 14)
    // pooled variance = (2 + 14) / 4 = 4, d = (2 - 6) / 2 = -2
    expect(cohensD([1, 3], [4, 5, 6, 9])).toBeCloseTo(-2, 12);
  });

  it("Cliff's delta on a hand-computed example", () => {
    // pairs of x = [2, 4, 6] against y = [1, 2, 3]:
    // 2: > 1, = 2, < 3  -> +1 -1;  4: > all three -> +3;  6: > all three -> +3
    // (more - less) / 9 = (7 - 1) / 9
    expect(cliffsDelta([2, 4, 6], [1, 2, 3])).toBeCloseTo(6 / 9, 12);
    expect(cliffsDelta([1, 2, 3], [2, 4, 6])).toBeCloseTo(-6 / 9, 12);
    expect(cliffsDelta([5, 6], [1, 2, 3])).toBe(1);
    expect(cliffsDelta([1, 1], [1, 1, 1])).toBe(0);
  });
});

describe('mannWhitneyU', () => {
  it('exact p-values on the small sample of the scipy documentation', () => {
    const x = [19, 22, 16, 29, 24];
    const y = [20, 11, 17, 12];
    // values from scipy.stats.mannwhitneyu(x, y, alternative=..., method='exact'): U = 17 and
    // p = 0.1111111111111111 (two-sided), 0.9682539682539683 (less), 0.05555555555555555 (greater)
    const two = mannWhitneyU(x, y);
    expect(two.u).toBe(17);
    expect(two.exact).toBe(true);
    expect(two.z).toBeUndefined();
    expect(two.p).toBeCloseTo(0.1111111111111111, 14);
    expect(mannWhitneyU(x, y, { alternative: 'less' }).p).toBeCloseTo(0.9682539682539683, 14);
    expect(mannWhitneyU(x, y, { alternative: 'greater' }).p).toBeCloseTo(0.05555555555555555, 14);
    // U of y is n1 n2 - U of x, and the tails swap
    const swapped = mannWhitneyU(y, x, { alternative: 'less' });
    expect(swapped.u).toBe(3);
    expect(swapped.p).toBeCloseTo(0.05555555555555555, 14);
  });

  it('exact p-values, 10 x 5 and 18 x 20 samples without ties', () => {
    const x2 = [0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
    const y2 = [1.15, 0.88, 0.9, 0.74, 1.21];
    // values from scipy.stats.mannwhitneyu(x2, y2, alternative=..., method='exact')
    expect(mannWhitneyU(x2, y2).u).toBe(35);
    expect(mannWhitneyU(x2, y2).p).toBeCloseTo(0.2544122544122544, 14);
    expect(mannWhitneyU(x2, y2, { alternative: 'less' }).p).toBeCloseTo(0.8967698967698967, 14);
    expect(mannWhitneyU(x2, y2, { alternative: 'greater' }).p).toBeCloseTo(0.1272061272061272, 14);

    const a = [
      -0.3019, -0.8244, 0.2516, 0.9204, 1.636, 0.6097, -0.0526, -0.2848, 1.2487, 2.1348, 0.7728, -0.7333, -0.4583, 2.1,
      0.7029, -1.2321, 0.4163, -0.6632,
    ];
    const b = [
      -0.6293, -0.488, -0.7133, 0.5534, -0.0631, -0.5894, 0.4096, 0.8299, -1.643, -0.2567, -0.9807, -0.1732, -1.2894,
      0.0207, -0.0379, -0.3043, -1.0479, -0.3962, -1.0913, -1.3552,
    ];
    // values from scipy.stats.mannwhitneyu(a, b, alternative=..., method='exact'): U = 263
    const two = mannWhitneyU(a, b); // auto: both n <= 20, no ties -> exact
    expect(two.u).toBe(263);
    expect(two.exact).toBe(true);
    expect(two.p).toBeCloseTo(0.014612621748951716, 13);
    expect(mannWhitneyU(a, b, { alternative: 'less' }).p).toBeCloseTo(0.9933015581656457, 13);
    expect(mannWhitneyU(a, b, { alternative: 'greater' }).p).toBeCloseTo(0.007306310874475858, 13);
    // ... and method='asymptotic' on the same samples
    const normal = mannWhitneyU(a, b, { method: 'normal' });
    expect(normal.exact).toBe(false);
    expect(normal.p).toBeCloseTo(0.015869217699736336, 12);
    expect(mannWhitneyU(a, b, { method: 'normal', alternative: 'less' }).p).toBeCloseTo(0.9926796088822635, 12);
    expect(mannWhitneyU(a, b, { method: 'normal', alternative: 'greater' }).p).toBeCloseTo(0.007934608849868168, 12);
  });

  it("method 'exact' on larger samples (60 x 50) still matches scipy", () => {
    const x = Array.from({ length: 60 }, (_, i) => i * 1.5 + 0.2);
    const y = Array.from({ length: 50 }, (_, j) => j * 1.7 + 0.05);
    // values from scipy.stats.mannwhitneyu(x, y, alternative=..., method='exact'): U = 1591
    const two = mannWhitneyU(x, y, { method: 'exact' });
    expect(two).toMatchObject({ u: 1591, exact: true });
    expect(two.p).toBeCloseTo(0.5883470439425699, 12);
    expect(mannWhitneyU(x, y, { method: 'exact', alternative: 'less' }).p).toBeCloseTo(0.7078856278334844, 12);
    expect(mannWhitneyU(x, y, { method: 'exact', alternative: 'greater' }).p).toBeCloseTo(0.29417352197128493, 12);
  });

  it('normal approximation with ties and continuity correction matches scipy asymptotic', () => {
    const x = [1, 2, 2, 3, 4, 5, 5, 5, 7];
    const y = [2, 3, 3, 4, 6, 6, 8, 9];
    // values from scipy.stats.mannwhitneyu(x, y, alternative=..., method='asymptotic'): U = 24.5
    const two = mannWhitneyU(x, y); // ties -> normal even in auto
    expect(two.u).toBe(24.5);
    expect(two.exact).toBe(false);
    expect(two.p).toBeCloseTo(0.28566755089244633, 12);
    expect(mannWhitneyU(x, y, { alternative: 'less' }).p).toBeCloseTo(0.14283377544622317, 12);
    expect(mannWhitneyU(x, y, { alternative: 'greater' }).p).toBeCloseTo(0.877936936156626, 12);
    // z: tie-corrected sigma = sqrt(9 * 8 / 12 * (18 - sum(t^3 - t) / (17 * 16))) = 10.302769473473111
    // (computed with numpy), z = (24.5 - 36 + 0.5) / sigma
    expect(two.z).toBeCloseTo(-1.0676740878578397, 12);

    const lx = Array.from({ length: 30 }, (_, i) => i % 7);
    const ly = Array.from({ length: 25 }, (_, i) => ((i * 3) % 9) + 1);
    // values from scipy.stats.mannwhitneyu(lx, ly, alternative=..., method='asymptotic'): U = 282.5
    expect(mannWhitneyU(lx, ly).u).toBe(282.5);
    expect(mannWhitneyU(lx, ly).p).toBeCloseTo(0.11398814473330487, 12);
    expect(mannWhitneyU(lx, ly, { alternative: 'less' }).p).toBeCloseTo(0.05699407236665244, 12);
    expect(mannWhitneyU(lx, ly, { alternative: 'greater' }).p).toBeCloseTo(0.9449449176101318, 12);
  });

  it('auto switches to the normal approximation above 20 per sample; all-tied gives p = 1', () => {
    const x = Array.from({ length: 21 }, (_, i) => i + 0.5);
    const y = Array.from({ length: 5 }, (_, i) => i * 3);
    expect(mannWhitneyU(x, y).exact).toBe(false);
    expect(mannWhitneyU(x, y, { method: 'exact' }).exact).toBe(true);
    expect(mannWhitneyU([1, 1, 1], [1, 1])).toEqual({ u: 3, p: 1, exact: false, z: 0 });
  });

  it('two-sided p is capped at 1 and symmetric cases give 1', () => {
    const r = mannWhitneyU([1, 4], [2, 3]);
    expect(r.u).toBe(2);
    expect(r.p).toBe(1);
  });

  it('rejects exact with ties and bad options', () => {
    expect(() => mannWhitneyU([1, 2, 2], [3, 4], { method: 'exact' })).toThrow(/without ties/);
    // C(1200, 600) overflows doubles: the exact distribution cannot be normalised
    const big = Array.from({ length: 600 }, (_, i) => i);
    expect(() => mannWhitneyU(big, big.map((v) => v + 0.5), { method: 'exact' })).toThrow(/use 'normal'/);
    expect(() => mannWhitneyU([], [1])).toThrow(EmosteerError);
    expect(() => mannWhitneyU([1], [2], { alternative: 'bigger' as 'less' })).toThrow(/alternative/);
  });
});

describe('seeded bootstrap', () => {
  it('seededRandom is deterministic, seed-dependent and uniform in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c())).not.toEqual(xs);
    const r = seededRandom(7);
    let sum = 0;
    let min = 1;
    let max = 0;
    for (let i = 0; i < 20000; i++) {
      const v = r();
      sum += v;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThan(1);
    expect(sum / 20000).toBeCloseTo(0.5, 2);
  });

  const meanOf = (data: number[]) => (idx: Int32Array) => {
    let s = 0;
    for (const i of idx) s += data[i] as number;
    return s / idx.length;
  };

  it('bootstrapCI: value on the sample, same interval for the same seed, different for another', () => {
    const data = Array.from({ length: 40 }, (_, i) => Math.sin(i) * 3 + i / 10);
    const r1 = bootstrapCI(data.length, meanOf(data), { seed: 5, resamples: 500 });
    const r2 = bootstrapCI(data.length, meanOf(data), { seed: 5, resamples: 500 });
    const r3 = bootstrapCI(data.length, meanOf(data), { seed: 6, resamples: 500 });
    expect(r1).toEqual(r2);
    expect(r3.ci95).not.toEqual(r1.ci95);
    expect(r1.value).toBeCloseTo(mean(data), 12);
    expect(r1.ci95[0]).toBeLessThan(r1.value);
    expect(r1.ci95[1]).toBeGreaterThan(r1.value);
    // a wider level gives a wider interval
    const r99 = bootstrapCI(data.length, meanOf(data), { seed: 5, resamples: 500, level: 0.99 });
    expect(r99.ci95[0]).toBeLessThanOrEqual(r1.ci95[0]);
    expect(r99.ci95[1]).toBeGreaterThanOrEqual(r1.ci95[1]);
  });

  it('bootstrapCI of the mean covers the true mean in about 95% of simulated samples', () => {
    // 200 samples of 50 draws from Uniform(0, 1) (true mean 0.5); the percentile interval of the
    // mean should cover 0.5 in roughly 95% of them (binomial sd ~1.5%: accept 88%..99%).
    const rand = seededRandom(123);
    let covered = 0;
    const trials = 200;
    for (let t = 0; t < trials; t++) {
      const data = Array.from({ length: 50 }, () => rand());
      const { ci95 } = bootstrapCI(data.length, meanOf(data), { seed: t, resamples: 400 });
      if (ci95[0] <= 0.5 && 0.5 <= ci95[1]) covered++;
    }
    expect(covered / trials).toBeGreaterThan(0.88);
    expect(covered / trials).toBeLessThan(0.99);
  });

  it('a constant statistic gives a degenerate interval; non-finite resamples are dropped', () => {
    expect(bootstrapCI(10, () => 3)).toEqual({ value: 3, ci95: [3, 3] });
    expect(bootstrapCI(5, () => NaN, { resamples: 10 }).ci95).toEqual([NaN, NaN]);
  });

  it('stratifiedBootstrapCI keeps every class at its size in every resample', () => {
    const labels = [0, 0, 0, 1, 1, 2, 2, 2, 2, 2];
    let calls = 0;
    const r = stratifiedBootstrapCI(
      labels,
      (idx) => {
        calls++;
        expect(idx.length).toBe(labels.length);
        const counts = new Int32Array(3);
        for (const i of idx) counts[labels[i] as number]! += 1;
        expect(Array.from(counts)).toEqual([3, 2, 5]);
        return counts[0]!;
      },
      { resamples: 50, seed: 1 },
    );
    expect(calls).toBe(51);
    expect(r).toEqual({ value: 3, ci95: [3, 3] });
  });

  it('stratifiedBootstrapCI is deterministic and its value uses the identity indices', () => {
    const labels = [1, 1, 1, 1, 7, 7, 7, 7, 7];
    const data = [0.1, 0.5, 0.2, 0.9, 3, 2.5, 3.5, 4, 2];
    const a = stratifiedBootstrapCI(labels, meanOf(data), { seed: 9, resamples: 300 });
    const b = stratifiedBootstrapCI(labels, meanOf(data), { seed: 9, resamples: 300 });
    expect(a).toEqual(b);
    expect(a.value).toBeCloseTo(mean(data), 12);
    expect(a.ci95[0]).toBeLessThan(a.value);
    expect(a.ci95[1]).toBeGreaterThan(a.value);
  });

  it('rejects bad bootstrap arguments', () => {
    expect(() => bootstrapCI(0, () => 1)).toThrow(EmosteerError);
    expect(() => bootstrapCI(3, () => 1, { resamples: 0 })).toThrow(/resamples/);
    expect(() => bootstrapCI(3, () => 1, { level: 1 })).toThrow(/level/);
    expect(() => stratifiedBootstrapCI([], () => 1)).toThrow(EmosteerError);
  });
});

describe('agreement between raters', () => {
  // test/fixtures/sklearn-kappa.json: sklearn.metrics.cohen_kappa_score (scikit-learn 1.9.1),
  // written by scripts/sklearn-fixture.py (npm run fixture:sklearn)
  const fixture = JSON.parse(readFileSync(new URL('../fixtures/sklearn-kappa.json', import.meta.url), 'utf8')) as {
    versions: Record<string, string>;
    pairs: { name: string; a: RatingLabel[]; b: RatingLabel[]; kappa: number }[];
  };

  it("Cohen's kappa by hand: the 2x2 textbook table and a label only one rater uses", () => {
    // yes-yes 20, yes-no 5, no-yes 10, no-no 15: po = 35/50 = 0.7;
    // pe = (25/50)(30/50) + (25/50)(20/50) = 0.3 + 0.2 = 0.5; kappa = 0.2 / 0.5 = 0.4
    const a = [...Array(25).fill('yes'), ...Array(25).fill('no')] as string[];
    const b = [...Array(20).fill('yes'), ...Array(5).fill('no'), ...Array(10).fill('yes'), ...Array(15).fill('no')] as string[];
    const r = cohensKappa(a, b);
    expect(r.n).toBe(50);
    expect(r.observed).toBeCloseTo(0.7, 14);
    expect(r.expected).toBeCloseTo(0.5, 14);
    expect(r.kappa).toBeCloseTo(0.4, 14);
    // no item agrees: po = 0; marginals a {0: 3, 1: 3, 2: 2}, b {0: 4, 1: 3, 3: 1}:
    // pe = (3*4 + 3*3) / 64 = 21/64; kappa = -(21/64) / (43/64) = -21/43
    const u = cohensKappa([0, 0, 1, 1, 2, 2, 0, 1], [1, 1, 0, 0, 0, 3, 1, 0]);
    expect(u.observed).toBe(0);
    expect(u.expected).toBeCloseTo(21 / 64, 14);
    expect(u.kappa).toBeCloseTo(-21 / 43, 14);
    // the JSDoc example: po = 3/4, pe = (2*1 + 1*1 + 1*1) / 16 = 1/4, kappa = 2/3
    expect(cohensKappa(['joy', 'fear', 'joy', 'anger'], ['joy', 'fear', 'sadness', 'anger']).kappa).toBeCloseTo(2 / 3, 14);
  });

  it("Cohen's kappa equals scikit-learn's cohen_kappa_score", () => {
    expect(fixture.versions['scikit-learn']).toBe('1.9.1');
    expect(fixture.pairs.length).toBeGreaterThanOrEqual(4);
    for (const p of fixture.pairs) expect(cohensKappa(p.a, p.b).kappa, p.name).toBeCloseTo(p.kappa, 12);
  });

  it("Cohen's kappa: symmetric, 1 for identical ratings, NaN when there is nothing to tell apart", () => {
    const p = fixture.pairs.find((q) => q.name === 'seven-classes-70pct')!;
    expect(cohensKappa(p.b, p.a).kappa).toBeCloseTo(cohensKappa(p.a, p.b).kappa, 14);
    expect(cohensKappa(p.a, p.a).kappa).toBe(1);
    // booleans are labels too; one label everywhere: pe = 1, kappa undefined (scikit-learn: nan)
    const same = cohensKappa([true, true, true], [true, true, true]);
    expect(same.kappa).toBeNaN();
    expect(same.observed).toBe(1);
    expect(same.expected).toBe(1);
    // 1 and '1' are different labels
    expect(cohensKappa([1, 2], ['1', 2]).observed).toBe(0.5);
  });

  it("Cohen's kappa: a deterministic bootstrap interval over items that holds the estimate", () => {
    const p = fixture.pairs.find((q) => q.name === 'seven-classes-70pct')!;
    const r1 = cohensKappa(p.a, p.b);
    expect(cohensKappa(p.a, p.b)).toEqual(r1);
    expect(r1.ci95[0]).toBeLessThan(r1.kappa);
    expect(r1.ci95[1]).toBeGreaterThan(r1.kappa);
    // 60 items: the interval is a few tenths wide, not degenerate
    expect(r1.ci95[1] - r1.ci95[0]).toBeGreaterThan(0.05);
    expect(r1.ci95[1] - r1.ci95[0]).toBeLessThan(0.4);
    const other = cohensKappa(p.a, p.b, { seed: 1, resamples: 200 });
    expect(other.kappa).toBe(r1.kappa);
    expect(other.ci95).not.toEqual(r1.ci95);
    // resamples where both raters used one label only are dropped, not NaN intervals
    expect(cohensKappa(['x', 'x', 'x', 'y'], ['x', 'x', 'x', 'y']).ci95).toEqual([1, 1]);
  });

  it("Fleiss' kappa on the worked example of Fleiss (1971) as tabulated on Wikipedia: 0.210", () => {
    // 10 items, 14 raters, 5 categories: counts per item and category
    const table = [
      [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ];
    const raters: number[][] = Array.from({ length: 14 }, () => []);
    for (const row of table) {
      const labels = row.flatMap((count, c) => Array<number>(count).fill(c + 1));
      labels.forEach((l, r) => raters[r]!.push(l));
    }
    const f = fleissKappa(raters);
    // by hand: sum_i sum_c n_ic (n_ic - 1) = 688, observed = 688 / (10 * 14 * 13) = 172/455;
    // category totals 20, 28, 39, 21, 32 of 140: expected = 4170 / 19600 = 417/1960
    expect(f.n).toBe(10);
    expect(f.raters).toBe(14);
    expect(f.observed).toBeCloseTo(172 / 455, 14);
    expect(f.expected).toBeCloseTo(417 / 1960, 14);
    expect(f.kappa).toBeCloseTo((172 / 455 - 417 / 1960) / (1 - 417 / 1960), 14);
    expect(f.kappa).toBeCloseTo(0.20993, 5);
    expect(f.ci95[0]).toBeLessThan(f.kappa);
    expect(f.ci95[1]).toBeGreaterThan(f.kappa);
  });

  it("Fleiss' kappa with two raters is Scott's pi, and 1 for unanimous raters", () => {
    // the 2x2 table above, pooled frequencies: yes 55/100, no 45/100; pe = 0.505; po = 0.7;
    // pi = 0.195 / 0.495 = 13/33
    const a = [...Array(25).fill('yes'), ...Array(25).fill('no')] as string[];
    const b = [...Array(20).fill('yes'), ...Array(5).fill('no'), ...Array(10).fill('yes'), ...Array(15).fill('no')] as string[];
    expect(fleissKappa([a, b]).kappa).toBeCloseTo(13 / 33, 14);
    expect(fleissKappa([a, a, a]).kappa).toBe(1);
  });

  it('bad input is a clear error', () => {
    expect(() => cohensKappa([], [])).toThrow(EmosteerError);
    expect(() => cohensKappa(['a'], ['a', 'b'])).toThrow(/same items/);
    expect(() => cohensKappa([NaN], [1])).toThrow(/a\[0\]/);
    expect(() => cohensKappa([null as unknown as string], ['a'])).toThrow(/label/);
    expect(() => cohensKappa(['a', 'b'], ['a', 'b'], { resamples: 0 })).toThrow(/resamples/);
    expect(() => fleissKappa([['a']])).toThrow(/two/);
    expect(() => fleissKappa([['a', 'b'], ['a']])).toThrow(/raters\[1\]/);
  });
});
