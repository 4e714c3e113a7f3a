// evaluateRun over a run folder with read-out variants (study v2, issue 19): sets saved as
// `<method>.<read-out>/` keep that name, and generation is compared with comprehension per pair
// of read-outs of docs/PREREG.md (best-block accuracy, best block re-selected per cluster
// resample). No model: the anisotropy profile is cached in the folder.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateRun } from '../../lib/evaluate/evaluate.js';
import { evaluationSummary } from '../../lib/evaluate/summary.js';
import type { EvaluationResult } from '../../lib/evaluate/types.js';
import { seededRandom } from '../../lib/evaluate/statistics.js';
import { GENERATION_TEMPLATES, generationPrompt, neutralPrompt } from '../../lib/stimuli/index.js';
import { EmotionVectorSet, type SampleInfo } from '../../lib/vectors/emotion-vector-set.js';

function gaussian(seed: number): () => number {
  const u = seededRandom(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

const EMOTIONS = ['happy', 'sad', 'calm'];
const CATEGORIES = [...EMOTIONS, 'neutral'];

/** A set of 10 samples per category at blocks 0-3; block 2 carries class means of spread `spread`. */
function set(method: 'generation' | 'comprehension', spread: number, seed: number): EmotionVectorSet {
  const d = 16;
  const g = gaussian(seed);
  const offset = Array.from({ length: d }, () => 5 * g());
  const means = CATEGORIES.map(() => Array.from({ length: d }, () => spread * g()));
  const samples: SampleInfo[] = [];
  const acts: Float32Array[] = [];
  CATEGORIES.forEach((cat, c) => {
    for (let i = 0; i < 10; i++) {
      const prompt = method === 'comprehension' ? `passage ${cat} number ${i}` : cat === 'neutral' ? neutralPrompt(i) : generationPrompt(cat, i, GENERATION_TEMPLATES);
      samples.push({ category: cat, index: i, prompt, ...(method === 'generation' ? { text: `story ${i}` } : {}), nTokens: 10, position: 9 });
      const a = new Float32Array(4 * d);
      for (let l = 0; l < 4; l++) for (let j = 0; j < d; j++) a[l * d + j] = offset[j]! + (l === 2 ? means[c]![j]! : 0) + g();
      acts.push(a);
    }
  });
  return EmotionVectorSet.fromSamples({
    method, emotions: EMOTIONS, categories: CATEGORIES, layers: [0, 1, 2, 3], nEmbd: d, baseline: method === 'generation' ? 'neutral' : 'all',
    model: { path: '', sha256: 'sha-x', arch: 'test', description: 'planted', nLayer: 4, nEmbd: d, quantization: 'F32', nParams: 0 },
    params: {}, stimuliVersion: 'test', versions: { emosteer: 't', llamaCppCommit: 't' }, timings: { seconds: 0, tokens: 0, tokensPerSecond: 0 },
    samples, createdAt: '',
  }, acts);
}

describe('evaluateRun with read-out variants', () => {
  let dir: string;
  let result: EvaluationResult;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'emosteer-eval-v2-'));
    await set('generation', 3, 1).save(join(dir, 'generation'));
    await set('generation', 3, 2).save(join(dir, 'generation.mean'));
    await set('comprehension', 0, 3).save(join(dir, 'comprehension'));
    await set('comprehension', 0, 4).save(join(dir, 'comprehension.mean'));
    await writeFile(join(dir, 'anisotropy.json'), JSON.stringify({ modelSha256: 'sha-x', sentences: 1, layers: [0, 1, 2, 3].map((layer) => ({ layer, value: 0.9, varied: 0.8 })), varied: { texts: 1, vectors: 1, positions: 'test' } }));
    result = await evaluateRun(dir, { resamples: 300, geometryResamples: 5, maxNullPermutations: 50, permutations: 5 });
  }, 120_000);
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('names the read-out variants by their folder', () => {
    expect(Object.keys(result.methods).sort()).toEqual(['comprehension', 'comprehension.mean', 'generation', 'generation.mean']);
    expect(result.anisotropy[0]).toEqual({ layer: 0, value: 0.9, varied: 0.8 });
  });

  it('compares generation with comprehension per pair of read-outs', () => {
    const d = result.decodability!;
    expect(d.primary).toMatchObject({ a: 'generation.mean', b: 'comprehension.mean', centred: true, layerA: 2 });
    expect(d.primary!.accuracyA).toBe(result.methods['generation.mean']!.bestBlock!.accuracy);
    expect(d.primary!.difference.value).toBeCloseTo(d.primary!.accuracyA - d.primary!.accuracyB, 12);
    expect(d.primary!.difference.ci95[0]).toBeGreaterThan(0.2);
    expect(d.primaryUncentred).toMatchObject({ a: 'generation.mean', b: 'comprehension.mean', centred: false });
    const mean = result.methods['generation.mean']!;
    expect(d.primaryUncentred!.accuracyA).toBe(Math.max(...mean.layers.map((l) => l.heldOutAccuracyUncentred!.value)));
    expect(d.paper).toMatchObject({ a: 'generation', b: 'comprehension', centred: true });
    expect(d.punctuation).toBeUndefined(); // no generation.punctuation set
    expect(result.comparison!.decodability!.difference.value).toBeCloseTo(d.paper!.difference.value, 12);
    expect((evaluationSummary(result) as { decodability: unknown }).decodability).toEqual(d);
  });

  it('the weak set has no best block beyond the null of the best of all blocks', () => {
    const c = result.methods['comprehension.mean']!.bestBlock!;
    expect(c.p).toBeGreaterThan(0.05);
    const g = result.methods['generation.mean']!.bestBlock!;
    expect(g.p).toBeCloseTo(1 / 51, 12);
    expect(result.methods['comprehension.mean']!.textBaseline!.source).toBe('prompt');
  });
});
