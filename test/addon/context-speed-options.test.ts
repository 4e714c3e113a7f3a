// Context options that change speed, not results: `threadPool` (ggml's worker threads kept for
// the context's life) and `flashAttention: 'auto'` (llama.cpp's own default, and llama-server's).
// Each is honoured (readable back, or the same tokens as the setting it resolves to) and a bad
// value is a typed error, never ignored.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Model } from '../../lib/index.js';
import { syntheticModel } from '../helpers/models.js';

const PROMPT = 'The sea was calm that day';

describe('context speed options', () => {
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: 64, seed: 5 }));
  });
  afterAll(() => model?.dispose());

  const greedy = async (options: Parameters<Model['createContext']>[0]) => {
    const ctx = await model.createContext({ contextSize: 256, sequences: 2, threads: 2, ...options });
    try {
      const tokens: number[] = [];
      const logProbs: number[] = [];
      for await (const t of ctx.generate(PROMPT, { maxTokens: 12, temperature: 0, stopOnEog: false, logProbs: 1 })) {
        tokens.push(t.token);
        logProbs.push(t.logProb!);
      }
      return { options: ctx.options, tokens, logProbs };
    } finally {
      await ctx.dispose();
    }
  };

  it('threadPool: off by default, on when asked, the same tokens and log-probabilities either way', async () => {
    const pooled = await greedy({ threadPool: true });
    const perCall = await greedy({});
    expect(pooled.options.threadPool).toBe(true);
    expect(perCall.options.threadPool).toBe(false);
    expect(pooled.tokens).toHaveLength(12);
    expect(pooled.logProbs.every((p) => Number.isFinite(p) && p <= 0)).toBe(true);
    expect(perCall.tokens).toEqual(pooled.tokens);
    expect(perCall.logProbs).toEqual(pooled.logProbs);
  });

  it("flashAttention 'auto' resolves to on for the CPU backend: the tokens of flashAttention: true", async () => {
    const auto = await greedy({ flashAttention: 'auto' });
    const on = await greedy({ flashAttention: true });
    expect(auto.tokens).toEqual(on.tokens);
    expect(auto.logProbs).toEqual(on.logProbs);
    // and flash attention is really on: its rounding moves the log-probabilities of the off run
    const off = await greedy({ flashAttention: false });
    expect(off.logProbs).not.toEqual(on.logProbs);
  });

  it('bad values are INVALID_ARGUMENT errors', async () => {
    await expect(model.createContext({ threadPool: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('threadPool must be a boolean') });
    await expect(model.createContext({ flashAttention: 'on' as unknown as boolean })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining("flashAttention must be true, false or 'auto'") });
  });
});
