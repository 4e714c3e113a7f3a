// The request scheduler's prompt cache (llama-server's cache_prompt): a request reuses the KV
// rows of the longest prefix a free sequence holds from its last request, under the same
// steering of prompt rows, and its tokens equal those of the same requests with the cache off.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, RequestScheduler, type Model, type ScheduledRequest } from '../../lib/index.js';
import { randomVector, syntheticModel } from '../helpers/models.js';

const EMBD = 64;

describe('RequestScheduler prompt cache', () => {
  let model: Model;
  let cached: RequestScheduler;
  let plain: RequestScheduler;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: EMBD, seed: 11 }));
    cached = await RequestScheduler.create(model, { parallel: 2, contextPerRequest: 256, threads: 1 });
    plain = await RequestScheduler.create(model, { parallel: 2, contextPerRequest: 256, threads: 1, promptCache: false });
  });
  afterAll(async () => {
    await cached?.close();
    await plain?.close();
    model?.dispose();
  });

  const words = (text: string) => Array.from(model.tokenize(text, { addSpecial: false }));
  const greedy = { temperature: 0, stopOnEog: false, repeatPenalty: 1.3 } as const;

  /** Runs a request on both schedulers: same tokens; returns the cached one's result. */
  async function both(req: ScheduledRequest) {
    const a = await cached.submit(req).result;
    const b = await plain.submit(req).result;
    expect(a.tokens).toEqual(b.tokens);
    expect(a.text).toBe(b.text);
    expect(b.cachedTokens).toBe(0);
    return a;
  }

  it('is on by default and off when asked', () => {
    expect(cached.promptCache).toBe(true);
    expect(plain.promptCache).toBe(false);
  });

  it('a 5-turn chat, each turn extending the previous, reuses all but the new turn and gives the same tokens', async () => {
    let prompt = Array.from(model.tokenize('The first message of a long conversation', { addSpecial: true }));
    const turns = ['and then the second one', 'a third remark follows', 'the fourth turn', 'and finally the fifth'];
    let expected = 0;
    for (let t = 0; t < 5; t++) {
      const r = await both({ prompt, maxTokens: 6, ...greedy });
      expect(r.cachedTokens).toBe(expected);
      expect(r.promptTokens).toBe(prompt.length);
      if (t === 4) break;
      // The sequence holds the prompt and the generated tokens fed back (all but the last).
      expected = prompt.length + r.tokens.length - 1;
      prompt = [...prompt, ...r.tokens, ...words(turns[t]!)];
    }
    expect(cached.stats.cachedPromptTokens).toBeGreaterThan(0);
  });

  it('two interleaved conversations on 2 sequences each find their own sequence', async () => {
    // No BOS: the sequences hold BOS-started prompts of the test before, which share nothing with these.
    const a0 = words('Apples start conversation A');
    const b0 = words('Boats are what B talks about');
    let pa = a0;
    let pb = b0;
    let heldA = 0;
    let heldB = 0;
    for (let t = 0; t < 3; t++) {
      // Submitted together: both are admitted in one step and share the batch.
      const reqA = { prompt: pa, maxTokens: 5, ...greedy };
      const reqB = { prompt: pb, maxTokens: 7, ...greedy };
      const [ra, rb] = await Promise.all([cached.submit(reqA).result, cached.submit(reqB).result]);
      const [qa, qb] = await Promise.all([plain.submit(reqA).result, plain.submit(reqB).result]);
      expect(ra.tokens).toEqual(qa.tokens);
      expect(rb.tokens).toEqual(qb.tokens);
      expect(ra.cachedTokens).toBe(heldA);
      expect(rb.cachedTokens).toBe(heldB);
      heldA = pa.length + ra.tokens.length - 1;
      heldB = pb.length + rb.tokens.length - 1;
      pa = [...pa, ...ra.tokens, ...words(` next A ${t}`)];
      pb = [...pb, ...rb.tokens, ...words(` next B ${t}`)];
    }
  });

  it('prompt-side steering never reuses rows made unsteered; generated-only steering does', async () => {
    const base = Array.from(model.tokenize('A shared opening that several requests use', { addSpecial: true }));
    const v = randomVector(EMBD, 77, 2);
    // Occupy both sequences with this prefix, so that whichever is picked holds it.
    const first = await both({ prompt: base, maxTokens: 4, ...greedy });
    await both({ prompt: base, maxTokens: 4, ...greedy });
    const next = [...base, ...first.tokens.slice(0, 3), ...words(' continued')];

    const promptSteered = await both({ prompt: next, maxTokens: 6, ...greedy, steering: { vectors: new Map([[2, v]]) } });
    expect(promptSteered.cachedTokens).toBe(0);
    const promptOnly = await both({ prompt: next, maxTokens: 6, ...greedy, steering: { vectors: new Map([[2, v]]), positions: 'prompt' } });
    // The same steering of prompt rows as the request before: its prompt rows are reused.
    expect(promptOnly.cachedTokens).toBe(next.length - 1);

    const generated = await both({ prompt: next, maxTokens: 6, ...greedy, steering: { vectors: new Map([[2, v]]), positions: 'generated' } });
    // Another sequence holds base + first 3 generated tokens (unsteered rows): all reusable.
    expect(generated.cachedTokens).toBe(base.length + 3);
    // After it, an unsteered request continuing its reply reuses the prompt rows only: the
    // reply's rows were steered.
    const after = [...next, ...generated.tokens, ...words(' more')];
    const unsteered = await both({ prompt: after, maxTokens: 4, ...greedy });
    expect(unsteered.cachedTokens).toBe(next.length);
  });

  it('cachePrompt: false on a request decodes its whole prompt', async () => {
    const p = Array.from(model.tokenize('Repeated prompt for the opt-out', { addSpecial: true }));
    await both({ prompt: p, maxTokens: 3, ...greedy });
    const again = await both({ prompt: p, maxTokens: 3, ...greedy });
    expect(again.cachedTokens).toBe(p.length - 1); // all but the last token, always decoded
    const optOut = await both({ prompt: p, maxTokens: 3, ...greedy, cachePrompt: false });
    expect(optOut.cachedTokens).toBe(0);
    expect(() => cached.submit({ prompt: p, cachePrompt: 'yes' as unknown as boolean })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
