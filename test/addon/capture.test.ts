import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Context, type Model } from '../../lib/index.js';
import { relativeError, syntheticModel } from '../helpers/models.js';

const TEXT = 'The quick brown fox jumps over the lazy dog, and then it runs far away into the forest.';

describe('activation capture (l_out of every block)', () => {
  let model: Model;
  let ctx: Context;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 11 }));
    ctx = await model.createContext({ contextSize: 512, threads: 2 });
  });
  afterAll(async () => {
    await ctx?.dispose();
    model?.dispose();
  });

  it('returns one row per token per requested block with pooling "all"', async () => {
    const r = await ctx.evaluate(TEXT, { capture: { layers: 'all', pooling: 'all' } });
    const acts = r.activations!;
    expect(acts.layers).toEqual([0, 1, 2, 3]);
    expect(acts.rows).toBe(r.tokens.length);
    for (const l of acts.layers) {
      expect(acts.get(l)).toHaveLength(r.tokens.length * 64);
      expect(acts.get(l).every(Number.isFinite)).toBe(true);
    }
    // Different blocks hold different vectors.
    expect(relativeError(acts.row(1, 3), acts.row(2, 3))).toBeGreaterThan(1e-3);
  });

  it('captures a subset of blocks in the order asked, deduplicated and sorted', async () => {
    const r = await ctx.evaluate(TEXT, { capture: { layers: [3, 1, 3], pooling: 'last' } });
    expect(r.activations!.layers).toEqual([1, 3]);
    expect(r.activations!.rows).toBe(1);
    expect(() => r.activations!.get(0)).toThrowError(/not captured/);
  });

  it('pools: last, index, mean and a mean range equal the matching rows of "all"', async () => {
    const all = (await ctx.evaluate(TEXT, { capture: { pooling: 'all' } })).activations!;
    const n = all.rows;
    const last = (await ctx.evaluate(TEXT, { capture: { pooling: 'last' } })).activations!;
    const idx = (await ctx.evaluate(TEXT, { capture: { pooling: { index: 5 } } })).activations!;
    const neg = (await ctx.evaluate(TEXT, { capture: { pooling: { index: -2 } } })).activations!;
    const mean = (await ctx.evaluate(TEXT, { capture: { pooling: 'mean' } })).activations!;
    const range = (await ctx.evaluate(TEXT, { capture: { pooling: { mean: [3, 9] } } })).activations!;
    for (const l of all.layers) {
      expect(relativeError(all.row(l, n - 1), last.get(l))).toBeLessThan(1e-6);
      expect(relativeError(all.row(l, 5), idx.get(l))).toBeLessThan(1e-6);
      expect(relativeError(all.row(l, n - 2), neg.get(l))).toBeLessThan(1e-6);
      const m = new Float32Array(64);
      const mr = new Float32Array(64);
      for (let t = 0; t < n; t++) for (let j = 0; j < 64; j++) m[j]! += all.row(l, t)[j]! / n;
      for (let t = 3; t < 9; t++) for (let j = 0; j < 64; j++) mr[j]! += all.row(l, t)[j]! / 6;
      expect(relativeError(m, mean.get(l))).toBeLessThan(1e-5);
      expect(relativeError(mr, range.get(l))).toBeLessThan(1e-5);
    }
  });

  it('gives the same vectors with batch size 1 and 512 (1e-4 relative), also for the last block', async () => {
    const big = (await ctx.evaluate(TEXT, { capture: { pooling: 'all' } })).activations!;
    const small = await model.createContext({ contextSize: 512, batchSize: 1, threads: 2 });
    try {
      const one = (await small.evaluate(TEXT, { capture: { pooling: 'all' } })).activations!;
      for (const l of big.layers) expect(relativeError(big.get(l), one.get(l))).toBeLessThan(1e-4);
    } finally {
      await small.dispose();
    }
  });

  it('works for prompts longer than one ubatch (rows arrive in several callbacks)', async () => {
    const long = `${TEXT} ${TEXT} ${TEXT}`;
    const ref = (await ctx.evaluate(long, { capture: { pooling: 'all' } })).activations!;
    const chunked = await model.createContext({ contextSize: 512, batchSize: 64, ubatchSize: 16, threads: 2 });
    try {
      const r = await chunked.evaluate(long, { capture: { pooling: 'all' } });
      expect(r.tokens.length).toBeGreaterThan(64 * 2);
      for (const l of ref.layers) expect(relativeError(ref.get(l), r.activations!.get(l))).toBeLessThan(1e-4);
      const mean = (await chunked.evaluate(long, { capture: { pooling: { mean: [10, 100] } } })).activations!;
      const refMean = (await ctx.evaluate(long, { capture: { pooling: { mean: [10, 100] } } })).activations!;
      for (const l of ref.layers) expect(relativeError(refMean.get(l), mean.get(l))).toBeLessThan(1e-4);
    } finally {
      await chunked.dispose();
    }
  });

  it('does not change the logits', async () => {
    const plain = (await ctx.evaluate(TEXT, { logits: true })).logits!;
    const lastOnly = (await ctx.evaluate(TEXT, { logits: true, capture: { pooling: 'last' } })).logits!;
    const everything = (await ctx.evaluate(TEXT, { logits: true, capture: { pooling: 'all' } })).logits!;
    expect(lastOnly).toEqual(plain);
    // 'all' on the last block asks llama.cpp for every row's output: same numbers up to float rounding.
    expect(relativeError(plain, everything)).toBeLessThan(1e-5);
  });

  it('captures the generated tokens during generation, equal to a second full pass', async () => {
    const g = await ctx.generateText('Once upon a time', { maxTokens: 12, capture: { layers: 'all', prompt: 'all' } });
    expect(g.tokens).toHaveLength(12);
    expect(g.tokenActivations).toHaveLength(12);
    const prompt = model.tokenize('Once upon a time');
    expect(g.promptActivations!.rows).toBe(prompt.length);
    const full = Int32Array.from([...prompt, ...g.tokens]);
    const ref = (await ctx.evaluate(full, { capture: { pooling: 'all' } })).activations!;
    for (const l of ref.layers) {
      for (let k = 0; k < 12; k++) {
        expect(relativeError(ref.row(l, prompt.length + k), g.tokenActivations![k]!.get(l))).toBeLessThan(1e-4);
      }
      expect(relativeError(ref.get(l).subarray(0, prompt.length * 64), g.promptActivations!.get(l))).toBeLessThan(1e-4);
    }
  });

  it('captures another per-block tensor by name (ffn_inp)', async () => {
    const r = await ctx.evaluate(TEXT, { capture: { pooling: 'last', tensor: 'ffn_inp' } });
    const out = await ctx.evaluate(TEXT, { capture: { pooling: 'last' } });
    expect(r.activations!.layers).toEqual([0, 1, 2, 3]);
    expect(relativeError(r.activations!.get(2), out.activations!.get(2))).toBeGreaterThan(1e-3);
  });

  it('evaluateBatch decodes several prompts together, each equal to its own pass', async () => {
    const texts = ['First passage about the sea.', 'A second, somewhat longer passage about mountains and rivers.', 'Third.'];
    const multi = await model.createContext({ contextSize: 512, sequences: 3, threads: 2 });
    try {
      const batch = await multi.evaluateBatch(texts, { capture: { pooling: 'last' }, logits: true });
      expect(batch).toHaveLength(3);
      for (let i = 0; i < texts.length; i++) {
        const solo = await ctx.evaluate(texts[i]!, { capture: { pooling: 'last' }, logits: true });
        expect(batch[i]!.tokens).toEqual(solo.tokens);
        for (const l of solo.activations!.layers) expect(relativeError(solo.activations!.get(l), batch[i]!.activations!.get(l))).toBeLessThan(1e-4);
        expect(relativeError(solo.logits!, batch[i]!.logits!)).toBeLessThan(1e-4);
      }
      await expect(multi.evaluateBatch(['a', 'b', 'c', 'd'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await multi.dispose();
    }
  });
});

describe('contexts without the capture hook (activationHooks: false)', () => {
  it('decode and steer exactly like hooked contexts, and refuse to capture with CAPTURE_DISABLED', async () => {
    const model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 11 }));
    const hooked = await model.createContext({ contextSize: 256, threads: 2 });
    const plain = await model.createContext({ contextSize: 256, threads: 2, activationHooks: false });
    try {
      expect(hooked.options.activationHooks).toBe(true);
      expect(plain.options.activationHooks).toBe(false);
      const a = await hooked.evaluate(TEXT, { logits: true });
      const b = await plain.evaluate(TEXT, { logits: true });
      expect(b.logits).toEqual(a.logits);
      const v = new Map([[2, new Float32Array(64).map((_, i) => Math.sin(i) * 0.5)]]);
      await hooked.setSteering(v);
      await plain.setSteering(v);
      const sa = await hooked.generateText('Hello', { maxTokens: 12, stopOnEog: false });
      const sb = await plain.generateText('Hello', { maxTokens: 12, stopOnEog: false });
      expect(sb.tokens).toEqual(sa.tokens);
      await expect(plain.evaluate(TEXT, { capture: { layers: [1] } })).rejects.toMatchObject({ code: 'CAPTURE_DISABLED' });
      await expect(plain.generateText('Hi', { maxTokens: 2, capture: { layers: 'all' } })).rejects.toMatchObject({ code: 'CAPTURE_DISABLED' });
      await expect(model.createContext({ activationHooks: 'no' as unknown as boolean })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await hooked.dispose();
      await plain.dispose();
      model.dispose();
    }
  });
});
