// runSpecificity end to end on a tiny synthetic model: 3 emotions x 3 neutral scenarios, a stub
// judge that scores every emotion. Checks the shapes, that two runs give the same result, that
// a checkpoint restores every continuation, and that the permutation p lies in (0, 1].
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../lib/index.js';
import type { Judge } from '../../lib/steer/judges/judge.js';
import { scenariosByKind } from '../../lib/steer/scenarios.js';
import { runSpecificity, type SpecificityRunResult } from '../../lib/steer/specificity.js';
import { EmotionVectorSet, type SampleInfo } from '../../lib/vectors/emotion-vector-set.js';
import { randomVector, syntheticModel, tempPath } from '../helpers/models.js';

const EMOTIONS = ['happy', 'sad', 'calm'];

/** A set of random vectors for the model's width (every block), with residual norms. */
function randomSet(model: Model): EmotionVectorSet {
  const categories = [...EMOTIONS, 'neutral'];
  const L = model.nLayer;
  const E = model.nEmbd;
  const samples: SampleInfo[] = [];
  const acts: Float32Array[] = [];
  categories.forEach((category, c) => {
    for (let i = 0; i < 2; i++) {
      samples.push({ category, index: i, prompt: `${category} ${i}`, nTokens: 4, position: 3 });
      acts.push(randomVector(L * E, 500 + 10 * c + i, 1));
    }
  });
  return EmotionVectorSet.fromSamples({
    method: 'comprehension', emotions: EMOTIONS, categories, layers: Array.from({ length: L }, (_, l) => l), nEmbd: E, baseline: 'neutral',
    model: { path: '', sha256: 'synthetic', arch: model.info.arch, description: model.info.description, nLayer: L, nEmbd: E, quantization: 'F32', nParams: 0 },
    params: {}, stimuliVersion: 'test', versions: { emosteer: 't', llamaCppCommit: 't' }, timings: { seconds: 0, tokens: 0, tokensPerSecond: 0 },
    samples, createdAt: '2026-01-01T00:00:00Z',
  }, acts);
}

/** A deterministic stand-in judge: a hash of the text and the emotion, in [0, 1). */
const stubJudge: Judge = {
  name: 'stub',
  async score(text: string, emotion: string) {
    let h = 2166136261;
    for (const ch of `${emotion}:${text}`) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
    return h / 4294967296;
  },
};

/** A judge that cannot score 'calm' (like a valence judge for an emotion without valence). */
const blindJudge: Judge = {
  name: 'blind',
  async score(text: string, emotion: string) {
    return emotion === 'calm' ? NaN : text.length;
  },
};

const withoutTiming = (r: SpecificityRunResult) => ({ ...r, timing: { ...r.timing, wallSeconds: 0, generationSeconds: 0, judgingSeconds: 0 } });

describe('runSpecificity on a synthetic model', () => {
  let model: Model;
  let set: EmotionVectorSet;
  const checkpoint = tempPath('specificity.jsonl');
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 61 }));
    set = randomSet(model);
  });
  afterAll(async () => {
    model?.dispose();
    if (existsSync(checkpoint)) await rm(checkpoint);
  });

  it('steers every emotion on every scenario, judges every emotion, and is deterministic and resumable', async () => {
    const scenarios = scenariosByKind('neutral').slice(0, 3);
    const options = { scenarios, strength: 2, judges: [stubJudge, blindJudge], maxTokens: 6, batch: 4, threads: 1, permutations: 200, resamples: 50 };
    const progress: number[] = [];
    const a = await runSpecificity(model, set, { ...options, checkpoint, onProgress: (done) => progress.push(done) });
    expect(progress).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(a.emotions).toEqual(EMOTIONS);
    expect(a.scenarios).toEqual(scenarios.map((s) => s.id));
    expect(a.texts).toHaveLength(3 + 3 * 3);
    expect(a.texts.slice(0, 3).every((t) => t.steered === null)).toBe(true);
    for (const t of a.texts) {
      expect(Object.keys(t.scores)).toEqual(['stub', 'blind']);
      expect(Object.keys(t.scores.stub!)).toEqual(EMOTIONS);
      expect(Number.isNaN(t.scores.blind!.calm)).toBe(true);
    }
    // strength 2 changes some continuation
    const baseline = new Map(a.texts.filter((t) => t.steered === null).map((t) => [t.scenario, t.text]));
    expect(a.texts.some((t) => t.steered !== null && t.text !== baseline.get(t.scenario))).toBe(true);

    const m = a.judges.stub!;
    expect(m.matrix).toHaveLength(3);
    expect(m.matrix.every((row) => row.length === 3 && row.every(Number.isFinite))).toBe(true);
    expect(m.testable).toBe(true);
    expect(m.permutation.p).toBeGreaterThan(0);
    expect(m.permutation.p).toBeLessThanOrEqual(1);
    expect(m.diagonal).toHaveLength(3);
    // the cell is the mean over scenarios of steered - baseline
    const cell = scenarios.map((sc) => {
      const steered = a.texts.find((t) => t.steered === 'sad' && t.scenario === sc.id)!;
      return steered.scores.stub!.happy! - a.texts.find((t) => t.steered === null && t.scenario === sc.id)!.scores.stub!.happy!;
    });
    expect(m.matrix[1]![0]!).toBeCloseTo(cell.reduce((x, y) => x + y, 0) / 3, 12);
    // the blind judge loses 'calm' and with it the test (3 emotions needed)
    expect(a.judges.blind!.leftOut.map((l) => l.emotion)).toEqual(['calm']);
    expect(a.judges.blind!.testable).toBe(false);
    expect(a.timing.continuations).toBe(12);
    expect(a.timing.restored).toBe(0);
    expect(a.timing.wallSeconds).toBeGreaterThan(0);
    expect(a.timing.generationSeconds).toBeGreaterThan(0);

    // the same again, from scratch: the same texts and matrices
    const b = await runSpecificity(model, set, options);
    expect(withoutTiming(b)).toEqual({ ...withoutTiming(a), timing: { ...withoutTiming(a).timing } });
    // from the checkpoint: nothing decoded, the same result
    const c = await runSpecificity(model, set, { ...options, checkpoint });
    expect(c.timing.restored).toBe(12);
    expect(c.timing.generationSeconds).toBe(0);
    expect(withoutTiming(c)).toEqual({ ...withoutTiming(a), timing: { ...withoutTiming(a).timing, restored: 12 } });
    // a checkpoint of other parameters is refused
    await expect(runSpecificity(model, set, { ...options, strength: 3, checkpoint })).rejects.toThrow(/other parameters/);
  });

  it('refuses an emotion the set lacks and a bad strength', async () => {
    await expect(runSpecificity(model, set, { strength: 1, judges: [stubJudge], emotions: ['happy', 'angry'] })).rejects.toThrow(/no vector for 'angry'/);
    await expect(runSpecificity(model, set, { strength: 0, judges: [stubJudge] })).rejects.toThrow(/strength/);
    await expect(runSpecificity(model, set, { strength: 1, judges: [] })).rejects.toThrow(/judge/);
  });
});
