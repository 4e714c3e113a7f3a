import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractComprehension } from '../lib/extract/comprehension.js';
import { loadModel, type Model } from '../lib/index.js';
import { renderSteeringSection } from '../lib/report/steering-section.js';
import { EmotionMeter } from '../lib/steer/emotion-meter.js';
import { runSteeringExperiment, wilson } from '../lib/steer/experiment.js';
import { LexiconJudge } from '../lib/steer/judges/lexicon.js';
import { ValenceJudge } from '../lib/steer/judges/valence.js';
import { logitLens } from '../lib/steer/logit-lens.js';
import { selectScenarios } from '../lib/steer/scenarios.js';
import type { EmotionVectorSet } from '../lib/vectors/emotion-vector-set.js';
import { syntheticModel } from './helpers/models.js';

describe('steering experiment on a synthetic model', () => {
  let model: Model;
  let set: EmotionVectorSet;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 61 }));
    set = await extractComprehension(model, { samples: 2, threads: 2 });
  });
  afterAll(() => model?.dispose());

  it('computes Wilson intervals (37/40 -> about 80.1%-97.4%)', () => {
    const [lo, hi] = wilson(37, 40);
    expect(lo).toBeCloseTo(0.8014, 3);
    expect(hi).toBeCloseTo(0.9742, 3);
    expect(wilson(0, 0)).toEqual([0, 1]);
  });

  it('runs scenarios x strengths x sampling, judges every run, classifies regimes, records meter traces', async () => {
    const scenarios = selectScenarios({ limit: 2 });
    const result = await runSteeringExperiment(model, set, {
      scenarios,
      strengths: [0.5, 3],
      sampling: [{ name: 'greedy', temperature: 0, seed: 0 }],
      maxTokens: 8,
      judges: [{ judge: new ValenceJudge(), margin: 0.05 }, { judge: new LexiconJudge(), margin: 0.5 }],
      meter: new EmotionMeter(set, 2),
      threads: 2,
    });
    expect(result.runs).toHaveLength(4);
    expect(result.regimes.surgical + result.regimes.repetitive + result.regimes.explosive).toBe(4);
    for (const r of result.runs) {
      expect(Object.keys(r.judges)).toEqual(['valence-vader', 'lexicon']);
      expect(r.perplexityRatio).toBeGreaterThan(0);
      expect(r.meterTrace!.steered.length).toBeGreaterThan(0);
      expect(r.baselineText.length).toBeGreaterThan(0);
    }
    // The strong run changes the text (the baseline is the same unsteered text for both strengths).
    expect(result.runs[1]!.text).not.toBe(result.runs[1]!.baselineText);
    expect(result.judges.lexicon!.perScenario.trials).toBe(2);
    expect(result.judges.lexicon!.perRun.trials).toBe(4);
    expect(result.regimeMap.length).toBeGreaterThan(0);
    const section = await renderSteeringSection({ ...result, logitLens: [] });
    expect(section.html).toContain('data-plot="regime-map"');
    expect(section.html).toContain('data-plot="emotion-meter"');
    expect(section.html).toContain('<svg');
  });

  it('the logit lens lists the tokens a vector promotes, with their scripts', async () => {
    const ctx = await model.createContext({ threads: 2 });
    try {
      const lens = await logitLens(ctx, set, ['happy', 'sad'], { topK: 5, strength: 2 });
      expect(lens).toHaveLength(2);
      for (const l of lens) {
        expect(l.tokens).toHaveLength(5);
        for (let i = 1; i < 5; i++) expect(l.tokens[i - 1]!.delta).toBeGreaterThanOrEqual(l.tokens[i]!.delta);
        expect(Object.values(l.scripts).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
      }
      expect(ctx.steering).toBeNull();
    } finally {
      await ctx.dispose();
    }
  });
});
