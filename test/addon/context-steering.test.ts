// Steering a context (Context.setSteering, through llama_set_adapter_cvec): a vector at block L
// moves block L by exactly v, scale and block ranges, clearing, no leak between contexts, typed
// errors for bad input. Steering vectors made from emotion sets are emotion-steering.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmosteerError, loadModel, type Context, type Model } from '../../lib/index.js';
import { randomVector, relativeError, syntheticModel } from '../helpers/models.js';

const TEXT = 'A calm sea under a grey sky, and a boat drifting slowly home.';
const EMBD = 64;
const LAYERS = 4;

describe('steering through llama_set_adapter_cvec', () => {
  let model: Model;
  let ctx: Context;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: LAYERS, embd: EMBD, seed: 5 }));
    ctx = await model.createContext({ contextSize: 256, threads: 2 });
  });
  afterAll(async () => {
    await ctx?.dispose();
    model?.dispose();
  });

  const capture = async (c: Context = ctx) => (await c.evaluate(TEXT, { capture: { pooling: 'all' }, logits: true }));

  it('a vector at block L moves the output of block L by exactly v and leaves earlier blocks unchanged', async () => {
    const base = await capture();
    for (const L of [1, 2, 3]) {
      const v = randomVector(EMBD, 100 + L, 0.5);
      await ctx.setSteering(new Map([[L, v]]), { layers: [L, L] });
      const steered = await capture();
      await ctx.clearSteering();
      const rows = base.tokens.length;
      for (let l = 0; l < L; l++) expect(steered.activations!.get(l)).toEqual(base.activations!.get(l));
      for (let t = 0; t < rows; t++) {
        const diff = steered.activations!.row(L, t).map((x, j) => x - base.activations!.row(L, t)[j]!);
        expect(relativeError(v, diff)).toBeLessThan(1e-4);
      }
      if (L < LAYERS - 1) expect(relativeError(base.activations!.get(L + 1), steered.activations!.get(L + 1))).toBeGreaterThan(1e-4);
      expect(relativeError(base.logits!, steered.logits!)).toBeGreaterThan(1e-6);
    }
  });

  it('applies scale and layer range: only blocks in [start, end] are steered, each by scale x v', async () => {
    const base = await capture();
    const vs = Array.from({ length: LAYERS }, (_, l) => randomVector(EMBD, 200 + l, 0.25));
    await ctx.setSteering(vs, { scale: 2, layers: [2, 3] });
    expect(ctx.steering!.layers).toEqual([2, 3]);
    expect(ctx.steering!.scale).toBe(2);
    const steered = await capture();
    await ctx.clearSteering();
    expect(steered.activations!.get(1)).toEqual(base.activations!.get(1));
    const diff = steered.activations!.row(2, 0).map((x, j) => x - base.activations!.row(2, 0)[j]!);
    expect(relativeError(vs[2]!.map((x) => 2 * x), diff)).toBeLessThan(1e-4);
  });

  it('scale 0 equals no steering, and clearing restores the original logits exactly', async () => {
    const base = await capture();
    const v = randomVector(EMBD, 7, 3);
    await ctx.setSteering(new Map([[2, v]]), { scale: 0 });
    const zero = await capture();
    expect(zero.logits).toEqual(base.logits);
    expect(zero.activations!.get(3)).toEqual(base.activations!.get(3));
    await ctx.setSteering(new Map([[2, v]]), { scale: 1 });
    expect((await capture()).logits).not.toEqual(base.logits);
    await ctx.clearSteering();
    expect(ctx.steering).toBeNull();
    const cleared = await capture();
    expect(cleared.logits).toEqual(base.logits);
  });

  it('steering one context never leaks into another context on the same model', async () => {
    const other = await model.createContext({ contextSize: 256, threads: 2 });
    try {
      const before = await capture(other);
      await ctx.setSteering(new Map([[1, randomVector(EMBD, 9, 2)]]));
      const during = await capture(other);
      const steered = await capture(ctx);
      await ctx.clearSteering();
      expect(during.logits).toEqual(before.logits);
      expect(steered.logits).not.toEqual(before.logits);
    } finally {
      await other.dispose();
    }
  });

  it('changes generated text when strong enough', async () => {
    const plain = await ctx.generateText('Hello', { maxTokens: 16 });
    await ctx.setSteering(new Map([[1, randomVector(EMBD, 3, 1)], [2, randomVector(EMBD, 4, 1)]]), { scale: 8 });
    const steered = await ctx.generateText('Hello', { maxTokens: 16 });
    await ctx.clearSteering();
    expect(steered.tokens).not.toEqual(plain.tokens);
    expect((await ctx.generateText('Hello', { maxTokens: 16 })).tokens).toEqual(plain.tokens);
  });

  it('rejects block 0, blocks outside the model, wrong widths and NaN/Infinity with typed errors', async () => {
    const v = randomVector(EMBD, 1);
    await expect(ctx.setSteering(new Map([[0, v]]), { layers: [0, 3] })).rejects.toMatchObject({ code: 'LAYER_OUT_OF_RANGE', message: expect.stringMatching(/block 0 cannot be steered/) });
    await expect(ctx.setSteering(new Map([[LAYERS, v]]))).rejects.toMatchObject({ code: 'LAYER_OUT_OF_RANGE' });
    await expect(ctx.setSteering(new Map([[1, v]]), { layers: [1, LAYERS] })).rejects.toMatchObject({ code: 'LAYER_OUT_OF_RANGE' });
    await expect(ctx.setSteering(new Map([[1, randomVector(EMBD + 1, 1)]]))).rejects.toMatchObject({ code: 'VECTOR_WIDTH_MISMATCH' });
    await expect(ctx.setSteering(new Float32Array(EMBD * LAYERS + 3))).rejects.toMatchObject({ code: 'VECTOR_WIDTH_MISMATCH' });
    const bad = randomVector(EMBD, 2);
    bad[10] = Number.NaN;
    await expect(ctx.setSteering(new Map([[2, bad]]))).rejects.toMatchObject({ code: 'NON_FINITE_VECTOR' });
    bad[10] = Number.POSITIVE_INFINITY;
    await expect(ctx.setSteering(new Map([[2, bad]]))).rejects.toBeInstanceOf(EmosteerError);
    await expect(ctx.setSteering(new Map([[2, v]]), { scale: Number.NaN })).rejects.toMatchObject({ code: 'NON_FINITE_VECTOR' });
    // A rejected call leaves the previous state untouched.
    expect(ctx.steering).toBeNull();
  });
});
