// Recurrent memories (Mamba here; hybrids take the same path): llama.cpp splits a batch of
// several sequences by sequence there, not in batch order, so emosteer's row attribution for
// capture and per-sequence steering would be wrong. It refuses those calls with a typed error
// and still serves one sequence per call.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmosteerError, loadModel, type Context, type Model } from '../../lib/index.js';
import { mambaModel } from '../helpers/mamba-model.js';
import { randomVector } from '../helpers/models.js';

describe('a recurrent (Mamba) model', () => {
  let model: Model;
  let ctx: Context;
  beforeAll(async () => {
    model = await loadModel(await mambaModel({ layers: 3, embd: 32, seed: 4 }));
    ctx = await model.createContext({ contextSize: 256, sequences: 2, threads: 1 });
  });
  afterAll(async () => {
    await ctx?.dispose();
    model?.dispose();
  });

  const code = async (p: Promise<unknown>) => {
    try {
      await p;
      return 'ok';
    } catch (e) {
      return e instanceof EmosteerError ? e.code : `untyped: ${String(e)}`;
    }
  };

  it('is reported as recurrent', () => {
    expect(model.info.arch).toBe('mamba');
    expect(model.info.isRecurrent).toBe(true);
  });

  it('refuses multi-sequence capture and per-sequence steering in one batch, with a typed error', async () => {
    expect(await code(ctx.evaluateBatch(['one two', 'three four five'], { capture: { pooling: 'last' } }))).toBe('INVALID_ARGUMENT');
    const steering = { vectors: new Map([[1, randomVector(32, 3, 1)]]) };
    expect(await code(ctx.evaluateBatch(['one two', 'three four'], { logits: true, steerings: [steering, null] }))).toBe('INVALID_ARGUMENT');
    // the context is still usable afterwards
    expect(await code(ctx.evaluate('one two', { logits: true }))).toBe('ok');
  });

  it('still captures, steers and generates one sequence per call', async () => {
    const r = await ctx.evaluate('one two three', { capture: { pooling: 'all' }, logits: true });
    expect(r.activations!.get(2).length).toBe(r.tokens.length * 32);
    const v = randomVector(32, 5, 2);
    const s = await ctx.evaluate('one two three', { capture: { pooling: 'all' }, steering: { vectors: new Map([[1, v]]), layers: [1, 1] } });
    // block 1's rows moved by exactly v, block 0's did not
    expect(s.activations!.get(0)).toEqual(r.activations!.get(0));
    const row = s.activations!.row(1, 0).map((x, j) => x - r.activations!.row(1, 0)[j]!);
    for (let j = 0; j < 32; j++) expect(row[j]).toBeCloseTo(v[j]!, 4);
    const g = await ctx.generateText('one', { maxTokens: 5, temperature: 0 });
    expect(g.tokens.length).toBe(5);
  });
});
