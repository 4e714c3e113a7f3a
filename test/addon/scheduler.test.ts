import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, RequestScheduler, type Context, type Model } from '../../lib/index.js';
import { randomVector, syntheticModel } from '../helpers/models.js';

const EMBD = 64;
const PROMPTS = ['A calm sea under a grey sky', 'The storm broke the windows', 'Once upon a time', 'The letter said', 'In the morning', 'She opened the door', 'Nobody came', 'The train left', 'It was late'];

describe('RequestScheduler: continuous batching of differently steered requests', () => {
  let model: Model;
  let solo: Context;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: EMBD, seed: 5 }));
    solo = await model.createContext({ contextSize: 512, threads: 2 });
  });
  afterAll(async () => {
    await solo?.dispose();
    model?.dispose();
  });

  it('9 concurrent requests (8 steered differently, 1 plain) on 4 sequences each equal their run alone', async () => {
    const scheduler = await RequestScheduler.create(model, { parallel: 4, contextPerRequest: 256, threads: 2 });
    try {
      const steerings = PROMPTS.map((_, i) => (i === 8 ? undefined : { vectors: new Map([[1 + (i % 3), randomVector(EMBD, 40 + i, 1.5)]]) }));
      // different lengths, so requests leave and join at different steps
      const reqs = PROMPTS.map((prompt, i) => scheduler.submit({ prompt, maxTokens: 6 + i, temperature: 0.8, seed: 10 + i, steering: steerings[i], stopOnEog: false }));
      const streamed = await Promise.all(reqs.map(async (r) => { const t: number[] = []; for await (const x of r) t.push(x.token); return t; }));
      const results = await Promise.all(reqs.map((r) => r.result));
      for (let i = 0; i < PROMPTS.length; i++) {
        const alone = await solo.generateText(PROMPTS[i]!, { maxTokens: 6 + i, temperature: 0.8, seed: 10 + i, steering: steerings[i], stopOnEog: false });
        expect(results[i]!.tokens).toEqual(alone.tokens);
        expect(streamed[i]).toEqual(alone.tokens);
        expect(results[i]!.text).toBe(alone.text);
        expect(results[i]!.stopReason).toBe('maxTokens');
      }
      const st = scheduler.stats;
      expect(st.completed).toBe(9);
      expect(st.generatedTokens).toBe(PROMPTS.reduce((a, _, i) => a + 6 + i, 0));
      expect(st.running).toBe(0);
      // fewer steps than serving them one after another would need
      expect(st.steps).toBeLessThan(PROMPTS.reduce((a, _, i) => a + 6 + i, 0));
    } finally {
      await scheduler.close();
    }
  });

  it('an aborted request ends with ABORTED, frees its sequence, and the others are unaffected', async () => {
    const scheduler = await RequestScheduler.create(model, { parallel: 2, contextPerRequest: 256, threads: 2 });
    try {
      const ac = new AbortController();
      const a = scheduler.submit({ prompt: PROMPTS[0]!, maxTokens: 200, temperature: 0, stopOnEog: false, signal: ac.signal });
      const b = scheduler.submit({ prompt: PROMPTS[1]!, maxTokens: 20, temperature: 0, stopOnEog: false });
      const c = scheduler.submit({ prompt: PROMPTS[2]!, maxTokens: 5, temperature: 0, stopOnEog: false }); // waits for a sequence
      let n = 0;
      await expect((async () => { for await (const _ of a) { if (++n === 3) ac.abort(); } })()).rejects.toMatchObject({ code: 'ABORTED' });
      await expect(a.result).rejects.toMatchObject({ code: 'ABORTED' });
      const [rb, rc] = await Promise.all([b.result, c.result]);
      expect(rb.tokens).toEqual((await solo.generateText(PROMPTS[1]!, { maxTokens: 20, temperature: 0, stopOnEog: false })).tokens);
      expect(rc.tokens).toEqual((await solo.generateText(PROMPTS[2]!, { maxTokens: 5, temperature: 0, stopOnEog: false })).tokens);
    } finally {
      await scheduler.close();
    }
  });

  it('QUEUE_FULL past the queue limit, PROMPT_TOO_LONG past the per-request context, stop strings honoured', async () => {
    const scheduler = await RequestScheduler.create(model, { parallel: 1, contextPerRequest: 64, queueLimit: 1, threads: 2 });
    try {
      const a = scheduler.submit({ prompt: 'one', maxTokens: 20 });
      const b = scheduler.submit({ prompt: 'two', maxTokens: 20 });
      expect(() => scheduler.submit({ prompt: 'three', maxTokens: 20 })).toThrowError(expect.objectContaining({ code: 'QUEUE_FULL' }));
      expect(() => scheduler.submit({ prompt: 'x '.repeat(80), maxTokens: 20 })).toThrowError(expect.objectContaining({ code: 'PROMPT_TOO_LONG' }));
      await Promise.all([a.result, b.result]);
      const plain = await solo.generateText('one', { maxTokens: 20, temperature: 0, stopOnEog: false });
      const stopAt = plain.text.slice(3, 6);
      const s = await scheduler.submit({ prompt: 'one', maxTokens: 20, temperature: 0, stopOnEog: false, stop: [stopAt] }).result;
      expect(s.stopReason).toBe('stop');
      expect(s.text.includes(stopAt)).toBe(false);
      expect(plain.text.startsWith(s.text)).toBe(true);
    } finally {
      await scheduler.close();
    }
  });
});
