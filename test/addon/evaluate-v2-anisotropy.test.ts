// The varied anisotropy baseline (study v2, issue 19): several positions of varied neutral texts,
// pairs within a text left out, measured on a synthetic model and checked against a brute-force
// computation; an old cached profile gains it when the model is at hand.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { measureAnisotropy, measureVariedAnisotropy, variedNeutralTexts, variedPositions, type AnisotropyProfile } from '../../lib/evaluate/anisotropy.js';
import { anisotropyFor } from '../../lib/evaluate/evaluate.js';
import { loadModel, type Model } from '../../lib/index.js';
import { COMPREHENSION_PASSAGES, NEUTRAL_FACTS, NEUTRAL_PROMPTS } from '../../lib/stimuli/index.js';
import { fileSha256 } from '../../lib/util/file-identity.js';
import { cosine } from '../../lib/util/vec.js';
import { EmotionVectorSet } from '../../lib/vectors/emotion-vector-set.js';
import { syntheticModel, tempPath } from '../helpers/models.js';

describe('varied anisotropy baseline', () => {
  let model: Model;
  let path: string;
  beforeAll(async () => {
    path = await syntheticModel({ layers: 4, embd: 64, seed: 43 });
    model = await loadModel(path);
  });
  afterAll(() => model?.dispose());

  it('positions: every token from the third on, at most max, evenly spaced, the last included', () => {
    expect(variedPositions(6, 16)).toEqual([2, 3, 4, 5]);
    expect(variedPositions(40, 4)).toEqual([2, 14, 27, 39]);
    expect(variedPositions(2, 16)).toEqual([1]);
    expect(variedPositions(1, 16)).toEqual([0]);
  });

  it('the texts: the facts, the neutral passages and the neutral story prompts', () => {
    expect(variedNeutralTexts()).toEqual([...NEUTRAL_FACTS, ...COMPREHENSION_PASSAGES.neutral, ...NEUTRAL_PROMPTS]);
  });

  it('equals the mean cosine over pairs of activations from different texts (brute force)', async () => {
    const texts = [NEUTRAL_FACTS[0]!, NEUTRAL_FACTS[5]!, COMPREHENSION_PASSAGES.neutral[0]!, NEUTRAL_PROMPTS[1]!];
    const { values, info } = await measureVariedAnisotropy(model, texts, { maxPositions: 5, maxTokens: 60, batch: 3, threads: 2 });
    expect(values).toHaveLength(model.info.nLayer);
    expect(info.texts).toBe(4);
    const ctx = await model.createContext({ sequences: 1, contextSize: 512, threads: 2 });
    try {
      const perText: Float32Array[][][] = []; // text -> layer -> vectors
      for (const t of texts) {
        const tokens = model.tokenize(t);
        if (t === texts[0]) expect(tokens.length).toBeLessThan(60); // a short one read whole
        if (t === texts[2]) expect(tokens.length).toBeGreaterThan(60); // a long one cut
        const r = await ctx.evaluate(tokens.slice(0, 60), { capture: { layers: 'all', pooling: 'all' } });
        const pos = variedPositions(r.activations!.rows, 5);
        perText.push(Array.from({ length: model.info.nLayer }, (_, l) => pos.map((p) => r.activations!.row(l, p).slice())));
      }
      expect(info.vectors).toBe(perText.reduce((s, t) => s + t[0]!.length, 0));
      for (let l = 0; l < model.info.nLayer; l++) {
        let s = 0;
        let n = 0;
        for (let a = 0; a < texts.length; a++) {
          for (let b = 0; b < texts.length; b++) {
            if (a === b) continue;
            for (const u of perText[a]![l]!) for (const v of perText[b]![l]!) { s += cosine(u, v); n++; }
          }
        }
        expect(values[l]).toBeCloseTo(s / n, 6);
      }
    } finally {
      await ctx.dispose();
    }
  });

  it('measureAnisotropy reports both baselines per block (and can skip the varied one)', async () => {
    const texts = [...NEUTRAL_FACTS.slice(0, 4), ...COMPREHENSION_PASSAGES.neutral.slice(0, 3)];
    const p = await measureAnisotropy(model, NEUTRAL_FACTS.slice(0, 6), { threads: 2, varied: texts });
    expect(p.varied!.texts).toBe(texts.length);
    expect(p.varied!.vectors).toBeGreaterThan(p.varied!.texts * 4);
    for (const l of p.layers) {
      expect(Number.isFinite(l.value)).toBe(true);
      expect(l.varied).toBeGreaterThan(-1);
      expect(l.varied).toBeLessThanOrEqual(1);
    }
    const old = await measureAnisotropy(model, NEUTRAL_FACTS.slice(0, 6), { threads: 2, varied: false });
    expect(old.varied).toBeUndefined();
    expect(old.layers.every((l) => l.varied === undefined)).toBe(true);
    expect(old.layers.map((l) => l.value)).toEqual(p.layers.map((l) => l.value));
  });

  it('a cached profile without the varied baseline gains it when the model is at hand', async () => {
    const runDir = tempPath('aniso-run');
    await mkdir(runDir, { recursive: true });
    try {
      const sha = await fileSha256(path);
      const cached: AnisotropyProfile = { modelSha256: sha, sentences: 2, layers: Array.from({ length: model.info.nLayer }, (_, layer) => ({ layer, value: 0.5 })) };
      await writeFile(join(runDir, 'anisotropy.json'), JSON.stringify(cached));
      const set = EmotionVectorSet.fromSamples({
        method: 'comprehension', emotions: ['happy'], categories: ['happy', 'neutral'], layers: [0], nEmbd: 2, baseline: 'neutral',
        model: { path, sha256: sha, arch: 'test', description: 'synthetic', nLayer: model.info.nLayer, nEmbd: model.info.nEmbd, quantization: 'F32', nParams: 0 },
        params: {}, stimuliVersion: 'test', versions: { emosteer: 't', llamaCppCommit: 't' }, timings: { seconds: 0, tokens: 0, tokensPerSecond: 0 },
        samples: [{ category: 'happy', index: 0, prompt: 'a', nTokens: 1, position: 0 }, { category: 'neutral', index: 0, prompt: 'b', nTokens: 1, position: 0 }], createdAt: '',
      }, [Float32Array.from([1, 0]), Float32Array.from([0, 1])]);
      const p = await anisotropyFor(runDir, set);
      expect(p.layers.map((l) => l.value)).toEqual(cached.layers.map((l) => l.value)); // the cached values stay
      expect(p.layers.every((l) => typeof l.varied === 'number')).toBe(true);
      const written = JSON.parse(await readFile(join(runDir, 'anisotropy.json'), 'utf8')) as AnisotropyProfile;
      expect(written.varied!.texts).toBe(variedNeutralTexts().length);
    } finally {
      await rm(runDir, { recursive: true, force: true });
    }
  });
});
