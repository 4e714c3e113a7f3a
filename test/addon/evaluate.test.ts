import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silhouette } from '../../lib/evaluate/cluster-quality.js';
import { curveShape, evaluateRun, evaluateSet, groupedFolds, silhouetteFromDistances } from '../../lib/evaluate/evaluate.js';
import { evaluationSummary } from '../../lib/evaluate/summary.js';
import { extractComprehension } from '../../lib/extract/comprehension.js';
import { extractGeneration } from '../../lib/extract/generation.js';
import { loadModel, type Model } from '../../lib/index.js';
import { cosine } from '../../lib/util/vec.js';
import { EmotionVectorSet, type SampleInfo } from '../../lib/vectors/emotion-vector-set.js';
import { randomVector, syntheticModel, tempPath } from '../helpers/models.js';

/** A set whose samples are Gaussian clusters around per-category centres (spread = noise). */
function clusterSet(noise: number, perClass = 8, width = 32): EmotionVectorSet {
  const emotions = ['happy', 'sad', 'calm'];
  const categories = [...emotions, 'neutral'];
  const centres = categories.map((_, c) => randomVector(width, 100 + c, 1));
  const samples: SampleInfo[] = [];
  const acts: Float32Array[] = [];
  categories.forEach((cat, c) => {
    for (let i = 0; i < perClass; i++) {
      samples.push({ category: cat, index: i, prompt: `${cat} ${i}`, nTokens: 5, position: 4 });
      const a = new Float32Array(2 * width);
      const e = randomVector(2 * width, 1000 + c * 100 + i, noise);
      for (let j = 0; j < width; j++) { a[j] = centres[c]![j]! * 0.2 + e[j]!; a[width + j] = centres[c]![j]! + e[width + j]!; }
      acts.push(a);
    }
  });
  return EmotionVectorSet.fromSamples({
    method: 'comprehension', emotions, categories, layers: [0, 1], nEmbd: width, baseline: 'all',
    model: { path: '', sha256: 'x', arch: 'test', description: 'clusters', nLayer: 2, nEmbd: width, quantization: 'F32', nParams: 0 },
    params: {}, stimuliVersion: 'test', versions: { emosteer: 't', llamaCppCommit: 't' }, timings: { seconds: 0, tokens: 0, tokensPerSecond: 0 },
    samples, createdAt: '',
  }, acts);
}
const flatAniso = { modelSha256: 'x', sentences: 0, layers: [{ layer: 0, value: 0.5 }, { layer: 1, value: 0.5 }] };

describe('evaluation metrics', () => {
  it('grouped folds keep identical prompts together and cover every sample once', () => {
    const labels = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    const groups = ['a', 'a', 'b', 'c', 'x', 'y', 'x', 'z', 'y', 'w'];
    const folds = groupedFolds(labels, groups, 5, 1);
    expect(folds.length).toBe(3); // class 0 has 3 distinct prompts
    expect(folds.flat().sort((p, q) => p - q)).toEqual(labels.map((_, i) => i));
    const foldOf = new Map(folds.flatMap((f, k) => f.map((i) => [i, k] as const)));
    expect(foldOf.get(0)).toBe(foldOf.get(1));
    expect(foldOf.get(4)).toBe(foldOf.get(6));
  });

  it('silhouette from a distance matrix equals the direct computation', () => {
    const set = clusterSet(0.8);
    const X = set.meta.samples.map((_, i) => set.sampleActivation(i, 1));
    const labels = set.meta.samples.map((s) => set.meta.categories.indexOf(s.category));
    const n = X.length;
    const D = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) D[i * n + j] = i === j ? 0 : 1 - cosine(X[i]!, X[j]!);
    expect(silhouetteFromDistances(D, n, labels, Int32Array.from(X.keys()))).toBeCloseTo(silhouette(X, labels, 'cosine'), 6);
  });

  it('detects an interior minimum (U shape) and a monotone curve', () => {
    const curve = (vals: number[]) => vals.map((v, i) => ({ layer: i, depth: i / (vals.length - 1), meanPairwiseCosine: v }));
    expect(curveShape(curve([0.9, 0.5, 0.3, 0.6, 0.8]))).toMatchObject({ minLayer: 2, uShaped: true, minDepth: 0.5 });
    expect(curveShape(curve([0.9, 0.7, 0.5, 0.3]))).toMatchObject({ minLayer: 3, uShaped: false });
  });

  it('well separated clusters score ~1 held-out accuracy; identical distributions score ~chance', () => {
    const good = evaluateSet(clusterSet(0.05), flatAniso, { resamples: 200, geometryResamples: 30 });
    const l1 = good.layers[1]!;
    expect(l1.chance).toBe(0.25);
    expect(l1.heldOutAccuracy.value).toBeGreaterThan(0.95);
    expect(l1.probeAccuracy.value).toBeGreaterThan(0.95);
    expect(l1.heldOutAccuracy.ci95[0]).toBeLessThanOrEqual(l1.heldOutAccuracy.value);
    expect(l1.silhouette.value).toBeGreaterThan(0.5);
    expect(l1.shuffledAccuracy.mean).toBeLessThan(0.5);
    for (let i = 0; i < 3; i++) expect(good.cosineMatrix.values[i]![i]).toBeCloseTo(1, 5);
    const bad = evaluateSet(clusterSet(50), flatAniso, { resamples: 200, geometryResamples: 30 });
    expect(bad.layers[1]!.heldOutAccuracy.value).toBeLessThan(0.6);
    expect(bad.layers[1]!.fisherRatio.value).toBeLessThan(good.layers[1]!.fisherRatio.value);
  });
});

describe('evaluateRun on a synthetic model run folder', () => {
  let model: Model;
  let runDir: string;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 41 }));
    runDir = tempPath('run');
    const emotions = ['happy', 'sad', 'calm'];
    await (await extractComprehension(model, { emotions, samples: 4, threads: 2 })).save(`${runDir}/comprehension`);
    await (await extractGeneration(model, { emotions, samples: 4, maxTokens: 8, threads: 2 })).save(`${runDir}/generation`);
  });
  afterAll(async () => {
    model?.dispose();
    if (runDir) await rm(runDir, { recursive: true, force: true });
  });

  it('evaluates both methods against the measured anisotropy and compares them', async () => {
    const r = await evaluateRun(runDir, { resamples: 100, geometryResamples: 20 });
    expect(Object.keys(r.methods).sort()).toEqual(['comprehension', 'generation']);
    expect(existsSync(`${runDir}/anisotropy.json`)).toBe(true);
    for (const m of Object.values(r.methods)) {
      expect(m.layers).toHaveLength(4);
      for (const l of m.layers) {
        expect(l.anisotropy).toBeGreaterThan(-1);
        expect(l.anisotropy).toBeLessThanOrEqual(1);
        expect(l.heldOutAccuracy.value).toBeGreaterThanOrEqual(0);
        expect(l.heldOutAccuracy.value).toBeLessThanOrEqual(1);
        expect(l.chance).toBe(0.25);
      }
      expect(m.layers.map((l) => l.layer)).toContain(m.bestLayer);
    }
    expect(r.comparison!.mannWhitneyP).toBeGreaterThan(0);
    expect(r.comparison!.mannWhitneyP).toBeLessThanOrEqual(1);
    expect(r.comparison!.exact).toBe(true);
    expect(r.comparison!.rsa).toHaveLength(4);
    expect(r.comparison!.perEmotionCosine.map((p) => p.emotion)).toEqual(['happy', 'sad', 'calm']);
    const json = evaluationSummary(r) as { methods: Record<string, { bestLayer: number; bestDepth: number; layers: Record<string, unknown>[] }>; comparison: Record<string, unknown> };
    for (const k of ['layer', 'meanPairwiseCosine', 'heldOutAccuracy', 'chance', 'anisotropy']) expect(typeof json.methods.generation!.layers[0]![k]).toBe('number');
    expect(typeof json.comparison.mannWhitneyP).toBe('number');
    expect(typeof json.comparison.cohensD).toBe('number');
  });
});
