// The control arms of the steering experiment (lib/steer/controls.ts): each must push as hard
// as the emotion arm (the same norm at every block; the random constructions differ in how their
// blocks line up), the shuffled-label arm must be the same construction without the labels, and
// every arm's draws must be reproducible. Pure: planted vector sets, no model.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../lib/evaluate/statistics.js';
import { armDraws, randomDirectionLike, rotatedLike, sameDirectionLike, scenarioSeed, shuffledLabelSet } from '../../lib/steer/controls.js';
import { EmotionVectorSet, type SampleInfo } from '../../lib/vectors/emotion-vector-set.js';
import { steeringVectors } from '../../lib/vectors/steering-vectors.js';

const E = 64;
const N_LAYER = 6;

function rows(x: Float32Array, nEmbd = E): Float32Array[] {
  return Array.from({ length: x.length / nEmbd }, (_, r) => x.subarray(r * nEmbd, (r + 1) * nEmbd));
}
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!; return s; };
const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a));
const cos = (a: ArrayLike<number>, b: ArrayLike<number>) => dot(a, b) / (norm(a) * norm(b));
/** Norm of the sum of the rows: the push of a residual stream that only adds (identity blocks). */
function accumulated(x: Float32Array): number {
  const s = new Float64Array(E);
  for (const r of rows(x)) for (let j = 0; j < E; j++) s[j]! += r[j]!;
  return norm(s);
}

/**
 * A set whose emotion samples carry a planted direction per emotion that drifts slowly over the
 * blocks (neighbouring blocks alike, as in real models), on top of unit noise; block 0 included.
 */
function plantedSet(options: { perCategory?: number; emotions?: string[]; signal?: number; seed?: number } = {}): EmotionVectorSet {
  const emotions = options.emotions ?? ['happy', 'sad', 'angry', 'calm'];
  const categories = [...emotions, 'neutral'];
  const per = options.perCategory ?? 8;
  const rand = seededRandom(options.seed ?? 3);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const layers = Array.from({ length: N_LAYER }, (_, i) => i);
  // Per emotion: a base direction plus a small drift per block.
  const planted = new Map(emotions.map((e) => {
    const base = Array.from({ length: E }, gauss);
    return [e, layers.map((l) => Float32Array.from(base, (b) => b + 0.3 * l * gauss()))];
  }));
  const samples: SampleInfo[] = [];
  const acts: Float32Array[] = [];
  for (const c of categories) {
    for (let i = 0; i < per; i++) {
      samples.push({ category: c, index: i, prompt: `${c} ${i}`, nTokens: 4, position: 3 });
      const a = new Float32Array(N_LAYER * E);
      layers.forEach((l, li) => {
        const p = planted.get(c)?.[li];
        for (let j = 0; j < E; j++) a[li * E + j] = 10 + gauss() + (p ? (options.signal ?? 1) * p[j]! : 0);
      });
      acts.push(a);
    }
  }
  return EmotionVectorSet.fromSamples({
    method: 'comprehension',
    emotions,
    categories,
    layers,
    nEmbd: E,
    baseline: 'all',
    model: { path: '', sha256: '', arch: 'test', description: 'planted', nLayer: N_LAYER, nEmbd: E, quantization: 'F32', nParams: 0 },
    params: {},
    stimuliVersion: 'test',
    versions: { emosteer: 'test', llamaCppCommit: 'test' },
    timings: { seconds: 0, tokens: 0, tokensPerSecond: 0 },
    samples,
    createdAt: '2026-01-01T00:00:00Z',
  }, acts);
}

describe('random constructions', () => {
  const set = plantedSet();
  const like = steeringVectors(set, { emotion: 'happy', strength: 0.05 }).vectors;

  it('same-direction: the emotion steering\'s norm at every block, one direction for all blocks, a direction of its own', () => {
    const r = sameDirectionLike(like, E, 11);
    const lr = rows(like);
    const rr = rows(r);
    expect(norm(rr[0]!)).toBe(0); // block 0 is not steered, and stays so
    for (let i = 1; i < N_LAYER; i++) {
      expect(norm(rr[i]!)).toBeCloseTo(norm(lr[i]!), 4);
      expect(cos(rr[i]!, rr[1]!)).toBeCloseTo(1, 6);
      expect(Math.abs(cos(rr[i]!, lr[i]!))).toBeLessThan(0.5);
    }
    expect(Array.from(sameDirectionLike(like, E, 11))).toEqual(Array.from(r));
    expect(cos(rows(sameDirectionLike(like, E, 12))[1]!, rr[1]!)).toBeLessThan(0.9);
  });

  it('rotation: every block\'s norm and every pair of blocks\' dot product kept, the direction turned', () => {
    const r = rotatedLike(like, E, 5);
    const lr = rows(like);
    const rr = rows(r);
    for (let i = 0; i < N_LAYER; i++) {
      for (let k = 0; k < N_LAYER; k++) expect(dot(rr[i]!, rr[k]!)).toBeCloseTo(dot(lr[i]!, lr[k]!), 3);
    }
    for (let i = 1; i < N_LAYER; i++) expect(Math.abs(cos(rr[i]!, lr[i]!))).toBeLessThan(0.5);
    expect(Array.from(rotatedLike(like, E, 5))).toEqual(Array.from(r));
    expect(Array.from(rotatedLike(like, E, 6))).not.toEqual(Array.from(r));
    // Rank-deficient steering (two equal rows, a zero row) keeps its structure too.
    const deg = new Float32Array(3 * E);
    deg.set(lr[2]!, 0);
    deg.set(lr[2]!, E);
    const dr = rows(rotatedLike(deg, E, 1));
    expect(cos(dr[0]!, dr[1]!)).toBeCloseTo(1, 6);
    expect(norm(dr[0]!)).toBeCloseTo(norm(lr[2]!), 4);
    expect(norm(dr[2]!)).toBe(0);
    expect(() => rotatedLike(new Float32Array(E + 1), E, 0)).toThrow(/whole number of rows/);
  });

  it('how hard they push where blocks only add: per-block random pushes less than the emotion steering; same-direction at least as hard; rotation exactly as hard', () => {
    // The planted emotion directions are alike across blocks, as in real models.
    const lr = rows(like);
    expect(cos(lr[2]!, lr[3]!)).toBeGreaterThan(0.5);
    const emotion = accumulated(like);
    let perBlock = 0;
    let same = 0;
    let rot = 0;
    for (let seed = 0; seed < 20; seed++) {
      perBlock += accumulated(randomDirectionLike(like, E, seed)) / 20;
      same += accumulated(sameDirectionLike(like, E, seed)) / 20;
      rot += accumulated(rotatedLike(like, E, seed)) / 20;
    }
    expect(perBlock).toBeLessThan(0.75 * emotion);
    expect(same).toBeGreaterThanOrEqual(emotion * 0.999);
    expect(rot).toBeCloseTo(emotion, 3);
  });
});

describe('shuffled-label control', () => {
  it('the same construction with permuted labels: same category sizes and residual norms, the planted direction gone', () => {
    const set = plantedSet({ perCategory: 10, signal: 1.5 });
    const sh = shuffledLabelSet(set, 0);
    for (const c of set.meta.categories) {
      expect(sh.meta.samples.filter((s) => s.category === c)).toHaveLength(set.meta.samples.filter((s) => s.category === c).length);
    }
    expect(sh.meta.residualNorms).toEqual(set.meta.residualNorms);
    expect(sh.meta.params).toMatchObject({ shuffledLabels: { seed: 0 } });
    // Reproducible, and another seed is another permutation.
    expect(Array.from(shuffledLabelSet(set, 0).vector('happy', 3))).toEqual(Array.from(sh.vector('happy', 3)));
    expect(Array.from(shuffledLabelSet(set, 1).vector('happy', 3))).not.toEqual(Array.from(sh.vector('happy', 3)));
    // The set's own vector finds the planted direction; the shuffled ones do not (mean over seeds).
    const planted = set.vector('happy', 3); // a strong signal: the set's vector is the planted direction plus noise
    const other = plantedSet({ perCategory: 10, signal: 1.5, seed: 3 }); // the same planted data, built again
    expect(cos(other.vector('happy', 3), planted)).toBeCloseTo(1, 6);
    let shuffledCos = 0;
    for (let seed = 0; seed < 10; seed++) shuffledCos += Math.abs(cos(shuffledLabelSet(set, seed).vector('happy', 3), planted)) / 10;
    expect(shuffledCos).toBeLessThan(0.6);
    // Norm-scaled steering from it pushes exactly as hard per block as the emotion's.
    const a = rows(steeringVectors(set, { emotion: 'happy', strength: 0.02 }).vectors);
    const b = rows(steeringVectors(sh, { emotion: 'happy', strength: 0.02 }).vectors);
    for (let i = 0; i < N_LAYER; i++) expect(norm(b[i]!)).toBeCloseTo(norm(a[i]!), 4);
  });

  it('refuses a set without per-sample activations, saying what to do', () => {
    const set = plantedSet();
    const bare = EmotionVectorSet.fromVectors({ method: 'imported', model: set.meta.model, params: {} }, new Map([['happy', new Map([[1, set.vector('happy', 1, { unit: false })]])]]));
    expect(() => shuffledLabelSet(bare, 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/per-sample activations/) }));
  });
});

describe('armDraws', () => {
  const set = plantedSet();
  const scenarios = [
    { id: 'a', target: 'happy', direction: 'toward' as const },
    { id: 'b', target: 'happy', direction: 'toward' as const },
    { id: 'c', target: 'sad', direction: 'away' as const },
  ];

  it('every arm of every scenario, norm-matched to the scenario\'s emotion steering at every block, signed by its direction', () => {
    const draws = armDraws(set, scenarios, { randomSeeds: 2, shuffledSeeds: 2 });
    expect(draws.filter((d) => d.scenario === 'a').map((d) => `${d.arm}:${d.draw}`)).toEqual(['emotion:0', 'random:0', 'random:1', 'shuffled-label:0', 'shuffled-label:1', 'other-emotion:0']);
    for (const d of draws) {
      const sc = scenarios.find((s) => s.id === d.scenario)!;
      const want = rows(steeringVectors(set, { emotion: sc.target, strength: 0.03 }).vectors);
      const got = d.steering(0.03);
      expect(got.layers).toEqual([1, N_LAYER - 1]);
      rows(got.vectors).forEach((r, i) => expect(norm(r)).toBeCloseTo(norm(want[i]!), 4));
    }
    // 'away' steers against the vector.
    const c = draws.find((d) => d.scenario === 'c' && d.arm === 'emotion')!.steering(0.03).vectors;
    expect(cos(rows(c)[2]!, set.vector('sad', 2))).toBeCloseTo(-1, 5);
    // Random and shuffled-label draws are the scenario's own (scenarios are independent units).
    const at = (id: string, arm: string, draw = 0) => rows(draws.find((d) => d.scenario === id && d.arm === arm && d.draw === draw)!.steering(0.03).vectors)[2]!;
    expect(Math.abs(cos(at('a', 'random'), at('b', 'random')))).toBeLessThan(0.9);
    expect(Math.abs(cos(at('a', 'random', 0), at('a', 'random', 1)))).toBeLessThan(0.9);
    expect(Math.abs(cos(at('a', 'shuffled-label'), at('b', 'shuffled-label')))).toBeLessThan(0.999);
    // A shuffled-label draw scales linearly with strength, as the emotion steering does.
    const sl = draws.find((d) => d.scenario === 'a' && d.arm === 'shuffled-label')!;
    expect(norm(rows(sl.steering(0.06).vectors)[2]!)).toBeCloseTo(2 * norm(rows(sl.steering(0.03).vectors)[2]!), 4);
    expect(draws.find((d) => d.scenario === 'a' && d.arm === 'other-emotion')!.steerEmotion).not.toBe('happy');
  });

  it('constructions, counts and the keys that say which draws steer alike', () => {
    // The construction before study v2 is an arm of its own, off by default: norms matched, blocks drawn apart.
    const perBlock = armDraws(set, scenarios, { randomSeeds: 0, randomPerBlockSeeds: 1, otherEmotion: false });
    const r = perBlock.filter((d) => d.arm === 'random-per-block');
    expect(r).toHaveLength(3);
    expect(new Set(r.map((d) => d.key)).size).toBe(3);
    const pb = rows(r[0]!.steering(0.02).vectors);
    const em = rows(perBlock[0]!.steering(0.02).vectors);
    for (let i = 1; i < N_LAYER; i++) expect(norm(pb[i]!)).toBeCloseTo(norm(em[i]!), 4);
    expect(Math.abs(cos(pb[2]!, pb[3]!))).toBeLessThan(0.5);
    expect(armDraws(set, scenarios, { otherEmotion: false }).some((d) => d.arm === 'random-per-block')).toBe(false);
    const rot = armDraws(set, scenarios.slice(0, 1), { randomSeeds: 1, randomConstruction: 'rotation', otherEmotion: false });
    const emo = rows(rot[0]!.steering(0.02).vectors);
    const rr = rows(rot[1]!.steering(0.02).vectors);
    expect(dot(rr[2]!, rr[3]!)).toBeCloseTo(dot(emo[2]!, emo[3]!), 3);
    expect(armDraws(set, scenarios, { randomSeeds: 0, otherEmotion: false }).map((d) => d.arm)).toEqual(['emotion', 'emotion', 'emotion']);
    expect(() => armDraws(set, [{ id: 'x', target: 'bored', direction: 'toward' }])).toThrow(expect.objectContaining({ code: 'UNKNOWN_EMOTION' }));
    expect(() => armDraws(set, scenarios, { randomSeeds: -1 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => armDraws(set, scenarios, { randomConstruction: 'nope' as never })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('scenario seeds are stable and differ by scenario and draw', () => {
    expect(scenarioSeed('neutral-weather', 0)).toBe(scenarioSeed('neutral-weather', 0));
    const seeds = new Set(['a', 'b', 'c'].flatMap((id) => [0, 1, 2].map((d) => scenarioSeed(id, d))));
    expect(seeds.size).toBe(9);
  });
});
