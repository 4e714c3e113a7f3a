// The one generation loop: Context.createRun + Context.step drive SequenceRuns, and generate,
// generateBatch and the RequestScheduler are loops of that step. A hand-written loop of `step`
// equals generateText; a probe reads every token from the capture the decode does anyway; the
// ownership checks of `step` refuse sequences another call holds; a steering schedule that
// throws ends only its own request in the scheduler.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, RequestScheduler, type BlockProbe, type Context, type GeneratedToken, type Model } from '../../lib/index.js';
import { randomVector, relativeError, syntheticModel } from '../helpers/models.js';

const EMBD = 64;

/** A probe that returns the norm of the block's output and keeps a copy of what it saw. */
function normProbe(layer: number): BlockProbe<number> & { seen: Float32Array[] } {
  const seen: Float32Array[] = [];
  return {
    layer,
    seen,
    read(a: Float32Array): number {
      seen.push(Float32Array.from(a));
      return Math.hypot(...a);
    },
  };
}

describe('SequenceRun and Context.step: one generation loop', () => {
  let model: Model;
  let ctx: Context;
  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: EMBD, seed: 9 }));
    ctx = await model.createContext({ contextSize: 512, sequences: 3, threads: 2 });
  });
  afterAll(async () => {
    await ctx?.dispose();
    model?.dispose();
  });

  it('a hand-written loop of step over two runs equals generateText of each (tokens, text, stop reason)', async () => {
    const steering = { vectors: new Map([[2, randomVector(EMBD, 3, 2)]]) };
    const a = ctx.createRun('The river', { maxTokens: 7, temperature: 0.9, seed: 4, stopOnEog: false, sequence: 0 });
    const b = ctx.createRun('A quiet room', { maxTokens: 4, steering, stopOnEog: false, sequence: 1 });
    const streamed: GeneratedToken[][] = [[], []];
    let steps = 0;
    while (!a.done || !b.done) {
      const live = [a, b].filter((r) => !r.done);
      const out = await ctx.step(live);
      out.forEach((t, k) => { if (t) streamed[live[k] === a ? 0 : 1]!.push(t); });
      steps++;
    }
    const ra = await ctx.generateText('The river', { maxTokens: 7, temperature: 0.9, seed: 4, stopOnEog: false });
    const rb = await ctx.generateText('A quiet room', { maxTokens: 4, steering, stopOnEog: false });
    expect(a.result().tokens).toEqual(ra.tokens);
    expect(b.result().tokens).toEqual(rb.tokens);
    expect(a.result().text).toBe(ra.text);
    expect(streamed[0]!.map((t) => t.token)).toEqual(ra.tokens);
    expect(streamed[1]!.map((t) => t.index)).toEqual([0, 1, 2, 3]);
    expect(a.result().stopReason).toBe('maxTokens');
    // tokens are emitted as soon as they are sampled: 7 tokens take 7 decodes (prompt + 6)
    expect(steps).toBe(7);
    await expect(ctx.step([a])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // an option a run cannot honour is refused, not ignored
    expect(() => ctx.createRun('x', { signal: new AbortController().signal })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('a probe reads each generated token from its own capture: equal to capturing that block', async () => {
    const probe = normProbe(2);
    const withProbe = await ctx.generateText('Dear diary,', { maxTokens: 5, probe, stopOnEog: false });
    const captured = await ctx.generateText('Dear diary,', { maxTokens: 5, capture: { layers: [2], prompt: 'last' }, stopOnEog: false });
    expect(withProbe.tokens).toEqual(captured.tokens);
    expect(withProbe.tokenActivations).toBeUndefined();
    // the prompt's last token first (for a steering schedule's first decision), then each token
    expect(probe.seen).toHaveLength(6);
    expect(relativeError(probe.seen[0]!, captured.promptActivations!.get(2))).toBe(0);
    probe.seen.slice(1).forEach((row, i) => expect(relativeError(row, captured.tokenActivations![i]!.get(2))).toBe(0));
    const readings: unknown[] = [];
    for await (const t of ctx.generate('Dear diary,', { maxTokens: 3, probe: normProbe(1), stopOnEog: false })) readings.push(t.reading);
    expect(readings).toHaveLength(3);
    for (const r of readings) expect(typeof r === 'number' && r > 0).toBe(true);
    expect(() => ctx.createRun('x', { probe: { layer: 99, read: () => 0 } })).toThrow(expect.objectContaining({ code: 'LAYER_OUT_OF_RANGE' }));
  });

  it('step refuses a sequence another call holds, a shared sequence, and a run that has ended', async () => {
    const gen = ctx.generate('Hello there', { maxTokens: 20, sequence: 2, stopOnEog: false });
    await gen.next(); // holds sequence 2 while suspended
    const r = ctx.createRun('Other', { maxTokens: 2, sequence: 2 });
    await expect(ctx.step([r])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('in use') });
    await gen.return(undefined as never);
    const x = ctx.createRun('One', { maxTokens: 2, sequence: 0 });
    const y = ctx.createRun('Two', { maxTokens: 2, sequence: 0 });
    await expect(ctx.step([x, y])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(() => { x.sequence = 1; }).not.toThrow();
    await ctx.step([x]);
    expect(() => { x.sequence = 2; }).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('maxTokens 0 decodes the prompt only (prompt capture, no token)', async () => {
    const r = await ctx.generateText('Only the prompt', { maxTokens: 0, capture: { layers: [1], prompt: 'last' } });
    expect(r.tokens).toEqual([]);
    expect(r.promptActivations!.get(1)).toHaveLength(EMBD);
    expect(r.stopReason).toBe('maxTokens');
  });

  it('in the scheduler, a steering schedule that throws ends its own request and no other', async () => {
    const scheduler = await RequestScheduler.create(model, { parallel: 2, contextPerRequest: 128, threads: 2 });
    try {
      const bad = scheduler.submit({ prompt: 'Bad', maxTokens: 6, stopOnEog: false, steering: ({ index }) => { if (index === 2) throw new Error('schedule broke'); return null; } });
      const good = scheduler.submit({ prompt: 'Good', maxTokens: 6, stopOnEog: false });
      await expect(bad.result).rejects.toThrow('schedule broke');
      const r = await good.result;
      expect(r.tokens).toHaveLength(6);
      expect(r.tokens).toEqual((await ctx.generateText('Good', { maxTokens: 6, stopOnEog: false })).tokens);
      expect(scheduler.stats.failed).toBe(1);
    } finally {
      await scheduler.close();
    }
  });
});
