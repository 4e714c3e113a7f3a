// Conditional steering end to end (lib/steer/conditional-steering.ts over the generation
// loop): the probe's readings reach the steering schedule before each step, the rule switches
// on at the step whose reading first crosses the threshold, and the tokens equal a run whose
// schedule steers from that step by index.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel, type BlockProbe, type Context, type Model, type Steering } from '../../lib/index.js';
import { conditionalSteering, type ConditionalSteeringTrace } from '../../lib/steer/conditional-steering.js';
import { randomVector, syntheticModel } from '../helpers/models.js';

const EMBD = 64;
const N = 24;

describe('conditional steering in the generation loop', () => {
  let model: Model;
  let ctx: Context;
  const dir = randomVector(EMBD, 77, 1);
  /** Reads 'angry' as the cosine with a fixed direction; records every reading in order. */
  const probe = (seen: number[] = []): BlockProbe<Record<string, number>> & { seen: number[] } => ({
    layer: 2,
    seen,
    read(a: Float32Array) {
      let d = 0, n = 0, m = 0;
      for (let j = 0; j < a.length; j++) { d += a[j]! * dir[j]!; n += a[j]! ** 2; m += dir[j]! ** 2; }
      const angry = d / Math.sqrt(n * m);
      seen.push(angry);
      return { angry };
    },
  });
  const then: Steering = { vectors: new Map([[1, randomVector(EMBD, 9, 3)]]), layers: [1, 1] };

  beforeAll(async () => {
    model = await loadModel(await syntheticModel({ layers: 4, embd: EMBD, seed: 31 }));
    ctx = await model.createContext({ contextSize: 256, threads: 2 });
  });
  afterAll(async () => {
    await ctx?.dispose();
    model?.dispose();
  });

  it("'reply': switches on at the first reading past the threshold and equals a schedule that steers from that step", async () => {
    const prompt = 'The storm broke the windows and';
    const plainProbe = probe();
    const plain = await ctx.generateText(prompt, { maxTokens: N, probe: plainProbe, stopOnEog: false, temperature: 0 });
    const seq = plainProbe.seen; // [prompt's last token, token 0, token 1, ...]
    expect(seq).toHaveLength(N + 1);
    // the first new record high after the first two readings: the rule must fire exactly there
    let j = -1;
    for (let i = 2; i < N - 4; i++) if (seq[i]! > Math.max(...seq.slice(0, i))) { j = i; break; }
    expect(j).toBeGreaterThan(1);
    const above = (Math.max(...seq.slice(0, j)) + seq[j]!) / 2;
    const trace: ConditionalSteeringTrace = { on: [] };
    const ruled = await ctx.generateText(prompt, { maxTokens: N, probe: probe(), stopOnEog: false, temperature: 0, steering: conditionalSteering({ when: { emotion: 'angry', above }, then, hold: 1000 }, trace) });
    expect(trace.on.indexOf(true)).toBe(j);
    const byIndex = await ctx.generateText(prompt, { maxTokens: N, probe: probe(), stopOnEog: false, temperature: 0, steering: ({ index, reading }) => (reading !== undefined && index >= j ? then : null) });
    expect(ruled.tokens).toEqual(byIndex.tokens);
    // steering from step j leaves tokens 0..j unchanged and changes what follows
    expect(ruled.tokens.slice(0, j + 1)).toEqual(plain.tokens.slice(0, j + 1));
    expect(ruled.tokens).not.toEqual(plain.tokens);
  });

  it("'prompt': fires from the prompt's reading or not at all", async () => {
    const prompt = 'A calm sea under a grey sky';
    const p = probe();
    const plain = await ctx.generateText(prompt, { maxTokens: 8, probe: p, stopOnEog: false });
    const promptReading = p.seen[0]!;
    const on = await ctx.generateText(prompt, { maxTokens: 8, probe: probe(), stopOnEog: false, steering: conditionalSteering({ when: { emotion: 'angry', above: promptReading - 1e-3 }, then, for: 'prompt' }) });
    const off = await ctx.generateText(prompt, { maxTokens: 8, probe: probe(), stopOnEog: false, steering: conditionalSteering({ when: { emotion: 'angry', above: promptReading + 1e-3 }, then, for: 'prompt' }) });
    const always = await ctx.generateText(prompt, { maxTokens: 8, stopOnEog: false, steering: { ...then, positions: 'generated' } });
    expect(off.tokens).toEqual(plain.tokens);
    expect(on.tokens).toEqual(always.tokens);
    expect(on.tokens).not.toEqual(plain.tokens);
  });

  it('without a probe the rule says so', async () => {
    await expect(ctx.generateText('Hi', { maxTokens: 4, stopOnEog: false, steering: conditionalSteering({ when: { emotion: 'angry', above: 0 }, then }) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('probe') });
  });
});
