// Strength calibration (lib/steer/calibrate.ts) and strength 'auto' (lib/vectors/strength-calibration.ts)
// on a synthetic model: the chosen strength is the largest within the damage bound whose effect
// interval over prompts lies above 0 (a planted judge decides which arm "expresses" the emotion),
// it is stored in the manifest without touching the arrays, and 'auto' / { auto: f } resolve to
// it in process, through the CLI and with a clear error on a set without calibration.
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCalibrate } from '../../lib/cli/calibrate.js';
import { EmotionVectorSet, extractComprehension, loadModel, resolveStrength, steeringVectors, type Model } from '../../lib/index.js';
import { calibrateStrengths } from '../../lib/steer/calibrate.js';
import type { Judge } from '../../lib/steer/judges/judge.js';
import { syntheticModel, tempPath } from '../helpers/models.js';

const PROMPTS = ['The train left the station at noon and', 'Her notes on the meeting said that', 'The recipe calls for two cups of', 'On the second floor of the library,', 'The report for the quarter shows'];
const STRENGTHS = [0.01, 0.1, 1, 4];

describe('calibrateStrengths and strength auto', () => {
  let model: Model;
  let modelPath: string;
  let dir: string;
  let set: EmotionVectorSet;
  beforeAll(async () => {
    modelPath = await syntheticModel({ layers: 4, embd: 64, seed: 41 });
    model = await loadModel(modelPath);
    set = await extractComprehension(model, { emotions: ['happy', 'sad'], samples: 3, threads: 2 });
    dir = tempPath('calibrated-set');
    await set.save(dir);
  });
  afterAll(() => model?.dispose());

  it('picks the largest strength within the bound whose effect beats the random direction', { timeout: 300_000 }, async () => {
    // The planted judge: a text "expresses happy" when the happy-steered greedy run wrote it at
    // some strength, so the emotion arm scores 1 wherever its text differs from the random arm's.
    const happyTexts = new Set<string>();
    const ctx = await model.createContext({ threads: 2 });
    for (const s of STRENGTHS) for (const p of PROMPTS) happyTexts.add((await ctx.generateText(p, { maxTokens: 12, temperature: 0, steering: { set, emotion: 'happy', strength: s } })).text);
    await ctx.dispose();
    const judge: Judge = { name: 'planted', score: async (text, emotion) => (emotion === 'happy' && happyTexts.has(text) ? 1 : 0) };
    const phases: string[] = [];
    const cal = await calibrateStrengths(model, set, {
      emotions: ['happy'], strengths: STRENGTHS, prompts: PROMPTS, maxTokens: 12, judge, chunks: 2, contextSize: 64,
      text: 'The quick brown fox jumps over the lazy dog. '.repeat(40), bound: { maxKl: 1e9, minSameTop1: 0 }, threads: 2,
      onProgress: (p) => phases.push(p.phase),
    });
    const happy = cal.emotions.happy!;
    expect(happy.points.map((p) => p.strength)).toEqual(STRENGTHS);
    // damage grows with the strength and every point has an interval
    const kl = happy.points.map((p) => p.kl.value);
    expect(kl[3]!).toBeGreaterThan(kl[0]!);
    for (const p of happy.points) expect(p.kl.ci95[0]).toBeLessThanOrEqual(p.kl.ci95[1]);
    // With no damage bound, the largest strength moves every prompt's text: it is chosen first.
    expect(happy.points[3]!.beatsRandom).toBe(true);
    expect(happy.strength).toBe(4);
    expect(happy.points[0]!.effect).toBeNull(); // not measured: a larger strength had passed
    expect(phases).toEqual(['damage', 'effect', 'done']);

    // A bound that only the two smallest strengths meet: the choice falls to those (or none).
    const tight = (happy.points[1]!.kl.ci95[1] + happy.points[2]!.kl.ci95[1]) / 2;
    const cal2 = await calibrateStrengths(model, set, {
      emotions: ['happy'], strengths: STRENGTHS, prompts: PROMPTS, maxTokens: 12, judge, chunks: 2, contextSize: 64,
      text: 'The quick brown fox jumps over the lazy dog. '.repeat(40), bound: { maxKl: tight, minSameTop1: 0 }, threads: 2,
    });
    const h2 = cal2.emotions.happy!;
    expect(h2.points.map((p) => p.withinBound)).toEqual([true, true, false, false]);
    expect(h2.points[2]!.effect).toBeNull();
    expect(h2.points[3]!.effect).toBeNull();
    const passing = h2.points.filter((p) => p.withinBound && p.beatsRandom).map((p) => p.strength);
    expect(h2.strength).toBe(passing.length ? Math.max(...passing) : null);
    if (h2.strength === null) expect(h2.reason).toMatch(/no strength within the damage bound/);

    // Stored in the manifest (arrays untouched), read back, and 'auto' resolves to it.
    const before = JSON.parse(await readFile(`${dir}/manifest.json`, 'utf8'));
    await EmotionVectorSet.saveCalibration(dir, cal);
    const after = JSON.parse(await readFile(`${dir}/manifest.json`, 'utf8'));
    expect(after.arrays).toEqual(before.arrays);
    const loaded = await EmotionVectorSet.load(dir);
    expect(loaded.meta.calibration?.emotions.happy?.strength).toBe(4);
    expect(resolveStrength(loaded, 'happy', 'auto')).toBe(4);
    expect(resolveStrength(loaded, 'happy', { auto: -0.5 })).toBe(-2);
    const auto = steeringVectors(loaded, { emotion: 'happy', strength: { auto: 0.25 } });
    const one = steeringVectors(loaded, { emotion: 'happy', strength: 1 });
    expect(auto.vectors).toEqual(one.vectors);
    // 'auto' steers generation exactly as the number it stands for
    const c2 = await model.createContext({ threads: 2 });
    const a = await c2.generateText(PROMPTS[0]!, { maxTokens: 10, temperature: 0, steering: { set: loaded, emotion: 'happy', strength: 'auto' } });
    const b = await c2.generateText(PROMPTS[0]!, { maxTokens: 10, temperature: 0, steering: { components: [{ set: loaded, emotion: 'happy', strength: 4 }] } });
    expect(a.tokens).toEqual(b.tokens);
    // an emotion that was not calibrated says how to calibrate it
    await expect(c2.generateText(PROMPTS[0]!, { maxTokens: 2, steering: { set: loaded, emotion: 'sad', strength: 'auto' } })).rejects.toMatchObject({ code: 'NOT_CALIBRATED', message: expect.stringMatching(/emosteer calibrate/) });
    await c2.dispose();
    // a set without calibration
    expect(() => resolveStrength(set, 'happy', 'auto')).toThrow(expect.objectContaining({ code: 'NOT_CALIBRATED' }));
    expect(() => resolveStrength(set, 'happy', { auto: 1, x: 2 } as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('the CLI calibrates a set folder and keeps earlier emotions measured the same way', { timeout: 300_000 }, async () => {
    const d = tempPath('cli-calibrated');
    await set.save(d);
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
    const args = ['--model', modelPath, '--strengths', '0.5,2', '--tokens', '6', '--chunks', '1', '--ctx', '64', '--threads', '2'];
    expect(await runCalibrate([d, ...args, '--emotions', 'happy'], io)).toBe(0);
    expect(out.join('\n')).toMatch(/^happy\s/m);
    const first = await EmotionVectorSet.load(d, { activations: false });
    expect(Object.keys(first.meta.calibration!.emotions)).toEqual(['happy']);
    expect(await runCalibrate([d, ...args, '--emotions', 'sad'], io)).toBe(0);
    const both = await EmotionVectorSet.load(d, { activations: false });
    expect(Object.keys(both.meta.calibration!.emotions).sort()).toEqual(['happy', 'sad']);
    expect(both.meta.calibration!.emotions.happy).toEqual(first.meta.calibration!.emotions.happy);
    // bad flags are refused before any work
    expect(await runCalibrate([d, '--model', modelPath, '--max-kl', '-1'], io)).toBe(2);
    expect(await runCalibrate([d, '--model', modelPath, '--ctx', '65'], io)).toBe(2);
  });
});
