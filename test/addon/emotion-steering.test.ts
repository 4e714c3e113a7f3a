// Steering with emotion vectors: norm-scaled steering vectors from a set (steeringVectors),
// mixes, negative and raw strengths, two contexts steered differently at once, and the emotion
// meter. How a context applies a steering vector block by block is context-steering.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractComprehension } from '../../lib/extract/comprehension.js';
import { loadModel, type Model } from '../../lib/index.js';
import { EmotionMeter, meterStream } from '../../lib/steer/emotion-meter.js';
import { steeringVectors } from '../../lib/vectors/steering-vectors.js';
import { dot, norm } from '../../lib/util/vec.js';
import type { EmotionVectorSet } from '../../lib/vectors/emotion-vector-set.js';
import { relativeError, syntheticModel } from '../helpers/models.js';

describe('norm-scaled steering, mixes, per-request steering and the emotion meter', () => {
  let model: Model;
  let set: EmotionVectorSet;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 51 }));
    set = await extractComprehension(model, { emotions: ['happy', 'sad', 'calm'], samples: 3, threads: 2 });
  });
  afterAll(() => model?.dispose());

  it('scales the unit vector by strength x the mean residual norm of each block', () => {
    const { vectors, layers } = steeringVectors(set, { emotion: 'sad', strength: 0.02 });
    expect(layers).toEqual([1, 3]);
    for (let l = 0; l < 4; l++) {
      const row = vectors.subarray(l * 64, (l + 1) * 64);
      if (l === 0) { expect(norm(row)).toBe(0); continue; }
      expect(norm(row)).toBeCloseTo(0.02 * set.meta.residualNorms[l]!, 4);
      expect(dot(row, set.vector('sad', l)) / norm(row)).toBeCloseTo(1, 5);
    }
    // the residual norm is the mean L2 norm of the samples' activations
    let s = 0;
    for (let i = 0; i < set.meta.samples.length; i++) s += norm(set.sampleActivation(i, 2));
    expect(set.meta.residualNorms[2]).toBeCloseTo(s / set.meta.samples.length, 3);
  });

  it('mixes add, negative strength steers away, raw scaling uses the raw vector, ranges restrict', () => {
    const a = steeringVectors(set, { emotion: 'happy', strength: 0.01 }).vectors;
    const b = steeringVectors(set, { emotion: 'calm', strength: -0.03 }).vectors;
    const mix = steeringVectors(set, [{ emotion: 'happy', strength: 0.01 }, { emotion: 'calm', strength: -0.03 }]).vectors;
    expect(relativeError(a.map((x, i) => x + b[i]!), mix)).toBeLessThan(1e-6);
    const raw = steeringVectors(set, { emotion: 'happy', strength: 2 }, { scaling: 'raw', layers: [2, 2] });
    expect(raw.layers).toEqual([2, 2]);
    expect(norm(raw.vectors.subarray(64, 128))).toBe(0);
    expect(relativeError(set.vector('happy', 2, { unit: false }).map((x) => 2 * x), raw.vectors.subarray(128, 192))).toBeLessThan(1e-6);
    expect(() => steeringVectors(set, { emotion: 'happy', strength: 1 }, { layers: [0, 2] })).toThrowError(expect.objectContaining({ code: 'LAYER_OUT_OF_RANGE' }));
  });

  it('two requests with different steering run at the same time, each equal to running alone', async () => {
    const c1 = await model.createContext({ threads: 1 });
    const c2 = await model.createContext({ threads: 1 });
    try {
      const s1 = steeringVectors(set, { emotion: 'happy', strength: 0.5 });
      const s2 = steeringVectors(set, { emotion: 'sad', strength: 0.5 });
      const opts = { maxTokens: 16, temperature: 0.8, seed: 3 };
      await c1.setSteering(s1.vectors, { layers: s1.layers });
      const alone1 = await c1.generateText('Today', opts);
      await c2.setSteering(s2.vectors, { layers: s2.layers });
      const alone2 = await c2.generateText('Today', opts);
      const [r1, r2] = await Promise.all([c1.generateText('Today', opts), c2.generateText('Today', opts)]);
      expect(r1.tokens).toEqual(alone1.tokens);
      expect(r2.tokens).toEqual(alone2.tokens);
      expect(r1.tokens).not.toEqual(r2.tokens);
    } finally {
      await c1.dispose();
      await c2.dispose();
    }
  });

  it('the meter reads centred cosines per token from the generation capture, equal to a plain capture', async () => {
    const meter = new EmotionMeter(set, 2);
    const ctx = await model.createContext({ threads: 2 });
    try {
      const tokens = [];
      for await (const t of meterStream(ctx, 'Once upon a time', meter, { maxTokens: 6 })) tokens.push(t);
      expect(tokens).toHaveLength(6);
      for (const t of tokens) {
        expect(Object.keys(t.emotions)).toEqual(['happy', 'sad', 'calm']);
        for (const v of Object.values(t.emotions)) { expect(v).toBeGreaterThanOrEqual(-1); expect(v).toBeLessThanOrEqual(1); }
      }
      // same numbers as reading a full capture of the same text
      const prompt = ctx.tokenizePrompt('Once upon a time');
      const full = Int32Array.from([...prompt, ...tokens.map((t) => t.token)]);
      const ref = await ctx.evaluate(full, { capture: { layers: [2], pooling: 'all' } });
      const last = meter.read(ref.activations!.row(2, full.length - 1));
      for (const e of meter.emotions) expect(tokens.at(-1)!.emotions[e]).toBeCloseTo(last[e]!, 4);
      // a sample of a category reads highest on its own emotion more often than chance
      let hits = 0;
      let total = 0;
      set.meta.samples.forEach((s, i) => {
        if (s.category === 'neutral') return;
        total++;
        if (meter.top(meter.read(set.sampleActivation(i, 2))).emotion === s.category) hits++;
      });
      expect(hits / total).toBeGreaterThan(1 / 3);
    } finally {
      await ctx.dispose();
    }
  });
});
