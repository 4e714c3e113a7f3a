import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractComprehension } from '../../lib/extract/comprehension.js';
import { loadModel, type Model } from '../../lib/index.js';
import { renderSteeringSection } from '../../lib/report/steering-section.js';
import { EmotionMeter } from '../../lib/steer/emotion-meter.js';
import { runSteeringExperiment, wilson } from '../../lib/steer/experiment.js';
import { LexiconJudge } from '../../lib/steer/judges/lexicon.js';
import { ValenceJudge } from '../../lib/steer/judges/valence.js';
import { logitLens } from '../../lib/steer/logit-lens.js';
import { selectScenarios } from '../../lib/steer/scenarios.js';
import { steeringVectors } from '../../lib/vectors/steering-vectors.js';
import type { EmotionVectorSet } from '../../lib/vectors/emotion-vector-set.js';
import { syntheticModel } from '../helpers/models.js';

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

describe('steering controls', () => {
  it('a random control direction has the per-block norm of the steering it imitates and a different direction', async () => {
    const { randomDirectionLike, otherEmotionFor } = await import('../../lib/steer/controls.js');
    const E = 16;
    const like = new Float32Array(4 * E);
    for (let j = 0; j < E; j++) { like[1 * E + j] = j; like[3 * E + j] = 2; }
    const r0 = randomDirectionLike(like, E, 0);
    const r1 = randomDirectionLike(like, E, 1);
    const rowNorm = (v: Float32Array, r: number) => Math.hypot(...v.subarray(r * E, (r + 1) * E));
    for (const r of [1, 3]) {
      expect(rowNorm(r0, r)).toBeCloseTo(rowNorm(like, r), 4);
      expect(rowNorm(r1, r)).toBeCloseTo(rowNorm(like, r), 4);
    }
    expect(rowNorm(r0, 0)).toBe(0);
    expect(rowNorm(r0, 2)).toBe(0);
    expect(Array.from(r0)).not.toEqual(Array.from(r1));
    expect(Array.from(randomDirectionLike(like, E, 0))).toEqual(Array.from(r0));
    expect(otherEmotionFor('sad', ['happy', 'sad', 'calm'], 1)).not.toBe('sad');
    expect(otherEmotionFor('sad', ['sad'], 1)).toBeUndefined();
  });

  it('steered minus control: a bootstrap over scenarios that is positive when only the emotion arm succeeds', async () => {
    const { controlContrasts } = await import('../../lib/steer/controls.js');
    const outcomes = [];
    for (let s = 0; s < 20; s++) {
      outcomes.push({ scenario: `s${s}`, arm: 'emotion' as const, strength: 1, sampling: 'greedy', seed: 0, success: s < 15 });
      for (const seed of [0, 1]) outcomes.push({ scenario: `s${s}`, arm: 'random' as const, strength: 1, sampling: 'greedy', seed, success: s < 5 && seed === 0 });
    }
    const c = controlContrasts({ j: outcomes }, [1], 'greedy', { resamples: 500 });
    const at1 = c.find((x) => x.strength === 1)!;
    expect(at1.steeredRate).toBeCloseTo(0.75, 9);
    expect(at1.controlRate).toBeCloseTo(0.125, 9);
    expect(at1.difference.value).toBeCloseTo(0.625, 9);
    expect(at1.difference.ci95[0]).toBeGreaterThan(0.3);
    expect(at1.difference.ci95[1]).toBeLessThan(0.9);
    const any = c.find((x) => x.strength === 'any')!;
    expect(any.controlRate).toBeCloseTo(0.125, 9); // seed 0 succeeds on 5 of 20, seed 1 never
  });

  it('runs control arms in batches, resumes from its checkpoint with the same result, and scores every arm for the target', async () => {
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 61 }));
    try {
      const set = await extractComprehension(model, { samples: 2, threads: 2 });
      const dir = mkdtempSync(join(tmpdir(), 'emosteer-steer-'));
      const opts = {
        scenarios: selectScenarios({ limit: 3 }),
        strengths: [0.5, 3],
        sampling: [{ name: 'greedy', temperature: 0, seed: 0 }],
        maxTokens: 6,
        judges: [{ judge: new LexiconJudge(), margin: 0.5 }],
        // (the manipulation check has its own test: test/addon/steer-controls-v2.test.ts)
        controls: { randomSeeds: 2, manipulationCheck: false },
        batch: 4,
        threads: 2,
      };
      const full = await runSteeringExperiment(model, set, { ...opts, checkpoint: join(dir, 'a.jsonl') });
      expect(full.runs).toHaveLength(6);
      // 3 scenarios x 2 strengths x (2 random + 2 shuffled-label, the default for a set with its activations, + 1 other emotion)
      expect(full.controlRuns).toHaveLength(30);
      expect(full.controlRuns!.filter((r) => r.arm === 'random')).toHaveLength(12);
      expect(full.controlRuns!.filter((r) => r.arm === 'shuffled-label').map((r) => r.controlSeed).sort()).toEqual([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1]);
      for (const r of full.controlRuns!.filter((x) => x.arm === 'other-emotion')) expect(r.steerEmotion).not.toBe(r.target);
      expect(full.controls).toEqual({ randomSeeds: 2, randomConstruction: 'same-direction', shuffledSeeds: 2, otherEmotion: true, sampling: ['greedy'], noiseSamples: 0, manipulationCheck: false });
      // A strong random direction changes the text.
      expect(full.controlRuns!.some((r) => r.arm === 'random' && r.strength === 3 && r.text !== r.baselineText)).toBe(true);
      expect(full.byStrength!.filter((x) => x.arm === 'random').every((x) => x.proportion.trials === 6)).toBe(true);
      expect(full.contrasts!.map((x) => `${x.control}@${x.strength}`).sort()).toEqual(['other-emotion@0.5', 'other-emotion@3', 'other-emotion@any', 'random@0.5', 'random@3', 'random@any', 'shuffled-label@0.5', 'shuffled-label@3', 'shuffled-label@any']);
      // Greedy only: no second sample, so no noise floor.
      expect(full.noiseRuns).toEqual([]);
      // Cut the checkpoint as a kill would (half the lines and half a line) and resume.
      const lines = readFileSync(join(dir, 'a.jsonl'), 'utf8').split('\n');
      writeFileSync(join(dir, 'b.jsonl'), `${lines.slice(0, 12).join('\n')}\n${lines[12]!.slice(0, 40)}`);
      const resumed = await runSteeringExperiment(model, set, { ...opts, checkpoint: join(dir, 'b.jsonl') });
      expect(resumed.runs.map((r) => r.text)).toEqual(full.runs.map((r) => r.text));
      expect(resumed.controlRuns!.map((r) => r.text)).toEqual(full.controlRuns!.map((r) => r.text));
      expect(resumed.contrasts).toEqual(full.contrasts);
      // every field of every run (perplexities, judges, regimes) equal, not only the texts
      expect(resumed.runs).toEqual(full.runs);
      expect(resumed.controlRuns).toEqual(full.controlRuns);
      // The context-wide path (one control vector per batch) gives the same continuations.
      const wide = await runSteeringExperiment(model, set, { ...opts, steeringPath: 'context-wide' });
      expect(wide.runs.map((r) => r.text)).toEqual(full.runs.map((r) => r.text));
      expect(wide.controlRuns!.map((r) => r.text)).toEqual(full.controlRuns!.map((r) => r.text));
      // Other parameters against the same checkpoint: a typed error, not a mix.
      await expect(runSteeringExperiment(model, set, { ...opts, maxTokens: 7, checkpoint: join(dir, 'a.jsonl') })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      // The batched runs equal runs alone with the same steering.
      const ctx = await model.createContext({ threads: 2 });
      try {
        const r = full.runs[1]!;
        const sc = opts.scenarios.find((x) => x.id === r.scenario)!;
        const sv = steeringVectors(set, { emotion: sc.target, strength: sc.direction === 'away' ? -r.strength : r.strength });
        await ctx.setSteering(sv.vectors, { layers: sv.layers });
        expect((await ctx.generateText(sc.prompt, { maxTokens: 6 })).text).toBe(r.text);
      } finally {
        await ctx.dispose();
      }
      const section = await renderSteeringSection({ ...full, logitLens: [] });
      expect(section.html).toContain('data-table="control-contrast"');
      expect(section.html).toContain('data-table="success-by-strength"');
    } finally {
      model.dispose();
    }
  }, 300_000); // three experiments of 36 continuations each
});

describe('control arms that push as hard, and the judges\' noise floor', () => {
  it('runs shuffled-label and scenario-seeded random arms, second unsteered samples judged against the baseline, and refuses what it cannot honour', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { EmotionVectorSet } = await import('../../lib/vectors/emotion-vector-set.js');
    const { noiseScores } = await import('../../lib/steer/experiment.js');
    const model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 61 }));
    try {
      const set = await extractComprehension(model, { samples: 2, threads: 2 });
      const dir = mkdtempSync(join(tmpdir(), 'emosteer-noise-'));
      const scenarios = selectScenarios({ limit: 3 });
      const opts = {
        scenarios,
        strengths: [3],
        sampling: [{ name: 'greedy', temperature: 0, seed: 0 }, { name: 'sampled', temperature: 0.8, seed: 1 }],
        maxTokens: 6,
        judges: [{ judge: new LexiconJudge(), margin: 0.5 }],
        controls: { randomSeeds: 1, shuffledSeeds: 1, otherEmotion: false, manipulationCheck: false },
        batch: 4,
        threads: 2,
      };
      const r = await runSteeringExperiment(model, set, { ...opts, checkpoint: join(dir, 'a.jsonl') });
      expect(r.controls).toEqual({ randomSeeds: 1, randomConstruction: 'same-direction', shuffledSeeds: 1, otherEmotion: false, sampling: ['greedy'], noiseSamples: 2, noiseSampling: 'sampled', manipulationCheck: false });
      expect(r.controlRuns!.map((x) => `${x.arm}:${x.sampling}`)).toEqual(['random:greedy', 'random:greedy', 'random:greedy', 'shuffled-label:greedy', 'shuffled-label:greedy', 'shuffled-label:greedy']);
      // Steered runs are greedy only: the sampled mode draws the noise floor's baselines.
      expect(r.sampling).toEqual(['greedy']);
      // Two sampled baselines per scenario: the second judged against the first (the sampled mode's baseline).
      const noise = r.noiseRuns!;
      expect(noise).toHaveLength(3);
      for (const x of noise) {
        expect(x).toMatchObject({ arm: 'unsteered', strength: 0, sampling: 'sampled' });
        expect(Number.isFinite(x.judges.lexicon!.delta)).toBe(true);
      }
      expect(noise.map((x) => x.controlSeed)).toEqual([0, 0, 0]);
      // Another seed than the baseline's: the samples differ.
      expect(noise.some((x) => x.text !== x.baselineText)).toBe(true);
      expect(r.noiseSuccess!.lexicon!.trials).toBe(3);
      const scores = noiseScores(noise);
      expect(scores.map((x) => x.scenario)).toEqual(scenarios.map((x) => x.id));
      for (const s of scores) {
        const mine = noise.filter((x) => x.scenario === s.scenario);
        expect(s.scores.lexicon).toEqual([mine[0]!.judges.lexicon!.baseline, mine[0]!.judges.lexicon!.steered]);
      }
      // The noise runs are not an arm of the success tables.
      expect(r.byStrength!.some((x) => (x.arm as string) === 'unsteered')).toBe(false);
      // Resumed from the checkpoint: the same result.
      const again = await runSteeringExperiment(model, set, { ...opts, checkpoint: join(dir, 'a.jsonl') });
      expect(again.noiseRuns).toEqual(noise);
      expect(again.controlRuns).toEqual(r.controlRuns);
      // Another random construction is another experiment: its checkpoint is refused.
      await expect(runSteeringExperiment(model, set, { ...opts, controls: { ...opts.controls, randomConstruction: 'rotation' as const }, checkpoint: join(dir, 'a.jsonl') })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      // What cannot be honoured is refused before anything runs.
      const greedyOnly = { ...opts, sampling: [opts.sampling[0]!] };
      await expect(runSteeringExperiment(model, set, { ...greedyOnly, controls: { noiseSamples: 2 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/temperature above 0/) });
      await expect(runSteeringExperiment(model, set, { ...opts, controls: { noiseSamples: 1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/at least 2/) });
      await expect(runSteeringExperiment(model, set, { ...opts, controls: { noiseSampling: 'greedy' } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(runSteeringExperiment(model, set, { ...opts, controls: { sampling: ['nope'] } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/nope/) });
      await expect(runSteeringExperiment(model, set, { ...opts, controls: { randomConstruction: 'nope' as never } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      const imported = EmotionVectorSet.fromVectors({ method: 'imported', model: set.meta.model, params: {} }, new Map(set.emotions.map((e) => [e, new Map(set.layers.map((l) => [l, set.vector(e, l, { unit: false })]))])));
      await expect(runSteeringExperiment(model, imported, { ...greedyOnly, controls: { shuffledSeeds: 1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/per-sample activations/) });
    } finally {
      model.dispose();
    }
  });
});

describe('steered minus control over the same sampling modes', () => {
  it('leaves out emotion-arm runs of modes the control never ran under', async () => {
    const { controlContrasts } = await import('../../lib/steer/controls.js');
    const outcomes = [];
    for (let s = 0; s < 10; s++) {
      outcomes.push({ scenario: `s${s}`, arm: 'emotion' as const, strength: 1, sampling: 'greedy', seed: 0, success: s < 5 });
      outcomes.push({ scenario: `s${s}`, arm: 'emotion' as const, strength: 1, sampling: 'sampled', seed: 0, success: true });
      outcomes.push({ scenario: `s${s}`, arm: 'random' as const, strength: 1, sampling: 'greedy', seed: 0, success: false });
    }
    const c = controlContrasts({ j: outcomes }, [1], 'greedy', { resamples: 100 }).find((x) => x.strength === 1)!;
    expect(c.steeredRate).toBeCloseTo(0.5, 9); // greedy only; with the sampled runs it would be 0.75
    expect(c.controlRate).toBe(0);
  });
});
