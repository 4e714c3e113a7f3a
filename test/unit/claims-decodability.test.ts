import { describe, expect, it } from 'vitest';
import { decodabilityPair, evaluateSet } from '../../lib/evaluate/evaluate.js';
import { seededRandom } from '../../lib/evaluate/statistics.js';
import type { AnisotropyProfile } from '../../lib/evaluate/anisotropy.js';
import { methodRow } from '../../lib/study/aggregate.js';
import { blockAgreement, checkClaims, crossLingualVerdict, depthBandVerdict, signAgreement } from '../../lib/study/claims.js';
import type { StudyRow } from '../../lib/study/types.js';
import { EmotionVectorSet, type SampleInfo } from '../../lib/vectors/emotion-vector-set.js';

// Planted geometry: 6 emotions + neutral, 10 samples each, 6 blocks of width 24; every sample
// shares a large common offset (anisotropy near 1), the class signal has a planted size per
// block, so decodability, its best block and its depth are known.
const EMOTIONS = ['happy', 'sad', 'calm', 'afraid', 'angry', 'proud'];
const L = 6;
const E = 24;

function plantedSet(method: 'generation' | 'comprehension', signal: readonly number[], seed: number): EmotionVectorSet {
  const rand = seededRandom(seed);
  const g = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  const cats = [...EMOTIONS, 'neutral'];
  const dirs = cats.map(() => Array.from({ length: E }, g));
  const offset = Array.from({ length: E }, () => 20 + g());
  const samples: SampleInfo[] = [];
  const acts: Float32Array[] = [];
  cats.forEach((c, ci) => {
    for (let i = 0; i < 10; i++) {
      samples.push({ category: c, index: i, prompt: `${method === 'generation' ? `template ${i} about {emotion}`.replace('{emotion}', c) : `passage ${c} ${i}`}`, text: `story ${i}`, nTokens: 10, position: 5 });
      const a = new Float32Array(L * E);
      for (let l = 0; l < L; l++) for (let x = 0; x < E; x++) a[l * E + x] = offset[x]! + signal[l]! * dirs[ci]![x]! + g();
      acts.push(a);
    }
  });
  return EmotionVectorSet.fromSamples({
    method, emotions: EMOTIONS, categories: cats, layers: Array.from({ length: L }, (_, i) => i), nEmbd: E, baseline: method === 'generation' ? 'neutral' : 'all',
    model: { path: '', sha256: 'x'.repeat(64), arch: 'llama', description: 'planted', nLayer: L, nEmbd: E, quantization: 'F32', nParams: 1 },
    params: {}, stimuliVersion: 'planted', versions: { emosteer: '0', llamaCppCommit: '0' }, timings: { seconds: 0, tokens: 0, tokensPerSecond: 0 }, samples, createdAt: '2026-01-01T00:00:00Z',
  }, acts);
}

const ANISO: AnisotropyProfile = { modelSha256: 'x', sentences: 2, layers: Array.from({ length: L }, (_, layer) => ({ layer, value: 0.99 })) };
const OPTS = { resamples: 300, geometryResamples: 20, permutations: 2, maxNullPermutations: 50, textBaseline: false };

function rowFor(gen: readonly number[], comp: readonly number[], kind: 'instruct' | 'base' = 'instruct', seed = 1): StudyRow {
  const g = evaluateSet(plantedSet('generation', gen, seed), ANISO, OPTS);
  const c = evaluateSet(plantedSet('comprehension', comp, seed + 100), ANISO, OPTS);
  const primary = decodabilityPair('generation.mean', g, 'comprehension.mean', c, true, { resamples: 500 })!;
  const primaryUncentred = decodabilityPair('generation.mean', g, 'comprehension.mean', c, false, { resamples: 500 })!;
  return {
    variant: { id: `m${seed}`, source: 'planted' },
    model: { description: 'planted', family: 'llama', arch: 'llama', params: 1e8, kind, quantization: 'F32', blocks: L, embd: E, sha256: 'x' },
    methods: { 'generation.mean': { ...methodRow(g), emotions: 20 }, generation: methodRow(g), comprehension: methodRow(c) },
    decodability: { primary, primaryUncentred },
    seconds: {},
  };
}

const claim = (rows: StudyRow[], id: string) => checkClaims(rows).find((c) => c.id === id)!;

describe('claims 1-4 from planted geometry, through the evaluation', () => {
  it('claim 1 holds, does not hold and is inconclusive as planted', () => {
    const strong = [0.2, 1.2, 2, 2, 1.2, 0.2];
    const weak = [0.05, 0.25, 0.4, 0.4, 0.25, 0.05];
    const none = [0, 0, 0, 0, 0, 0];
    expect(claim([rowFor(strong, weak)], 'generation-beats-comprehension').verdict).toBe('holds');
    expect(claim([rowFor(weak, strong)], 'generation-beats-comprehension').verdict).toBe('does not hold');
    // Both at chance: the interval sits within the band around 0 or includes 0 without deciding.
    expect(['inconclusive', 'does not hold']).toContain(claim([rowFor(none, none)], 'generation-beats-comprehension').verdict);
    // A base model is not counted.
    expect(claim([rowFor(strong, weak, 'base')], 'generation-beats-comprehension').verdict).toBe('cannot be tested here');
  });

  it('the mean pairwise cosine of centred vectors is a constant, so the v1 cosine rule could not come out either way', () => {
    const r1 = rowFor([0.2, 1.2, 2, 2, 1.2, 0.2], [0.05, 0.25, 0.4, 0.4, 0.25, 0.05]);
    const r2 = rowFor([0.05, 0.25, 0.4, 0.4, 0.25, 0.05], [0.2, 1.2, 2, 2, 1.2, 0.2]);
    // Comprehension vectors are centred on the mean of all category means: -1/(N-1) whatever the signal.
    for (const r of [r1, r2]) expect(r.methods.comprehension!.bestCosine).toBeLessThan(-0.1);
    expect(Math.abs(r1.methods.comprehension!.bestCosine - r2.methods.comprehension!.bestCosine)).toBeLessThan(0.05);
    // ...while decodability tells the two plantings apart.
    expect(r1.decodability!.primary!.difference.value).toBeGreaterThan(0.2);
    expect(r2.decodability!.primary!.difference.value).toBeLessThan(-0.2);
  });

  it('claims 2 and 3 follow the accuracy curve: a middle peak holds, an end peak does not, noise is not decodable', () => {
    const middle = rowFor([0.1, 0.6, 1.5, 1.5, 0.6, 0.1], [0.1, 0.1, 0.1, 0.1, 0.1, 0.1]);
    expect(claim([middle], 'twenty-emotions').verdict).toBe('holds');
    expect(claim([middle], 'middle-depth-u-shape').verdict).toBe('holds');
    const late = rowFor([0.05, 0.1, 0.2, 0.4, 0.8, 2], [0.1, 0.1, 0.1, 0.1, 0.1, 0.1], 'instruct', 7);
    expect(claim([late], 'middle-depth-u-shape').verdict).toBe('does not hold');
    const none = rowFor([0, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0], 'instruct', 9);
    expect(claim([none], 'twenty-emotions').verdict).not.toBe('holds');
  });

  it('the depth band and the sign agreement rules in all three directions', () => {
    expect(depthBandVerdict(0.5, [0.4, 0.6]).verdict).toBe('holds');
    expect(depthBandVerdict(0.9, [0.8, 1]).verdict).toBe('does not hold');
    expect(depthBandVerdict(0.65, [0.5, 0.8]).verdict).toBe('inconclusive');
    expect(signAgreement({ value: 0.2, ci95: [0.1, 0.3] }, { value: 0.1, ci95: [-0.1, 0.3] }).verdict).toBe('holds');
    expect(signAgreement({ value: 0.2, ci95: [0.1, 0.3] }, { value: -0.2, ci95: [-0.3, -0.1] }).verdict).toBe('does not hold');
    expect(signAgreement({ value: 0.2, ci95: [0.1, 0.3] }, { value: -0.05, ci95: [-0.2, 0.1] }).verdict).toBe('inconclusive');
  });

  it('claim 4 block agreement and claim 7 cross-lingual rules come out each way', () => {
    const curve = [0, 1, 2, 3].map((layer) => ({ layer, depth: layer / 3, cosine: 0, accuracy: 0, anisotropy: 0 }));
    expect(blockAgreement(2, [0.5, 0.8], curve).verdict).toBe('holds');
    expect(blockAgreement(0, [0.5, 0.8], curve).verdict).toBe('does not hold');
    expect(blockAgreement(9, [0.5, 0.8], curve).verdict).toBe('cannot be tested here');
    expect(crossLingualVerdict({ difference: { value: 0.2, ci95: [0.1, 0.3] }, lensNullP: 0.01 }).verdict).toBe('holds');
    expect(crossLingualVerdict({ difference: { value: 0, ci95: [-0.01, 0.01] }, lensNullP: 0.6 }).verdict).toBe('does not hold');
    expect(crossLingualVerdict({ difference: { value: 0.05, ci95: [-0.05, 0.15] }, lensNullP: 0.01 }).verdict).toBe('inconclusive');
  });
});
