// Chunked prefill: the request scheduler decodes at most `prefillChunk` prompt tokens per step,
// beside the running requests' next tokens. Results equal whole-prompt prefill; a long prompt no
// longer stalls the requests that are generating.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, RequestScheduler, type Model, type ScheduledRequest } from '../../lib/index.js';
import { prefillShares } from '../../lib/runtime/scheduler.js';
import { randomVector, syntheticModel } from '../helpers/models.js';

const EMBD = 64;

describe('RequestScheduler chunked prefill', () => {
  let model: Model;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: EMBD, seed: 12 }));
  });
  afterAll(() => model?.dispose());

  const long = (n: number, seed: number) => Array.from({ length: n }, (_, i) => 1 + ((i * 7919 + seed * 104729) % 200));

  it('gives the same tokens as whole-prompt prefill (sampling, penalties, steering, concurrent requests)', async () => {
    const reqs: ScheduledRequest[] = [
      { prompt: long(150, 1), maxTokens: 12, temperature: 0.8, seed: 3, repeatPenalty: 1.2, stopOnEog: false },
      { prompt: 'A short one', maxTokens: 20, temperature: 0, stopOnEog: false },
      { prompt: long(90, 2), maxTokens: 8, temperature: 0, frequencyPenalty: 0.5, stopOnEog: false, steering: { vectors: new Map([[2, randomVector(EMBD, 9, 2)]]) } },
      { prompt: long(40, 3), maxTokens: 10, temperature: 0.9, seed: 8, stopOnEog: false, steering: { vectors: new Map([[1, randomVector(EMBD, 10, 2)]]), positions: 'prompt' } },
    ];
    const run = async (prefillChunk: number) => {
      const s = await RequestScheduler.create(model, { parallel: 3, contextPerRequest: 256, threads: 1, prefillChunk, promptCache: false });
      try {
        return { results: await Promise.all(reqs.map((r) => s.submit(r).result)), steps: s.stats.steps };
      } finally {
        await s.close();
      }
    };
    const whole = await run(0);
    const chunked = await run(16);
    for (let i = 0; i < reqs.length; i++) {
      expect(chunked.results[i]!.tokens).toEqual(whole.results[i]!.tokens);
      expect(chunked.results[i]!.text).toBe(whole.results[i]!.text);
    }
    expect(chunked.steps).toBeGreaterThan(whole.steps); // the long prompts took several steps
  });

  it('a request keeps streaming tokens while a long prompt is prefilled', async () => {
    const s = await RequestScheduler.create(model, { parallel: 2, contextPerRequest: 512, threads: 1, prefillChunk: 16 });
    try {
      const log: string[] = [];
      const short = s.submit({ prompt: 'Streaming along', maxTokens: 80, temperature: 0, stopOnEog: false });
      let longDone: Promise<unknown> | null = null;
      for await (const _ of short) {
        log.push('s');
        if (log.length === 2) {
          log.push('submit');
          const l = s.submit({ prompt: long(320, 4), maxTokens: 3, temperature: 0, stopOnEog: false });
          longDone = (async () => { for await (const _t of l) log.push('L'); })();
        }
      }
      await longDone;
      const from = log.indexOf('submit');
      const firstLong = log.indexOf('L');
      expect(firstLong).toBeGreaterThan(from);
      // 320 prompt tokens in chunks of 16: 20 steps, each of which also decoded the short request.
      const between = log.slice(from, firstLong).filter((e) => e === 's').length;
      expect(between).toBeGreaterThanOrEqual(18);
    } finally {
      await s.close();
    }
  });

  it('a short request that arrives during a long prefill starts before the long prompt ends', async () => {
    const s = await RequestScheduler.create(model, { parallel: 3, contextPerRequest: 512, threads: 1, prefillChunk: 16 });
    try {
      const log: string[] = [];
      const pending: Promise<void>[] = [];
      const track = (tag: string, req: ScheduledRequest) => {
        const h = s.submit(req);
        pending.push((async () => { for await (const _t of h) log.push(tag); })());
      };
      // A streaming request is the clock: the long prompt arrives at its 2nd token, the short
      // one at its 4th, while the 320-token prompt needs 20 chunks of 16.
      const clock = s.submit({ prompt: 'Streaming along', maxTokens: 60, temperature: 0, stopOnEog: false });
      for await (const _ of clock) {
        log.push('c');
        const ticks = log.filter((e) => e === 'c').length;
        if (ticks === 2) track('L', { prompt: long(320, 5), maxTokens: 2, temperature: 0, stopOnEog: false });
        if (ticks === 4) track('S', { prompt: 'Hi there', maxTokens: 2, temperature: 0, stopOnEog: false });
      }
      await Promise.all(pending);
      expect(log.indexOf('S')).toBeGreaterThan(-1);
      expect(log.indexOf('S')).toBeLessThan(log.indexOf('L'));
      // The short one started within a couple of steps of its arrival, not after ~16 more chunks.
      const clockTicksBeforeShort = log.slice(0, log.indexOf('S')).filter((e) => e === 'c').length;
      expect(clockTicksBeforeShort).toBeLessThanOrEqual(7);
    } finally {
      await s.close();
    }
  });

  it('the longest-waiting prompt still gets half of every chunk', () => {
    expect(prefillShares([], 16)).toEqual([]);
    expect(prefillShares([300], 16)).toEqual([16]);
    // the long one keeps 8 (half), the short ones fill the rest shortest first
    expect(prefillShares([300, 5, 40, 3], 16)).toEqual([8, 5, 0, 3]);
    // what the others leave goes back to the longest-waiting one
    expect(prefillShares([300, 2], 16)).toEqual([14, 2]);
    expect(prefillShares([4, 100], 16)).toEqual([4, 12]);
    expect(prefillShares([300, 5, 40], 0)).toEqual([300, 5, 40]);
    for (const rem of [[1, 2, 3], [50, 50, 50], [7, 300, 1, 9]]) {
      const sh = prefillShares(rem, 16);
      expect(sh.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(16);
      sh.forEach((v, i) => expect(v).toBeLessThanOrEqual(rem[i]!));
      expect(sh[0]).toBeGreaterThanOrEqual(Math.min(rem[0]!, 8));
    }
  });

  it('a request with cachePrompt: false leaves no KV rows behind (idle rows widen every later step)', async () => {
    const s = await RequestScheduler.create(model, { parallel: 2, contextPerRequest: 256, threads: 1 });
    try {
      await s.submit({ prompt: long(60, 6), maxTokens: 3, temperature: 0, stopOnEog: false, cachePrompt: false }).result;
      await s.submit({ prompt: long(50, 7), maxTokens: 3, temperature: 0, stopOnEog: false }).result;
      // the next step (any request) clears what the uncached one left; the cached one keeps its rows
      await s.submit({ prompt: 'x', maxTokens: 1, temperature: 0, stopOnEog: false, cachePrompt: false }).result;
      const lengths = [await s.context.sequenceLength(0), await s.context.sequenceLength(1)].sort((a, b) => a - b);
      expect(lengths[0]).toBeLessThanOrEqual(2); // the last uncached one's rows, until the next step
      expect(lengths[1]).toBe(50 + 2);
    } finally {
      await s.close();
    }
  });

  it('prefillChunk must be a non-negative integer', async () => {
    await expect(RequestScheduler.create(model, { prefillChunk: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
