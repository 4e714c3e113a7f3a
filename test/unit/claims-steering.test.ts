import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../lib/evaluate/statistics.js';
import { summarize, type SteeringRun } from '../../lib/steer/experiment.js';
import { SCENARIOS } from '../../lib/steer/scenarios.js';
import type { SavedSteeringResult } from '../../lib/steer/steering-result.js';
import { checkClaims } from '../../lib/study/claims.js';
import { baselineRegime, pFromInterval, primaryStrength, steeringEndpoints } from '../../lib/study/steering-endpoints.js';
import type { StudyRow } from '../../lib/study/types.js';

// Planted steering runs: every judge's score change per run is planted, with planted noise, so
// that the verdict of claims 5-7 must come out as planted.
const STRENGTHS = [0.01, 0.02, 0.05];
const PRIMARY = 'probe-gemma3';
const gauss = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

interface Plant {
  /** Mean signed change of the primary judge, emotion arm. */
  effect: number;
  /** Sd of every run's change. */
  noise: number;
  /** |difference| between the two sampled baselines (the noise floor). */
  floor: number;
  /** VADER's success probability in the emotion arm and in the random arm. */
  vader?: [number, number];
  /** Share of repetitive runs of the emotion arm at each strength, and of the random arm. */
  broken?: { emotion: number[]; random: number };
  /** Mean signed change of the primary judge in the push-matched other-emotion arm (default 0). */
  other?: number;
  /** Cross-lingual flag probability, emotion and random arms. */
  flags?: [number, number];
  seed?: number;
}

function run(sc: (typeof SCENARIOS)[number], arm: string, strength: number, judges: SteeringRun['judges'], regime: SteeringRun['regime'], flagged: boolean, sampling = 'greedy', seed?: number): SteeringRun {
  return {
    scenario: sc.id, target: sc.target, direction: sc.direction, arm: arm as SteeringRun['arm'], ...(seed !== undefined ? { controlSeed: seed } : {}),
    strength, sampling, text: 'steered text', baselineText: 'the plain words of a calm unsteered baseline text that goes on without loops at all',
    judges, perplexityRatio: 1, repeatedTrigramRate: 0, distinct2: 1, length: 20, regime, scripts: {}, crossLingual: { flagged, reason: '' },
  };
}

function planted(p: Plant): SavedSteeringResult {
  const rand = seededRandom(p.seed ?? 1);
  const scenarios = SCENARIOS;
  const runs: SteeringRun[] = [];
  const controlRuns: SteeringRun[] = [];
  const noiseRuns: SteeringRun[] = [];
  const judged = (delta: number, vaderP: number) => ({
    [PRIMARY]: { success: delta > 0.02, steered: delta, baseline: 0, delta },
    'valence-vader': { success: rand() < vaderP, steered: 0, baseline: 0, delta: 0 },
  });
  for (const sc of scenarios) {
    const sign = sc.direction === 'away' ? -1 : 1;
    STRENGTHS.forEach((k, ki) => {
      const d = sign * (p.effect + p.noise * gauss(rand));
      const broken = p.broken ? rand() < p.broken.emotion[ki]! : false;
      runs.push(run(sc, 'emotion', k, judged(d, p.vader?.[0] ?? 0.5), broken ? (ki === 2 && rand() < 0.3 ? 'explosive' : 'repetitive') : 'surgical', rand() < (p.flags?.[0] ?? 0)));
      const r = sign * p.noise * gauss(rand);
      controlRuns.push(run(sc, 'random', k, judged(r, p.vader?.[1] ?? 0.5), p.broken && rand() < p.broken.random ? 'repetitive' : 'surgical', rand() < (p.flags?.[1] ?? 0), 'greedy', 0));
      const o = sign * ((p.other ?? 0) + p.noise * gauss(rand));
      controlRuns.push(run(sc, 'other-emotion', k, judged(o, p.vader?.[1] ?? 0.5), 'surgical', false));
    });
    // The noise floor: a sampled baseline judged against the first, |s1 - s2| = floor.
    const s1 = rand();
    for (const [i, s] of [s1, s1 + p.floor].entries()) noiseRuns.push({ ...run(sc, 'unsteered', 0, { [PRIMARY]: { success: false, steered: s, baseline: s1, delta: s - s1 }, 'valence-vader': { success: false, steered: 0, baseline: 0, delta: 0 } }, 'surgical', false, 'sampled', i) });
  }
  const modes = [{ name: 'greedy', temperature: 0, seed: 0 }, { name: 'sampled', temperature: 0.8, seed: 1 }];
  const fresh = summarize({ info: { description: 'planted' } }, { meta: { method: 'comprehension' } }, scenarios, STRENGTHS, modes, runs, [PRIMARY, 'valence-vader'], { controlRuns, noiseRuns });
  return { ...fresh, logitLensNull: { observed: 0.3, random: [], p: p.flags && p.flags[0] > p.flags[1] ? 0.001 : 0.6 }, judgeValidation: [{ judge: PRIMARY, macroF1: { value: 0.4, ci95: [0.3, 0.5] }, chance: 0.05, votes: true, data: 'planted' }] };
}

function rowOf(s: SavedSteeringResult, family = 'smollm2'): StudyRow {
  const e = steeringEndpoints(s, { params: 135e6, votingJudges: [PRIMARY] });
  return {
    variant: { id: family, source: family },
    model: { description: family, family, arch: family === 'qwen2' ? 'qwen2' : 'llama', params: 135e6, kind: 'instruct', quantization: 'Q4_1', blocks: 30, embd: 576, sha256: 'x' },
    methods: {},
    seconds: {},
    steering: {
      method: s.method, scenarios: s.scenarios, strengths: s.strengths,
      judges: Object.fromEntries(Object.entries(s.judges).map(([k, j]) => [k, { successes: j.perScenario.successes, trials: j.perScenario.trials, rate: j.perScenario.successRate, ci95: j.perScenario.ci95 }])),
      contrasts: (s.contrasts ?? []).map((c) => ({ judge: c.judge, control: c.control, strength: c.strength, steeredRate: c.steeredRate, controlRate: c.controlRate, difference: c.difference.value, ci95: c.difference.ci95 })),
      regimes: s.regimes, crossLingualRate: 0, crossLingualFlags: 0, runs: s.runs.length, logitLensNonLatin: 0, judgeAgreement: [], endpoints: e,
    },
  };
}

const verdict = (rows: StudyRow[], id: string) => checkClaims(rows).find((c) => c.id === id)!;

describe('claim 5 (causal steering) on planted judge scores', () => {
  it('holds, does not hold and is inconclusive as planted', () => {
    expect(verdict([rowOf(planted({ effect: 0.3, noise: 0.1, floor: 0.05 }))], 'causal-steering').verdict).toBe('holds');
    // No effect, a judge whose noise floor is wide: the interval sits inside the band.
    expect(verdict([rowOf(planted({ effect: 0, noise: 0.05, floor: 0.2 }))], 'causal-steering').verdict).toBe('does not hold');
    // The vector pushes the judge the wrong way.
    expect(verdict([rowOf(planted({ effect: -0.3, noise: 0.1, floor: 0.05 }))], 'causal-steering').verdict).toBe('does not hold');
    // Too noisy to tell, with a narrow noise floor.
    expect(verdict([rowOf(planted({ effect: 0.05, noise: 0.6, floor: 0.01, seed: 3 }))], 'causal-steering').verdict).toBe('inconclusive');
  });

  it('a push-matched other-emotion arm that moves the judge as much fails the claim (prereg-1 compared with random only)', () => {
    // Any push of this size moves the judge; random moves it less (it pushes less hard).
    const s = planted({ effect: 0.3, noise: 0.1, floor: 0.2, other: 0.3 });
    const e = steeringEndpoints(s, { params: 135e6, votingJudges: [PRIMARY] });
    expect(e.effect!.ci95[0]).toBeGreaterThan(0.1); // what prereg-1 decided on alone: holds
    const c = verdict([rowOf(s)], 'causal-steering');
    expect(c.verdict).toBe('does not hold');
    expect(c.perModel.smollm2!.reason).toMatch(/other-emotion: does not hold/);
    // Half as much as the emotion arm, with wide noise: neither side excluded.
    expect(verdict([rowOf(planted({ effect: 0.3, noise: 0.8, floor: 0.01, other: 0.15, seed: 5 }))], 'causal-steering').verdict).toBe('inconclusive');
  });

  it("a secondary judge passing does not pass the claim (the v1 rule took any judge's success over random)", () => {
    // VADER succeeds far more often on the emotion arm than on random; the primary judge sees nothing.
    const s = planted({ effect: 0, noise: 0.05, floor: 0.2, vader: [0.9, 0.2] });
    const vader = s.contrasts!.find((c) => c.judge === 'valence-vader' && c.control === 'random' && c.strength === 'any')!;
    expect(vader.difference.ci95[0]).toBeGreaterThan(0); // what the v1 rule counted as "holds"
    const c = verdict([rowOf(s)], 'causal-steering');
    expect(c.verdict).toBe('does not hold');
    expect(c.perModel.smollm2!.reason).toMatch(/equivalence band/);
  });

  it('without a voting judge the claim cannot be tested', () => {
    const s = planted({ effect: 0.3, noise: 0.1, floor: 0.05 });
    const row = rowOf(s);
    row.steering!.endpoints = steeringEndpoints(s, { params: 135e6, votingJudges: [] });
    expect(verdict([row], 'causal-steering').verdict).toBe('cannot be tested here');
  });

  it('the secondary contrasts carry Holm-adjusted p-values no smaller than their own', () => {
    const e = steeringEndpoints(planted({ effect: 0.3, noise: 0.1, floor: 0.05 }), { params: 135e6, votingJudges: [PRIMARY] });
    expect(e.secondary.length).toBeGreaterThan(2);
    for (const x of e.secondary) expect(x.pHolm).toBeGreaterThanOrEqual(x.p);
    expect(e.primaryStrength).toBe(0.02);
    expect(primaryStrength(1.5e9, [0.005, 0.01, 0.02])).toBe(0.01);
  });
});

describe('claim 6 (regimes) and claim 7 (cross-lingual) on planted runs', () => {
  it('regimes: holds when collapse rises with strength above baselines and random, not when it does not', () => {
    const rising = planted({ effect: 0.2, noise: 0.1, floor: 0.05, broken: { emotion: [0.05, 0.3, 0.9], random: 0.05 } });
    expect(verdict([rowOf(rising)], 'three-regimes').verdict).toBe('holds');
    // The random arm collapses as often as the emotion arm at the top strength.
    const flat = planted({ effect: 0.2, noise: 0.1, floor: 0.05, broken: { emotion: [0.5, 0.5, 0.5], random: 0.5 } });
    expect(verdict([rowOf(flat)], 'three-regimes').verdict).not.toBe('holds');
    expect(baselineRegime('the plain words of a calm unsteered baseline text')).toBe('surgical');
  });

  it('cross-lingual: counted on Qwen only; holds with more flags than random and a lens above its null', () => {
    const more = planted({ effect: 0.2, noise: 0.1, floor: 0.05, flags: [0.5, 0.02] });
    expect(verdict([rowOf(more, 'qwen2')], 'cross-lingual').verdict).toBe('holds');
    expect(verdict([rowOf(more, 'smollm2')], 'cross-lingual').verdict).toBe('cannot be tested here');
    const none = planted({ effect: 0.2, noise: 0.1, floor: 0.05, flags: [0, 0] });
    expect(verdict([rowOf(none, 'qwen2')], 'cross-lingual').verdict).toBe('does not hold');
  });

  it('a p-value from an interval', () => {
    expect(pFromInterval({ value: 1.96, ci95: [0, 3.92] })).toBeCloseTo(0.05, 3);
    expect(pFromInterval({ value: 0, ci95: [-1, 1] })).toBeCloseTo(1, 6);
  });
});
