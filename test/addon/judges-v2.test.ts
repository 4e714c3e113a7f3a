// The cross-model probe judge on a synthetic model (random llama-architecture weights): it is
// trained on planted passages whose categories differ in their letters, so a mean-pooled
// state separates them; what is checked is the machinery (read-out, pooling without BOS,
// probabilities, block choice, cross-validation, identity and the family rule).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmosteerError } from '../../lib/errors.js';
import { linearProbePredict } from '../../lib/evaluate/linear-probe.js';
import { seededRandom } from '../../lib/evaluate/statistics.js';
import { loadModel, type Model } from '../../lib/index.js';
import { probeClassView } from '../../lib/steer/judges/judge-class-views.js';
import { validateJudge } from '../../lib/steer/judges/judge-validation.js';
import { passageTexts } from '../../lib/steer/judges/labelled-texts.js';
import { assertDifferentFamily, crossValidateProbeJudge, defaultProbeBlock, ProbeJudge } from '../../lib/steer/judges/probe-judge.js';
import { syntheticModel } from '../helpers/models.js';

/** 8 passages per category, words drawn from a letter set of the category's own. */
function plantedPassages(seed: number): Record<string, string[]> {
  const rand = seededRandom(seed);
  const letters: Record<string, string> = { happy: 'abcdefg', sad: 'mnopqrs', neutral: 'tuvwxyz' };
  const out: Record<string, string[]> = {};
  for (const [cat, set] of Object.entries(letters)) {
    out[cat] = Array.from({ length: 8 }, () => {
      const words = Array.from({ length: 6 }, () => Array.from({ length: 4 }, () => set[Math.floor(rand() * set.length)]).join(''));
      return `${words.join(' ')}.`;
    });
  }
  return out;
}

describe('ProbeJudge on a synthetic model', () => {
  let model: Model;
  let judge: ProbeJudge;
  const passages = plantedPassages(3);
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 11 }));
    judge = await ProbeJudge.create(model, { passages, threads: 2 });
  });
  afterAll(async () => {
    await judge?.dispose();
    model?.dispose();
  });

  it('records the judge model and reads the default block', () => {
    expect(judge.identity.arch).toBe('llama');
    expect(judge.identity.family).toBe('llama');
    expect(judge.identity.nLayer).toBe(4);
    expect(judge.identity.nEmbd).toBe(64);
    expect(judge.block).toBe(defaultProbeBlock(4));
    expect(judge.pooling).toBe('mean');
    expect(judge.categories).toEqual(['happy', 'sad', 'neutral']);
    expect(judge.trainingSize).toBe(24);
    expect(judge.name).toBe('probe-llama');
  });

  it('scores are the probe probabilities of the mean over the text\'s tokens without BOS', async () => {
    const text = passages.sad[2]!;
    const tokens = model.tokenize(text);
    expect(tokens[0]).toBe(model.info.bos);
    const ctx = await model.createContext({ contextSize: 512, threads: 2 });
    try {
      const rows = (await ctx.evaluate(tokens, { capture: { layers: [judge.block], pooling: { mean: [1, tokens.length] } } })).activations!.row(judge.block);
      const withBos = (await ctx.evaluate(tokens, { capture: { layers: [judge.block], pooling: 'mean' } })).activations!.row(judge.block);
      const want = linearProbePredict(judge.probe, [rows]).probabilities[0]!;
      const bos = linearProbePredict(judge.probe, [withBos]).probabilities[0]!;
      const got = await judge.distribution(text);
      judge.categories.forEach((c, k) => expect(got[c]).toBeCloseTo(want[k]!, 5));
      expect(Math.max(...judge.categories.map((c, k) => Math.abs(got[c]! - bos[k]!)))).toBeGreaterThan(1e-6);
      expect(await judge.score(text, 'sad')).toBeCloseTo(want[1]!, 5);
    } finally {
      await ctx.dispose();
    }
  });

  it('re-centres on the judged texts: their mean state takes the place of the passages\' mean', async () => {
    const pool = [passages.happy[0]!, passages.sad[0]!, 'zzzz yyyy xxxx aaaa.', 'mmmm nnnn.'];
    const ctx = await model.createContext({ contextSize: 512, threads: 2 });
    const stateOf = async (t: string) => {
      const tokens = model.tokenize(t);
      return (await ctx.evaluate(tokens, { capture: { layers: [judge.block], pooling: { mean: [1, tokens.length] } } })).activations!.row(judge.block).slice();
    };
    try {
      const states = await Promise.all(pool.map(stateOf));
      const before = await judge.distribution(pool[2]!);
      await judge.recentre(pool);
      expect(judge.domainSize).toBe(4);
      const x = states[2]!.map((v, j) => v - states.reduce((a, s) => a + s[j]!, 0) / 4 + judge.probe.mean[j]!);
      const want = linearProbePredict(judge.probe, [x]).probabilities[0]!;
      const got = await judge.distribution(pool[2]!);
      judge.categories.forEach((c, k) => expect(got[c]).toBeCloseTo(want[k]!, 4));
      expect(Math.max(...judge.categories.map((c) => Math.abs(got[c]! - before[c]!)))).toBeGreaterThan(1e-4);
      await judge.recentre(null);
      expect(judge.domainSize).toBe(0);
      const back = await judge.distribution(pool[2]!);
      judge.categories.forEach((c) => expect(back[c]).toBeCloseTo(before[c]!, 10));
      await expect(judge.recentre([])).rejects.toBeInstanceOf(EmosteerError);
    } finally {
      await ctx.dispose();
    }
  });

  it('classifies its training passages and a new planted text, with probabilities that sum to 1', async () => {
    for (const [cat, list] of Object.entries(passages)) {
      for (const t of list.slice(0, 3)) {
        const c = await judge.classify(t);
        expect(c.label).toBe(cat);
        expect(Object.values(c.scores).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 10);
        expect(c.scores[cat]).toBe(Math.max(...Object.values(c.scores)));
      }
    }
    expect((await judge.classify('bead fade cafe gabe dace bagged.')).label).toBe('happy');
  });

  it('refuses unknown categories and a judge of the steered family', async () => {
    await expect(judge.score('abc', 'afraid')).rejects.toBeInstanceOf(EmosteerError);
    expect(() => assertDifferentFamily('llama', judge)).toThrow(EmosteerError);
    expect(() => assertDifferentFamily(model, judge)).toThrow(/family/);
    expect(() => assertDifferentFamily('gemma3', judge)).not.toThrow();
    await expect(ProbeJudge.create(model, { passages, block: 9 })).rejects.toMatchObject({ code: 'LAYER_OUT_OF_RANGE' });
    await expect(ProbeJudge.create(model, { passages: { happy: ['a b c'] } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('cannot say (NaN) for a text with no token, as a continuation that ended at once', async () => {
    expect(await judge.score('', 'happy')).toBeNaN();
    expect(Number.isFinite(await judge.score('bead fade cafe', 'happy'))).toBe(true);
    await expect(judge.score(42 as unknown as string, 'happy')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('validates through its class view', async () => {
    const texts = passageTexts(passages).slice(0, 24);
    const r = await validateJudge(probeClassView(judge), texts, { resamples: 200, permutations: 200 });
    expect(r.n).toBe(24);
    expect(r.classes).toEqual(['happy', 'sad', 'neutral']);
    expect(r.accuracy.value).toBeGreaterThan(0.9); // its own training passages
  });

  it("block 'cv' measures every block and keeps the best", async () => {
    const cv = await ProbeJudge.create(model, { passages, block: 'cv', folds: 4, threads: 2 });
    try {
      expect(cv.blockAccuracies!.map((b) => b.block)).toEqual([0, 1, 2, 3]);
      const best = Math.max(...cv.blockAccuracies!.map((b) => b.accuracy));
      expect(cv.blockAccuracies!.find((b) => b.block === cv.block)!.accuracy).toBe(best);
    } finally {
      await cv.dispose();
    }
  });

  it('cross-validates over passages: every passage predicted once by a probe that did not see it', async () => {
    const r = await crossValidateProbeJudge(model, { passages, folds: 4, threads: 2 });
    expect(r.folds).toHaveLength(4);
    expect(r.folds.flat().sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, i) => i));
    expect(r.predicted).toHaveLength(24);
    expect(r.gold.slice(0, 8).every((g) => g === 'happy')).toBe(true);
    expect(r.blocks).toEqual([2, 2, 2, 2]);
    expect(r.accuracy).toBeGreaterThan(0.8); // planted letters separate the categories
    expect(r.accuracy).toBe(r.predicted.filter((p, i) => p === r.gold[i]).length / 24);
    const nested = await crossValidateProbeJudge(model, { passages, folds: 4, block: 'cv', threads: 2 });
    expect(nested.blocks).toHaveLength(4);
    for (const b of nested.blocks) expect(b).toBeGreaterThanOrEqual(0);
  });
});
