import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../lib/evaluate/statistics.js';
import { armDraws, crossBlockCosine } from '../../lib/steer/controls.js';
import { EmotionVectorSet, type ModelIdentity, type SampleInfo } from '../../lib/vectors/emotion-vector-set.js';
import { klDivergence, logSoftmax, summarizeManipulation, type ManipulationMeasure } from '../../lib/steer/manipulation-check.js';
import type { ScenarioKind } from '../../lib/steer/scenarios.js';
import { noiseFloor, scenarioGroup, signedDelta, steeringEffects, type EffectRun } from '../../lib/steer/steering-effects.js';

/** A run with one judge's delta. */
function run(scenario: string, arm: EffectRun['arm'], delta: number, o: Partial<EffectRun> = {}): EffectRun {
  return { scenario, direction: 'toward', arm, strength: 1, sampling: 'greedy', regime: 'surgical', judges: { j: { delta } }, ...o };
}

describe('continuous steering effects on planted numbers', () => {
  // 12 primary scenarios (8 neutral, 4 toward), 3 loaded, 3 away.
  const kinds: Record<string, ScenarioKind> = {};
  for (let i = 0; i < 8; i++) kinds[`n${i}`] = 'neutral';
  for (let i = 0; i < 4; i++) kinds[`t${i}`] = 'toward';
  for (let i = 0; i < 3; i++) kinds[`l${i}`] = 'loaded';
  for (let i = 0; i < 3; i++) kinds[`a${i}`] = 'away';
  const rand = seededRandom(7);
  const jitter = () => (rand() - 0.5) * 0.1;
  const runs: EffectRun[] = [];
  const planted = { emotion: new Map<string, number>(), random: new Map<string, number>() };
  for (const id of Object.keys(kinds)) {
    const away = kinds[id] === 'away';
    // The emotion arm moves the judge by about +0.5 the intended way; an 'away' scenario's raw delta is negative.
    const e = 0.5 + jitter();
    planted.emotion.set(id, e);
    runs.push(run(id, 'emotion', away ? -e : e, { direction: away ? 'away' : 'toward' }));
    // Two random draws of about +0.1, averaged within the scenario.
    const r = [0.1 + jitter(), 0.1 + jitter()];
    planted.random.set(id, (r[0]! + r[1]!) / 2);
    r.forEach((d, k) => runs.push(run(id, 'random', away ? -d : d, { direction: away ? 'away' : 'toward', controlSeed: k })));
  }
  // A repetitive emotion run on n0 with a huge move: counted in 'all', not in 'surgical'.
  runs.push(run('n0', 'emotion', 9, { regime: 'repetitive', sampling: 'greedy' }));
  // A sampled run that must not count (greedy is the mode analysed).
  runs.push(run('n1', 'emotion', -50, { sampling: 'sampled' }));
  const meanOf = (m: Map<string, number>, ids: string[]) => ids.reduce((s, id) => s + m.get(id)!, 0) / ids.length;
  const primary = Object.keys(kinds).filter((id) => scenarioGroup(kinds[id]!) === 'primary');

  it('signs deltas by direction, groups kinds, and averages draws within a scenario', () => {
    expect(signedDelta({ direction: 'away', judges: { j: { delta: -0.3 } } }, 'j')).toBeCloseTo(0.3, 12);
    expect(signedDelta({ direction: 'toward', judges: {} }, 'j')).toBeNaN();
    expect(scenarioGroup('neutral')).toBe('primary');
    expect(scenarioGroup('toward')).toBe('primary');
    expect(scenarioGroup('loaded')).toBe('loaded');
    const fx = steeringEffects(runs, kinds, ['j'], { resamples: 400 });
    const get = (arm: string, group: string, filter: string) => fx.effects.find((e) => e.arm === arm && e.group === group && e.runs === filter)!;
    // Surgical only: exactly the planted per-scenario means over the 12 primary scenarios.
    const es = get('emotion', 'primary', 'surgical');
    expect(es.scenarios).toBe(12);
    expect(es.meanDelta).toBeCloseTo(meanOf(planted.emotion, primary), 10);
    expect(es.ci95[0]).toBeGreaterThan(0.4);
    expect(es.ci95[1]).toBeLessThan(0.6);
    expect(get('random', 'primary', 'surgical').meanDelta).toBeCloseTo(meanOf(planted.random, primary), 10);
    // All runs: n0's repetitive run (9) is averaged with its surgical one within n0.
    const withN0 = new Map(planted.emotion);
    withN0.set('n0', (planted.emotion.get('n0')! + 9) / 2);
    expect(get('emotion', 'primary', 'all').meanDelta).toBeCloseTo(meanOf(withN0, primary), 10);
    // 'away' scenarios apart, signed so that moving away counts as positive.
    const away = get('emotion', 'away', 'all');
    expect(away.scenarios).toBe(3);
    expect(away.meanDelta).toBeCloseTo(meanOf(planted.emotion, ['a0', 'a1', 'a2']), 10);
    expect(get('emotion', 'loaded', 'all').scenarios).toBe(3);
  });

  it('emotion minus control is paired by scenario and its interval excludes 0 only when the arms differ', () => {
    const fx = steeringEffects(runs, kinds, ['j'], { resamples: 400 });
    const c = fx.contrasts.find((x) => x.control === 'random' && x.group === 'primary' && x.runs === 'surgical')!;
    expect(c.scenarios).toBe(12);
    expect(c.difference.value).toBeCloseTo(meanOf(planted.emotion, primary) - meanOf(planted.random, primary), 10);
    expect(c.difference.ci95[0]).toBeGreaterThan(0.3);
    // A null: the control moves as much as the emotion arm (its moves are the emotion arm's, 0.05 above or below by turns).
    const nullRuns = runs.filter((r) => r.arm === 'emotion' && r.regime === 'surgical' && r.sampling === 'greedy').flatMap((r, i) => [r, { ...r, arm: 'random' as const, judges: { j: { delta: r.judges.j!.delta + (i % 2 ? 0.05 : -0.05) } } }]);
    const n = steeringEffects(nullRuns, kinds, ['j'], { resamples: 400 }).contrasts.find((x) => x.group === 'primary' && x.runs === 'all')!;
    expect(n.difference.ci95[0]).toBeLessThan(0);
    expect(n.difference.ci95[1]).toBeGreaterThan(0);
  });

  it('noise floor: |s1 - s2| per scenario, its distribution, and the share of effects above it', () => {
    const scores = Object.keys(kinds).map((id, i) => ({ scenario: id, scores: { j: [0.2, 0.2 + (i % 4) * 0.2], other: [Number.NaN, 1] } }));
    const [nf, other] = noiseFloor(scores, ['j', 'other']);
    expect(nf!.scenarios).toBe(18);
    expect(nf!.perScenario.n1).toBeCloseTo(0.2, 12);
    expect(nf!.perScenario.n3).toBeCloseTo(0.6, 12);
    expect(nf!.max).toBeCloseTo(0.6, 12);
    // noise values 0, .2, .4, .6 repeating over 18 scenarios: median 0.2 (type-7), mean 0.2889
    expect(nf!.median).toBeCloseTo(0.2, 12);
    expect(nf!.mean).toBeCloseTo((5 * 0 + 5 * 0.2 + 4 * 0.4 + 4 * 0.6) / 18, 12);
    expect(other!.scenarios).toBe(0); // one finite score only
    expect(other!.median).toBeNaN();
    const fx = steeringEffects(runs, kinds, ['j'], { noiseFloor: [nf!], resamples: 100 });
    const e = fx.effects.find((x) => x.arm === 'emotion' && x.group === 'primary' && x.runs === 'surgical')!;
    // emotion moves ~0.5 beat noise 0, 0.2, 0.4 but not 0.6: primary ids n0..n7, t0..t3 have noise index 0..11
    const expected = primary.filter((id) => planted.emotion.get(id)! > nf!.perScenario[id]!).length / primary.length;
    expect(e.aboveNoise).toBeCloseTo(expected, 12);
    expect(expected).toBeGreaterThan(0.5);
    expect(expected).toBeLessThan(1);
    expect(fx.noiseFloor).toHaveLength(1);
  });
});

describe('manipulation check arithmetic', () => {
  it('KL of equal distributions is 0 and matches a hand computation otherwise', () => {
    const p = logSoftmax([1, 2, 3]);
    expect(Math.exp(p[0]!) + Math.exp(p[1]!) + Math.exp(p[2]!)).toBeCloseTo(1, 12);
    expect(klDivergence(p, p)).toBe(0);
    const q = logSoftmax([3, 2, 1]);
    let want = 0;
    for (let i = 0; i < 3; i++) want += Math.exp(p[i]!) * (p[i]! - q[i]!);
    expect(klDivergence(p, q)).toBeCloseTo(want, 12);
    expect(want).toBeGreaterThan(0.5);
  });

  it('averages draws within a scenario, bootstraps over scenarios, and gives each arm its ratio to the emotion arm', () => {
    const m: ManipulationMeasure[] = [];
    for (let s = 0; s < 6; s++) {
      m.push({ arm: 'emotion', scenario: `s${s}`, draw: 0, strength: 0.02, block: 3, deltaNorm: 2 + s * 0.1, relativeDeltaNorm: 0.2, kl: 0.1 });
      for (const draw of [0, 1]) m.push({ arm: 'random', scenario: `s${s}`, draw, strength: 0.02, block: 3, deltaNorm: draw === 0 ? 1 : 0.5, relativeDeltaNorm: 0.1, kl: 0.02 });
    }
    const rows = summarizeManipulation(m, { resamples: 200 });
    const e = rows.find((r) => r.arm === 'emotion')!;
    const r = rows.find((x) => x.arm === 'random')!;
    expect(e.deltaNorm.mean).toBeCloseTo(2.25, 12);
    expect(e.ratioToEmotion).toBeUndefined();
    expect(r.scenarios).toBe(6);
    expect(r.draws).toBe(12);
    expect(r.deltaNorm.mean).toBeCloseTo(0.75, 12);
    expect(r.deltaNorm.ci95).toEqual([0.75, 0.75]); // every scenario alike
    expect(r.ratioToEmotion!.deltaNorm).toBeCloseTo(0.75 / 2.25, 12);
    expect(r.ratioToEmotion!.kl).toBeCloseTo(0.2, 12);
    expect(e.deltaNorm.ci95[0]).toBeLessThan(2.25);
    expect(e.deltaNorm.ci95[1]).toBeGreaterThan(2.25);
  });
});

const E = 16;
const N_LAYER = 4;
const MODEL: ModelIdentity = { path: '', sha256: '', arch: 'test', description: 'tiny', nLayer: N_LAYER, nEmbd: E, quantization: 'F32', nParams: 0 };
const rowsOf = (x: Float32Array) => Array.from({ length: x.length / E }, (_, r) => x.subarray(r * E, (r + 1) * E));
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!; return s; };
const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a));
const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => dot(a, b) / (norm(a) * norm(b));

/**
 * A tiny set whose sample i has activation (block + 1) x e_i (a basis vector of its own), 3
 * samples per category: a difference-of-means vector then shows, by its coefficients, exactly
 * which samples it averaged (+1/3 each) and which it subtracted (-1/3 each).
 */
function signatureSet(): EmotionVectorSet {
  const categories = ['happy', 'sad', 'calm', 'neutral'];
  const samples: SampleInfo[] = categories.flatMap((category) => [0, 1, 2].map((index) => ({ category, index, prompt: `${category} ${index}`, nTokens: 3, position: 2 })));
  const acts = samples.map((_, i) => {
    const a = new Float32Array(N_LAYER * E);
    for (let l = 0; l < N_LAYER; l++) a[l * E + i] = l + 1;
    return a;
  });
  return EmotionVectorSet.fromSamples({
    method: 'comprehension', emotions: ['happy', 'sad', 'calm'], categories, layers: [0, 1, 2, 3], nEmbd: E, baseline: 'neutral', model: MODEL, params: {},
    stimuliVersion: 'test', versions: { emosteer: 'test', llamaCppCommit: 'test' }, timings: { seconds: 0, tokens: 0, tokensPerSecond: 0 }, samples, createdAt: '2026-01-01T00:00:00Z',
  }, acts);
}

describe('control directions of study v2', () => {
  const set = signatureSet();
  const scenarios = [
    { id: 'sc-a', target: 'happy', direction: 'toward' as const },
    { id: 'sc-b', target: 'happy', direction: 'toward' as const },
    { id: 'sc-c', target: 'sad', direction: 'away' as const },
  ];
  const draws = armDraws(set, scenarios, { randomSeeds: 2, randomPerBlockSeeds: 1, shuffledSeeds: 2, otherEmotion: false });
  const pick = (id: string, arm: string, draw = 0) => draws.find((d) => d.scenario === id && d.arm === arm && d.draw === draw)!;
  const steered = [1, 2, 3]; // block 0 is never steered

  it('random: one direction at every steered block, with the emotion arm\'s norm there; its own per scenario and draw; deterministic', () => {
    const strength = 0.1;
    for (const sc of scenarios) {
      const emotion = rowsOf(pick(sc.id, 'emotion').steering(strength).vectors);
      for (const draw of [0, 1]) {
        const r = rowsOf(pick(sc.id, 'random', draw).steering(strength).vectors);
        expect(norm(r[0]!)).toBe(0);
        for (const l of steered) {
          // norm-matched per block: strength x residual norm (l + 1) of the block, as the emotion arm
          expect(norm(r[l]!)).toBeCloseTo(norm(emotion[l]!), 5);
          expect(norm(r[l]!)).toBeCloseTo(strength * (l + 1), 5);
          expect(cos(r[l]!, r[1]!)).toBeCloseTo(1, 6); // the same direction at every block
        }
      }
    }
    const dir = (id: string, draw: number) => rowsOf(pick(id, 'random', draw).steering(0.1).vectors)[2]!;
    // Different scenarios (even with the same target) and different draws: different directions.
    expect(Math.abs(cos(dir('sc-a', 0), dir('sc-b', 0)))).toBeLessThan(0.9);
    expect(Math.abs(cos(dir('sc-a', 0), dir('sc-a', 1)))).toBeLessThan(0.9);
    // Deterministic: built again, the same floats.
    const again = armDraws(set, scenarios, { randomSeeds: 2, shuffledSeeds: 0, otherEmotion: false }).find((d) => d.scenario === 'sc-a' && d.arm === 'random' && d.draw === 1)!;
    expect(Array.from(again.steering(0.1).vectors)).toEqual(Array.from(pick('sc-a', 'random', 1).steering(0.1).vectors));
    // The strength scales it linearly.
    expect(norm(rowsOf(pick('sc-a', 'random').steering(0.3).vectors)[3]!)).toBeCloseTo(0.3 * 4, 5);
    expect(cos(rowsOf(pick('sc-a', 'random').steering(0.3).vectors)[3]!, dir('sc-a', 0))).toBeCloseTo(1, 6);
  });

  it('random-per-block: the emotion arm\'s norms, but a new direction at every block', () => {
    const r = rowsOf(pick('sc-a', 'random-per-block').steering(0.1).vectors);
    for (const l of steered) expect(norm(r[l]!)).toBeCloseTo(0.1 * (l + 1), 5);
    expect(Math.abs(cos(r[1]!, r[2]!))).toBeLessThan(0.9);
    expect(Math.abs(cos(r[2]!, r[3]!))).toBeLessThan(0.9);
  });

  it('shuffled-label: target mean minus neutral mean over permuted labels (one permutation for every block), unit, scaled like the emotion arm', () => {
    const strength = 0.2;
    const support = (v: Float32Array) => {
      const pos = [...v.keys()].filter((i) => v[i]! > 1e-6);
      const neg = [...v.keys()].filter((i) => v[i]! < -1e-6);
      return { pos, neg };
    };
    const seen = new Set<string>();
    for (const sc of scenarios) {
      const emotion = rowsOf(pick(sc.id, 'emotion').steering(strength).vectors);
      for (const draw of [0, 1]) {
        const rows = rowsOf(pick(sc.id, 'shuffled-label', draw).steering(strength).vectors);
        const sign = sc.direction === 'away' ? -1 : 1;
        const first = support(rows[1]!.map((x) => sign * x));
        // 3 samples averaged (the permuted target class), 3 subtracted (the permuted neutral class), disjoint.
        expect(first.pos).toHaveLength(3);
        expect(first.neg).toHaveLength(3);
        expect(first.pos.some((i) => first.neg.includes(i))).toBe(false);
        for (const l of steered) {
          const v = rows[l]!.map((x) => sign * x);
          expect(support(v)).toEqual(first); // the same permutation at every block
          // equal weights within each class: a difference of two means, unit-normalised and scaled like the emotion arm
          const c = v[first.pos[0]!]!;
          for (const i of first.pos) expect(v[i]!).toBeCloseTo(c, 6);
          for (const i of first.neg) expect(v[i]!).toBeCloseTo(-c, 6);
          expect(norm(v)).toBeCloseTo(norm(emotion[l]!), 5);
        }
        seen.add(`${first.pos.join(',')}|${first.neg.join(',')}`);
      }
    }
    // Six draws (3 scenarios x 2): permutations of their own, not all the true labels (happy = samples 0-2, neutral = 9-11).
    expect(seen.size).toBeGreaterThan(3);
    expect([...seen].every((k) => k === '0,1,2|9,10,11')).toBe(false);
    // The true labels give the emotion arm itself: the construction is the set's own.
    const truth = rowsOf(pick('sc-a', 'emotion').steering(strength).vectors)[2]!;
    expect(support(truth)).toEqual({ pos: [0, 1, 2], neg: [9, 10, 11] });
    // A set without per-sample activations cannot give one.
    const imported = EmotionVectorSet.fromVectors({ method: 'imported', model: MODEL, params: {} }, new Map([['happy', new Map([[1, new Float32Array(E).fill(1)]])]]));
    expect(() => armDraws(imported, [scenarios[0]!], { shuffledSeeds: 1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('cross-block cosine of planted vectors: adjacent pairs, all pairs, per emotion and per pair; block 0 left out', () => {
    const e = (i: number, k = 1) => { const v = new Float32Array(E); v[i] = k; return v; };
    const planted = EmotionVectorSet.fromVectors({ method: 'imported', model: MODEL, params: {} }, new Map([
      ['a', new Map([[0, e(5)], [1, e(0)], [2, e(0, 2)], [3, e(1)]])],
      ['b', new Map([[0, e(5)], [1, e(2)], [2, e(2, -1)], [3, e(2, -3)]])],
    ]));
    const c = crossBlockCosine(planted);
    expect(c.blocks).toEqual([1, 2, 3]);
    expect(c.perEmotion.a).toBeCloseTo(0.5, 12); // cos 1 then 0
    expect(c.perEmotion.b).toBeCloseTo(0, 12); // cos -1 then 1
    expect(c.adjacent).toBeCloseTo(0.25, 12);
    expect(c.allPairs).toBeCloseTo(0, 12); // a: 1, 0, 0; b: -1, -1, 1
    expect(c.perPair).toEqual([{ from: 1, to: 2, cosine: 0 }, { from: 2, to: 3, cosine: 0.5 }]);
    expect(crossBlockCosine(planted, { layers: [2, 3] }).adjacent).toBeCloseTo(0.5, 12);
    expect(crossBlockCosine(planted, { layers: [3, 3] }).adjacent).toBeNaN();
  });
});
