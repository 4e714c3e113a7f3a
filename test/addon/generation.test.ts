import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type Context, type Model } from '../../lib/index.js';
import { SYNTHETIC_TOKEN_IDS } from '../../lib/synth/synthetic-model.js';
import { syntheticModel } from '../helpers/models.js';

describe('generation, sampling, batching and concurrency', () => {
  let model: Model;
  let ctx: Context;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 3, embd: 64, seed: 21 }));
    ctx = await model.createContext({ contextSize: 1024, sequences: 4, threads: 2 });
  });
  afterAll(async () => {
    await ctx?.dispose();
    model?.dispose();
  });

  it('greedy decoding is deterministic and equals argmax of the logits', async () => {
    const a = await ctx.generateText('The weather today', { maxTokens: 20 });
    const b = await ctx.generateText('The weather today', { maxTokens: 20 });
    expect(a.tokens).toHaveLength(20);
    expect(a.stopReason).toBe('maxTokens');
    expect(b.tokens).toEqual(a.tokens);
    const { logits } = await ctx.evaluate('The weather today', { logits: true });
    let best = 0;
    for (let i = 1; i < logits!.length; i++) if (logits![i]! > logits![best]!) best = i;
    expect(a.tokens[0]).toBe(best);
  });

  it('a run that stops inside a UTF-8 character gives the same text streamed and whole', async () => {
    // "é" is bytes C3 A9: the grammar lets the synthetic vocabulary's byte token <0xC3> start
    // it, and maxTokens 1 stops there
    const opts = { maxTokens: 1, grammar: 'root ::= "\u00e9"' };
    const streamed: string[] = [];
    const gen = ctx.generate('Hello', opts);
    let r = await gen.next();
    while (!r.done) { streamed.push(r.value.text); r = await gen.next(); }
    const whole = await ctx.generateText('Hello', opts);
    expect(whole.tokens).toEqual([SYNTHETIC_TOKEN_IDS.firstByte + 0xc3]);
    expect(r.value.text).toBe(streamed.join(''));
    expect(whole.text).toBe(streamed.join(''));
    expect(whole.text).not.toContain('\uFFFD');
    // and a run that completes the character has it, streamed and whole
    const two = await ctx.generateText('Hello', { ...opts, maxTokens: 2 });
    expect(two.text).toBe('\u00e9');
  });

  it('a seed makes sampling reproducible; other seeds give other text', async () => {
    const opts = { maxTokens: 24, temperature: 1.5, topK: 50, topP: 0.95, minP: 0.01, repeatPenalty: 1.1 };
    const a = await ctx.generateText('Once', { ...opts, seed: 42 });
    const b = await ctx.generateText('Once', { ...opts, seed: 42 });
    const c = await ctx.generateText('Once', { ...opts, seed: 43 });
    expect(b.tokens).toEqual(a.tokens);
    expect(c.tokens).not.toEqual(a.tokens);
  });

  it('streams tokens whose texts concatenate to the result text', async () => {
    let text = '';
    const tokens: number[] = [];
    const gen = ctx.generate('abc', { maxTokens: 10 });
    for (;;) {
      const { value, done } = await gen.next();
      if (done) {
        expect(value.tokens).toEqual(tokens);
        expect(value.text).toBe(text);
        break;
      }
      expect(value.index).toBe(tokens.length);
      tokens.push(value.token);
      text += value.text;
    }
    expect(tokens).toHaveLength(10);
  });

  it('an AbortSignal stops generation within one token', async () => {
    const ac = new AbortController();
    const seen: number[] = [];
    await expect((async () => {
      for await (const t of ctx.generate('Stop me', { maxTokens: 200, signal: ac.signal })) {
        seen.push(t.token);
        if (seen.length === 3) ac.abort();
      }
    })()).rejects.toMatchObject({ code: 'ABORTED' });
    expect(seen).toHaveLength(3);
    // The context is usable afterwards.
    expect((await ctx.generateText('x', { maxTokens: 2 })).tokens).toHaveLength(2);
  });

  it('an already aborted signal rejects before decoding', async () => {
    await expect(ctx.evaluate('hello', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
  });

  it('stops at stop strings and cuts them off', async () => {
    const free = await ctx.generateText('The weather today', { maxTokens: 20 });
    const stopAt = free.text.slice(4, 6);
    const r = await ctx.generateText('The weather today', { maxTokens: 20, stop: [stopAt] });
    expect(r.stopReason).toBe('stop');
    expect(r.text).toBe(free.text.slice(0, free.text.indexOf(stopAt)));
  });

  it('decodes several sequences in one batch, each equal to its run alone with the same seed', async () => {
    const prompts = ['Alpha beta', 'Gamma', 'Delta epsilon zeta', 'Eta'];
    const batch = await ctx.generateBatch(prompts, { maxTokens: 12, temperature: 0.9, seeds: [1, 2, 3, 4] });
    expect(batch).toHaveLength(4);
    for (let i = 0; i < prompts.length; i++) {
      const alone = await ctx.generateText(prompts[i]!, { maxTokens: 12, temperature: 0.9, seed: i + 1 });
      expect(batch[i]!.tokens).toEqual(alone.tokens);
    }
    await expect(ctx.generateBatch(['a', 'b', 'c', 'd', 'e'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('log-probabilities of a continuation match the log-softmax of the logits', async () => {
    const prompt = model.tokenize('Hello there');
    const cont = model.tokenize(' friend', { addSpecial: false });
    const lp = await ctx.logProbs(prompt, cont);
    expect(lp.logProbs).toHaveLength(cont.length);
    const { logits } = await ctx.evaluate(prompt, { logits: true });
    let max = -Infinity;
    for (const x of logits!) max = Math.max(max, x);
    let sum = 0;
    for (const x of logits!) sum += Math.exp(x - max);
    expect(lp.logProbs[0]).toBeCloseTo(logits![cont[0]!]! - max - Math.log(sum), 4);
    expect(lp.perplexity).toBeCloseTo(Math.exp(-lp.total / cont.length), 6);
    for (const x of lp.logProbs) expect(x).toBeLessThan(0);
  });

  it('log-probabilities of several continuations after one prompt equal one pass each', async () => {
    const prompt = 'The judge read the story and said the feeling was';
    const labels = [' happy', ' sad', ' exasperated', ' x'];
    const many = await ctx.logProbsMany(prompt, labels);
    expect(many).toHaveLength(labels.length);
    for (const [i, label] of labels.entries()) {
      const one = await ctx.logProbs(prompt, label);
      expect(Array.from(many[i]!.tokens)).toEqual(Array.from(one.tokens));
      expect(many[i]!.logProbs).toHaveLength(one.logProbs.length);
      for (let k = 0; k < one.logProbs.length; k++) expect(Math.abs(many[i]!.logProbs[k]! - one.logProbs[k]!)).toBeLessThan(1e-3);
    }
    // The sequence is left empty, as logProbs leaves it.
    expect(await ctx.sequenceLength(0)).toBe(0);
    await expect(ctx.logProbsMany(prompt, [''])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('queues concurrent operations on one context instead of corrupting state', async () => {
    const solo = await ctx.generateText('Queue test', { maxTokens: 8 });
    const [a, b, c] = await Promise.all([
      ctx.generateText('Queue test', { maxTokens: 8 }),
      ctx.evaluate('Something else entirely', { logits: true }),
      ctx.generateText('Queue test', { maxTokens: 8 }),
    ]);
    expect(a.tokens).toEqual(solo.tokens);
    expect(c.tokens).toEqual(solo.tokens);
    expect(b.logits!.length).toBe(model.info.nVocab);
  });

  it('the native layer refuses a second concurrent operation with CONTEXT_BUSY', async () => {
    const native = ctx.nativeHandle;
    const tokens = model.tokenize('busy busy busy');
    const first = native.step([{ seq: 0, tokens }]);
    let err: unknown;
    try {
      native.step([{ seq: 1, tokens }]);
    } catch (e) {
      err = e;
    }
    await first;
    expect((err as { code?: string }).code).toBe('CONTEXT_BUSY');
    native.clearSequence();
  });

  it('keeps the event loop responsive while generating', async () => {
    const big = await loadModel(await syntheticModel({ layers: 6, embd: 512, seed: 3 }));
    const c = await big.createContext({ contextSize: 512, threads: 2 });
    try {
      let ticks = 0;
      let maxGap = 0;
      let last = performance.now();
      const timer = setInterval(() => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
        ticks++;
      }, 2);
      const t0 = performance.now();
      await c.generateText('Responsive?', { maxTokens: 200, stopOnEog: false });
      const elapsed = performance.now() - t0;
      clearInterval(timer);
      // Decoding happens on worker threads: timers keep firing throughout.
      expect(ticks).toBeGreaterThan(elapsed / 2 / 10);
      expect(maxGap).toBeLessThan(Math.max(100, elapsed / 2));
    } finally {
      await c.dispose();
      big.dispose();
    }
  });

  it('rejects prompts longer than the context with PROMPT_TOO_LONG and stays usable', async () => {
    const small = await model.createContext({ contextSize: 32, threads: 2 });
    try {
      const n = small.options.contextSize; // llama.cpp may round the size up
      await expect(small.evaluate('x'.repeat(n + 10))).rejects.toMatchObject({ code: 'PROMPT_TOO_LONG' });
      const r = await small.generateText('ok', { maxTokens: 4 });
      expect(r.tokens).toHaveLength(4);
      await expect(small.generateText('ok', { maxTokens: n + 10, stopOnEog: false })).rejects.toMatchObject({ code: 'PROMPT_TOO_LONG' });
      expect((await small.generateText('ok', { maxTokens: 4 })).tokens).toEqual(r.tokens);
    } finally {
      await small.dispose();
    }
  });
});
