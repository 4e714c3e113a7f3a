// Dose-response curves on planted runs: a dose-dependent emotion arm against flat controls
// (the emotion arm's slope CI must exclude 0, a control's include it), per-scenario averaging,
// the sign of 'away' scenarios, the kind/sampling/regime filters and determinism.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../lib/evaluate/statistics.js';
import { doseResponse, type DoseRun } from '../../lib/steer/dose-response.js';
import { scenariosByKind } from '../../lib/steer/scenarios.js';

const STRENGTHS = [0.005, 0.01, 0.02, 0.03, 0.05];
const PRIMARY = [...scenariosByKind('neutral'), ...scenariosByKind('toward')];
const AWAY = scenariosByKind('away');
const LOADED = scenariosByKind('loaded');

function gauss(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

function run(scenario: string, arm: string | undefined, strength: number, delta: number, extra: Partial<DoseRun> = {}): DoseRun {
  const direction = extra.direction ?? 'toward';
  const signed = direction === 'away' ? -delta : delta;
  return {
    scenario,
    direction,
    ...(arm ? { arm } : {}),
    strength,
    sampling: 'greedy',
    regime: 'surgical',
    judges: { j: { delta: signed, success: delta > 0.3 } },
    ...extra,
  };
}

/** Emotion arm: effect 20 x strength + noise; 'random' and 'shuffled-label': flat 0.1 + noise. */
function plantedRuns(seed: number): DoseRun[] {
  const rand = seededRandom(seed);
  const runs: DoseRun[] = [];
  for (const sc of PRIMARY) {
    const own = 0.3 * gauss(rand); // a scenario-level offset shared by its strengths
    for (const s of STRENGTHS) {
      runs.push(run(sc.id, 'emotion', s, 20 * s + own + 0.2 * gauss(rand)));
      for (const seed of [0, 1]) runs.push({ ...run(sc.id, 'random', s, 0.1 + own + 0.2 * gauss(rand)), controlSeed: seed } as DoseRun);
      runs.push(run(sc.id, 'shuffled-label', s, 0.1 + own + 0.2 * gauss(rand)));
    }
  }
  return runs;
}

describe('doseResponse', () => {
  it('a dose-dependent emotion arm rises (slope CI > 0); flat controls are inconclusive (CI includes 0)', () => {
    const dr = doseResponse(plantedRuns(1), { resamples: 500 });
    expect(dr.arms).toEqual(['emotion', 'random', 'shuffled-label']);
    expect(dr.strengths).toEqual(STRENGTHS);
    expect(dr.scenarios).toBe(PRIMARY.length);
    const curve = (arm: string) => dr.curves.find((c) => c.arm === arm && c.judge === 'j')!;
    const emotion = curve('emotion').trend.effect;
    expect(emotion.direction).toBe('rising');
    expect(emotion.ci95[0]).toBeGreaterThan(0);
    expect(emotion.slope).toBeGreaterThan(15);
    expect(emotion.slope).toBeLessThan(25);
    expect(emotion.spearman).toBeGreaterThan(0.5);
    expect(emotion.points).toBe(PRIMARY.length * STRENGTHS.length);
    expect(curve('emotion').trend.success.direction).toBe('rising');
    for (const arm of ['random', 'shuffled-label']) {
      const t = curve(arm).trend.effect;
      expect(t.direction).toBe('inconclusive');
      expect(t.ci95[0]).toBeLessThan(0);
      expect(t.ci95[1]).toBeGreaterThan(0);
    }
    // the curve itself: effect at the top strength near 1.0, at the bottom near 0.1
    const pts = curve('emotion').points;
    expect(pts.map((p) => p.strength)).toEqual(STRENGTHS);
    expect(pts[4]!.effect.value).toBeGreaterThan(0.8);
    expect(pts[4]!.effect.ci95[0]).toBeLessThan(pts[4]!.effect.value);
    expect(pts[4]!.effect.ci95[1]).toBeGreaterThan(pts[4]!.effect.value);
    expect(pts[0]!.effect.value).toBeLessThan(0.3);
    expect(pts[0]!.effect.scenarios).toBe(PRIMARY.length);
    // two random seeds per scenario: twice the runs, the same number of scenarios
    expect(curve('random').points[0]!.runs).toBe(2 * PRIMARY.length);
    expect(curve('random').points[0]!.effect.scenarios).toBe(PRIMARY.length);
  });

  it('contrasts the emotion arm with each control, per strength and in slope, paired on scenarios', () => {
    const dr = doseResponse(plantedRuns(2), { resamples: 500 });
    expect(dr.contrasts.map((c) => c.control)).toEqual(['random', 'shuffled-label']);
    for (const c of dr.contrasts) {
      expect(c.reference).toBe('emotion');
      expect(c.slope.effect.ci95[0]).toBeGreaterThan(0);
      const top = c.perStrength.find((p) => p.strength === 0.05)!;
      expect(top.effect.ci95[0]).toBeGreaterThan(0.6);
      expect(top.effect.scenarios).toBe(PRIMARY.length);
      // at the lowest strength the arms are alike (0.1 vs 0.1): the interval includes 0
      const low = c.perStrength.find((p) => p.strength === 0.005)!;
      expect(low.effect.ci95[0]).toBeLessThan(0);
      expect(low.effect.ci95[1]).toBeGreaterThan(0);
    }
  });

  it('a flat emotion arm is not called rising (the verdict can come out either way)', () => {
    const rand = seededRandom(9);
    const runs = PRIMARY.flatMap((sc) => STRENGTHS.map((s) => run(sc.id, 'emotion', s, 0.2 + 0.3 * gauss(rand))));
    const t = doseResponse(runs, { resamples: 500 }).curves[0]!.trend.effect;
    expect(t.direction).toBe('inconclusive');
    // and a falling arm is called falling
    const falling = PRIMARY.flatMap((sc) => STRENGTHS.map((s) => run(sc.id, 'emotion', s, -20 * s + 0.1 * gauss(rand))));
    expect(doseResponse(falling, { resamples: 500 }).curves[0]!.trend.effect.direction).toBe('falling');
  });

  it('averages runs per scenario first, counts explosive runs as failures, and the surgical-only view drops them', () => {
    const [a, b] = [PRIMARY[0]!.id, PRIMARY[1]!.id];
    const runs: DoseRun[] = [
      { ...run(a, 'random', 0.02, 1), controlSeed: 0 } as DoseRun, // success
      { ...run(a, 'random', 0.02, 0), controlSeed: 1 } as DoseRun, // failure
      run(b, 'random', 0.02, 1), // success
      run(b, 'emotion', 0.02, 2, { regime: 'explosive' }), // judge success, but explosive
      run(a, 'emotion', 0.02, 1),
    ];
    const dr = doseResponse(runs, { resamples: 200 });
    const at = (arm: string) => dr.curves.find((c) => c.arm === arm)!.points[0]!;
    // per scenario: a = 0.5, b = 1 -> 0.75 (pooling runs would give 2/3)
    expect(at('random').success.value).toBeCloseTo(0.75, 12);
    expect(at('random').effect.value).toBeCloseTo(0.75, 12);
    expect(at('emotion').success.value).toBeCloseTo(0.5, 12); // the explosive run fails
    expect(at('emotion').effect.value).toBeCloseTo(1.5, 12); // its effect counts
    const surgical = doseResponse(runs, { resamples: 200, regimes: 'surgical' });
    expect(surgical.curves.find((c) => c.arm === 'emotion')!.points[0]!.success.value).toBe(1);
    expect(surgical.excluded).toEqual([{ reason: "regime 'explosive'", runs: 1 }]);
    // a single strength cannot show a trend
    expect(dr.curves[0]!.trend.effect.direction).toBe('inconclusive');
    expect(Number.isNaN(dr.curves[0]!.trend.effect.slope)).toBe(true);
  });

  it("signs the effect by direction, keeps the primary kinds and one sampling mode by default, and reads a missing arm as 'emotion'", () => {
    const runs: DoseRun[] = [
      run(PRIMARY[0]!.id, undefined, 0.02, 0.5),
      run(AWAY[0]!.id, undefined, 0.02, 0.5, { direction: 'away' }), // judge delta -0.5: a move away
      run(LOADED[0]!.id, undefined, 0.02, 0.5),
      run('not-a-built-in-scenario', undefined, 0.02, 0.5),
      run(PRIMARY[1]!.id, undefined, 0.02, 9, { sampling: 'sampled' }),
    ];
    expect(runs[1]!.judges.j!.delta).toBe(-0.5);
    const dr = doseResponse(runs, { resamples: 100 });
    expect(dr.sampling).toBe('greedy');
    expect(dr.kinds).toEqual(['neutral', 'toward']);
    expect(dr.runs).toBe(1);
    expect(dr.arms).toEqual(['emotion']);
    expect(dr.excluded.map((e) => e.reason).sort()).toEqual(["sampling mode other than 'greedy'", "scenario kind 'away'", "scenario kind 'loaded'", 'scenario of unknown kind']);
    const all = doseResponse(runs, { resamples: 100, kinds: 'all' });
    expect(all.runs).toBe(4);
    const p = all.curves[0]!.points[0]!;
    expect(p.effect.value).toBeCloseTo(0.5, 12); // the away scenario's -0.5 counts as +0.5
    const custom = doseResponse(runs, { resamples: 100, kinds: ['mine'], kindOf: (id) => (id === 'not-a-built-in-scenario' ? 'mine' : undefined) });
    expect(custom.runs).toBe(1);
    expect(doseResponse(runs, { sampling: 'sampled', resamples: 100 }).curves[0]!.points[0]!.effect.value).toBe(9);
  });

  it('is deterministic for a seed', () => {
    const runs = plantedRuns(3);
    expect(doseResponse(runs, { resamples: 200, seed: 4 })).toEqual(doseResponse(runs, { resamples: 200, seed: 4 }));
    expect(doseResponse(runs, { resamples: 200, seed: 5 }).curves[0]!.trend.effect.ci95).not.toEqual(doseResponse(runs, { resamples: 200, seed: 4 }).curves[0]!.trend.effect.ci95);
  });

  it('leaves NaN deltas out of the effect but not out of the success rate, and rejects bad input', () => {
    const [a, b] = [PRIMARY[0]!.id, PRIMARY[1]!.id];
    const runs = [run(a, 'emotion', 0.01, 1), { ...run(b, 'emotion', 0.01, 0), judges: { j: { delta: NaN, success: false } } }];
    const p = doseResponse(runs, { resamples: 100 }).curves[0]!.points[0]!;
    expect(p.success.scenarios).toBe(2);
    expect(p.effect.scenarios).toBe(1);
    expect(p.effect.value).toBe(1);
    expect(() => doseResponse(runs, { resamples: 0 })).toThrow(/resamples/);
    expect(() => doseResponse([{ ...runs[0]!, strength: NaN }])).toThrow(/strength/);
    expect(() => doseResponse([{ ...runs[0]!, direction: 'up' as 'toward' }])).toThrow(/direction/);
  });
});
