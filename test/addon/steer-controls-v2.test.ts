// Study v2's steering experiment on a synthetic model: control arms that push as hard (random
// per scenario at every block, random-per-block, shuffled-label, other emotion), greedy-only
// steered runs, sampled baselines for the noise floor, the manipulation check, continuous
// effects, and a resume from a cut checkpoint that gives the same result.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractComprehension } from '../../lib/extract/comprehension.js';
import { loadModel, type Model } from '../../lib/index.js';
import { DEFAULT_SAMPLING_MODES, runSteeringExperiment, type SteeringExperimentOptions } from '../../lib/steer/experiment.js';
import { LexiconJudge } from '../../lib/steer/judges/lexicon.js';
import { ValenceJudge } from '../../lib/steer/judges/valence.js';
import { DEFAULT_MANIPULATION_TEXTS, manipulationCheck } from '../../lib/steer/manipulation-check.js';
import { selectScenarios } from '../../lib/steer/scenarios.js';
import { steeringVectors } from '../../lib/vectors/steering-vectors.js';
import type { EmotionVectorSet } from '../../lib/vectors/emotion-vector-set.js';
import { syntheticModel } from '../helpers/models.js';

describe('steering controls v2 on a synthetic model', () => {
  let model: Model;
  let set: EmotionVectorSet;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 61 }));
    set = await extractComprehension(model, { samples: 2, threads: 2 });
  });
  afterAll(() => model?.dispose());

  const NEUTRAL = ['The forecast for Tuesday:', 'Whisk two eggs and'];
  const scenarios = () => [...selectScenarios({ kinds: ['neutral'], limit: 2 }), ...selectScenarios({ kinds: ['away'], limit: 1 })];
  const options = (): SteeringExperimentOptions => ({
    scenarios: scenarios(),
    strengths: [0.5, 3],
    sampling: DEFAULT_SAMPLING_MODES,
    maxTokens: 6,
    judges: [{ judge: new LexiconJudge(), margin: 0.5 }, { judge: new ValenceJudge(), margin: 0.05 }],
    // Short neutral texts: the synthetic model's tokens are single characters.
    controls: { randomSeeds: 2, randomPerBlockSeeds: 1, shuffledSeeds: 1, manipulationCheck: { texts: NEUTRAL } },
    batch: 4,
    threads: 2,
  });

  it('runs every arm greedy only, samples two unsteered baselines per scenario, checks the arms, reports effects, and resumes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emosteer-controls-v2-'));
    const opts = options();
    const full = await runSteeringExperiment(model, set, { ...opts, checkpoint: join(dir, 'a.jsonl') });
    // Steered runs: greedy only, although the sampled mode is given (it draws the noise floor).
    expect(full.sampling).toEqual(['greedy']);
    expect(full.runs).toHaveLength(6);
    expect(full.runs.every((r) => r.sampling === 'greedy')).toBe(true);
    const count = (arm: string) => full.controlRuns!.filter((r) => r.arm === arm).length;
    expect([count('random'), count('random-per-block'), count('shuffled-label'), count('other-emotion')]).toEqual([12, 6, 6, 6]);
    expect(full.controlRuns!.every((r) => r.sampling === 'greedy')).toBe(true);
    expect(full.controlRuns!.filter((r) => r.arm === 'random').map((r) => r.controlSeed)).toEqual([0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]);
    expect(full.controls).toEqual({ randomSeeds: 2, randomConstruction: 'same-direction', randomPerBlockSeeds: 1, shuffledSeeds: 1, otherEmotion: true, sampling: ['greedy'], noiseSamples: 2, noiseSampling: 'sampled', manipulationCheck: true });
    expect(full.contrasts!.filter((c) => c.strength === 'any').map((c) => c.control).sort()).toEqual(['other-emotion', 'other-emotion', 'random', 'random', 'random-per-block', 'random-per-block', 'shuffled-label', 'shuffled-label']);

    // Noise floor: one second sampled baseline per scenario, judged against the first (the sampled mode's baseline).
    expect(full.noiseRuns).toHaveLength(3);
    for (const r of full.noiseRuns!) expect(r).toMatchObject({ arm: 'unsteered', sampling: 'sampled', strength: 0 });
    expect(full.noiseRuns!.some((r) => r.text !== r.baselineText)).toBe(true);
    const floor = full.effects!.noiseFloor!.find((n) => n.judge === 'lexicon')!;
    expect(floor.scenarios).toBe(3);
    for (const r of full.noiseRuns!) expect(floor.perScenario[r.scenario]).toBeCloseTo(Math.abs(r.judges.lexicon!.delta), 12);

    // Continuous effects: greedy runs, primary (neutral) and away apart, every arm, with and without non-surgical runs.
    const fx = full.effects!;
    expect(fx.sampling).toBe('greedy');
    const primary = fx.effects.filter((e) => e.judge === 'lexicon' && e.group === 'primary' && e.runs === 'all');
    expect(primary.map((e) => `${e.arm}@${e.strength}`).sort()).toEqual(['emotion@0.5', 'emotion@3', 'other-emotion@0.5', 'other-emotion@3', 'random-per-block@0.5', 'random-per-block@3', 'random@0.5', 'random@3', 'shuffled-label@0.5', 'shuffled-label@3']);
    expect(primary.every((e) => e.scenarios === 2 && e.ci95[0] <= e.meanDelta && e.meanDelta <= e.ci95[1])).toBe(true);
    const emotion3 = primary.find((e) => e.arm === 'emotion' && e.strength === 3)!;
    const own = full.runs.filter((r) => r.strength === 3 && scenarios().find((s) => s.id === r.scenario)!.kind === 'neutral').map((r) => r.judges.lexicon!.delta);
    expect(emotion3.meanDelta).toBeCloseTo(own.reduce((a, b) => a + b, 0) / own.length, 12);
    expect(fx.effects.filter((e) => e.group === 'away').every((e) => e.scenarios === 1)).toBe(true);
    const contrasts = fx.contrasts.filter((c) => c.judge === 'lexicon' && c.group === 'primary' && c.runs === 'all');
    expect(contrasts.map((c) => `${c.control}@${c.strength}`).sort()).toEqual(['other-emotion@0.5', 'other-emotion@3', 'random-per-block@0.5', 'random-per-block@3', 'random@0.5', 'random@3', 'shuffled-label@0.5', 'shuffled-label@3']);
    for (const c of contrasts) expect(c.difference.value).toBeCloseTo(c.emotion - c.controlDelta, 12);
    // Surgical only: never more scenarios than over all runs.
    for (const e of fx.effects.filter((x) => x.runs === 'surgical')) {
      expect(e.scenarios).toBeLessThanOrEqual(fx.effects.find((x) => x.runs === 'all' && x.judge === e.judge && x.arm === e.arm && x.strength === e.strength && x.group === e.group)!.scenarios);
    }

    // Cross-block cosine of the set over the steered blocks.
    expect(full.crossBlockCosine!.blocks).toEqual([1, 2, 3]);
    expect(Math.abs(full.crossBlockCosine!.adjacent)).toBeLessThanOrEqual(1);

    // Manipulation check: every arm draw at every strength, on the default neutral texts, read at the last steered block.
    const mc = full.manipulationCheck!;
    expect(mc.texts).toEqual(NEUTRAL);
    expect(mc.blocks).toEqual([3]);
    expect(mc.measures).toHaveLength(3 * (1 + 2 + 1 + 1 + 1) * 2);
    expect(mc.rows.map((r) => `${r.arm}@${r.strength}`)).toEqual(['emotion@0.5', 'emotion@3', 'random@0.5', 'random@3', 'random-per-block@0.5', 'random-per-block@3', 'shuffled-label@0.5', 'shuffled-label@3', 'other-emotion@0.5', 'other-emotion@3']);
    for (const r of mc.rows) {
      expect(r.scenarios).toBe(3);
      expect(r.deltaNorm.mean).toBeGreaterThan(0);
      expect(r.kl.mean).toBeGreaterThanOrEqual(0);
      expect(r.deltaNorm.ci95[0]).toBeLessThanOrEqual(r.deltaNorm.mean + 1e-12);
      if (r.arm !== 'emotion') expect(r.ratioToEmotion!.deltaNorm).toBeGreaterThan(0);
    }
    const at = (arm: string, k: number) => mc.rows.find((r) => r.arm === arm && r.strength === k)!;
    expect(at('emotion', 3).deltaNorm.mean).toBeGreaterThan(at('emotion', 0.5).deltaNorm.mean);
    expect(at('emotion', 3).kl.mean).toBeGreaterThan(at('emotion', 0.5).kl.mean);

    // Cut the checkpoint as a kill would and resume: the same result, the check included.
    const lines = readFileSync(join(dir, 'a.jsonl'), 'utf8').split('\n');
    expect(JSON.parse(lines[0]!).version).toBe(2);
    expect(lines.filter((l) => l.includes('"manipulation":')).length).toBe(1);
    // Without texts, the check runs on the default neutral texts (the first two neutral scenarios' prompts).
    expect(DEFAULT_MANIPULATION_TEXTS).toEqual(selectScenarios({ kinds: ['neutral'], limit: 2 }).map((x) => x.prompt));
    writeFileSync(join(dir, 'b.jsonl'), `${lines.slice(0, 20).join('\n')}\n${lines[20]!.slice(0, 30)}`);
    const resumed = await runSteeringExperiment(model, set, { ...opts, checkpoint: join(dir, 'b.jsonl') });
    // (compared as saved: a judge's -0 comes back from the checkpoint as 0)
    const saved = (x: unknown) => JSON.parse(JSON.stringify(x)) as unknown;
    expect(saved(resumed.runs)).toEqual(saved(full.runs));
    expect(saved(resumed.controlRuns)).toEqual(saved(full.controlRuns));
    expect(saved(resumed.noiseRuns)).toEqual(saved(full.noiseRuns));
    expect(saved(resumed.manipulationCheck)).toEqual(saved(full.manipulationCheck));
    expect(saved(resumed.effects)).toEqual(saved(full.effects));
    // A finished checkpoint is not measured again: its one manipulation record is reused.
    const again = await runSteeringExperiment(model, set, { ...opts, checkpoint: join(dir, 'a.jsonl') });
    expect(saved(again.manipulationCheck)).toEqual(saved(full.manipulationCheck));
    expect(readFileSync(join(dir, 'a.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"manipulation":')).length).toBe(1);
    // A checkpoint written before study v2 (header version 1) is refused, not mixed in.
    writeFileSync(join(dir, 'old.jsonl'), `${JSON.stringify({ ...JSON.parse(lines[0]!), version: 1 })}\n`);
    await expect(runSteeringExperiment(model, set, { ...opts, checkpoint: join(dir, 'old.jsonl') })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  }, 600_000);

  it('the manipulation check measures what a direct pass measures: the change at the last steered block and the next-token KL', async () => {
    const text = NEUTRAL[0]!;
    const sv = steeringVectors(set, { emotion: 'happy', strength: 2 });
    const check = await manipulationCheck(model, set, [{ arm: 'emotion', scenario: 's', draw: 0, steering: (k) => steeringVectors(set, { emotion: 'happy', strength: k }) }], [2], [text], { threads: 2 });
    const ctx = await model.createContext({ threads: 2 });
    try {
      const block = sv.layers[1];
      const plain = await ctx.evaluate(text, { capture: { layers: [block] }, logits: true });
      const steered = await ctx.evaluate(text, { capture: { layers: [block] }, logits: true, steering: { vectors: sv.vectors, layers: sv.layers } });
      const h0 = plain.activations!.row(block);
      const h = steered.activations!.row(block);
      let d2 = 0;
      for (let j = 0; j < h.length; j++) d2 += (h[j]! - h0[j]!) ** 2;
      const lse = (x: Float32Array) => { const m = Math.max(...x); let s = 0; for (const v of x) s += Math.exp(v - m); return m + Math.log(s); };
      const [a, b] = [lse(plain.logits!), lse(steered.logits!)];
      let kl = 0;
      for (let i = 0; i < plain.logits!.length; i++) { const lp = plain.logits![i]! - a; kl += Math.exp(lp) * (lp - (steered.logits![i]! - b)); }
      const m = check.measures[0]!;
      expect(m.block).toBe(block);
      expect(m.deltaNorm).toBeGreaterThan(0);
      expect(m.deltaNorm).toBeCloseTo(Math.sqrt(d2), 3);
      expect(m.kl).toBeCloseTo(kl, 5);
      expect(check.rows[0]!.deltaNorm.mean).toBeCloseTo(m.deltaNorm, 12);
    } finally {
      await ctx.dispose();
    }
  });

  it('refuses options it cannot honour before decoding anything', async () => {
    const opts = options();
    await expect(runSteeringExperiment(model, set, { ...opts, steeredSampling: ['nope'] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(runSteeringExperiment(model, set, { ...opts, controls: { sampling: ['sampled'] } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/emotion arm/) });
    await expect(runSteeringExperiment(model, set, { ...opts, controls: { noiseSamples: 1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(runSteeringExperiment(model, set, { ...opts, controls: { manipulationCheck: { texts: [] } } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(runSteeringExperiment(model, set, { ...opts, controls: { randomPerBlockSeeds: -1 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
